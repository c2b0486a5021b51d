/* apus_scan.h: the recovery scanner: walks CommitLog records in one segment image and reports where
 * the valid data ends (store.md §9). Used by recovery and fuzzed by `make fuzz`.
 * Thread-safety: pure function on caller memory; never reads outside base[0..size_bytes). */
#ifndef APUS_SCAN_H
#define APUS_SCAN_H

#include <stdint.h>

/* Why a scan stopped. */
#define APUS_SCAN_END_BLANK 1   /* a BLANK filler: the segment is full, continue with the next one */
#define APUS_SCAN_END_INVALID 2 /* an invalid or torn record (or zeros): the log ends at end_position */
#define APUS_SCAN_END_LIMIT 3   /* reached size_bytes exactly (or fewer than 8 bytes remain) */

struct apus_scan_result {
    int64_t end_position;        /* file position after the last valid message record */
    int64_t last_record_position;/* file position of the last valid message record, -1 if none */
    int64_t last_store_timestamp_ms;
    uint64_t records;            /* valid message records seen */
    int reason;                  /* APUS_SCAN_END_* */
    int error;                   /* for END_INVALID: the negative errno of apus_record_check */
};

/* Scans from start_position. Returns 0 and fills out. */
int apus_scan_segment(const uint8_t *base, uint64_t size_bytes, int64_t start_position, int check_crc,
                      struct apus_scan_result *out);

#endif
