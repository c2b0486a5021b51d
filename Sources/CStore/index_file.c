/* index_file.c: IndexFile put and query, following RocketMQ's IndexFile.putKey/selectPhyOffset so that
 * the bytes match (layout in apus_index_file.h). */
#include "apus_index_file.h"

#include "apus_bytes.h"
#include "apus_hash.h"

uint64_t apus_index_file_bytes(uint32_t slot_num, uint32_t index_num) {
    return APUS_INDEX_HEADER_BYTES + (uint64_t)slot_num * APUS_INDEX_SLOT_BYTES + (uint64_t)index_num * APUS_INDEX_ENTRY_BYTES;
}

void apus_index_header_read(const uint8_t *base, struct apus_index_header *out) {
    out->begin_timestamp_ms = (int64_t)apus_get_be64(base);
    out->end_timestamp_ms = (int64_t)apus_get_be64(base + 8);
    out->begin_physical_offset = (int64_t)apus_get_be64(base + 16);
    out->end_physical_offset = (int64_t)apus_get_be64(base + 24);
    out->hash_slot_count = (int32_t)apus_get_be32(base + 32);
    out->index_count = (int32_t)apus_get_be32(base + 36);
    if (out->index_count <= 0) out->index_count = 1; /* as IndexHeader.load */
}

void apus_index_header_write(uint8_t *base, const struct apus_index_header *h) {
    apus_put_be64(base, (uint64_t)h->begin_timestamp_ms);
    apus_put_be64(base + 8, (uint64_t)h->end_timestamp_ms);
    apus_put_be64(base + 16, (uint64_t)h->begin_physical_offset);
    apus_put_be64(base + 24, (uint64_t)h->end_physical_offset);
    apus_put_be32(base + 32, (uint32_t)h->hash_slot_count);
    apus_put_be32(base + 36, (uint32_t)h->index_count);
}

void apus_index_init(uint8_t *base, int64_t prev_end_physical_offset, int64_t prev_end_timestamp_ms) {
    struct apus_index_header h = {0};
    if (prev_end_physical_offset > 0) { h.begin_physical_offset = h.end_physical_offset = prev_end_physical_offset; }
    if (prev_end_timestamp_ms > 0) { h.begin_timestamp_ms = h.end_timestamp_ms = prev_end_timestamp_ms; }
    h.index_count = 1;
    apus_index_header_write(base, &h);
}

int32_t apus_index_key_hash(const uint8_t *key, size_t key_len) {
    int32_t h = apus_java_hash_utf8(key, key_len);
    if (h == INT32_MIN) return 0;
    return h < 0 ? -h : h;
}

static uint8_t *slot_at(const uint8_t *base, uint32_t slot) {
    return (uint8_t *)base + APUS_INDEX_HEADER_BYTES + (uint64_t)slot * APUS_INDEX_SLOT_BYTES;
}

static uint8_t *entry_at(const uint8_t *base, uint32_t slot_num, int32_t n) {
    return (uint8_t *)base + APUS_INDEX_HEADER_BYTES + (uint64_t)slot_num * APUS_INDEX_SLOT_BYTES
           + (uint64_t)n * APUS_INDEX_ENTRY_BYTES;
}

int apus_index_put(uint8_t *base, uint32_t slot_num, uint32_t index_num, const uint8_t *key, size_t key_len,
                   int64_t physical_offset, int64_t store_timestamp_ms) {
    APUS_ASSERT(slot_num > 0 && index_num > 1);
    struct apus_index_header h;
    apus_index_header_read(base, &h);
    if ((uint32_t)h.index_count >= index_num) return APUS_INDEX_FULL;
    int32_t hash = apus_index_key_hash(key, key_len);
    uint32_t slot = (uint32_t)hash % slot_num;
    int32_t slot_value = (int32_t)apus_get_be32(slot_at(base, slot));
    if (slot_value <= 0 || slot_value > h.index_count) slot_value = 0;

    int64_t diff = (store_timestamp_ms - h.begin_timestamp_ms) / 1000;
    if (h.begin_timestamp_ms <= 0) diff = 0;
    else if (diff > INT32_MAX) diff = INT32_MAX;
    else if (diff < 0) diff = 0;

    /* Entry first, then the slot that points at it, so a concurrent query never follows a half entry. */
    uint8_t *e = entry_at(base, slot_num, h.index_count);
    apus_put_be32(e, (uint32_t)hash);
    apus_put_be64(e + 4, (uint64_t)physical_offset);
    apus_put_be32(e + 12, (uint32_t)diff);
    apus_put_be32(e + 16, (uint32_t)slot_value);
    apus_put_be32(slot_at(base, slot), (uint32_t)h.index_count);

    if (h.index_count <= 1) {
        h.begin_physical_offset = physical_offset;
        h.begin_timestamp_ms = store_timestamp_ms;
    }
    if (slot_value == 0) h.hash_slot_count++;
    h.index_count++;
    h.end_physical_offset = physical_offset;
    h.end_timestamp_ms = store_timestamp_ms;
    apus_index_header_write(base, &h);
    return 0;
}

uint32_t apus_index_query(const uint8_t *base, uint32_t slot_num, uint32_t index_num, const uint8_t *key,
                          size_t key_len, int64_t begin_ms, int64_t end_ms, int64_t *out, uint32_t max) {
    struct apus_index_header h;
    apus_index_header_read(base, &h);
    int32_t hash = apus_index_key_hash(key, key_len);
    uint32_t slot = (uint32_t)hash % slot_num;
    int32_t next = (int32_t)apus_get_be32(slot_at(base, slot));
    uint32_t found = 0;
    if (next <= 0 || next > h.index_count || h.index_count <= 1) return 0;
    for (uint32_t steps = 0; steps < index_num && found < max; steps++) {
        if ((uint32_t)next >= index_num) break;
        const uint8_t *e = entry_at(base, slot_num, next);
        int32_t hash_read = (int32_t)apus_get_be32(e);
        int64_t phys = (int64_t)apus_get_be64(e + 4);
        int64_t diff = (int32_t)apus_get_be32(e + 12);
        int32_t prev = (int32_t)apus_get_be32(e + 16);
        if (diff < 0) break;
        int64_t time_read = h.begin_timestamp_ms + diff * 1000;
        if (hash_read == hash && time_read >= begin_ms && time_read <= end_ms) out[found++] = phys;
        if (prev <= 0 || prev > h.index_count || prev == next || time_read < begin_ms) break;
        next = prev;
    }
    return found;
}
