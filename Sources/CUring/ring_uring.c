/* ring_uring.c: the io_uring backend. Each operation queues its SQEs, submits, and reaps exactly as
 * many CQEs; results come negated in cqe->res (never in errno). Thread-safety: apus_ring.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ring_internal.h"

#include <errno.h>
#include <string.h>

int apus__uring_init(struct apus_ring *ring, const struct apus_ring_params *p) {
    struct io_uring_params up;
    memset(&up, 0, sizeof up);
    if (p->sqpoll) {
        up.flags |= IORING_SETUP_SQPOLL;
        up.sq_thread_idle = p->sq_thread_idle_ms ? p->sq_thread_idle_ms : 1000;
    }
    int rc = io_uring_queue_init_params(p->entries ? p->entries : 64, &ring->uring, &up);
    if (rc < 0) return rc;
    ring->sqpoll = p->sqpoll;
    return 0;
}

void apus__uring_exit(struct apus_ring *ring) { io_uring_queue_exit(&ring->uring); }

static struct io_uring_sqe *get_sqe(struct apus_ring *ring) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring->uring);
    if (!sqe) { /* ring full: flush what is queued, then there is room */
        io_uring_submit(&ring->uring);
        sqe = io_uring_get_sqe(&ring->uring);
    }
    return sqe;
}

/* Submits and waits for n completions whose user_data is their index; stores each result. */
static int reap(struct apus_ring *ring, int n, int *results) {
    int rc = io_uring_submit_and_wait(&ring->uring, (unsigned)n);
    if (rc < 0 && rc != -EINTR) return rc;
    int first_error = 0;
    for (int done = 0; done < n;) {
        struct io_uring_cqe *cqe;
        rc = io_uring_wait_cqe(&ring->uring, &cqe);
        if (rc == -EINTR) continue;
        if (rc < 0) return rc;
        int idx = (int)(uintptr_t)io_uring_cqe_get_data(cqe);
        if (idx >= 0 && idx < n) results[idx] = cqe->res;
        if (cqe->res < 0 && first_error == 0) first_error = cqe->res;
        io_uring_cqe_seen(&ring->uring, cqe);
        done++;
    }
    return first_error;
}

int apus__uring_fdatasync_many(struct apus_ring *ring, const int *fds, int n, int *results) {
    for (int i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = get_sqe(ring);
        if (!sqe) return -EBUSY;
        io_uring_prep_fsync(sqe, fds[i], IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data(sqe, (void *)(uintptr_t)i);
    }
    return reap(ring, n, results);
}

int apus__uring_sync_file_range(struct apus_ring *ring, int fd, int64_t off, int64_t n, unsigned flags) {
    struct io_uring_sqe *sqe = get_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_sync_file_range(sqe, fd, (unsigned)n, (uint64_t)off, (int)flags);
    io_uring_sqe_set_data(sqe, (void *)(uintptr_t)0);
    int result = 0;
    int rc = reap(ring, 1, &result);
    return rc < 0 ? rc : 0;
}

int apus__uring_fallocate(struct apus_ring *ring, int fd, int mode, int64_t off, int64_t len) {
    struct io_uring_sqe *sqe = get_sqe(ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_fallocate(sqe, fd, mode, (uint64_t)off, (uint64_t)len);
    io_uring_sqe_set_data(sqe, (void *)(uintptr_t)0);
    int result = 0;
    int rc = reap(ring, 1, &result);
    return rc < 0 ? rc : 0;
}

int64_t apus__uring_pread(struct apus_ring *ring, int fd, void *buf, size_t len, int64_t off) {
    size_t done = 0;
    while (done < len) {
        struct io_uring_sqe *sqe = get_sqe(ring);
        if (!sqe) return -EBUSY;
        io_uring_prep_read(sqe, fd, (char *)buf + done, (unsigned)(len - done > 0x7FFFF000 ? 0x7FFFF000 : len - done),
                           (uint64_t)(off + (int64_t)done));
        io_uring_sqe_set_data(sqe, (void *)(uintptr_t)0);
        int result = 0;
        int rc = reap(ring, 1, &result);
        if (rc < 0) return rc;
        if (result == 0) break; /* end of file */
        done += (size_t)result;
    }
    return (int64_t)done;
}
