/* apus_hash.h: the two checksums RocketMQ's formats use.
 * - Body CRC: zlib CRC-32 masked to 31 bits (store.md §1, remoting.md §12.4).
 * - Java String.hashCode over the UTF-16 units of a UTF-8 string (store.md §1): tag codes
 *   (ConsumeQueue) and index keys (IndexFile).
 * Thread-safety: pure functions. Allocates nothing. */
#ifndef APUS_HASH_H
#define APUS_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Masked CRC-32 (0..0x7FFFFFFF) of `len` bytes. */
int32_t apus_crc32_masked(const void *data, size_t len);

/* Plain CRC-32, continuing from `crc` (start with 0). Exposed for benchmarks and tests. */
uint32_t apus_crc32_update(uint32_t crc, const void *data, size_t len);

/* Java String.hashCode of the string whose UTF-8 bytes are given. Malformed UTF-8 bytes count as
 * U+FFFD each, as Java's decoder replaces them. Code points above U+FFFF count as two surrogates. */
int32_t apus_java_hash_utf8(const uint8_t *utf8, size_t len);

#endif
