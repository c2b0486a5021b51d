// Store's API speaks Common's message model (MessageHost in MessageToStore, MessageProperties for the
// properties text, OffsetMessageId for msgIds), so `import Store` brings Common, as Client's does.

@_exported import Common
