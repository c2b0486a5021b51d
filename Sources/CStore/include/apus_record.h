/* apus_record.h: RocketMQ's stored-message encoding (CommitLog record), byte for byte.
 * Layout (store.md §3.2, remoting.md §12.1), all big-endian; offsets for IPv4 born and store hosts:
 *
 *   0 TOTALSIZE i32 | 4 MAGICCODE i32 | 8 BODYCRC i32 | 12 QUEUEID i32 | 16 FLAG i32 |
 *  20 QUEUEOFFSET i64 | 28 PHYSICALOFFSET i64 | 36 SYSFLAG i32 | 40 BORNTIMESTAMP i64 |
 *  48 BORNHOST 4+4 (IPv6: 16+4) | 56 STORETIMESTAMP i64 | 64 STOREHOST 4+4 (IPv6: 16+4) |
 *  72 RECONSUMETIMES i32 | 76 PREPARED_TX_OFFSET i64 | 84 BODYLEN i32 | 88 BODY |
 *  TOPICLEN i8 (v1) or i16 (v2) | TOPIC | PROPLEN i16 | PROPERTIES
 *
 * Worked example (store.md §3.14): topic "TopicTest", body "Hello RocketMQ", properties
 * "TAGS\x01TagA\x02", IPv4, v1 => TOTALSIZE 124 (0000007c), MAGIC daa320a7, BODYCRC 69c865ed
 * (1774740973), BODYLEN 0000000e at 84, body at 88..101, TOPICLEN 09 at 102, topic at 103..111,
 * PROPLEN 000a at 112, properties at 114..123.
 *
 * A BLANK record (end-of-file filler, store.md §3.6) is 8 bytes: i32 remaining bytes, i32 0xCBD43194.
 *
 * Thread-safety: every function works on caller memory only and may run on any thread.
 * Allocates nothing. */
#ifndef APUS_RECORD_H
#define APUS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "apus_limits.h"

/* sysFlag bits (store.md §3.3). */
#define APUS_SYSFLAG_COMPRESSED 0x1
#define APUS_SYSFLAG_MULTI_TAGS 0x2
#define APUS_SYSFLAG_TX_MASK 0xC
#define APUS_SYSFLAG_TX_NOT_TYPE 0x0
#define APUS_SYSFLAG_TX_PREPARED 0x4
#define APUS_SYSFLAG_TX_COMMIT 0x8
#define APUS_SYSFLAG_TX_ROLLBACK 0xC
#define APUS_SYSFLAG_BORNHOST_V6 0x10
#define APUS_SYSFLAG_STOREHOST_V6 0x20

/* Fixed positions of fields patched under the put lock. */
#define APUS_RECORD_POS_QUEUEOFFSET 20
#define APUS_RECORD_POS_PHYSICALOFFSET 28
#define APUS_RECORD_POS_SYSFLAG 36
#define APUS_RECORD_POS_BORNHOST 48

/* What the caller knows of one message. Pointers may be NULL when the matching length is 0.
 * Host addresses are in network order, 4 (IPv4) or 16 (IPv6) bytes. */
struct apus_record_fields {
    const uint8_t *body;
    const uint8_t *topic;
    const uint8_t *props;
    uint32_t body_len;
    uint32_t topic_len;
    uint32_t props_len;
    int32_t queue_id;
    int32_t flag;
    int32_t sys_flag;           /* host bits 0x10/0x20 are set by the encoder from the host lengths */
    int32_t reconsume_times;
    int64_t queue_offset;       /* usually patched later under the put lock */
    int64_t physical_offset;    /* idem */
    int64_t born_timestamp_ms;
    int64_t store_timestamp_ms; /* idem */
    int64_t prepared_tx_offset;
    uint8_t born_host[16];
    uint8_t store_host[16];
    uint8_t born_host_len;      /* 4 or 16 */
    uint8_t store_host_len;     /* 4 or 16 */
    int32_t born_port;
    int32_t store_port;
    uint32_t body_bytes_max;    /* maxMessageSize; 0 means APUS_BODY_BYTES_MAX_DEFAULT */
    int force_v2;               /* write MAGIC_V2 even for short topics */
};

/* Encoded length of a record with these fields, or a negative errno:
 *  -EMSGSIZE  body over body_bytes_max, or whole record over body_bytes_max + 64 KiB (MESSAGE_ILLEGAL)
 *  -E2BIG     properties over 32767 bytes (PROPERTIES_SIZE_EXCEEDED)
 *  -EINVAL    bad host length, or a topic empty or over 255 bytes */
