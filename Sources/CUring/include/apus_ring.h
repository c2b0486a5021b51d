/* apus_ring.h: the store's I/O ring: flush (fdatasync, sync_file_range), preallocation (fallocate)
 * and reads of cold data, through io_uring where the kernel allows it and through plain system calls
 * where it refuses (ENOSYS, EPERM, kernel.io_uring_disabled). The backend is chosen once, at create,
 * and reported by apus_ring_backend_name so the operator can see it in the log.
 *
 * Every operation is submit-and-wait: it returns when the kernel has completed it, with the result
 * (>= 0) or a negative errno taken from the completion, never from errno.
 *
 * Thread-safety: a ring is used by one thread at a time (the store gives each I/O thread its own).
 * apus_ring_create/destroy allocate; operations allocate nothing. */
#ifndef APUS_RING_H
#define APUS_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct apus_ring;

enum apus_ring_backend {
    APUS_RING_BACKEND_IO_URING = 1,
    APUS_RING_BACKEND_SYSCALL = 2,
};

struct apus_ring_params {
    uint32_t entries;           /* submission queue entries (ioUringEntries); 0 => 64 */
    int sqpoll;                 /* kernel submission thread (ioUringSqPoll) */
    uint32_t sq_thread_idle_ms; /* ioUringSqThreadIdleMs */
    int use_io_uring;           /* 0 forces the syscall backend (ioUringEnable=false) */
};

/* Creates a ring. Never fails because io_uring is refused: it falls back to system calls and stores
 * the refusal (negative errno) in *io_uring_error (0 if io_uring is in use or was not asked for).
 * With sqpoll refused but io_uring allowed it retries without sqpoll and reports that errno too.
 * Returns 0, -EINVAL for entries over 32768, or -ENOMEM. */
int apus_ring_create(const struct apus_ring_params *params, struct apus_ring **out, int *io_uring_error);
void apus_ring_destroy(struct apus_ring *ring);

enum apus_ring_backend apus_ring_backend(const struct apus_ring *ring);
/* "io_uring", "io_uring+sqpoll" or "syscall". */
const char *apus_ring_backend_name(const struct apus_ring *ring);

/* fdatasync(fd). Returns 0 or -errno. */
int apus_ring_fdatasync(struct apus_ring *ring, int fd);
/* fdatasync of several files at once (one submission, all in flight together). results[i] gets each
 * result; returns 0 if all succeeded, else the first negative errno. n <= 64. */
int apus_ring_fdatasync_many(struct apus_ring *ring, const int *fds, int n, int *results);
/* sync_file_range(fd, offset, nbytes, flags) with SYNC_FILE_RANGE_* flags. Returns 0 or -errno. */
int apus_ring_sync_file_range(struct apus_ring *ring, int fd, int64_t offset, int64_t nbytes, unsigned flags);
/* fallocate(fd, mode, offset, len). Returns 0 or -errno (-ENOSPC on a full disk). */
int apus_ring_fallocate(struct apus_ring *ring, int fd, int mode, int64_t offset, int64_t len);
/* pread into buf, retrying short reads until len bytes or end of file. Returns bytes read or -errno. */
int64_t apus_ring_pread(struct apus_ring *ring, int fd, void *buf, size_t len, int64_t offset);

/* Explains a refusal errno for the log: likely cause and fix. Never NULL. */
const char *apus_ring_refusal_hint(int io_uring_error);

#endif
