/* test_ring.c: both ring backends do the same work: fallocate, write+fdatasync, sync_file_range,
 * pread. The io_uring half reports a skip when the kernel refuses io_uring. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apus_ring.h"
#include "harness.h"

static void exercise(struct apus_ring *ring) {
    char dir[256], path[300];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(apus_ring_fallocate(ring, fd, 0, 0, 1 << 20), 0);
    struct stat st;
    fstat(fd, &st);
    CHECK_EQ(st.st_size, 1 << 20);
    CHECK_EQ(pwrite(fd, "hello ring", 10, 4096), 10);
    CHECK_EQ(apus_ring_sync_file_range(ring, fd, 0, 8192, 0x1 | 0x2 | 0x4), 0);
    CHECK_EQ(apus_ring_fdatasync(ring, fd), 0);
    int fds[3] = {fd, fd, fd}, results[3] = {1, 1, 1};
    CHECK_EQ(apus_ring_fdatasync_many(ring, fds, 3, results), 0);
    CHECK(results[0] == 0 && results[1] == 0 && results[2] == 0);
    char buf[16] = {0};
    CHECK_EQ(apus_ring_pread(ring, fd, buf, 10, 4096), 10);
    CHECK_MEM(buf, "hello ring", 10);
    CHECK_EQ(apus_ring_pread(ring, fd, buf, 16, (1 << 20) - 6), 6); /* short at end of file */
    CHECK_EQ(apus_ring_fdatasync(ring, -1), -EBADF);
    close(fd);
    unlink(path);
    rmdir(dir);
}

void syscall_ring_backend_does_every_operation(void) {
    struct apus_ring_params p = {.entries = 8, .use_io_uring = 0};
    struct apus_ring *ring;
    int refusal = 99;
    CHECK_EQ(apus_ring_create(&p, &ring, &refusal), 0);
    CHECK_EQ(refusal, 0);
    CHECK_EQ(apus_ring_backend(ring), APUS_RING_BACKEND_SYSCALL);
    exercise(ring);
    apus_ring_destroy(ring);
}

void io_uring_backend_does_every_operation(void) {
    struct apus_ring_params p = {.entries = 8, .use_io_uring = 1};
    struct apus_ring *ring;
    int refusal = 0;
    CHECK_EQ(apus_ring_create(&p, &ring, &refusal), 0);
    if (apus_ring_backend(ring) != APUS_RING_BACKEND_IO_URING) {
        printf("skip io_uring_backend_does_every_operation: io_uring refused (%d): %s\n", refusal,
               apus_ring_refusal_hint(refusal));
        apus_ring_destroy(ring);
        return;
    }
    CHECK_EQ(refusal, 0);
    exercise(ring);
    apus_ring_destroy(ring);
}

void sqpoll_ring_works_or_falls_back_with_a_reason(void) {
    struct apus_ring_params p = {.entries = 8, .use_io_uring = 1, .sqpoll = 1, .sq_thread_idle_ms = 50};
    struct apus_ring *ring;
    int refusal = 0;
    CHECK_EQ(apus_ring_create(&p, &ring, &refusal), 0);
    printf("     sqpoll ring backend: %s (refusal %d)\n", apus_ring_backend_name(ring), refusal);
    exercise(ring);
    apus_ring_destroy(ring);
}

void ring_rejects_oversized_entry_count(void) {
    struct apus_ring_params p = {.entries = 100000, .use_io_uring = 1};
    struct apus_ring *ring;
    int refusal;
    CHECK_EQ(apus_ring_create(&p, &ring, &refusal), -EINVAL);
    CHECK(apus_ring_refusal_hint(-EPERM) != NULL);
}
