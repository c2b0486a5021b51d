/* test_record.c: golden bytes of the record codec (remoting.md §12.6, store.md §3.14), the CRC and
 * Java hashCode vectors (store.md §1), and the decoder's rejections. */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "apus_bytes.h"
#include "apus_hash.h"
#include "apus_record.h"
#include "apus_scan.h"
#include "harness.h"

void crc_matches_spec_vectors(void) {
    CHECK_EQ(apus_crc32_update(0, "Hello RocketMQ", 14), 0x69C865EDu);
    CHECK_EQ(apus_crc32_masked("Hello RocketMQ", 14), 1774740973);
    CHECK_EQ(apus_crc32_update(0, "Hello", 5), 0xF7D18982u);
    CHECK_EQ(apus_crc32_masked("Hello", 5), 0x77D18982);
    CHECK_EQ(apus_crc32_masked("", 0), 0);
}

/* The carry-less multiplication path (64 bytes and more) agrees with zlib's table code at every length
 * and alignment, from a zero and a non-zero start, including the bytes past the last 16-byte fold. */
void crc_fast_path_matches_zlib(void) {
    enum { MAX = 4200 };
    uint8_t *buf = malloc(MAX + 16);
    CHECK(buf != NULL);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < MAX + 16; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; buf[i] = (uint8_t)x; }
    for (size_t len = 0; len <= MAX; len += (len < 300 ? 1 : 37)) {
        for (size_t off = 0; off < 16; off += 5) {
            for (uint32_t seed = 0; seed < 2; seed++) {
                uint32_t start = seed ? 0xA5A55A5Au : 0;
                uint32_t want = (uint32_t)crc32(start, buf + off, (uInt)len);
                CHECK_EQ(apus_crc32_update(start, buf + off, len), want);
            }
        }
    }
    free(buf);
}

void java_hash_matches_spec_vectors(void) {
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"TagA", 4), 2598919);
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"TagA||TagB", 10), 1789476431);
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"*", 1), 42);
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"TopicTest#OrderID188", 20), -1231271670);
    /* U+00E9 is one UTF-16 unit (233); U+1F600 is the surrogate pair D83D DE00. */
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"\xC3\xA9", 2), 233);
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"\xF0\x9F\x98\x80", 4), 0xD83D * 31 + 0xDE00);
    /* A lone continuation byte is one U+FFFD, as Java decodes it. */
    CHECK_EQ(apus_java_hash_utf8((const uint8_t *)"\x80", 1), 0xFFFD);
}

static const char *example_hex =
    "000000be daa320a7 77d18982 00000000 00000000 0000000000000000 0000000000000000 00000000"
    "0000018bcfe56800 c0a8000a 0000d431 0000018bcfe56805 c0a80014 00002a9f 00000000 0000000000000000"
    "00000005 48656c6c6f 09 546f70696354657374 0055"
    "54414753015461674102554e49515f4b45590143304138303030413330333931"
    "423644333538363041314232433344303030300257414954017472756502434c"
    "55535445520144656661756c74436c757374657202";

static const char *example_props =
    "TAGS\x01TagA\x02UNIQ_KEY\x01" "C0A8000A30391B6D35860A1B2C3D0000\x02WAIT\x01true\x02"
    "CLUSTER\x01" "DefaultCluster\x02";

static struct apus_record_fields example_fields(void) {
    struct apus_record_fields f;
    memset(&f, 0, sizeof f);
    f.body = (const uint8_t *)"Hello"; f.body_len = 5;
    f.topic = (const uint8_t *)"TopicTest"; f.topic_len = 9;
    f.props = (const uint8_t *)example_props; f.props_len = (uint32_t)strlen(example_props);
    f.born_timestamp_ms = 1700000000000LL;
    f.store_timestamp_ms = 1700000000005LL;
    memcpy(f.born_host, "\xC0\xA8\x00\x0A", 4); f.born_host_len = 4; f.born_port = 54321;
    memcpy(f.store_host, "\xC0\xA8\x00\x14", 4); f.store_host_len = 4; f.store_port = 10911;
    return f;
}

void record_encoding_matches_remoting_spec_example(void) {
    unsigned char want[256];
    size_t n = hex_decode(example_hex, want, sizeof want);
    CHECK_EQ(n, 190u);
    struct apus_record_fields f = example_fields();
    CHECK_EQ(f.props_len, 85u);
    CHECK_EQ(apus_record_length(&f), 190);
    uint8_t buf[256];
    CHECK_EQ(apus_record_encode(&f, buf, sizeof buf), 190);
    CHECK_MEM(buf, want, 190);
    char id[57];
    CHECK_EQ(apus_msg_id_format(f.store_host, 4, 10911, 0, id), 32);
    CHECK(strcmp(id, "C0A8001400002A9F0000000000000000") == 0);
}

