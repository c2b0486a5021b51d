/* main.c: runs every C-core test and prints "N passed, N failed" (a line CI reads). */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

int apus_test_failures;
const char *apus_test_current;

size_t hex_decode(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9') v = *p - '0';
        else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
        else continue;
        if (hi < 0) hi = v;
        else { if (n < cap) out[n] = (unsigned char)(hi << 4 | v); n++; hi = -1; }
    }
    return n;
}

const char *test_tmpdir(char *buf, size_t cap) {
    snprintf(buf, cap, "%s/apus-ctest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(buf)) { perror("mkdtemp"); exit(2); }
    return buf;
}

#define T(name) void name(void);
#include "tests.def"
#undef T

static const struct apus_test tests[] = {
#define T(name) {#name, name},
#include "tests.def"
#undef T
};

int main(void) {
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        apus_test_current = tests[i].name;
        int before = apus_test_failures;
        tests[i].fn();
        if (apus_test_failures == before) { passed++; printf("ok   %s\n", tests[i].name); }
        else { failed++; printf("FAIL %s\n", tests[i].name); }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
