/* apus_consume_queue.h: ConsumeQueue store units (store.md §6.1):
 *
 *   +----------------------+--------------+----------------------+
 *   | CommitLog offset i64 | size i32     | tags code i64        |   20 bytes, big-endian
 *   +----------------------+--------------+----------------------+
 *
 * Entry k of a queue sits at logical byte offset k * 20. Example: offset 124, size 190, tag "TagA"
 * (hash 2598919) => 00000000 0000007c 000000be 00000000 0027a807.
 * A prefill entry is (0, 0x7FFFFFFF, 0). Thread-safety: pure functions on caller memory. */
#ifndef APUS_CONSUME_QUEUE_H
#define APUS_CONSUME_QUEUE_H

#include <stdint.h>
#include "apus_limits.h"

struct apus_cq_entry {
    int64_t physical_offset;
    int32_t size;
    int64_t tags_code;
};

void apus_cq_entry_encode(uint8_t out[APUS_CQ_UNIT_BYTES], int64_t physical_offset, int32_t size, int64_t tags_code);
void apus_cq_entry_decode(const uint8_t in[APUS_CQ_UNIT_BYTES], struct apus_cq_entry *out);

/* Recovery scan of one ConsumeQueue file (store.md §9 step 3): walks units from the start until one has
 * physical offset < 0 or size <= 0. Returns the byte length of the valid prefix and sets
 * *max_physical_end to offset+size of the last valid non-prefill entry (or leaves it unchanged). */
int64_t apus_cq_scan_valid(const uint8_t *base, uint64_t size_bytes, int64_t *max_physical_end);

#endif
