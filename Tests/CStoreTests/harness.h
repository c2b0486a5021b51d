/* harness.h: a tiny test harness for the C core: each test is a function; CHECK records a failure
 * with file and line and lets the test go on; the run ends with "N passed, N failed". */
#ifndef APUS_TEST_HARNESS_H
#define APUS_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int apus_test_failures;
extern const char *apus_test_current;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "  FAIL %s: %s (%s:%d)\n", apus_test_current, #cond, __FILE__, __LINE__); \
            apus_test_failures++;                                                                \
        }                                                                                        \
    } while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* Parses hex (spaces allowed) into out; returns the byte count. */
size_t hex_decode(const char *hex, unsigned char *out, size_t cap);
/* A fresh temporary directory for one test; returns its path (static storage per call site). */
const char *test_tmpdir(char *buf, size_t cap);

typedef void (*apus_test_fn)(void);
struct apus_test { const char *name; apus_test_fn fn; };

#endif