void record_encoding_matches_store_spec_worked_example(void) {
    struct apus_record_fields f = example_fields();
    f.body = (const uint8_t *)"Hello RocketMQ"; f.body_len = 14;
    f.props = (const uint8_t *)"TAGS\x01TagA\x02"; f.props_len = 10;
    uint8_t buf[256];
    CHECK_EQ(apus_record_encode(&f, buf, sizeof buf), 124);
    CHECK_EQ(apus_get_be32(buf), 124u);
    CHECK_EQ((int32_t)apus_get_be32(buf + 4), APUS_MAGIC_V1);
    CHECK_EQ((int32_t)apus_get_be32(buf + 8), 1774740973);
    CHECK_EQ(apus_get_be32(buf + 84), 14u);
    CHECK_MEM(buf + 88, "Hello RocketMQ", 14);
    CHECK_EQ(buf[102], 9);
    CHECK_MEM(buf + 103, "TopicTest", 9);
    CHECK_EQ(apus_get_be16(buf + 112), 10);
    CHECK_MEM(buf + 114, "TAGS\x01TagA\x02", 10);
}

void record_patch_sets_offsets_and_store_time(void) {
    struct apus_record_fields f = example_fields();
    uint8_t buf[256];
    CHECK_EQ(apus_record_encode(&f, buf, sizeof buf), 190);
    apus_record_patch(buf, 7, 4096, 1700000000999LL);
    struct apus_record_info info;
    CHECK_EQ(apus_record_check(buf, 190, 1, &info), APUS_RECORD_MESSAGE);
    CHECK_EQ(info.queue_offset, 7);
    CHECK_EQ(info.physical_offset, 4096);
    CHECK_EQ(info.store_timestamp_ms, 1700000000999LL);
    CHECK_EQ(info.born_timestamp_ms, 1700000000000LL);
}

void ipv6_hosts_set_sysflag_bits_and_widen_the_record(void) {
    struct apus_record_fields f = example_fields();
    memset(f.born_host, 0, 16); f.born_host[15] = 1; f.born_host_len = 16;
    memset(f.store_host, 0, 16); f.store_host[15] = 1; f.store_host_len = 16;
    uint8_t buf[256];
    CHECK_EQ(apus_record_encode(&f, buf, sizeof buf), 190 + 24);
    struct apus_record_info info;
    CHECK_EQ(apus_record_check(buf, 214, 1, &info), APUS_RECORD_MESSAGE);
    CHECK_EQ(info.sys_flag & 0x30, 0x30);
    CHECK_EQ(info.store_timestamp_ms, 1700000000005LL);
    CHECK_EQ(info.store_timestamp_pos, 48u + 20u);
    apus_record_patch(buf, 1, 2, 3);
    CHECK_EQ(apus_record_check(buf, 214, 1, &info), APUS_RECORD_MESSAGE);
    CHECK_EQ(info.store_timestamp_ms, 3);
    char id[57];
    CHECK_EQ(apus_msg_id_format(f.store_host, 16, 10911, 2, id), 56);
}

void long_topic_uses_v2_magic_and_short_length(void) {
    char topic[200];
    memset(topic, 'x', sizeof topic);
    struct apus_record_fields f = example_fields();
    f.topic = (const uint8_t *)topic; f.topic_len = 200;
    uint8_t buf[512];
    int64_t n = apus_record_encode(&f, buf, sizeof buf);
    CHECK_EQ(n, 190 - 9 + 200 + 1);
    CHECK_EQ((int32_t)apus_get_be32(buf + 4), APUS_MAGIC_V2);
    struct apus_record_info info;
    CHECK_EQ(apus_record_check(buf, (size_t)n, 1, &info), APUS_RECORD_MESSAGE);
    CHECK_EQ(info.topic_len, 200u);
}

void encoder_rejects_oversized_and_bad_fields(void) {
    struct apus_record_fields f = example_fields();
    f.body_bytes_max = 4;
    CHECK_EQ(apus_record_length(&f), -EMSGSIZE);
    f = example_fields();
    static uint8_t props[40000];
    f.props = props; f.props_len = sizeof props;
    CHECK_EQ(apus_record_length(&f), -E2BIG);
    f = example_fields();
    f.topic_len = 0;
    CHECK_EQ(apus_record_length(&f), -EINVAL);
    f = example_fields();
    f.born_host_len = 5;
    CHECK_EQ(apus_record_length(&f), -EINVAL);
    f = example_fields();
    uint8_t small[100];
    CHECK_EQ(apus_record_encode(&f, small, sizeof small), -ENOBUFS);
}

