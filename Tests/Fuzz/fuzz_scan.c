/* fuzz_scan.c: libFuzzer target over the recovery scanner: any segment image, any start position.
 * The scanner must stay inside the image and end on a record boundary it validated. */
#include <stdint.h>
#include <string.h>

#include "apus_bytes.h"
#include "apus_record.h"
#include "apus_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    int64_t start = data[0] % 8 == 0 ? 0 : (int64_t)(data[1] % (size));
    struct apus_scan_result r;
    apus_scan_segment(data, size, start, data[0] & 1, &r);
    APUS_ASSERT(r.end_position >= start && (uint64_t)r.end_position <= size);
    if (r.records > 0) {
        struct apus_record_info info;
        APUS_ASSERT(r.last_record_position >= start);
        APUS_ASSERT(apus_record_check(data + r.last_record_position, size - (size_t)r.last_record_position,
                                      data[0] & 1, &info) == APUS_RECORD_MESSAGE);
        APUS_ASSERT(r.last_record_position + info.total_size == r.end_position);
    }
    return 0;
}
