/* apus_index_file.h: RocketMQ's IndexFile (store.md §7) over a mapped file of
 * 40 + slot_num*4 + index_num*20 bytes, big-endian:
 *
 *   header  0 beginTimestamp i64 | 8 endTimestamp i64 | 16 beginPhyOffset i64 | 24 endPhyOffset i64 |
 *          32 hashSlotCount i32 | 36 indexCount i32 (starts at 1)
 *   slots   slot_num x i32: newest entry number in the slot, 0 = empty
 *   entries index_num x { keyHash i32 | phyOffset i64 | timeDiff s i32 | prevIndex i32 }, entry 0 unused
 *
 * Key = topic + "#" + key; hash = abs(Java hashCode) (MIN_VALUE -> 0); slot = hash % slot_num.
 * Example: "TopicTest#OrderID188" -> hash 1231271670 -> slot 1271670 (slot_num 5 000 000).
 *
 * Thread-safety: one writer (the dispatcher thread); queries may run at the same time and then see a
 * consistent prefix of entries because an entry is written before the slot that points at it.
 * Allocates nothing. */
#ifndef APUS_INDEX_FILE_H
#define APUS_INDEX_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "apus_limits.h"

struct apus_index_header {
    int64_t begin_timestamp_ms;
    int64_t end_timestamp_ms;
    int64_t begin_physical_offset;
    int64_t end_physical_offset;
    int32_t hash_slot_count;
    int32_t index_count;
};

#define APUS_INDEX_FULL 1

uint64_t apus_index_file_bytes(uint32_t slot_num, uint32_t index_num);
void apus_index_header_read(const uint8_t *base, struct apus_index_header *out);
void apus_index_header_write(uint8_t *base, const struct apus_index_header *h);

/* Writes the header of a fresh file: begin/end taken from the previous file's end (store.md §7.4),
 * counts 0 and 1. */
void apus_index_init(uint8_t *base, int64_t prev_end_physical_offset, int64_t prev_end_timestamp_ms);

/* abs(Java String.hashCode) of the UTF-8 key, with Integer.MIN_VALUE mapped to 0 (store.md §7.2). */
int32_t apus_index_key_hash(const uint8_t *key, size_t key_len);

/* Adds key -> physical offset at store time. Returns 0, or APUS_INDEX_FULL if the file holds
 * index_num - 1 entries already (caller rolls to a new file). */
int apus_index_put(uint8_t *base, uint32_t slot_num, uint32_t index_num, const uint8_t *key, size_t key_len,
                   int64_t physical_offset, int64_t store_timestamp_ms);

/* Collects up to max physical offsets of entries whose key hash matches and whose reconstructed time is
 * within [begin_ms, end_ms], newest first (store.md §7.5). Hash collisions are not filtered.
 * Returns the count. Bounded by index_num steps even on a corrupt chain. */
uint32_t apus_index_query(const uint8_t *base, uint32_t slot_num, uint32_t index_num, const uint8_t *key,
                          size_t key_len, int64_t begin_ms, int64_t end_ms, int64_t *out, uint32_t max);

#endif
