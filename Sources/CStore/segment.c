/* segment.c: fixed-size, fallocated, MAP_SHARED store files. Contract in apus_segment.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "apus_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apus_bytes.h"
#include "apus_record.h"

/* Bytes past a record's end prefetched for the next append. */
#define APUS_PREFETCH_AHEAD_MAX 4096

struct apus_segment {
    int fd;
    uint8_t *base;
    int64_t start_offset;
    uint64_t size_bytes;
    /* Release-stored by the writer after the copy (or by the committer after pwrite when the segment
     * has a write buffer); acquire-loaded by readers (apus_segment.h). */
    _Atomic int64_t wrote_position;
    _Atomic int64_t flushed_position;
    /* The writer's cursor. Equal to wrote_position without a write buffer; with one, the end of the
     * bytes appended to the buffer (release-stored by the writer, acquire-loaded by the committer). */
    _Atomic int64_t append_position;
    /* Transient-store-pool buffer of size_bytes, or NULL: appends go here, commit pwrites them. */
    uint8_t *write_buffer;
};

int apus_file_open_rw(const char *path, int create) {
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    return fd < 0 ? -errno : fd;
}

int apus_file_reserve(int fd, uint64_t size_bytes) {
    if (fallocate(fd, 0, 0, (off_t)size_bytes) == 0) return 0;
    int err = errno;
    if (err == EOPNOTSUPP || err == ENOSYS) {
        return ftruncate(fd, (off_t)size_bytes) == 0 ? 0 : -errno;
    }
    return -err;
}

int apus_segment_map_fd(int fd, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out) {
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); return -e; }
    if ((uint64_t)st.st_size != size_bytes || size_bytes == 0) { close(fd); return -EINVAL; }
    void *base = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) { int e = errno; close(fd); return -e; }
    struct apus_segment *seg = calloc(1, sizeof *seg);
    if (!seg) { munmap(base, size_bytes); close(fd); return -ENOMEM; }
    seg->fd = fd;
    seg->base = base;
    seg->start_offset = start_offset;
    seg->size_bytes = size_bytes;
    atomic_init(&seg->wrote_position, 0);
    atomic_init(&seg->flushed_position, 0);
    atomic_init(&seg->append_position, 0);
    seg->write_buffer = NULL;
    *out = seg;
    return 0;
}

int apus_segment_create(const char *path, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out) {
    int fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return -errno;
    int rc = apus_file_reserve(fd, size_bytes);
    if (rc != 0) { close(fd); unlink(path); return rc; }
    rc = apus_segment_map_fd(fd, start_offset, size_bytes, out);
    if (rc != 0) unlink(path);
    return rc;
}

int apus_segment_open(const char *path, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    return apus_segment_map_fd(fd, start_offset, size_bytes, out);
}

void apus_segment_close(struct apus_segment *seg) {
    if (!seg) return;
    munmap(seg->base, seg->size_bytes);
    close(seg->fd);
    free(seg);
}

int apus_segment_fd(const struct apus_segment *seg) { return seg->fd; }
uint8_t *apus_segment_base(const struct apus_segment *seg) { return seg->base; }
int64_t apus_segment_start_offset(const struct apus_segment *seg) { return seg->start_offset; }
uint64_t apus_segment_size_bytes(const struct apus_segment *seg) { return seg->size_bytes; }

int64_t apus_segment_wrote_position(const struct apus_segment *seg) {
    /* Pairs with the release stores below: bytes under the returned position are fully copied. */
    return atomic_load_explicit(&((struct apus_segment *)seg)->wrote_position, memory_order_acquire);
}

void apus_segment_set_wrote_position(struct apus_segment *seg, int64_t pos) {
    APUS_ASSERT(pos >= 0 && (uint64_t)pos <= seg->size_bytes);
    APUS_ASSERT(seg->write_buffer == NULL);
    atomic_store_explicit(&seg->append_position, pos, memory_order_relaxed);
    atomic_store_explicit(&seg->wrote_position, pos, memory_order_release);
}

int64_t apus_segment_append_position(const struct apus_segment *seg) {
    return atomic_load_explicit(&((struct apus_segment *)seg)->append_position, memory_order_acquire);
}

int apus_segment_attach_write_buffer(struct apus_segment *seg, uint8_t *buffer) {
    if (!buffer) return -EINVAL;
    if (atomic_load(&seg->append_position) != 0 || seg->write_buffer) return -EBUSY;
    seg->write_buffer = buffer;
    return 0;
}

int apus_segment_has_write_buffer(const struct apus_segment *seg) { return seg->write_buffer != NULL; }

uint8_t *apus_segment_detach_write_buffer(struct apus_segment *seg) {
    if (!seg->write_buffer) return NULL;
    int64_t appended = atomic_load_explicit(&seg->append_position, memory_order_acquire);
    int64_t wrote = atomic_load_explicit(&seg->wrote_position, memory_order_acquire);
    if (appended != 0 && (uint64_t)wrote != seg->size_bytes) return NULL;
    uint8_t *buffer = seg->write_buffer;
    seg->write_buffer = NULL;
    return buffer;
}

