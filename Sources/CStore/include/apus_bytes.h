/* apus_bytes.h: big-endian loads and stores (every store file is big-endian, store.md §1) and the
 * always-on assertion used for invariants (a crash beats a corrupt store).
 * Thread-safety: pure functions on caller memory. */
#ifndef APUS_BYTES_H
#define APUS_BYTES_H

#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#define APUS_ASSERT(cond)                                                                      \
    do {                                                                                       \
        if (__builtin_expect(!(cond), 0)) {                                                    \
            fprintf(stderr, "apus: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static inline void apus_put_be16(uint8_t *p, uint16_t v) { v = __builtin_bswap16(v); memcpy(p, &v, 2); }
static inline void apus_put_be32(uint8_t *p, uint32_t v) { v = __builtin_bswap32(v); memcpy(p, &v, 4); }
static inline void apus_put_be64(uint8_t *p, uint64_t v) { v = __builtin_bswap64(v); memcpy(p, &v, 8); }
static inline uint16_t apus_get_be16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return __builtin_bswap16(v); }
static inline uint32_t apus_get_be32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline uint64_t apus_get_be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }

/* A spin-wait hint (PAUSE on x86, YIELD on ARM), for bounded spins only (the never-waiting put). */
static inline void apus_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