void decoder_rejects_torn_garbage_and_bad_crc(void) {
    struct apus_record_fields f = example_fields();
    uint8_t buf[256];
    apus_record_encode(&f, buf, sizeof buf);
    struct apus_record_info info;
    CHECK_EQ(apus_record_check(buf, 189, 1, &info), -ENODATA);
    CHECK_EQ(apus_record_check(buf, 4, 1, &info), -ENODATA);
    uint8_t zeros[256] = {0};
    CHECK_EQ(apus_record_check(zeros, sizeof zeros, 1, &info), -EBADMSG);
    uint8_t bad[256];
    memcpy(bad, buf, 190);
    bad[90] ^= 1; /* body byte */
    CHECK_EQ(apus_record_check(bad, 190, 1, &info), -EILSEQ);
    CHECK_EQ(apus_record_check(bad, 190, 0, &info), APUS_RECORD_MESSAGE);
    memcpy(bad, buf, 190);
    apus_put_be16(bad + 103, 84); /* properties length disagrees with TOTALSIZE */
    CHECK_EQ(apus_record_check(bad, 190, 1, &info), -EBADMSG);
    memcpy(bad, buf, 190);
    apus_put_be32(bad + 84, 0x7FFFFFF0); /* body length past the record */
    CHECK_EQ(apus_record_check(bad, 190, 1, &info), -EBADMSG);
    memcpy(bad, buf, 190);
    bad[93] = 0x80; /* negative topic length */
    CHECK_EQ(apus_record_check(bad, 190, 1, &info), -EBADMSG);
    uint8_t blank[8];
    apus_record_write_blank(blank, 4000);
    CHECK_EQ(apus_record_check(blank, 8, 1, &info), APUS_RECORD_BLANK);
    CHECK_EQ(info.total_size, 4000);
}

void properties_lookup_follows_java_parsing(void) {
    const char *p = "TAGS\x01TagA\x02KEYS\x01k1 k2\x02" "a\x01\x02" "TAGS\x01TagB\x02";
    uint32_t pos, len;
    CHECK_EQ(apus_props_find((const uint8_t *)p, (uint32_t)strlen(p), "KEYS", 4, &pos, &len), 1);
    CHECK_MEM(p + pos, "k1 k2", 5);
    CHECK_EQ(apus_props_find((const uint8_t *)p, (uint32_t)strlen(p), "TAGS", 4, &pos, &len), 1);
    CHECK_MEM(p + pos, "TagB", 4); /* the later duplicate wins */
    CHECK_EQ(apus_props_find((const uint8_t *)p, (uint32_t)strlen(p), "a", 1, &pos, &len), 0);
    CHECK_EQ(apus_props_find((const uint8_t *)p, (uint32_t)strlen(p), "UNIQ_KEY", 8, &pos, &len), 0);
    const char *no_trailer = "WAIT\x01true";
    CHECK_EQ(apus_props_find((const uint8_t *)no_trailer, 9, "WAIT", 4, &pos, &len), 1);
    CHECK_EQ(len, 4u);
}

void batch_items_decode_from_spec_example(void) {
    unsigned char body[128];
    size_t n = hex_decode(
        "0000002e 00000000 00000000 00000000 00000001 41 0017 57414954017472756502554e49515f4b45590149443102"
        "0000002f 00000000 00000000 00000000 00000002 4243 0017 57414954017472756502554e49515f4b45590149443202",
        body, sizeof body);
    CHECK_EQ(n, 93u);
    struct apus_batch_item item;
    CHECK_EQ(apus_batch_item_read(body, n, &item), 46);
    CHECK_EQ(item.body_len, 1u);
    CHECK_EQ(body[item.body_pos], 'A');
    CHECK_EQ(item.props_len, 23u);
    CHECK_EQ(apus_batch_item_read(body + 46, n - 46, &item), 47);
    CHECK_MEM(body + 46 + item.body_pos, "BC", 2);
    CHECK_EQ(apus_batch_item_read(body + 46, 40, &item), -EBADMSG);
    body[46 + 17] = 0x40; /* body length past the item */
    CHECK_EQ(apus_batch_item_read(body + 46, n - 46, &item), -EBADMSG);
}

void scanner_stops_at_torn_tail_and_blank(void) {
    uint8_t seg[1024] = {0};
    struct apus_record_fields f = example_fields();
    int64_t a = apus_record_encode(&f, seg, sizeof seg);
    int64_t b = apus_record_encode(&f, seg + a, sizeof seg - (size_t)a);
    struct apus_scan_result r;
    apus_scan_segment(seg, sizeof seg, 0, 1, &r);
    CHECK_EQ(r.reason, APUS_SCAN_END_INVALID);
    CHECK_EQ(r.end_position, a + b);
    CHECK_EQ(r.records, 2u);
    CHECK_EQ(r.last_record_position, a);
    /* Tear the second record: the log ends after the first. */
    apus_scan_segment(seg, (uint64_t)(a + b - 1), 0, 1, &r);
    CHECK_EQ(r.end_position, a);
    CHECK_EQ(r.error, -ENODATA);
    apus_record_write_blank(seg + a + b, (int32_t)(sizeof seg - (size_t)(a + b)));
    apus_scan_segment(seg, sizeof seg, 0, 1, &r);
    CHECK_EQ(r.reason, APUS_SCAN_END_BLANK);
    CHECK_EQ(r.end_position, a + b);
}
