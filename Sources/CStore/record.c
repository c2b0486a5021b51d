/* record.c: encode, patch and validate CommitLog records; the layout is drawn in apus_record.h.
 * The encoder runs before the put lock (CRC included), the patcher under it, the checker in dispatch,
 * recovery and the fuzzer. */
#include "apus_record.h"

#include <errno.h>
#include <string.h>

#include "apus_bytes.h"
#include "apus_hash.h"

static int host_len_ok(uint32_t n) { return n == 4 || n == 16; }

static int use_v2(const struct apus_record_fields *f) {
    return f->force_v2 || f->topic_len > APUS_TOPIC_BYTES_MAX_V1;
}

int64_t apus_record_length(const struct apus_record_fields *f) {
    if (!host_len_ok(f->born_host_len) || !host_len_ok(f->store_host_len)) return -EINVAL;
    if (f->topic_len == 0 || f->topic_len > APUS_TOPIC_BYTES_MAX) return -EINVAL;
    uint32_t body_max = f->body_bytes_max ? f->body_bytes_max : APUS_BODY_BYTES_MAX_DEFAULT;
    if (f->body_len > body_max) return -EMSGSIZE;
    if (f->props_len > APUS_PROPS_BYTES_MAX) return -E2BIG;
    int64_t len = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + (f->born_host_len + 4) + 8 + (f->store_host_len + 4)
                  + 4 + 8 + 4 + (int64_t)f->body_len + (use_v2(f) ? 2 : 1) + f->topic_len + 2 + f->props_len;
    if (len > (int64_t)body_max + APUS_RECORD_HEADER_BYTES_RESERVED) return -EMSGSIZE;
    return len;
}

/* Writes the fixed part up to and including BODYLENGTH; returns the position after it. */
static uint8_t *encode_prefix(const struct apus_record_fields *f, uint8_t *p, int64_t len, int v2) {
    int32_t sys_flag = f->sys_flag & ~(APUS_SYSFLAG_BORNHOST_V6 | APUS_SYSFLAG_STOREHOST_V6);
    if (f->born_host_len == 16) sys_flag |= APUS_SYSFLAG_BORNHOST_V6;
    if (f->store_host_len == 16) sys_flag |= APUS_SYSFLAG_STOREHOST_V6;
    apus_put_be32(p, (uint32_t)len); p += 4;
    apus_put_be32(p, (uint32_t)(v2 ? APUS_MAGIC_V2 : APUS_MAGIC_V1)); p += 4;
    apus_put_be32(p, (uint32_t)apus_crc32_masked(f->body, f->body_len)); p += 4;
    apus_put_be32(p, (uint32_t)f->queue_id); p += 4;
    apus_put_be32(p, (uint32_t)f->flag); p += 4;
    apus_put_be64(p, (uint64_t)f->queue_offset); p += 8;
    apus_put_be64(p, (uint64_t)f->physical_offset); p += 8;
    apus_put_be32(p, (uint32_t)sys_flag); p += 4;
    apus_put_be64(p, (uint64_t)f->born_timestamp_ms); p += 8;
    memcpy(p, f->born_host, f->born_host_len); p += f->born_host_len;
    apus_put_be32(p, (uint32_t)f->born_port); p += 4;
    apus_put_be64(p, (uint64_t)f->store_timestamp_ms); p += 8;
    memcpy(p, f->store_host, f->store_host_len); p += f->store_host_len;
    apus_put_be32(p, (uint32_t)f->store_port); p += 4;
    apus_put_be32(p, (uint32_t)f->reconsume_times); p += 4;
    apus_put_be64(p, (uint64_t)f->prepared_tx_offset); p += 8;
    apus_put_be32(p, f->body_len); p += 4;
    return p;
}

/* Writes TOPICLENGTH, topic, PROPERTIESLENGTH, properties; returns the position after them. */
static uint8_t *encode_suffix(const struct apus_record_fields *f, uint8_t *p, int v2) {
    if (v2) { apus_put_be16(p, (uint16_t)f->topic_len); p += 2; }
    else { *p++ = (uint8_t)f->topic_len; }
    memcpy(p, f->topic, f->topic_len); p += f->topic_len;
    apus_put_be16(p, (uint16_t)f->props_len); p += 2;
    if (f->props_len) { memcpy(p, f->props, f->props_len); p += f->props_len; }
    return p;
}

