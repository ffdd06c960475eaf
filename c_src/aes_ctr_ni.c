/* AES-256-CTR on AES-NI. Counter blocks are independent, so eight go through the 14 rounds
 * together: aesenc has a latency of about four cycles but a throughput of one or two per cycle,
 * and eight blocks in flight keep the AES units busy (one block at a time would run at a quarter
 * of the speed or less). The last 1..127 bytes take one more batch of four or eight blocks.
 *
 * The counter is kept as two 64-bit halves of a 128-bit number; block j of a batch is that
 * number plus j, byte-reversed into the big-endian block AES encrypts. While the low half cannot
 * carry within a batch (all but once every 2^61 batches) the eight blocks are one 64-bit add and
 * one byte shuffle each; otherwise each is computed with its carry. The input is XORed into the
 * last round key (aesenclast ends with "state ^ round_key"), so the XOR costs nothing extra.
 *
 * The stream keeps only its 32-byte key: each call expands the 15 round keys into a stack array
 * first (aes_ni.h: a chain of 13 shuffle+aesenclast steps, which the out-of-order core partly
 * overlaps with the first rounds) and wipes that array before it returns. */
#include "aes_ctr_ni.h"

#include <openssl/crypto.h>

#include "aes_ni.h"

#if AES_NI_AVAILABLE

#define NI AES_NI_TARGET
#define BATCH 8

/* The counter blocks counter+0 .. counter+7, big-endian. */
static inline NI void counter_blocks(const uint64_t counter[2], __m128i c[BATCH]) {
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint64_t hi = counter[0], lo = counter[1];
    if (lo <= UINT64_MAX - (BATCH - 1)) {
        __m128i n = _mm_set_epi64x((long long)hi, (long long)lo);
#pragma GCC unroll 8
        for (int j = 0; j < BATCH; j++)
            c[j] = _mm_shuffle_epi8(_mm_add_epi64(n, _mm_set_epi64x(0, j)), reverse);
    } else {
#pragma GCC unroll 8
        for (int j = 0; j < BATCH; j++) {
            uint64_t lo_j = lo + (uint64_t)j, hi_j = hi + (lo_j < lo); /* wraps at 2^128 */
            c[j] = _mm_shuffle_epi8(_mm_set_epi64x((long long)hi_j, (long long)lo_j), reverse);
        }
    }
}

static inline void advance(uint64_t counter[2], uint64_t blocks) {
    uint64_t lo = counter[1] + blocks;
    if (lo < counter[1]) counter[0]++;
    counter[1] = lo;
}

/* Encrypts the first `width` (4 or 8, a constant once inlined) blocks in s with the schedule
 * rk, the last round key of block j being last[j]. */
static inline NI void encrypt_blocks(const __m128i rk[15], __m128i s[BATCH],
                                     const __m128i last[BATCH], const int width) {
    __m128i k0 = rk[0];
#pragma GCC unroll 8
    for (int j = 0; j < width; j++) s[j] = _mm_xor_si128(s[j], k0);
#pragma GCC unroll 13
    for (int r = 1; r < 14; r++) {
        __m128i kr = rk[r];
#pragma GCC unroll 8
        for (int j = 0; j < width; j++) s[j] = _mm_aesenc_si128(s[j], kr);
    }
#pragma GCC unroll 8
    for (int j = 0; j < width; j++) s[j] = _mm_aesenclast_si128(s[j], last[j]);
}

/* The last 1..127 bytes: `full` whole blocks and `rest` bytes of one more, through one batch
 * of `width` blocks; the partial block's keystream goes to ctr->keystream. */
static inline NI void crypt_tail(aes_ctr *ctr, const __m128i rk[15], const uint8_t *in,
                                 uint8_t *out, size_t full, size_t rest, const int width) {
    __m128i s[BATCH], last[BATCH], k14 = rk[14];
    counter_blocks(ctr->counter, s);
    advance(ctr->counter, full + (rest > 0));
#pragma GCC unroll 8
    for (int j = 0; j < width; j++)
        last[j] = (size_t)j < full
                      ? _mm_xor_si128(k14, _mm_loadu_si128((const __m128i *)(in + 16 * j)))
                      : k14;
    encrypt_blocks(rk, s, last, width);
#pragma GCC unroll 8
    for (int j = 0; j < width; j++) {
        if ((size_t)j < full) _mm_storeu_si128((__m128i *)(out + 16 * j), s[j]);
        else if ((size_t)j == full && rest) _mm_storeu_si128((__m128i *)ctr->keystream, s[j]);
    }
    if (rest) {
        for (size_t i = 0; i < rest; i++) out[16 * full + i] = in[16 * full + i] ^ ctr->keystream[i];
        ctr->used = (uint8_t)rest;
    }
}

void NI aes_ctr_ni_crypt(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len) {
    __m128i rk[15];
    aes_ni_expand_encrypt_keys(ctr->key, rk);
    /* The rounds read their keys from rk in memory, the copy the wipe below clears, rather than
     * from spill slots of the compiler's own choosing. */
    __asm__ volatile("" : : "r"(rk) : "memory");
    __m128i s[BATCH], last[BATCH], k14 = rk[14];
    for (; len >= 16 * BATCH; len -= 16 * BATCH, in += 16 * BATCH, out += 16 * BATCH) {
        counter_blocks(ctr->counter, s);
        advance(ctr->counter, BATCH);
#pragma GCC unroll 8
        for (int j = 0; j < BATCH; j++)
            last[j] = _mm_xor_si128(k14, _mm_loadu_si128((const __m128i *)(in + 16 * j)));
        encrypt_blocks(rk, s, last, BATCH);
#pragma GCC unroll 8
        for (int j = 0; j < BATCH; j++) _mm_storeu_si128((__m128i *)(out + 16 * j), s[j]);
    }
    ctr->used = 16;
    size_t full = len / 16, rest = len % 16;
    if (full + (rest > 0) > 4) crypt_tail(ctr, rk, in, out, full, rest, BATCH);
    else if (len > 0) crypt_tail(ctr, rk, in, out, full, rest, 4);
    OPENSSL_cleanse(rk, sizeof rk);
}

#else /* not x86: the portable path is the only one */

void aes_ctr_ni_crypt(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len) {
    (void)ctr, (void)in, (void)out, (void)len;
}

#endif
