/* test_files.c: ConsumeQueue, IndexFile and checkpoint bytes against their layouts (store.md §6–8),
 * and segments on real files: append, BLANK at the end, reopen, bad sizes, a full disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apus_bytes.h"
#include "apus_checkpoint.h"
#include "apus_consume_queue.h"
#include "apus_index_file.h"
#include "apus_record.h"
#include "apus_segment.h"
#include "harness.h"

void consume_queue_unit_matches_layout(void) {
    uint8_t e[20];
    apus_cq_entry_encode(e, 124, 190, 2598919);
    unsigned char want[20];
    hex_decode("000000000000007c 000000be 000000000027a807", want, 20);
    CHECK_MEM(e, want, 20);
    struct apus_cq_entry d;
    apus_cq_entry_decode(e, &d);
    CHECK_EQ(d.physical_offset, 124);
    CHECK_EQ(d.size, 190);
    CHECK_EQ(d.tags_code, 2598919);
    apus_cq_entry_encode(e, 0, 0, -1231271670LL); /* negative tag codes are sign-extended */
    CHECK_EQ(e[12], 0xFF);
}

void consume_queue_scan_stops_at_first_empty_unit(void) {
    uint8_t file[200] = {0};
    apus_cq_entry_encode(file, 0, 0x7FFFFFFF, 0); /* prefill counts as valid */
    apus_cq_entry_encode(file + 20, 500, 100, 1);
    apus_cq_entry_encode(file + 40, 600, 90, 1);
    int64_t max_end = -1;
    CHECK_EQ(apus_cq_scan_valid(file, sizeof file, &max_end), 60);
    CHECK_EQ(max_end, 690);
}

void index_key_hash_and_slot_match_spec(void) {
    int32_t h = apus_index_key_hash((const uint8_t *)"TopicTest#OrderID188", 20);
    CHECK_EQ(h, 1231271670);
    CHECK_EQ(h % 5000000, 1271670);
}

void index_file_bytes_follow_layout_and_queries_find_keys(void) {
    const uint32_t slots = 8, num = 5;
    uint64_t size = apus_index_file_bytes(slots, num);
    CHECK_EQ(size, 40u + 32u + 100u);
    CHECK_EQ(apus_index_file_bytes(5000000, 20000000), 420000040u);
    uint8_t *f = calloc(1, size);
    apus_index_init(f, 0, 0);
    struct apus_index_header h;
    apus_index_header_read(f, &h);
    CHECK_EQ(h.index_count, 1);
    const uint8_t *k1 = (const uint8_t *)"T#k1", *k2 = (const uint8_t *)"T#k2";
    CHECK_EQ(apus_index_put(f, slots, num, k1, 4, 1000, 1700000000000LL), 0);
    CHECK_EQ(apus_index_put(f, slots, num, k2, 4, 2000, 1700000003000LL), 0);
    CHECK_EQ(apus_index_put(f, slots, num, k1, 4, 3000, 1700000005000LL), 0);
    apus_index_header_read(f, &h);
    CHECK_EQ(h.index_count, 4);
    CHECK_EQ(h.begin_timestamp_ms, 1700000000000LL);
    CHECK_EQ(h.end_timestamp_ms, 1700000005000LL);
    CHECK_EQ(h.begin_physical_offset, 1000);
    CHECK_EQ(h.end_physical_offset, 3000);
    /* Entry 3 is the second k1: prev = 1, time diff 5 s, stored at 40 + 8*4 + 3*20. */
    const uint8_t *e3 = f + 40 + 32 + 60;
    CHECK_EQ((int32_t)apus_get_be32(e3), apus_index_key_hash(k1, 4));
    CHECK_EQ((int64_t)apus_get_be64(e3 + 4), 3000);
    CHECK_EQ(apus_get_be32(e3 + 12), 5u);
    CHECK_EQ(apus_get_be32(e3 + 16), 1u);
    uint32_t slot = (uint32_t)apus_index_key_hash(k1, 4) % slots;
    CHECK_EQ(apus_get_be32(f + 40 + slot * 4), 3u);
    int64_t out[8];
    CHECK_EQ(apus_index_query(f, slots, num, k1, 4, 0, INT64_MAX, out, 8), 2u);
    CHECK_EQ(out[0], 3000);
    CHECK_EQ(out[1], 1000);
    CHECK_EQ(apus_index_query(f, slots, num, k1, 4, 1700000004000LL, INT64_MAX, out, 8), 1u);
    CHECK_EQ(apus_index_query(f, slots, num, k2, 4, 0, INT64_MAX, out, 8), 1u);
    CHECK_EQ(apus_index_query(f, slots, num, (const uint8_t *)"T#none", 6, 0, INT64_MAX, out, 8), 0u);
    CHECK_EQ(apus_index_put(f, slots, num, k2, 4, 4000, 1700000006000LL), 0);
    CHECK_EQ(apus_index_put(f, slots, num, k2, 4, 5000, 1700000007000LL), APUS_INDEX_FULL);
    /* A corrupt chain that loops is cut by the step bound. */
    apus_put_be32(f + 40 + 32 + 20 + 16, 3);
    apus_put_be32(f + 40 + 32 + 60 + 16, 1);
    CHECK(apus_index_query(f, slots, num, k1, 4, 0, INT64_MAX, out, 8) <= num);
    free(f);
}

