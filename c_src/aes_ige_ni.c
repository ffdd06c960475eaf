/* AES-256-IGE on AES-NI. IGE is sequential like CBC encryption:
 *   encrypt  c[i] = E(p[i] ^ c[i-1]) ^ p[i-1]
 *   decrypt  p[i] = D(c[i] ^ p[i-1]) ^ c[i-1]
 * Both XORs are folded into the AES rounds so the dependency chain from one block to the next is
 * one XOR plus the 14 rounds, the same as CBC encryption:
 *   - the input block is XORed with round key 0 before the previous block is ready;
 *   - the XOR after the last round becomes part of the last round key (aesenclast/aesdeclast end
 *     with "state ^ round_key"), also computed off the chain. */
#include "aes_ige_ni.h"

#include <openssl/crypto.h>

#if defined(__x86_64__) || defined(__i386__)

#include <cpuid.h>
#include <immintrin.h>

#define NI __attribute__((target("aes,sse2")))

/* Keeps the compiler from reassociating XORs so that the off-chain part is computed first. */
#define OFF_CHAIN(v) __asm__("" : "+x"(v))

int aes_ige_ni_supported(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_AES) && (d & bit_SSE2);
}

static NI __m128i shift_xor(__m128i k) {
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, _mm_slli_si128(k, 4));
}

/* Round key 2i from keys 2i-2 and 2i-1: RotWord+SubWord+Rcon of the last word (dword 3). */
static NI __m128i next_even(__m128i k_2i_2, __m128i assist) {
    return _mm_xor_si128(shift_xor(k_2i_2), _mm_shuffle_epi32(assist, 0xff));
}

/* Round key 2i+1 from keys 2i-1 and 2i: SubWord of the last word of key 2i (dword 2). */
static NI __m128i next_odd(__m128i k_2i_1, __m128i k_2i) {
    __m128i assist = _mm_aeskeygenassist_si128(k_2i, 0x00);
    return _mm_xor_si128(shift_xor(k_2i_1), _mm_shuffle_epi32(assist, 0xaa));
}

#define EXPAND_PAIR(rk, i, rcon)                                                      \
    do {                                                                              \
        rk[2 * i] = next_even(rk[2 * i - 2], _mm_aeskeygenassist_si128(rk[2 * i - 1], rcon)); \
        rk[2 * i + 1] = next_odd(rk[2 * i - 1], rk[2 * i]);                           \
    } while (0)

static NI void expand_encrypt_keys(const uint8_t key[32], __m128i rk[15]) {
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    EXPAND_PAIR(rk, 1, 0x01);
    EXPAND_PAIR(rk, 2, 0x02);
    EXPAND_PAIR(rk, 3, 0x04);
    EXPAND_PAIR(rk, 4, 0x08);
    EXPAND_PAIR(rk, 5, 0x10);
    EXPAND_PAIR(rk, 6, 0x20);
    rk[14] = next_even(rk[12], _mm_aeskeygenassist_si128(rk[13], 0x40));
}

/* The equivalent inverse cipher's schedule: reversed, middle keys through InvMixColumns. */
static NI void expand_decrypt_keys(const uint8_t key[32], __m128i dk[15]) {
    __m128i rk[15];
    expand_encrypt_keys(key, rk);
    dk[0] = rk[14];
    for (int i = 1; i < 14; i++) dk[i] = _mm_aesimc_si128(rk[14 - i]);
    dk[14] = rk[0];
    OPENSSL_cleanse(rk, sizeof rk);
}

#define ROUNDS_1_TO_13(op, s, k)                                                       \
    do {                                                                               \
        s = op(s, k[1]);  s = op(s, k[2]);  s = op(s, k[3]);  s = op(s, k[4]);          \
        s = op(s, k[5]);  s = op(s, k[6]);  s = op(s, k[7]);  s = op(s, k[8]);          \
        s = op(s, k[9]);  s = op(s, k[10]); s = op(s, k[11]); s = op(s, k[12]);         \
        s = op(s, k[13]);                                                              \
    } while (0)

NI void aes_ige_ni_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                           size_t blocks) {
    __m128i k[15];
    expand_encrypt_keys(key, k);
    __m128i c_prev = _mm_loadu_si128((const __m128i *)iv);
    __m128i p_prev = _mm_loadu_si128((const __m128i *)(iv + 16));
    for (size_t i = 0; i < blocks; i++) {
        __m128i p = _mm_loadu_si128((const __m128i *)(in + 16 * i));
        __m128i s = _mm_xor_si128(p, k[0]);
        __m128i last = _mm_xor_si128(k[14], p_prev);
        OFF_CHAIN(s);
        OFF_CHAIN(last);
        s = _mm_xor_si128(s, c_prev);
        ROUNDS_1_TO_13(_mm_aesenc_si128, s, k);
        c_prev = _mm_aesenclast_si128(s, last);
        _mm_storeu_si128((__m128i *)(out + 16 * i), c_prev);
        p_prev = p;
    }
    _mm_storeu_si128((__m128i *)iv, c_prev);
    _mm_storeu_si128((__m128i *)(iv + 16), p_prev);
    OPENSSL_cleanse(k, sizeof k);
}

NI void aes_ige_ni_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                           size_t blocks) {
    __m128i k[15];
    expand_decrypt_keys(key, k);
    __m128i c_prev = _mm_loadu_si128((const __m128i *)iv);
    __m128i p_prev = _mm_loadu_si128((const __m128i *)(iv + 16));
    for (size_t i = 0; i < blocks; i++) {
        __m128i c = _mm_loadu_si128((const __m128i *)(in + 16 * i));
        __m128i s = _mm_xor_si128(c, k[0]);
        __m128i last = _mm_xor_si128(k[14], c_prev);
        OFF_CHAIN(s);
        OFF_CHAIN(last);
        s = _mm_xor_si128(s, p_prev);
        ROUNDS_1_TO_13(_mm_aesdec_si128, s, k);
        p_prev = _mm_aesdeclast_si128(s, last);
        _mm_storeu_si128((__m128i *)(out + 16 * i), p_prev);
        c_prev = c;
    }
    _mm_storeu_si128((__m128i *)iv, c_prev);
    _mm_storeu_si128((__m128i *)(iv + 16), p_prev);
    OPENSSL_cleanse(k, sizeof k);
}

#else /* not x86: the portable path is the only one */

int aes_ige_ni_supported(void) { return 0; }

void aes_ige_ni_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks) {
    (void)key, (void)iv, (void)in, (void)out, (void)blocks;
}

void aes_ige_ni_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks) {
    (void)key, (void)iv, (void)in, (void)out, (void)blocks;
}

#endif