int64_t apus_record_length(const struct apus_record_fields *f);

/* Encodes one record into buf[0..cap). Computes the body CRC. Returns the record length, a negative
 * errno from apus_record_length, or -ENOBUFS if cap is too small (nothing meaningful written). */
int64_t apus_record_encode(const struct apus_record_fields *f, uint8_t *buf, size_t cap);

/* As apus_record_encode (same length, same CRC of the body), but leaves the body out of `buf`: it writes
 * the fixed part up to BODYLENGTH, then at once the topic and properties part, and sets *body_at to where
 * the body belongs (the length of the fixed part). Needs cap >= length - body_len. Lets the put lock copy
 * the body once, from the caller's bytes (apus_segment_append_split). */
int64_t apus_record_encode_split(const struct apus_record_fields *f, uint8_t *buf, size_t cap, uint32_t *body_at);

/* Patches queue offset, physical offset and store timestamp into an encoded record (which the caller
 * owns). Called under the put lock, so it touches only the three fields. */
void apus_record_patch(uint8_t *rec, int64_t queue_offset, int64_t physical_offset, int64_t store_timestamp_ms);

/* Writes a BLANK filler of `remaining` bytes (only the 8 header bytes are written). */
void apus_record_write_blank(uint8_t *p, int32_t remaining);

/* What apus_record_check learned about one record. Positions are relative to the record's start. */
struct apus_record_info {
    int32_t total_size;
    int32_t magic;
    int32_t body_crc;
    int32_t queue_id;
    int32_t flag;
    int32_t sys_flag;
    int32_t reconsume_times;
    int32_t born_port;
    int32_t store_port;
    int64_t queue_offset;
    int64_t physical_offset;
    int64_t born_timestamp_ms;
    int64_t store_timestamp_ms;
    int64_t prepared_tx_offset;
    uint32_t born_host_pos, born_host_len;
    uint32_t store_host_pos, store_host_len;
    uint32_t store_timestamp_pos;
    uint32_t body_pos, body_len;
    uint32_t topic_pos, topic_len;
    uint32_t props_pos, props_len;
};

/* Kinds returned by apus_record_check on success. */
#define APUS_RECORD_MESSAGE 1
#define APUS_RECORD_BLANK 2

/* Validates the record at p (avail bytes readable) as recovery does (store.md §9):
 * returns APUS_RECORD_MESSAGE or APUS_RECORD_BLANK with `out` filled (for BLANK only total_size and
 * magic), or a negative errno, in which case the record is not usable and a scan stops here:
 *  -ENODATA  fewer bytes available than the record claims (torn tail), or avail < 8
 *  -EBADMSG  bad magic (a zero region fails here), size out of range, lengths that disagree
 *  -EILSEQ   body CRC mismatch (only when check_crc != 0)
 * Never reads outside p[0..avail). */
int apus_record_check(const uint8_t *p, size_t avail, int check_crc, struct apus_record_info *out);

/* Finds the value of property `key` in an encoded properties string (name \x01 value \x02 ...), with
 * Java's parse rules: segments under 3 bytes or with an empty name or value are ignored and a later
 * duplicate wins. Returns 1 and sets *val_pos and *val_len (relative to props), or 0 if absent. */
int apus_props_find(const uint8_t *props, uint32_t props_len, const char *key, uint32_t key_len,
                    uint32_t *val_pos, uint32_t *val_len);

/* Writes the offset message id (store.md §3.10) as uppercase hex into out: 32 chars for a 4-byte host,
 * 56 for a 16-byte host, NUL-terminated (out needs 57 bytes). Returns the number of hex chars. */
int apus_msg_id_format(const uint8_t *host, uint32_t host_len, int32_t port, int64_t physical_offset, char *out);

/* The client batch body (store.md §3.9): items of
 *   i32 TOTALSIZE | i32 MAGIC | i32 BODYCRC | i32 FLAG | i32 BODYLEN | BODY | i16 PROPLEN | PROPS.
 * Reads the item at p[0..avail); fills flag, body/props position and length relative to p.
 * Returns the item's size (> 0) or -EBADMSG if it is malformed or runs past avail. */
struct apus_batch_item {
    int32_t flag;
    uint32_t body_pos, body_len;
    uint32_t props_pos, props_len;
};
int64_t apus_batch_item_read(const uint8_t *p, size_t avail, struct apus_batch_item *out);

#endif
