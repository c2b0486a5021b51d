/* ring.c: picks the ring backend once and forwards each operation to it (contract in apus_ring.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ring_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int apus_ring_create(const struct apus_ring_params *params, struct apus_ring **out, int *io_uring_error) {
    *io_uring_error = 0;
    if (params->entries > 32768) return -EINVAL;
    struct apus_ring *ring = calloc(1, sizeof *ring);
    if (!ring) return -ENOMEM;
    ring->backend = APUS_RING_BACKEND_SYSCALL;
    if (params->use_io_uring) {
        int rc = apus__uring_init(ring, params);
        if (rc == 0) {
            ring->backend = APUS_RING_BACKEND_IO_URING;
        } else if (params->sqpoll) {
            /* SQPOLL needs privileges some hosts withhold; plain io_uring may still be allowed. */
            struct apus_ring_params plain = *params;
            plain.sqpoll = 0;
            *io_uring_error = rc;
            if (apus__uring_init(ring, &plain) == 0) ring->backend = APUS_RING_BACKEND_IO_URING;
        } else {
            *io_uring_error = rc;
        }
    }
    *out = ring;
    return 0;
}

void apus_ring_destroy(struct apus_ring *ring) {
    if (!ring) return;
    if (ring->backend == APUS_RING_BACKEND_IO_URING) apus__uring_exit(ring);
    free(ring);
}

enum apus_ring_backend apus_ring_backend(const struct apus_ring *ring) { return ring->backend; }

const char *apus_ring_backend_name(const struct apus_ring *ring) {
    if (ring->backend == APUS_RING_BACKEND_SYSCALL) return "syscall";
    return ring->sqpoll ? "io_uring+sqpoll" : "io_uring";
}

int apus_ring_fdatasync(struct apus_ring *ring, int fd) {
    int result = 0;
    int rc = apus_ring_fdatasync_many(ring, &fd, 1, &result);
    return rc;
}

int apus_ring_fdatasync_many(struct apus_ring *ring, const int *fds, int n, int *results) {
    if (n <= 0) return 0;
    if (n > 64) return -EINVAL;
    if (ring->backend == APUS_RING_BACKEND_IO_URING) return apus__uring_fdatasync_many(ring, fds, n, results);
    return apus__sys_fdatasync_many(fds, n, results);
}

int apus_ring_sync_file_range(struct apus_ring *ring, int fd, int64_t offset, int64_t nbytes, unsigned flags) {
    if (ring->backend == APUS_RING_BACKEND_IO_URING) return apus__uring_sync_file_range(ring, fd, offset, nbytes, flags);
    return apus__sys_sync_file_range(fd, offset, nbytes, flags);
}

int apus_ring_fallocate(struct apus_ring *ring, int fd, int mode, int64_t offset, int64_t len) {
    if (ring->backend == APUS_RING_BACKEND_IO_URING) return apus__uring_fallocate(ring, fd, mode, offset, len);
    return apus__sys_fallocate(fd, mode, offset, len);
}

int64_t apus_ring_pread(struct apus_ring *ring, int fd, void *buf, size_t len, int64_t offset) {
    if (ring->backend == APUS_RING_BACKEND_IO_URING) return apus__uring_pread(ring, fd, buf, len, offset);
    return apus__sys_pread(fd, buf, len, offset);
}

const char *apus_ring_refusal_hint(int err) {
    switch (-err) {
    case 0: return "io_uring in use";
    case ENOSYS: return "the kernel has no io_uring (built without CONFIG_IO_URING, or older than 5.6); "
                        "the store uses plain system calls";
    case EPERM: return "io_uring is disabled or filtered: check `sysctl kernel.io_uring_disabled` "
                       "(0 enables it for all users) and any seccomp profile of the container; "
                       "the store uses plain system calls";
    case ENOMEM: return "not enough locked memory for the ring: lower ioUringEntries or raise "
                        "`ulimit -l`; the store uses plain system calls";
    case EINVAL: return "the kernel rejected the ring parameters (ioUringEntries, ioUringSqPoll); "
                        "the store uses plain system calls";
    default: return "io_uring could not be set up; the store uses plain system calls";
    }
}