int64_t apus_record_encode(const struct apus_record_fields *f, uint8_t *buf, size_t cap) {
    int64_t len = apus_record_length(f);
    if (len < 0) return len;
    if ((uint64_t)len > cap) return -ENOBUFS;
    int v2 = use_v2(f);
    uint8_t *p = encode_prefix(f, buf, len, v2);
    if (f->body_len) { memcpy(p, f->body, f->body_len); p += f->body_len; }
    p = encode_suffix(f, p, v2);
    APUS_ASSERT(p - buf == len);
    return len;
}

int64_t apus_record_encode_split(const struct apus_record_fields *f, uint8_t *buf, size_t cap, uint32_t *body_at) {
    int64_t len = apus_record_length(f);
    if (len < 0) return len;
    if ((uint64_t)len - f->body_len > cap) return -ENOBUFS;
    int v2 = use_v2(f);
    uint8_t *p = encode_prefix(f, buf, len, v2);
    *body_at = (uint32_t)(p - buf);
    p = encode_suffix(f, p, v2);
    APUS_ASSERT(p - buf == len - (int64_t)f->body_len);
    return len;
}

void apus_record_patch(uint8_t *rec, int64_t queue_offset, int64_t physical_offset, int64_t store_timestamp_ms) {
    int32_t sys_flag = (int32_t)apus_get_be32(rec + APUS_RECORD_POS_SYSFLAG);
    uint32_t born_len = (sys_flag & APUS_SYSFLAG_BORNHOST_V6) ? 20 : 8;
    apus_put_be64(rec + APUS_RECORD_POS_QUEUEOFFSET, (uint64_t)queue_offset);
    apus_put_be64(rec + APUS_RECORD_POS_PHYSICALOFFSET, (uint64_t)physical_offset);
    apus_put_be64(rec + APUS_RECORD_POS_BORNHOST + born_len, (uint64_t)store_timestamp_ms);
}

void apus_record_write_blank(uint8_t *p, int32_t remaining) {
    APUS_ASSERT(remaining >= APUS_BLANK_BYTES_MIN);
    apus_put_be32(p, (uint32_t)remaining);
    apus_put_be32(p + 4, (uint32_t)APUS_MAGIC_BLANK);
}

int apus_record_check(const uint8_t *p, size_t avail, int check_crc, struct apus_record_info *out) {
    memset(out, 0, sizeof *out);
    if (avail < 8) return -ENODATA;
    int32_t total = (int32_t)apus_get_be32(p);
    int32_t magic = (int32_t)apus_get_be32(p + 4);
    out->total_size = total;
    out->magic = magic;
    if (magic == APUS_MAGIC_BLANK) {
        if (total < APUS_BLANK_BYTES_MIN) return -EBADMSG;
        return APUS_RECORD_BLANK;
    }
    if (magic != APUS_MAGIC_V1 && magic != APUS_MAGIC_V2) return -EBADMSG;
    /* The smallest legal record: IPv4 hosts, empty body, 1-byte topic, no properties. */
    if (total < APUS_RECORD_FIXED_BYTES_V1_IPV4 + 1 || total > APUS_RECORD_BYTES_MAX) return -EBADMSG;
    if ((size_t)total > avail) return -ENODATA;
    const uint8_t *end = p + total;
    const uint8_t *q = p + 8;
    out->body_crc = (int32_t)apus_get_be32(q); q += 4;
    out->queue_id = (int32_t)apus_get_be32(q); q += 4;
    out->flag = (int32_t)apus_get_be32(q); q += 4;
    out->queue_offset = (int64_t)apus_get_be64(q); q += 8;
    out->physical_offset = (int64_t)apus_get_be64(q); q += 8;
    out->sys_flag = (int32_t)apus_get_be32(q); q += 4;
    out->born_timestamp_ms = (int64_t)apus_get_be64(q); q += 8;
    out->born_host_len = (out->sys_flag & APUS_SYSFLAG_BORNHOST_V6) ? 16 : 4;
    out->store_host_len = (out->sys_flag & APUS_SYSFLAG_STOREHOST_V6) ? 16 : 4;
    /* Fixed part up to and including BODYLEN, now that the host widths are known. */
    size_t fixed = 48 + out->born_host_len + 4 + 8 + out->store_host_len + 4 + 4 + 8 + 4;
    if ((size_t)total < fixed) return -EBADMSG;
    out->born_host_pos = (uint32_t)(q - p); q += out->born_host_len;
    out->born_port = (int32_t)apus_get_be32(q); q += 4;
    out->store_timestamp_pos = (uint32_t)(q - p);
    out->store_timestamp_ms = (int64_t)apus_get_be64(q); q += 8;
    out->store_host_pos = (uint32_t)(q - p); q += out->store_host_len;
    out->store_port = (int32_t)apus_get_be32(q); q += 4;
    out->reconsume_times = (int32_t)apus_get_be32(q); q += 4;
    out->prepared_tx_offset = (int64_t)apus_get_be64(q); q += 8;
    int32_t body_len = (int32_t)apus_get_be32(q); q += 4;
    if (body_len < 0 || body_len > end - q) return -EBADMSG;
    out->body_pos = (uint32_t)(q - p);
    out->body_len = (uint32_t)body_len;
    q += body_len;
    int32_t topic_len;
    if (magic == APUS_MAGIC_V2) {
        if (end - q < 2) return -EBADMSG;
        topic_len = (int16_t)apus_get_be16(q); q += 2;
    } else {
        if (end - q < 1) return -EBADMSG;
        topic_len = (int8_t)*q; q += 1;
    }
    if (topic_len <= 0 || topic_len > end - q) return -EBADMSG;
    out->topic_pos = (uint32_t)(q - p);
    out->topic_len = (uint32_t)topic_len;
    q += topic_len;
    if (end - q < 2) return -EBADMSG;
    int32_t props_len = (int16_t)apus_get_be16(q); q += 2;
    if (props_len < 0 || props_len != end - q) return -EBADMSG; /* recomputed length == TOTALSIZE */
    out->props_pos = (uint32_t)(q - p);
    out->props_len = (uint32_t)props_len;
    if (check_crc && apus_crc32_masked(p + out->body_pos, out->body_len) != out->body_crc) return -EILSEQ;
    return APUS_RECORD_MESSAGE;
}

