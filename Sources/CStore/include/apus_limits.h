/* apus_limits.h: every fixed limit and layout constant of the store, in one place.
 * Each value cites ../shared/spec/store.md (or remoting.md §12) and says what happens at the limit.
 * Relationships between limits are checked at compile time below.
 * Thread-safety: constants only. */
#ifndef APUS_LIMITS_H
#define APUS_LIMITS_H

#include <stdint.h>

/* Magic codes of CommitLog records (store.md §3.5). Stored big-endian as signed ints. */
#define APUS_MAGIC_V1 ((int32_t)0xDAA320A7)     /* -626843481, topic length is 1 byte */
#define APUS_MAGIC_V2 ((int32_t)0xDAA320AB)     /* -626843477, topic length is 2 bytes */
#define APUS_MAGIC_BLANK ((int32_t)0xCBD43194)  /* -875286124, end-of-file filler */

/* Bytes a record needs besides body, topic and properties with IPv4 hosts and v1 (store.md §3.2). */
#define APUS_RECORD_FIXED_BYTES_V1_IPV4 91
/* Every CommitLog segment keeps at least this many bytes after its last record for the BLANK
 * filler (store.md §3.6, END_FILE_MIN_BLANK_LENGTH). */
#define APUS_BLANK_BYTES_MIN 8
/* Largest body a message may carry by default (store.md §3.7, maxMessageSize). Larger: MESSAGE_ILLEGAL. */
#define APUS_BODY_BYTES_MAX_DEFAULT (4 * 1024 * 1024)
/* Room reserved for everything but the body in one encoded record (store.md §3.7). */
#define APUS_RECORD_HEADER_BYTES_RESERVED 65536
/* Properties are length-prefixed by a signed short (store.md §3.4, §3.7): PROPERTIES_SIZE_EXCEEDED. */
#define APUS_PROPS_BYTES_MAX 32767
/* v1 stores the topic length in a signed byte; longer topics need v2 (store.md §3.5). */
#define APUS_TOPIC_BYTES_MAX_V1 127
/* A v2 topic length is a signed short; RocketMQ allows 255 for %RETRY%/%DLQ% topics. */
#define APUS_TOPIC_BYTES_MAX 255
/* Largest record the decoder accepts: the default body bound plus reserved header room, times 4 to
 * leave room for a raised maxMessageSize; anything larger is corruption (recovery stops there). */
#define APUS_RECORD_BYTES_MAX (256 * 1024 * 1024)

/* ConsumeQueue store unit (store.md §6.1): phyOffset(8) size(4) tagsCode(8). */
#define APUS_CQ_UNIT_BYTES 20
/* Default ConsumeQueue file: 300 000 units (store.md §6.2). */
#define APUS_CQ_FILE_BYTES_DEFAULT (300000 * APUS_CQ_UNIT_BYTES)
/* Size field of a prefill (blank) ConsumeQueue entry (store.md §6.3). */
#define APUS_CQ_BLANK_SIZE 0x7FFFFFFF

/* IndexFile (store.md §7.1). */
#define APUS_INDEX_HEADER_BYTES 40
#define APUS_INDEX_SLOT_BYTES 4
#define APUS_INDEX_ENTRY_BYTES 20
#define APUS_INDEX_SLOT_NUM_DEFAULT 5000000
#define APUS_INDEX_NUM_DEFAULT 20000000

/* Checkpoint file (store.md §8): five longs at the head of one page. */
#define APUS_CHECKPOINT_FILE_BYTES 4096
#define APUS_CHECKPOINT_USED_BYTES 40

/* CommitLog / ConsumeQueue file names are 20 decimal digits (store.md §3.1). */
#define APUS_SEGMENT_NAME_DIGITS 20
#define APUS_PAGE_BYTES 4096

_Static_assert(APUS_CQ_UNIT_BYTES == 20, "ConsumeQueue unit is 20 bytes");
_Static_assert(APUS_CQ_FILE_BYTES_DEFAULT % APUS_CQ_UNIT_BYTES == 0, "CQ file holds whole units");
_Static_assert(APUS_INDEX_ENTRY_BYTES == 20 && APUS_INDEX_HEADER_BYTES == 40, "IndexFile layout");
_Static_assert(APUS_CHECKPOINT_USED_BYTES <= APUS_CHECKPOINT_FILE_BYTES, "checkpoint fits its page");
_Static_assert(APUS_BODY_BYTES_MAX_DEFAULT + APUS_RECORD_HEADER_BYTES_RESERVED < APUS_RECORD_BYTES_MAX,
               "a legal record is below the decoder's bound");
_Static_assert(APUS_RECORD_FIXED_BYTES_V1_IPV4 == 4+4+4+4+4+8+8+4+8+8+8+8+4+8+4+1+2,
               "fixed record bytes follow store.md 3.2");

#endif