int64_t apus_segment_commit(struct apus_segment *seg, uint32_t least_pages) {
    if (!seg->write_buffer) return 0;
    int64_t end = atomic_load_explicit(&seg->append_position, memory_order_acquire);
    int64_t from = atomic_load_explicit(&seg->wrote_position, memory_order_relaxed);
    if (end <= from) return 0;
    /* A full buffer is committed whatever its page count (RocketMQ's isAbleToCommit). */
    if (least_pages > 0 && (uint64_t)end != seg->size_bytes &&
        (end / APUS_PAGE_BYTES) - (from / APUS_PAGE_BYTES) < (int64_t)least_pages) return 0;
    int64_t at = from;
    while (at < end) {
        ssize_t n = pwrite(seg->fd, seg->write_buffer + at, (size_t)(end - at), (off_t)at);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            if (at > from) atomic_store_explicit(&seg->wrote_position, at, memory_order_release);
            return -e;
        }
        if (n == 0) return -EIO;
        at += n;
    }
    /* Publish: the bytes are in the page cache, so readers of the mapping (and sendfile) see them. */
    atomic_store_explicit(&seg->wrote_position, end, memory_order_release);
    return end - from;
}

int64_t apus_segment_flushed_position(const struct apus_segment *seg) {
    return atomic_load_explicit(&((struct apus_segment *)seg)->flushed_position, memory_order_acquire);
}

void apus_segment_set_flushed_position(struct apus_segment *seg, int64_t pos) {
    APUS_ASSERT(pos >= 0 && (uint64_t)pos <= seg->size_bytes);
    atomic_store_explicit(&seg->flushed_position, pos, memory_order_release);
}

/* Without a write buffer readers see appended bytes at once; with one, only after apus_segment_commit. */
static void apus_segment_publish_append(struct apus_segment *seg, int64_t end) {
    atomic_store_explicit(&seg->append_position, end, memory_order_release);
    if (!seg->write_buffer) atomic_store_explicit(&seg->wrote_position, end, memory_order_release);
}

/* Where the next `len` bytes go (file position, and the write buffer or the mapping), or false when they do
 * not fit: the rest of the file is then closed with a BLANK record (if there is room for one) and published
 * as full, RocketMQ's END_OF_FILE. Only the writer changes append_position, so a relaxed load of our own
 * value is enough. */
static inline bool segment_claim(struct apus_segment *seg, uint64_t len, int64_t *pos, uint8_t **dest) {
    *pos = atomic_load_explicit(&seg->append_position, memory_order_relaxed);
    int64_t room = (int64_t)seg->size_bytes - *pos;
    *dest = seg->write_buffer ? seg->write_buffer : seg->base;
    if ((int64_t)len + APUS_BLANK_BYTES_MIN <= room) return true;
    if (room >= APUS_BLANK_BYTES_MIN) apus_record_write_blank(*dest + *pos, (int32_t)room);
    apus_segment_publish_append(seg, (int64_t)seg->size_bytes);
    return false;
}

int apus_segment_append_records(struct apus_segment *seg, uint8_t *recs, uint32_t len, uint32_t count,
                                int64_t queue_offset_first, int64_t store_timestamp_ms, int64_t *file_position) {
    APUS_ASSERT(count > 0 && len > 0);
    if ((uint64_t)len + APUS_BLANK_BYTES_MIN > seg->size_bytes) return -EINVAL;
    int64_t pos;
    uint8_t *dest;
    if (!segment_claim(seg, len, &pos, &dest)) return APUS_SEGMENT_END_OF_FILE;
    int64_t physical = seg->start_offset + pos;
    uint32_t at = 0;
    for (uint32_t i = 0; i < count; i++) {
        APUS_ASSERT(at + 8 <= len);
        uint32_t rec_len = apus_get_be32(recs + at);
        APUS_ASSERT(rec_len > 0 && at + rec_len <= len);
        apus_record_patch(recs + at, queue_offset_first + i, physical + at, store_timestamp_ms);
        at += rec_len;
    }
    APUS_ASSERT(at == len);
    memcpy(dest + pos, recs, len);
    apus_segment_publish_append(seg, pos + len);
    *file_position = pos;
    /* Ask for the lines the next record of this size will land in, for writing. The caller's unlock is
     * a locked instruction that waits until this copy's stores have reached the cache; lines already
     * fetched by then make that wait short. Prefetches never fault. */
    uint64_t ahead = len < APUS_PREFETCH_AHEAD_MAX ? len : APUS_PREFETCH_AHEAD_MAX;
    const uint8_t *next = dest + pos + len;
    for (uint64_t off = 0; off < ahead && (uint64_t)(pos + len) + off < seg->size_bytes; off += 64) {
        __builtin_prefetch(next + off, 1, 3);
    }
    return 0;
}

