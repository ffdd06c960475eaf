/* AES-256-CTR, on the AES-NI path (when the CPU has it) and on the portable path, forced:
 *   - NIST SP 800-38A F.5.5 (encrypt) and F.5.6 (decrypt) known answers, whole and in pieces;
 *   - differential against OpenSSL's EVP aes-256-ctr over random keys, counters, lengths and
 *     split points, in place and not;
 *   - counter blocks that carry across 2^64 and wrap around 2^128, at every offset inside the
 *     AES-NI path's eight-block batches;
 *   - wiping. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "aes_ctr.h"
#include "ctest.h"
#include "vectors.h"

static unsigned char nist_key[32], nist_iv[16], nist_pt[64], nist_ct[64];

/* The reference: OpenSSL's own CTR mode over the whole buffer in one call. */
static void reference(const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out,
                      size_t len) {
    EVP_CIPHER_CTX *evp = EVP_CIPHER_CTX_new();
    int outl = 0;
    CHECK(evp && EVP_EncryptInit_ex(evp, EVP_aes_256_ctr(), NULL, key, iv) == 1);
    CHECK(EVP_EncryptUpdate(evp, out, &outl, in, (int)len) == 1 && (size_t)outl == len);
    EVP_CIPHER_CTX_free(evp);
}

/* Our stream over the buffer in pieces: sizes from the test RNG, at most max_piece each (0
 * allowed), in place when in_place. */
static int pieces(aes_impl impl, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in,
                  uint8_t *out, size_t len, size_t max_piece, int in_place) {
    aes_ctr ctr;
    if (aes_ctr_init_impl(&ctr, impl, key, iv) != 0) return -1;
    if (in_place) memcpy(out, in, len);
    for (size_t off = 0; off < len;) {
        unsigned char r[2];
        test_random(r, 2);
        size_t n = ((size_t)r[0] << 8 | r[1]) % (max_piece + 1);
        if (n > len - off) n = len - off;
        if (aes_ctr_apply(&ctr, in_place ? out + off : in + off, out + off, n) != 0) return -1;
        off += n;
    }
    aes_ctr_wipe(&ctr);
    return 0;
}

static void nist(aes_impl impl) {
    unsigned char out[64];
    printf("  NIST SP 800-38A F.5.5/F.5.6 on %s\n", aes_impl_name(impl));
    aes_ctr ctr;
    /* F.5.5: encryption */
    CHECK(aes_ctr_init_impl(&ctr, impl, nist_key, nist_iv) == 0);
    CHECK(aes_ctr_apply(&ctr, nist_pt, out, 64) == 0);
    CHECK_MEM(out, nist_ct, 64);
    /* F.5.6: decryption, the same stream over the ciphertext, in place */
    memcpy(out, nist_ct, 64);
    CHECK(aes_ctr_init_impl(&ctr, impl, nist_key, nist_iv) == 0);
    CHECK(aes_ctr_apply(&ctr, out, out, 64) == 0);
    CHECK_MEM(out, nist_pt, 64);
    /* fed in odd-sized pieces, including empty ones */
    CHECK(aes_ctr_init_impl(&ctr, impl, nist_key, nist_iv) == 0);
    size_t sizes[] = {1, 7, 0, 16, 3, 37}, off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        CHECK(aes_ctr_apply(&ctr, nist_pt + off, out + off, sizes[i]) == 0);
        off += sizes[i];
    }
    CHECK(off == 64);
    CHECK_MEM(out, nist_ct, 64);
    aes_ctr_wipe(&ctr);
}

/* Random keys, counters, lengths and split points against OpenSSL. */
static void differential(aes_impl impl, int cases) {
    printf("  %d random cases against EVP aes-256-ctr on %s\n", cases, aes_impl_name(impl));
    enum { MAX = 5000 };
    uint8_t *in = malloc(MAX), *want = malloc(MAX), *got = malloc(MAX);
    int failures = 0;
    for (int i = 0; i < cases; i++) {
        uint8_t key[32], iv[16], r[3];
        test_random(key, 32);
        test_random(iv, 16);
        test_random(r, 3);
        size_t len = ((size_t)r[0] << 8 | r[1]) % MAX;
        size_t max_piece = r[2] % 4 == 0 ? len : (size_t)(r[2] % 200);
        test_random(in, len);
        reference(key, iv, in, want, len);
        memset(got, 0, MAX);
        if (pieces(impl, key, iv, in, got, len, max_piece, i % 2) != 0 || memcmp(got, want, len))
            failures++;
    }
    CHECK(failures == 0);
    free(in);
    free(want);
    free(got);
}

/* Counters whose low 64 bits (or all 128) are a few blocks from wrapping: every distance 0..17
 * from the edge, so a carry falls at each position of an eight-block batch, and lengths
 * covering partial and several batches. */
