/* hash.c: masked CRC-32 (carry-less multiplication where the CPU has it, zlib's otherwise) and Java
 * String.hashCode over UTF-8 input. See apus_hash.h. */
#include "apus_hash.h"

#include <zlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdatomic.h>

/* CRC-32 by carry-less multiplication (Intel, "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", 2009): four 128-bit lanes folded 64 bytes at a time, then one lane, then a Barrett
 * reduction. About 5x zlib's table code on a 1 KiB body, and every stored message pays it once. The
 * constants are x^k mod P for the reflected polynomial at the fold distances the paper gives. */
#define CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

/* Folds `len` bytes (>= 64, a multiple of 16) into the raw CRC register `crc` (zlib's value inverted). */
CLMUL_TARGET static uint32_t crc32_fold(uint32_t crc, const uint8_t *p, size_t len) {
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);

    __m128i x0 = _mm_loadu_si128((const __m128i *)(p + 0));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
    p += 64; len -= 64;
    while (len >= 64) {
        __m128i t0 = _mm_clmulepi64_si128(x0, k1k2, 0x00), t1 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        __m128i t2 = _mm_clmulepi64_si128(x2, k1k2, 0x00), t3 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        x0 = _mm_clmulepi64_si128(x0, k1k2, 0x11); x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11); x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x0 = _mm_xor_si128(_mm_xor_si128(x0, t0), _mm_loadu_si128((const __m128i *)(p + 0)));
        x1 = _mm_xor_si128(_mm_xor_si128(x1, t1), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, t2), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, t3), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64; len -= 64;
    }
    /* Four lanes into one. */
    __m128i t;
    t = _mm_clmulepi64_si128(x0, k3k4, 0x00); x0 = _mm_clmulepi64_si128(x0, k3k4, 0x11);
    x0 = _mm_xor_si128(_mm_xor_si128(x0, t), x1);
    t = _mm_clmulepi64_si128(x0, k3k4, 0x00); x0 = _mm_clmulepi64_si128(x0, k3k4, 0x11);
    x0 = _mm_xor_si128(_mm_xor_si128(x0, t), x2);
    t = _mm_clmulepi64_si128(x0, k3k4, 0x00); x0 = _mm_clmulepi64_si128(x0, k3k4, 0x11);
    x0 = _mm_xor_si128(_mm_xor_si128(x0, t), x3);
    while (len >= 16) {
        t = _mm_clmulepi64_si128(x0, k3k4, 0x00); x0 = _mm_clmulepi64_si128(x0, k3k4, 0x11);
        x0 = _mm_xor_si128(_mm_xor_si128(x0, t), _mm_loadu_si128((const __m128i *)p));
        p += 16; len -= 16;
    }
    /* 128 -> 64 bits. */
    t = _mm_clmulepi64_si128(x0, k3k4, 0x10);
    x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
    /* 64 -> 32 bits. */
    t = _mm_and_si128(x0, mask32);
    x0 = _mm_srli_si128(x0, 4);
    t = _mm_clmulepi64_si128(t, k5, 0x00);
    x0 = _mm_xor_si128(x0, t);
    /* Barrett reduction. */
    t = _mm_and_si128(x0, mask32);
    t = _mm_clmulepi64_si128(t, poly, 0x10);
    t = _mm_and_si128(t, mask32);
    t = _mm_clmulepi64_si128(t, poly, 0x00);
    x0 = _mm_xor_si128(x0, t);
    return (uint32_t)_mm_extract_epi32(x0, 1);
}

/* -1 until the first CRC asks the CPU; threads racing here all store the same answer. */
static _Atomic int clmul_usable = -1;

static int crc32_clmul_usable(void) {
    int usable = atomic_load_explicit(&clmul_usable, memory_order_relaxed);
    if (usable < 0) {
        __builtin_cpu_init();
        usable = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
        atomic_store_explicit(&clmul_usable, usable, memory_order_relaxed);
    }
    return usable;
}
#endif

uint32_t apus_crc32_update(uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
#if defined(__x86_64__)
    if (len >= 64 && crc32_clmul_usable()) {
        size_t folded = len & ~(size_t)15;
        if (folded > 0x40000000u) folded = 0x40000000u; /* also bounds each zlib piece below */
        crc = ~crc32_fold(~crc, p, folded);
        p += folded;
        len -= folded;
    }
#endif
    /* zlib's length is a uInt; feed large inputs in pieces. */
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

int32_t apus_crc32_masked(const void *data, size_t len) {
    return (int32_t)(apus_crc32_update(0, data, len) & 0x7FFFFFFFu);
}

/* Decodes one UTF-8 sequence at p[0..len); returns its length and sets *cp, or returns 1 with
 * *cp = U+FFFD for a malformed byte (Java's decoder substitutes the same character). */
static size_t utf8_next(const uint8_t *p, size_t len, uint32_t *cp) {
    uint8_t b0 = p[0];
    if (b0 < 0x80) { *cp = b0; return 1; }
    size_t need;
    uint32_t min, c;
    if ((b0 & 0xE0) == 0xC0) { need = 2; c = b0 & 0x1F; min = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { need = 3; c = b0 & 0x0F; min = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { need = 4; c = b0 & 0x07; min = 0x10000; }
    else { *cp = 0xFFFD; return 1; }
    if (need > len) { *cp = 0xFFFD; return 1; }
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { *cp = 0xFFFD; return 1; }
    *cp = c;
    return need;
}

int32_t apus_java_hash_utf8(const uint8_t *utf8, size_t len) {
    uint32_t h = 0; /* unsigned arithmetic gives Java's wrap-around without UB */
    size_t i = 0;
    while (i < len) {
        if (utf8[i] < 0x80) { h = 31u * h + utf8[i]; i++; continue; }
        uint32_t cp;
        i += utf8_next(utf8 + i, len - i, &cp);
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            h = 31u * h + (0xD800u + (v >> 10));
            h = 31u * h + (0xDC00u + (v & 0x3FF));
        } else {
            h = 31u * h + cp;
        }
    }
    return (int32_t)h;
}
