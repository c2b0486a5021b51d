/* ring_syscall.c: the plain-system-call backend, used where io_uring is refused. EINTR is retried
 * here; every other errno is returned negated. Thread-safety: apus_ring.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ring_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int apus__sys_fdatasync_many(const int *fds, int n, int *results) {
    int first_error = 0;
    for (int i = 0; i < n; i++) {
        int rc;
        do { rc = fdatasync(fds[i]); } while (rc != 0 && errno == EINTR);
        results[i] = rc == 0 ? 0 : -errno;
        if (results[i] < 0 && first_error == 0) first_error = results[i];
    }
    return first_error;
}

int apus__sys_sync_file_range(int fd, int64_t off, int64_t n, unsigned flags) {
    int rc;
    do { rc = sync_file_range(fd, off, n, flags); } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : -errno;
}

int apus__sys_fallocate(int fd, int mode, int64_t off, int64_t len) {
    int rc;
    do { rc = fallocate(fd, mode, off, len); } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : -errno;
}

int64_t apus__sys_pread(int fd, void *buf, size_t len, int64_t off) {
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, off + (int64_t)done);
        if (r < 0) { if (errno == EINTR) continue; return -errno; }
        if (r == 0) break;
        done += (size_t)r;
    }
    return (int64_t)done;
}