void checkpoint_page_matches_layout(void) {
    struct apus_checkpoint c = {1700000000000LL, 1700000001000LL, 1700000002000LL, 0, 12345};
    uint8_t page[4096];
    apus_checkpoint_encode(&c, page);
    CHECK_EQ(apus_get_be64(page), 1700000000000ULL);
    CHECK_EQ(apus_get_be64(page + 8), 1700000001000ULL);
    CHECK_EQ(apus_get_be64(page + 16), 1700000002000ULL);
    CHECK_EQ(apus_get_be64(page + 32), 12345ULL);
    CHECK_EQ(page[40], 0);
    CHECK_EQ(page[4095], 0);
    struct apus_checkpoint d;
    apus_checkpoint_decode(page, &d);
    CHECK_EQ(d.confirm_physical_offset, 12345);
    CHECK_EQ(apus_checkpoint_min_timestamp(&d), 1699999997000LL);
    struct apus_checkpoint z = {0};
    CHECK_EQ(apus_checkpoint_min_timestamp(&z), 0);
}

static int64_t encode_small(uint8_t *buf, size_t cap, uint32_t body_len) {
    static uint8_t body[4096];
    struct apus_record_fields f;
    memset(&f, 0, sizeof f);
    f.body = body; f.body_len = body_len;
    f.topic = (const uint8_t *)"T"; f.topic_len = 1;
    f.born_host_len = 4; f.store_host_len = 4;
    return apus_record_encode(&f, buf, cap);
}

void segment_append_writes_blank_at_end_and_reopens(void) {
    char dir[256], path[300];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/00000000000000004096", dir);
    struct apus_segment *seg;
    CHECK_EQ(apus_segment_create(path, 4096, 4096, &seg), 0);
    CHECK_EQ(apus_segment_create(path, 4096, 4096, &seg) , 0 - EEXIST);
    uint8_t rec[2048];
    int64_t len = encode_small(rec, sizeof rec, 1000); /* 1092 bytes */
    int64_t pos;
    int appended = 0;
    for (;;) {
        int rc = apus_segment_append_records(seg, rec, (uint32_t)len, 1, appended, 42, &pos);
        if (rc == APUS_SEGMENT_END_OF_FILE) break;
        CHECK_EQ(rc, 0);
        CHECK_EQ(pos, appended * len);
        appended++;
    }
    CHECK_EQ(appended, 3); /* 3*1092 = 3276; 4096-3276 = 820 < 1092 + 8 */
    CHECK_EQ(apus_segment_wrote_position(seg), 4096);
    uint8_t *base = apus_segment_base(seg);
    CHECK_EQ((int32_t)apus_get_be32(base + 3276), 820);
    CHECK_EQ((int32_t)apus_get_be32(base + 3280), APUS_MAGIC_BLANK);
    /* The second record carries its physical offset, queue offset and store time. */
    CHECK_EQ((int64_t)apus_get_be64(base + len + APUS_RECORD_POS_PHYSICALOFFSET), 4096 + len);
    CHECK_EQ((int64_t)apus_get_be64(base + len + APUS_RECORD_POS_QUEUEOFFSET), 1);
    apus_segment_close(seg);
    CHECK_EQ(apus_segment_open(path, 4096, 4096, &seg), 0);
    CHECK_EQ(apus_segment_wrote_position(seg), 0);
    CHECK_EQ((int32_t)apus_get_be32(apus_segment_base(seg) + 3280), APUS_MAGIC_BLANK);
    CHECK_EQ(apus_segment_resident(seg, 0, 4096), 1);
    apus_segment_close(seg);
    CHECK_EQ(apus_segment_open(path, 4096, 8192, &seg), -EINVAL); /* wrong size */
    truncate(path, 100);
    CHECK_EQ(apus_segment_open(path, 4096, 4096, &seg), -EINVAL); /* truncated file */
    char missing[320];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    CHECK_EQ(apus_segment_open(missing, 0, 4096, &seg), -ENOENT);
    /* A record larger than a whole segment can never fit. */
    uint8_t big[5000];
    int64_t big_len = encode_small(big, sizeof big, 4000);
    CHECK_EQ(apus_segment_create(missing, 0, 4096, &seg), 0);
    CHECK_EQ(apus_segment_append_records(seg, big, (uint32_t)big_len, 1, 0, 0, &pos), -EINVAL);
    CHECK_EQ(apus_segment_warm(seg, 0), 0);
    apus_segment_close(seg);
}

