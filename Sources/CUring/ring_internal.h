/* ring_internal.h: the handful of operations each ring backend implements (ring_uring.c,
 * ring_syscall.c); ring.c picks one at create. Internal to CUring. Thread-safety: as apus_ring.h. */
#ifndef APUS_RING_INTERNAL_H
#define APUS_RING_INTERNAL_H

#include <liburing.h>

#include "apus_ring.h"

struct apus_ring {
    enum apus_ring_backend backend;
    int sqpoll;
    struct io_uring uring; /* valid only for APUS_RING_BACKEND_IO_URING */
};

int apus__uring_init(struct apus_ring *ring, const struct apus_ring_params *p);
void apus__uring_exit(struct apus_ring *ring);
int apus__uring_fdatasync_many(struct apus_ring *ring, const int *fds, int n, int *results);
int apus__uring_sync_file_range(struct apus_ring *ring, int fd, int64_t off, int64_t n, unsigned flags);
int apus__uring_fallocate(struct apus_ring *ring, int fd, int mode, int64_t off, int64_t len);
int64_t apus__uring_pread(struct apus_ring *ring, int fd, void *buf, size_t len, int64_t off);

int apus__sys_fdatasync_many(const int *fds, int n, int *results);
int apus__sys_sync_file_range(int fd, int64_t off, int64_t n, unsigned flags);
int apus__sys_fallocate(int fd, int mode, int64_t off, int64_t len);
int64_t apus__sys_pread(int fd, void *buf, size_t len, int64_t off);

#endif
