/* AES-256-IGE on AES-NI. IGE is sequential like CBC encryption:
 *   encrypt  c[i] = E(p[i] ^ c[i-1]) ^ p[i-1]
 *   decrypt  p[i] = D(c[i] ^ p[i-1]) ^ c[i-1]
 * Both XORs are folded into the AES rounds so the dependency chain from one block to the next is
 * one XOR plus the 14 rounds, the same as CBC encryption:
 *   - the input block is XORed with round key 0 before the previous block is ready;
 *   - the XOR after the last round becomes part of the last round key (aesenclast/aesdeclast end
 *     with "state ^ round_key"), also computed off the chain. */
#include "aes_ige_ni.h"
#include "aes_ni.h"

#include <openssl/crypto.h>

#if AES_NI_AVAILABLE

#define NI AES_NI_TARGET

/* Keeps the compiler from reassociating XORs so that the off-chain part is computed first. */
#define OFF_CHAIN(v) __asm__("" : "+x"(v))

/* The equivalent inverse cipher's schedule: reversed, middle keys through InvMixColumns. */
static NI void expand_decrypt_keys(const uint8_t key[32], __m128i dk[15]) {
    __m128i rk[15];
    aes_ni_expand_encrypt_keys(key, rk);
    dk[0] = rk[14];
    for (int i = 1; i < 14; i++) dk[i] = _mm_aesimc_si128(rk[14 - i]);
    dk[14] = rk[0];
    OPENSSL_cleanse(rk, sizeof rk);
}

NI void aes_ige_ni_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                           size_t blocks) {
    __m128i k[15];
    aes_ni_expand_encrypt_keys(key, k);
    __m128i c_prev = _mm_loadu_si128((const __m128i *)iv);
    __m128i p_prev = _mm_loadu_si128((const __m128i *)(iv + 16));
    for (size_t i = 0; i < blocks; i++) {
        __m128i p = _mm_loadu_si128((const __m128i *)(in + 16 * i));
        __m128i s = _mm_xor_si128(p, k[0]);
        __m128i last = _mm_xor_si128(k[14], p_prev);
        OFF_CHAIN(s);
        OFF_CHAIN(last);
        s = _mm_xor_si128(s, c_prev);
        AES_NI_ROUNDS_1_TO_13(_mm_aesenc_si128, s, k);
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
        AES_NI_ROUNDS_1_TO_13(_mm_aesdec_si128, s, k);
        p_prev = _mm_aesdeclast_si128(s, last);
        _mm_storeu_si128((__m128i *)(out + 16 * i), p_prev);
        c_prev = c;
    }
    _mm_storeu_si128((__m128i *)iv, c_prev);
    _mm_storeu_si128((__m128i *)(iv + 16), p_prev);
    OPENSSL_cleanse(k, sizeof k);
}

#else /* not x86: the portable path is the only one */

void aes_ige_ni_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks) {
    (void)key, (void)iv, (void)in, (void)out, (void)blocks;
}

void aes_ige_ni_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks) {
    (void)key, (void)iv, (void)in, (void)out, (void)blocks;
}

#endif
