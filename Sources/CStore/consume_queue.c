/* consume_queue.c: ConsumeQueue unit coding and the recovery scan. Layout in apus_consume_queue.h. */
#include "apus_consume_queue.h"

#include "apus_bytes.h"

void apus_cq_entry_encode(uint8_t out[APUS_CQ_UNIT_BYTES], int64_t physical_offset, int32_t size, int64_t tags_code) {
    apus_put_be64(out, (uint64_t)physical_offset);
    apus_put_be32(out + 8, (uint32_t)size);
    apus_put_be64(out + 12, (uint64_t)tags_code);
}

void apus_cq_entry_decode(const uint8_t in[APUS_CQ_UNIT_BYTES], struct apus_cq_entry *out) {
    out->physical_offset = (int64_t)apus_get_be64(in);
    out->size = (int32_t)apus_get_be32(in + 8);
    out->tags_code = (int64_t)apus_get_be64(in + 12);
}

int64_t apus_cq_scan_valid(const uint8_t *base, uint64_t size_bytes, int64_t *max_physical_end) {
    uint64_t pos = 0;
    for (; pos + APUS_CQ_UNIT_BYTES <= size_bytes; pos += APUS_CQ_UNIT_BYTES) {
        struct apus_cq_entry e;
        apus_cq_entry_decode(base + pos, &e);
        if (e.physical_offset < 0 || e.size <= 0) break;
        if (e.size != APUS_CQ_BLANK_SIZE) *max_physical_end = e.physical_offset + e.size;
    }
    return (int64_t)pos;
}