void segment_write_at_bounds_and_raises_wrote_position(void) {
    char dir[256], path[300];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/00000000000000000000", dir);
    struct apus_segment *seg;
    CHECK_EQ(apus_segment_create(path, 0, 100, &seg), 0);
    uint8_t e[20] = {1};
    CHECK_EQ(apus_segment_write_at(seg, 40, e, 20), 0);
    CHECK_EQ(apus_segment_wrote_position(seg), 60);
    CHECK_EQ(apus_segment_write_at(seg, 0, e, 20), 0);
    CHECK_EQ(apus_segment_wrote_position(seg), 60);
    CHECK_EQ(apus_segment_write_at(seg, 100, e, 20), -ENOSPC);
    apus_segment_close(seg);
}

void segment_write_buffer_hides_appends_until_commit(void) {
    char dir[256], path[300];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/00000000000000000000", dir);
    struct apus_segment *seg;
    CHECK_EQ(apus_segment_create(path, 0, 16384, &seg), 0);
    uint8_t *buffer = malloc(16384);
    memset(buffer, 0xEE, 16384); /* a reused pool buffer holds old bytes */
    CHECK_EQ(apus_segment_attach_write_buffer(seg, NULL), -EINVAL);
    CHECK_EQ(apus_segment_attach_write_buffer(seg, buffer), 0);
    CHECK_EQ(apus_segment_attach_write_buffer(seg, buffer), -EBUSY);
    CHECK_EQ(apus_segment_has_write_buffer(seg), 1);
    uint8_t rec[2048];
    int64_t len = encode_small(rec, sizeof rec, 1000); /* 1092 bytes */
    int64_t pos;
    CHECK_EQ(apus_segment_append_records(seg, rec, (uint32_t)len, 1, 0, 42, &pos), 0);
    CHECK_EQ(pos, 0);
    /* Appended to the buffer, not yet visible to readers of the file. */
    CHECK_EQ(apus_segment_append_position(seg), len);
    CHECK_EQ(apus_segment_wrote_position(seg), 0);
    CHECK_EQ((int32_t)apus_get_be32(apus_segment_base(seg)), 0);
    /* Under four pending page boundaries nothing is due; least_pages 0 commits everything. */
    CHECK_EQ(apus_segment_commit(seg, 4), 0);
    CHECK_EQ(apus_segment_commit(seg, 0), len);
    CHECK_EQ(apus_segment_wrote_position(seg), len);
    CHECK_MEM(apus_segment_base(seg), rec, (size_t)len);
    CHECK_EQ(apus_segment_commit(seg, 0), 0);
    CHECK(apus_segment_detach_write_buffer(seg) == NULL); /* not full yet */
    /* Fill the segment: 15 records fit (15*1092 = 16380 ... only 14 leave 8 bytes), then a BLANK. */
    int appended = 1;
    while (apus_segment_append_records(seg, rec, (uint32_t)len, 1, appended, 42, &pos) == 0) appended++;
    CHECK_EQ(appended, 14);
    CHECK_EQ(apus_segment_append_position(seg), 16384);
    CHECK_EQ(apus_segment_wrote_position(seg), len);
    CHECK_EQ(apus_segment_commit(seg, 4), 16384 - len); /* a full buffer is due whatever its pages */
    CHECK_EQ(apus_segment_wrote_position(seg), 16384);
    CHECK_EQ((int32_t)apus_get_be32(apus_segment_base(seg) + 14 * len + 4), APUS_MAGIC_BLANK);
    CHECK(apus_segment_detach_write_buffer(seg) == buffer);
    CHECK_EQ(apus_segment_has_write_buffer(seg), 0);
    apus_segment_close(seg);
    /* The file holds what was committed: reopen and compare the 14th record. */
    CHECK_EQ(apus_segment_open(path, 0, 16384, &seg), 0);
    CHECK_EQ((int64_t)apus_get_be64(apus_segment_base(seg) + 13 * len + APUS_RECORD_POS_QUEUEOFFSET), 13);
    apus_segment_close(seg);
    free(buffer);
}

