/* apus_segment.h: one fixed-size store file (CommitLog, ConsumeQueue or IndexFile segment), created at
 * full size with fallocate and mapped MAP_SHARED (store.md §3.1, §5).
 *
 * A segment tracks two positions, both relative to its first byte:
 *  - wrote position: bytes appended and visible to readers. The writer stores it with release order
 *    after copying; readers load it with acquire order (apus_segment_wrote_position) and may then read
 *    every byte below it without a lock.
 *  - flushed position: bytes known durable; set by the one flushing thread after fdatasync.
 *  - append position: the writer's cursor. Without a write buffer it equals the wrote position. With one
 *    (RocketMQ's TransientStorePool, store.md §3.12) appends go to a resident buffer and advance only the
 *    append position; apus_segment_commit pwrites [wrote, append) into the file and then advances the
 *    wrote position, so readers of the mapping never see bytes that are not in the file.
 *
 * Thread-safety: one writer at a time (the CommitLog's put lock, or the dispatcher thread for
 * ConsumeQueue and index files); one committer at a time; any number of readers; position getters
 * from any thread.
 * Create/open/close allocate; append and write allocate nothing. */
#ifndef APUS_SEGMENT_H
#define APUS_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

struct apus_segment;

/* Returned by apus_segment_append_records when the records did not fit: a BLANK filler was written,
 * the segment is now full, and the caller rolls to the next segment and appends the same bytes there. */
#define APUS_SEGMENT_END_OF_FILE 1

/* Opens (creating if needed) the file at path with O_RDWR|O_CLOEXEC. Returns an fd >= 0 or -errno. */
int apus_file_open_rw(const char *path, int create);

/* Reserves the file's blocks with fallocate so that stores into the mapping never hit a hole on a
 * full disk (which would be SIGBUS). Falls back to ftruncate where fallocate is unsupported.
 * Returns 0, -ENOSPC when the disk is full, or another -errno. */
int apus_file_reserve(int fd, uint64_t size_bytes);

/* Maps an open fd of exactly size_bytes as a segment starting at start_offset. Takes ownership of fd
 * (closed by apus_segment_close, or here on failure). Positions start at 0.
 * Returns 0, -EINVAL if the file's size differs from size_bytes, or -errno from fstat/mmap. */
int apus_segment_map_fd(int fd, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out);

/* Creates the file (which must not hold data), reserves its blocks and maps it. On failure the new file
 * is removed. Returns 0 or -errno (-ENOSPC on a full disk, -EEXIST if it exists). */
int apus_segment_create(const char *path, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out);

/* Maps an existing file. Returns 0, -EINVAL if its size is not size_bytes, or -errno. */
int apus_segment_open(const char *path, int64_t start_offset, uint64_t size_bytes, struct apus_segment **out);

/* Unmaps and closes. Thread-safety: no other thread may use the segment any more. */
void apus_segment_close(struct apus_segment *seg);

int apus_segment_fd(const struct apus_segment *seg);
uint8_t *apus_segment_base(const struct apus_segment *seg);
int64_t apus_segment_start_offset(const struct apus_segment *seg);
uint64_t apus_segment_size_bytes(const struct apus_segment *seg);

/* Acquire-load of the wrote position; pairs with the release store in append/write/set. */
int64_t apus_segment_wrote_position(const struct apus_segment *seg);
/* Release-store of the wrote (and append) position (recovery, truncation). Not for a segment with a
 * write buffer. */
void apus_segment_set_wrote_position(struct apus_segment *seg, int64_t pos);
/* Acquire-load of the writer's cursor (== wrote position without a write buffer). */
int64_t apus_segment_append_position(const struct apus_segment *seg);

/* Makes `buffer` (size_bytes long, owned by the caller's pool) the segment's write buffer. Only before
 * the first append. Returns 0, -EINVAL for NULL, -EBUSY if the segment has data or a buffer already. */
int apus_segment_attach_write_buffer(struct apus_segment *seg, uint8_t *buffer);
int apus_segment_has_write_buffer(const struct apus_segment *seg);
/* Returns the write buffer and forgets it once everything up to the segment's end is committed, or
 * while nothing was appended (an unused prepared segment); otherwise (or without one) NULL.
 * Thread-safety: the committer after the writer moved on, or the allocator for a segment never handed out. */
