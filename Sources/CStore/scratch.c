/* scratch.c: per-thread record encoding buffer. Contract in apus_scratch.h. */
#include "apus_scratch.h"

#include <pthread.h>
#include <stdlib.h>

/* Smallest buffer worth keeping: most records fit, so a thread grows it at most a few times. */
#define APUS_SCRATCH_MIN (64u * 1024u)

static _Thread_local uint8_t *scratch_base;
static _Thread_local size_t scratch_size;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) { free(p); }
static void scratch_make_key(void) { (void)pthread_key_create(&scratch_key, scratch_free); }

uint8_t *apus_scratch(size_t need) {
    if (need <= scratch_size) return scratch_base;
    size_t size = scratch_size ? scratch_size : APUS_SCRATCH_MIN;
    while (size < need) size *= 2;
    uint8_t *grown = realloc(scratch_base, size);
    if (!grown) return NULL;
    pthread_once(&scratch_once, scratch_make_key);
    /* The key's destructor frees the buffer at thread exit. */
    (void)pthread_setspecific(scratch_key, grown);
    scratch_base = grown;
    scratch_size = size;
    return grown;
}
