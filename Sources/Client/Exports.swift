// Client's public API speaks Common's message model (Message, MessageExt, SubscriptionData, MessageConst),
// so `import Client` brings it, as RocketMQ's client jar brings rocketmq-common.

@_exported import Common
