/* A tiny C unit-test harness: CHECK records a failure and goes on; ctest_summary() prints
 * "N passed, N failed" and gives the exit status. Tests are built with ASan and UBSan. */
#ifndef MTPROTO_CTEST_H
#define MTPROTO_CTEST_H

#include <stdio.h>
#include <string.h>

static int ctest_passed, ctest_failed;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) {                                                                    \
            ctest_passed++;                                                            \
        } else {                                                                       \
            ctest_failed++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* Parses a hex string into out (at most cap bytes); returns the byte count. */
static inline size_t ctest_hex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (unsigned char)v;
        hex += 2;
    }
    return n;
}

static inline int ctest_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, ctest_passed, ctest_failed);
    return ctest_failed == 0 ? 0 : 1;
}

#endif
