/* hash.c: masked CRC-32 (zlib) and Java String.hashCode over UTF-8 input. See apus_hash.h. */
#include "apus_hash.h"

#include <zlib.h>

uint32_t apus_crc32_update(uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
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