static void wrap_around(aes_impl impl) {
    printf("  counter carries across 2^64 and 2^128 on %s\n", aes_impl_name(impl));
    uint8_t key[32], in[16 * 40 + 5], want[sizeof in], got[sizeof in];
    test_random(key, 32);
    test_random(in, sizeof in);
    int failures = 0;
    for (int edge = 0; edge < 2; edge++) {      /* 0: low half wraps; 1: all 128 bits wrap */
        for (int dist = 0; dist < 18; dist++) { /* blocks before the wrap */
            uint8_t iv[16];
            test_random(iv, 8);
            if (edge == 1) memset(iv, 0xff, 8);
            memset(iv + 8, 0xff, 8);
            uint64_t low = UINT64_MAX - (uint64_t)dist;
            for (int b = 0; b < 8; b++) iv[8 + b] = (uint8_t)(low >> (56 - 8 * b));
            size_t lens[] = {16 * 20, sizeof in, 16 * 8, 16 * 3 + 1};
            for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
                reference(key, iv, in, want, lens[l]);
                for (size_t piece = 1; piece <= lens[l]; piece = piece * 3 + 4)
                    if (pieces(impl, key, iv, in, got, lens[l], piece, 0) != 0 ||
                        memcmp(got, want, lens[l]))
                        failures++;
            }
        }
    }
    CHECK(failures == 0);
    /* 2^128 - 1 is followed by 0: block 1 of the stream is AES(0) */
    uint8_t iv[16], zero[32] = {0}, ks[32], block0[16];
    memset(iv, 0xff, 16);
    aes_ctr ctr;
    CHECK(aes_ctr_init_impl(&ctr, impl, key, iv) == 0);
    CHECK(aes_ctr_apply(&ctr, zero, ks, 32) == 0);
    memset(iv, 0, 16);
    CHECK(aes_ctr_init_impl(&ctr, impl, key, iv) == 0);
    CHECK(aes_ctr_apply(&ctr, zero, block0, 16) == 0);
    CHECK_MEM(ks + 16, block0, 16);
    aes_ctr_wipe(&ctr);
}

/* The two paths give the same bytes for long streams too. */
static void paths_agree(void) {
    enum { LEN = 1 << 16 };
    uint8_t key[32], iv[16];
    uint8_t *in = malloc(LEN), *a = malloc(LEN), *b = malloc(LEN);
    test_random(key, 32);
    test_random(iv, 16);
    test_random(in, LEN);
    CHECK(pieces(AES_AESNI, key, iv, in, a, LEN, 4000, 0) == 0);
    CHECK(pieces(AES_PORTABLE, key, iv, in, b, LEN, 700, 1) == 0);
    CHECK_MEM(a, b, LEN);
    free(in);
    free(a);
    free(b);
}

static void wipe(void) {
    aes_ctr ctr, zero;
    uint8_t k[16];
    memset(&zero, 0, sizeof zero);
    CHECK(aes_ctr_init(&ctr, nist_key, nist_iv) == 0);
    CHECK(aes_ctr_apply(&ctr, nist_pt, k, 5) == 0); /* leaves keystream in the state */
    CHECK(memcmp(&ctr, &zero, sizeof ctr) != 0);
    aes_ctr_wipe(&ctr);
    CHECK(memcmp(&ctr, &zero, sizeof ctr) == 0);
}

int main(void) {
    ctest_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", nist_key, 32);
    ctest_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", nist_iv, 16);
    ctest_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
              "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710", nist_pt, 64);
    ctest_hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
              "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6", nist_ct, 64);
    CHECK(aes_impl_init() == 0);
    printf("  default path: %s, AES-NI %savailable\n", aes_impl_name(aes_impl_default()),
           aes_impl_available(AES_AESNI) ? "" : "not ");
    CHECK(sizeof(aes_ctr) <= 280); /* the key schedule, counter, one keystream block */
    /* Only the raw 32-byte key is kept (no room for a 240-byte schedule): each call expands it
     * on its stack. Two streams per connection, held by every idle session. */
    CHECK(sizeof(aes_ctr) <= 72);

    aes_impl impls[] = {AES_PORTABLE, AES_AESNI};
    for (size_t i = 0; i < 2; i++) {
        if (!aes_impl_available(impls[i])) {
            aes_ctr ctr;
            printf("  %s not available here: init refuses it\n", aes_impl_name(impls[i]));
            CHECK(aes_ctr_init_impl(&ctr, impls[i], nist_key, nist_iv) == -1);
            CHECK(aes_ctr_apply(&ctr, nist_pt, nist_pt, 1) == -1);
            continue;
        }
        nist(impls[i]);
        differential(impls[i], 1500);
        wrap_around(impls[i]);
    }
    if (aes_impl_available(AES_AESNI)) paths_agree();
    wipe();
    return ctest_summary("aes_ctr");
}
