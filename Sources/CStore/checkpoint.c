/* checkpoint.c: StoreCheckpoint page coding (layout in apus_checkpoint.h). */
#include "apus_checkpoint.h"

#include <string.h>

#include "apus_bytes.h"

void apus_checkpoint_encode(const struct apus_checkpoint *c, uint8_t page[APUS_CHECKPOINT_FILE_BYTES]) {
    memset(page, 0, APUS_CHECKPOINT_FILE_BYTES);
    apus_put_be64(page, (uint64_t)c->physic_msg_timestamp_ms);
    apus_put_be64(page + 8, (uint64_t)c->logics_msg_timestamp_ms);
    apus_put_be64(page + 16, (uint64_t)c->index_msg_timestamp_ms);
    apus_put_be64(page + 24, (uint64_t)c->master_flushed_offset);
    apus_put_be64(page + 32, (uint64_t)c->confirm_physical_offset);
}

void apus_checkpoint_decode(const uint8_t page[APUS_CHECKPOINT_USED_BYTES], struct apus_checkpoint *out) {
    out->physic_msg_timestamp_ms = (int64_t)apus_get_be64(page);
    out->logics_msg_timestamp_ms = (int64_t)apus_get_be64(page + 8);
    out->index_msg_timestamp_ms = (int64_t)apus_get_be64(page + 16);
    out->master_flushed_offset = (int64_t)apus_get_be64(page + 24);
    out->confirm_physical_offset = (int64_t)apus_get_be64(page + 32);
}

int64_t apus_checkpoint_min_timestamp(const struct apus_checkpoint *c) {
    int64_t m = c->physic_msg_timestamp_ms < c->logics_msg_timestamp_ms ? c->physic_msg_timestamp_ms
                                                                        : c->logics_msg_timestamp_ms;
    m -= 3000;
    return m < 0 ? 0 : m;
}