void segment_split_append_writes_the_same_bytes_as_a_whole_record(void) {
    char dir[256], path_a[300], path_b[300];
    test_tmpdir(dir, sizeof dir);
    snprintf(path_a, sizeof path_a, "%s/00000000000000000000", dir);
    snprintf(path_b, sizeof path_b, "%s/b", dir);
    struct apus_segment *a, *b;
    CHECK_EQ(apus_segment_create(path_a, 0, 8192, &a), 0);
    CHECK_EQ(apus_segment_create(path_b, 0, 8192, &b), 0);
    uint8_t body[1500];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)(i * 7 + 3);
    struct apus_record_fields f = {0};
    f.body = body; f.body_len = sizeof body;
    f.topic = (const uint8_t *)"TopicTest"; f.topic_len = 9;
    f.props = (const uint8_t *)"TAGS\001TagA\002"; f.props_len = 10;
    f.born_host_len = 16; f.store_host_len = 4; /* an IPv6 born host moves the store timestamp */
    uint8_t whole[2048], head[256];
    uint32_t body_at = 0;
    int64_t len = apus_record_encode(&f, whole, sizeof whole);
    CHECK(len > 0);
    CHECK_EQ(apus_record_encode_split(&f, head, 100, &body_at), -ENOBUFS);
    CHECK_EQ(apus_record_encode_split(&f, head, sizeof head, &body_at), len);
    int64_t pa = -1, pb = -1;
    int appended = 0;
    for (;;) {
        int ra = apus_segment_append_records(a, whole, (uint32_t)len, 1, appended, 1700000000000LL + appended, &pa);
        int rb = apus_segment_append_split(b, head, body_at, body, sizeof body, (uint32_t)(len - body_at - sizeof body),
                                           appended, 1700000000000LL + appended, &pb);
        CHECK_EQ(ra, rb);
        CHECK_EQ(pa, pb);
        if (ra == APUS_SEGMENT_END_OF_FILE) break;
        CHECK_EQ(ra, 0);
        appended++;
    }
    CHECK_EQ(appended, 5); /* 5 x 1622 = 8110; 82 bytes left < 1622 + 8: BLANK */
    CHECK_EQ(apus_segment_wrote_position(b), 8192);
    CHECK_MEM(apus_segment_base(a), apus_segment_base(b), 8192);
    struct apus_record_info info;
    CHECK_EQ(apus_record_check(apus_segment_base(b) + len, (size_t)len, 1, &info), APUS_RECORD_MESSAGE);
    CHECK_EQ(info.queue_offset, 1);
    CHECK_EQ(info.store_timestamp_ms, 1700000000001LL);
    apus_segment_close(a);
    apus_segment_close(b);
}

void segment_create_on_full_disk_fails_cleanly(void) {
    /* A 1 MiB tmpfs stands in for a full disk; skipped honestly where mounting is not allowed. */
    char dir[256], path[300];
    test_tmpdir(dir, sizeof dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=1m apus-test %s 2>/dev/null", dir);
    if (system(cmd) != 0) { printf("skip segment_create_on_full_disk_fails_cleanly: cannot mount tmpfs\n"); return; }
    snprintf(path, sizeof path, "%s/00000000000000000000", dir);
    struct apus_segment *seg;
    CHECK_EQ(apus_segment_create(path, 0, 4u << 20, &seg), -ENOSPC);
    CHECK(access(path, F_OK) != 0); /* the failed file is removed */
    CHECK_EQ(apus_segment_create(path, 0, 256u << 10, &seg), 0);
    apus_segment_close(seg);
    snprintf(cmd, sizeof cmd, "umount %s", dir);
    CHECK_EQ(system(cmd), 0);
}
