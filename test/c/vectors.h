/* Reads named hex vectors from a text file of `name hex` lines (# comments), such as
 * test/vectors/samples-auth_key.txt. Tests run from the repository root. */
#ifndef MTPROTO_TEST_VECTORS_H
#define MTPROTO_TEST_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"

/* The bytes of vector `name` into out (at most cap); returns the count, 0 when missing. */
static inline size_t vec_get(const char *file, const char *name, unsigned char *out, size_t cap) {
    FILE *f = fopen(file, "r");
    static char line[8192];
    size_t n = 0, name_len = strlen(name);
    if (!f) {
        fprintf(stderr, "cannot open %s\n", file);
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ' ') {
            line[strcspn(line, "\r\n")] = 0;
            n = ctest_hex(line + name_len + 1, out, cap);
            break;
        }
    }
    fclose(f);
    if (n == 0) fprintf(stderr, "vector %s missing in %s\n", name, file);
    return n;
}

/* The whole file as a NUL-terminated string (free it); NULL when unreadable. */
static inline char *vec_read_file(const char *file, size_t *len) {
    FILE *f = fopen(file, "rb");
    char *buf = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)size, f);
        buf[*len] = 0;
    }
    fclose(f);
    return buf;
}

/* A reproducible byte stream for tests (xorshift64*). */
static unsigned long long test_rng_state = 0x9E3779B97F4A7C15ull;
static inline void test_random(unsigned char *out, size_t len) {
    for (size_t i = 0; i < len; i++) {
        test_rng_state ^= test_rng_state >> 12;
        test_rng_state ^= test_rng_state << 25;
        test_rng_state ^= test_rng_state >> 27;
        out[i] = (unsigned char)((test_rng_state * 0x2545F4914F6CDD1Dull) >> 56);
    }
}

#define SAMPLE "test/vectors/samples-auth_key.txt"

#endif
