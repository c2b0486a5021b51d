/* apus_checkpoint.h: the StoreCheckpoint file (store.md §8): 4096 bytes, big-endian longs at
 *   0 physicMsgTimestamp | 8 logicsMsgTimestamp | 16 indexMsgTimestamp | 24 masterFlushedOffset |
 *   32 confirmPhyOffset, rest zero.
 * Thread-safety: pure functions on caller memory. */
#ifndef APUS_CHECKPOINT_H
#define APUS_CHECKPOINT_H

#include <stdint.h>
#include "apus_limits.h"

struct apus_checkpoint {
    int64_t physic_msg_timestamp_ms;
    int64_t logics_msg_timestamp_ms;
    int64_t index_msg_timestamp_ms;
    int64_t master_flushed_offset;
    int64_t confirm_physical_offset;
};

/* Writes the whole 4096-byte page image (fields, then zeros). */
void apus_checkpoint_encode(const struct apus_checkpoint *c, uint8_t page[APUS_CHECKPOINT_FILE_BYTES]);
void apus_checkpoint_decode(const uint8_t page[APUS_CHECKPOINT_USED_BYTES], struct apus_checkpoint *out);

/* max(0, min(physic, logics) - 3000): where abnormal recovery may start (store.md §8). */
int64_t apus_checkpoint_min_timestamp(const struct apus_checkpoint *c);

#endif