uint8_t *apus_segment_detach_write_buffer(struct apus_segment *seg);
/* pwrites the appended, uncommitted bytes [wrote, append) from the write buffer to the file and then
 * publishes them (wrote position := append position). With least_pages > 0 it does nothing unless at
 * least that many page boundaries are pending or the buffer is full. Returns the bytes committed (0 when
 * nothing was due or there is no write buffer) or -errno (bytes written before the error are published).
 * Thread-safety: one committer; concurrent with the writer. Allocates nothing. */
int64_t apus_segment_commit(struct apus_segment *seg, uint32_t least_pages);
int64_t apus_segment_flushed_position(const struct apus_segment *seg);
void apus_segment_set_flushed_position(struct apus_segment *seg, int64_t pos);

/* Appends `count` encoded CommitLog records (`len` bytes, concatenated, owned by the caller) at the
 * append position (into the write buffer if there is one). Before copying it patches each record's queue offset (queue_offset_first + i),
 * physical offset and store timestamp in the caller's buffer. A record is written only if at least
 * 8 bytes remain after it (store.md §3.6); otherwise a BLANK filler is written, the segment becomes
 * full and APUS_SEGMENT_END_OF_FILE is returned. On success returns 0 and *file_position = where the
 * first record starts. Returns -EINVAL if len exceeds what an empty segment can take.
 * Thread-safety: caller holds the put lock. Allocates nothing. */
int apus_segment_append_records(struct apus_segment *seg, uint8_t *recs, uint32_t len, uint32_t count,
                                int64_t queue_offset_first, int64_t store_timestamp_ms, int64_t *file_position);

/* As apus_segment_append_records for one record encoded by apus_record_encode_split: `head` holds the
 * fixed part (body_at bytes, patched here) followed by the topic/properties part (tail_len bytes); the body
 * is copied straight from the caller's `body`, so a put copies it once. Same END_OF_FILE rule and result.
 * Thread-safety: caller holds the put lock. Allocates nothing. */
int apus_segment_append_split(struct apus_segment *seg, uint8_t *head, uint32_t body_at, const uint8_t *body,
                              uint32_t body_len, uint32_t tail_len, int64_t queue_offset, int64_t store_timestamp_ms,
                              int64_t *file_position);

/* Copies len bytes to file position pos (used for ConsumeQueue entries) and raises the wrote position
 * to pos+len if it was lower. Returns 0 or -ENOSPC if it would pass the segment's end.
 * Thread-safety: one writer. */
int apus_segment_write_at(struct apus_segment *seg, int64_t pos, const void *data, uint32_t len);

/* Touches every page (one zero byte each, store.md §5 warm-up) and advises MADV_WILLNEED; with
 * lock_pages also mlocks the mapping. Only for a segment nobody writes yet. Returns 0 or -errno. */
int apus_segment_warm(struct apus_segment *seg, int lock_pages);

/* Fills the page cache and page tables for the whole mapping without dirtying anything
 * (MADV_POPULATE_READ, or reading one byte per page on kernels without it), so the writer's first store
 * into each page costs a minor fault instead of allocating and zeroing a page. Returns 0 or -errno. */
int apus_segment_prefault(struct apus_segment *seg);

/* madvise(MADV_RANDOM) for dataReadAheadEnable=false. Returns 0 or -errno. */
int apus_segment_advise_random(struct apus_segment *seg);

/* Drops [pos, pos+len) from this process's page tables and asks the kernel to evict it from the page
 * cache (MADV_DONTNEED, then POSIX_FADV_DONTNEED; the data must be flushed for eviction to take). For tests
 * and operators that want cold data. Returns 0 or -errno. */
int apus_segment_evict(struct apus_segment *seg, int64_t pos, uint64_t len);

/* 1 if every page of [pos, pos+len) is in the page cache, 0 if not, -errno on error (mincore). */
int apus_segment_resident(const struct apus_segment *seg, int64_t pos, uint64_t len);

#endif
