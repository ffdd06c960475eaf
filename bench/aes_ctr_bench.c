/* AES-256-CTR in C, without NIF overhead: this project's stream (AES-NI and portable paths)
 * against OpenSSL's EVP aes-256-ctr (what the stream was before 2026-11), in the same rounds,
 * at obfuscated2's typical sizes. Best of 7 rounds (the machine is shared), in place.
 *
 *   make bench   (or: make _build/c/bench/aes_ctr_bench && _build/c/bench/aes_ctr_bench) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "aes_ctr.h"

#define ROUNDS 7

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Nanoseconds per call of our stream on impl, over `calls` calls. */
static double ours(aes_impl impl, uint8_t *buf, size_t len, long calls) {
    static const uint8_t key[32] = {1}, iv[16] = {2};
    aes_ctr ctr;
    aes_ctr_init_impl(&ctr, impl, key, iv);
    double t0 = now_ns();
    for (long i = 0; i < calls; i++) aes_ctr_apply(&ctr, buf, buf, len);
    double t = (now_ns() - t0) / calls;
    aes_ctr_wipe(&ctr);
    return t;
}

static double evp(uint8_t *buf, size_t len, long calls) {
    static const uint8_t key[32] = {1}, iv[16] = {2};
    int outl;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv);
    double t0 = now_ns();
    for (long i = 0; i < calls; i++) EVP_EncryptUpdate(ctx, buf, &outl, buf, (int)len);
    double t = (now_ns() - t0) / calls;
    EVP_CIPHER_CTX_free(ctx);
    return t;
}

int main(void) {
    static const size_t sizes[] = {72, 1024, 16384, 1 << 20};
    uint8_t *buf = calloc(1, 1 << 20);
    int ni = aes_impl_available(AES_AESNI);
    printf("AES-256-CTR in C, ns per call (MB/s), best of %d; ratio = EVP time / ours\n\n", ROUNDS);
    printf("| size | aesni | portable | OpenSSL EVP | aesni/EVP speed | portable/EVP speed |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t len = sizes[s];
        long calls = (long)(64e6 / len) + 8;
        double best_ni = 1e30, best_port = 1e30, best_evp = 1e30, t;
        for (int r = 0; r < ROUNDS; r++) {
            if (ni && (t = ours(AES_AESNI, buf, len, calls)) < best_ni) best_ni = t;
            if ((t = ours(AES_PORTABLE, buf, len, calls / 4 + 1)) < best_port) best_port = t;
            if ((t = evp(buf, len, calls)) < best_evp) best_evp = t;
        }
        char ni_cell[64] = "n/a", ni_ratio[16] = "n/a";
        if (ni) {
            snprintf(ni_cell, sizeof ni_cell, "%.1f (%.0f)", best_ni, len / best_ni * 1e3);
            snprintf(ni_ratio, sizeof ni_ratio, "%.2f", best_evp / best_ni);
        }
        printf("| %zu B | %s | %.1f (%.0f) | %.1f (%.0f) | %s | %.2f |\n", len, ni_cell, best_port,
               len / best_port * 1e3, best_evp, len / best_evp * 1e3, ni_ratio,
               best_evp / best_port);
    }
    free(buf);
    return 0;
}
