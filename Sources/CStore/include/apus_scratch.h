/* apus_scratch.h: a per-thread scratch buffer for encoding records before the put lock, so a put does
 * not allocate: each thread's buffer grows to the largest record (or batch) it has encoded and is
 * reused; it is freed when the thread exits.
 *
 * Thread-safety: every thread has its own buffer; a pointer is valid on its thread until that thread's
 * next apus_scratch call. */
#ifndef APUS_SCRATCH_H
#define APUS_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

/* The calling thread's buffer, at least `need` bytes long, or NULL if it cannot grow (out of memory). */
uint8_t *apus_scratch(size_t need);

#endif
