/* scan.c: the recovery scanner (contract in apus_scan.h). */
#include "apus_scan.h"

#include "apus_bytes.h"
#include "apus_record.h"

int apus_scan_segment(const uint8_t *base, uint64_t size_bytes, int64_t start_position, int check_crc,
                      struct apus_scan_result *out) {
    APUS_ASSERT(start_position >= 0 && (uint64_t)start_position <= size_bytes);
    out->end_position = start_position;
    out->last_record_position = -1;
    out->last_store_timestamp_ms = 0;
    out->records = 0;
    out->error = 0;
    uint64_t pos = (uint64_t)start_position;
    for (;;) {
        if (size_bytes - pos < 8) { out->reason = APUS_SCAN_END_LIMIT; return 0; }
        struct apus_record_info info;
        int kind = apus_record_check(base + pos, size_bytes - pos, check_crc, &info);
        if (kind == APUS_RECORD_BLANK) { out->reason = APUS_SCAN_END_BLANK; return 0; }
        if (kind < 0) { out->reason = APUS_SCAN_END_INVALID; out->error = kind; return 0; }
        out->last_record_position = (int64_t)pos;
        out->last_store_timestamp_ms = info.store_timestamp_ms;
        out->records++;
        pos += (uint64_t)info.total_size;
        out->end_position = (int64_t)pos;
    }
}
