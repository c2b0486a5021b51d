/* fuzz_record.c: libFuzzer target over the record decoder, property lookup and batch-item reader.
 * Pair check: whatever the decoder accepts must re-encode from its own fields to the same bytes, whole and
 * split (fixed part + topic/properties part, the body placed between them as the put lock does). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apus_bytes.h"
#include "apus_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct apus_record_info info;
    int kind = apus_record_check(data, size, 1, &info);
    if (kind == APUS_RECORD_MESSAGE) {
        APUS_ASSERT((size_t)info.total_size <= size);
        APUS_ASSERT(info.props_pos + info.props_len == (uint32_t)info.total_size);
        uint32_t pos, len;
        if (apus_props_find(data + info.props_pos, info.props_len, "TAGS", 4, &pos, &len))
            APUS_ASSERT(pos + len <= info.props_len);
        struct apus_record_fields f;
        memset(&f, 0, sizeof f);
        f.body = data + info.body_pos; f.body_len = info.body_len;
        f.topic = data + info.topic_pos; f.topic_len = info.topic_len;
        f.props = data + info.props_pos; f.props_len = info.props_len;
        f.queue_id = info.queue_id; f.flag = info.flag; f.sys_flag = info.sys_flag;
        f.reconsume_times = info.reconsume_times; f.queue_offset = info.queue_offset;
        f.physical_offset = info.physical_offset; f.born_timestamp_ms = info.born_timestamp_ms;
        f.store_timestamp_ms = info.store_timestamp_ms; f.prepared_tx_offset = info.prepared_tx_offset;
        memcpy(f.born_host, data + info.born_host_pos, info.born_host_len);
        f.born_host_len = (uint8_t)info.born_host_len; f.born_port = info.born_port;
        memcpy(f.store_host, data + info.store_host_pos, info.store_host_len);
        f.store_host_len = (uint8_t)info.store_host_len; f.store_port = info.store_port;
        f.force_v2 = info.magic == APUS_MAGIC_V2;
        f.body_bytes_max = APUS_RECORD_BYTES_MAX;
        uint8_t *buf = malloc((size_t)info.total_size + 64);
        int64_t n = apus_record_encode(&f, buf, (size_t)info.total_size + 64);
        /* A v1 record whose topic is over 127 bytes cannot exist (the length byte is signed). */
        APUS_ASSERT(n == info.total_size);
        APUS_ASSERT(memcmp(buf, data, (size_t)n) == 0);
        uint32_t body_at = 0;
        int64_t m = apus_record_encode_split(&f, buf, (size_t)info.total_size + 64, &body_at);
        APUS_ASSERT(m == n && body_at == info.body_pos);
        APUS_ASSERT(memcmp(buf, data, body_at) == 0);
        APUS_ASSERT(memcmp(buf + body_at, data + body_at + info.body_len, (size_t)n - body_at - info.body_len) == 0);
        free(buf);
    }
    struct apus_batch_item item;
    int64_t n = apus_batch_item_read(data, size, &item);
    if (n > 0) APUS_ASSERT(item.props_pos + item.props_len == (uint64_t)n);
    return 0;
}