int apus_segment_append_split(struct apus_segment *seg, uint8_t *head, uint32_t body_at, const uint8_t *body,
                              uint32_t body_len, uint32_t tail_len, int64_t queue_offset, int64_t store_timestamp_ms,
                              int64_t *file_position) {
    uint64_t len = (uint64_t)body_at + body_len + tail_len;
    APUS_ASSERT(len == apus_get_be32(head) && body_at >= 8);
    if (len + APUS_BLANK_BYTES_MIN > seg->size_bytes) return -EINVAL;
    int64_t pos;
    uint8_t *dest;
    if (!segment_claim(seg, len, &pos, &dest)) return APUS_SEGMENT_END_OF_FILE;
    apus_record_patch(head, queue_offset, seg->start_offset + pos, store_timestamp_ms);
    memcpy(dest + pos, head, body_at);
    if (body_len) memcpy(dest + pos + body_at, body, body_len);
    memcpy(dest + pos + body_at + body_len, head + body_at, tail_len);
    apus_segment_publish_append(seg, pos + (int64_t)len);
    *file_position = pos;
    uint64_t ahead = len < APUS_PREFETCH_AHEAD_MAX ? len : APUS_PREFETCH_AHEAD_MAX;
    const uint8_t *next = dest + pos + len;
    for (uint64_t off = 0; off < ahead && (uint64_t)pos + len + off < seg->size_bytes; off += 64) {
        __builtin_prefetch(next + off, 1, 3);
    }
    return 0;
}

int apus_segment_write_at(struct apus_segment *seg, int64_t pos, const void *data, uint32_t len) {
    APUS_ASSERT(seg->write_buffer == NULL);
    if (pos < 0 || (uint64_t)pos + len > seg->size_bytes) return -ENOSPC;
    memcpy(seg->base + pos, data, len);
    int64_t wrote = atomic_load_explicit(&seg->wrote_position, memory_order_relaxed);
    if (pos + (int64_t)len > wrote) {
        atomic_store_explicit(&seg->append_position, pos + len, memory_order_relaxed);
        atomic_store_explicit(&seg->wrote_position, pos + len, memory_order_release);
    }
    return 0;
}

int apus_segment_warm(struct apus_segment *seg, int lock_pages) {
    APUS_ASSERT(atomic_load(&seg->wrote_position) == 0);
    for (uint64_t i = 0; i < seg->size_bytes; i += APUS_PAGE_BYTES) seg->base[i] = 0;
    if (lock_pages && mlock(seg->base, seg->size_bytes) != 0) return -errno;
    if (madvise(seg->base, seg->size_bytes, MADV_WILLNEED) != 0) return -errno;
    return 0;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

int apus_segment_prefault(struct apus_segment *seg) {
    if (madvise(seg->base, seg->size_bytes, MADV_POPULATE_READ) == 0) return 0;
    if (errno != EINVAL) return -errno;
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < seg->size_bytes; i += APUS_PAGE_BYTES) sink ^= seg->base[i];
    (void)sink;
    return 0;
}

int apus_segment_advise_random(struct apus_segment *seg) {
    return madvise(seg->base, seg->size_bytes, MADV_RANDOM) == 0 ? 0 : -errno;
}

int apus_segment_evict(struct apus_segment *seg, int64_t pos, uint64_t len) {
    if (pos < 0 || (uint64_t)pos + len > seg->size_bytes) return -EINVAL;
    uint64_t start = (uint64_t)pos & ~(uint64_t)(APUS_PAGE_BYTES - 1);
    uint64_t end = ((uint64_t)pos + len + APUS_PAGE_BYTES - 1) & ~(uint64_t)(APUS_PAGE_BYTES - 1);
    if (end > seg->size_bytes) end = seg->size_bytes;
    if (madvise(seg->base + start, end - start, MADV_DONTNEED) != 0) return -errno;
    int rc = posix_fadvise(seg->fd, (off_t)start, (off_t)(end - start), POSIX_FADV_DONTNEED);
    return rc == 0 ? 0 : -rc;
}

int apus_segment_resident(const struct apus_segment *seg, int64_t pos, uint64_t len) {
    if (pos < 0 || (uint64_t)pos + len > seg->size_bytes) return -EINVAL;
    if (len == 0) return 1;
    uint64_t first = (uint64_t)pos / APUS_PAGE_BYTES, last = ((uint64_t)pos + len - 1) / APUS_PAGE_BYTES;
    unsigned char vec[64];
    for (uint64_t page = first; page <= last;) {
        uint64_t n = last - page + 1;
        if (n > sizeof vec) n = sizeof vec;
        if (mincore(seg->base + page * APUS_PAGE_BYTES, n * APUS_PAGE_BYTES, vec) != 0) return -errno;
        for (uint64_t i = 0; i < n; i++) if (!(vec[i] & 1)) return 0;
        page += n;
    }
    return 1;
}