int apus_props_find(const uint8_t *props, uint32_t props_len, const char *key, uint32_t key_len,
                    uint32_t *val_pos, uint32_t *val_len) {
    int found = 0;
    uint32_t i = 0;
    while (i < props_len) {
        uint32_t seg_end = i;
        while (seg_end < props_len && props[seg_end] != 0x02) seg_end++;
        uint32_t seg_len = seg_end - i;
        if (seg_len >= 3) {
            const uint8_t *sep = memchr(props + i, 0x01, seg_len);
            if (sep) {
                uint32_t name_len = (uint32_t)(sep - (props + i));
                uint32_t vpos = i + name_len + 1;
                uint32_t vlen = seg_end - vpos;
                if (name_len > 0 && vlen > 0 && name_len == key_len && memcmp(props + i, key, key_len) == 0) {
                    *val_pos = vpos;
                    *val_len = vlen;
                    found = 1; /* keep going: a later duplicate wins, as in Java's HashMap.put */
                }
            }
        }
        i = seg_end + 1;
    }
    return found;
}

int apus_msg_id_format(const uint8_t *host, uint32_t host_len, int32_t port, int64_t physical_offset, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    APUS_ASSERT(host_len == 4 || host_len == 16);
    uint8_t raw[28];
    memcpy(raw, host, host_len);
    apus_put_be32(raw + host_len, (uint32_t)port);
    apus_put_be64(raw + host_len + 4, (uint64_t)physical_offset);
    uint32_t n = host_len + 12;
    for (uint32_t i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0xF];
    }
    out[2 * n] = 0;
    return (int)(2 * n);
}

int64_t apus_batch_item_read(const uint8_t *p, size_t avail, struct apus_batch_item *out) {
    if (avail < 22) return -EBADMSG;
    int32_t total = (int32_t)apus_get_be32(p);
    if (total < 22 || (size_t)total > avail) return -EBADMSG;
    out->flag = (int32_t)apus_get_be32(p + 12);
    int32_t body_len = (int32_t)apus_get_be32(p + 16);
    if (body_len < 0 || body_len > total - 22) return -EBADMSG;
    out->body_pos = 20;
    out->body_len = (uint32_t)body_len;
    int32_t props_len = (int16_t)apus_get_be16(p + 20 + body_len);
    if (props_len < 0 || 22 + body_len + props_len != total) return -EBADMSG;
    out->props_pos = (uint32_t)(22 + body_len);
    out->props_len = (uint32_t)props_len;
    return total;
}
