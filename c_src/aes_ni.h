/* AES-NI building blocks shared by aes_ige_ni.c and aes_ctr_ni.c: the CPU check, the AES-256
 * encryption key schedule and the 13 middle rounds. Header-only (static inline) so each user
 * inlines them into its own loops. Functions using them carry AES_NI_TARGET and run only after
 * aes_ni_supported() said yes (aes_impl.c asks once). */
#ifndef MTPROTO_AES_NI_H
#define MTPROTO_AES_NI_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)

#define AES_NI_AVAILABLE 1

#include <cpuid.h>
#include <immintrin.h>

/* SSSE3 for the byte shuffle that turns CTR's big-endian counter into blocks. */
#define AES_NI_TARGET __attribute__((target("aes,ssse3")))

/* 1 when CPUID reports AES-NI and SSSE3 (every AES-NI CPU has it). */
static inline int aes_ni_supported(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_AES) && (c & bit_SSSE3) && (d & bit_SSE2);
}

static inline AES_NI_TARGET __m128i aes_ni_shift_xor(__m128i k) {
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, _mm_slli_si128(k, 4));
}

/* Round key 2i from keys 2i-2 and 2i-1: RotWord+SubWord+Rcon of the last word (dword 3). */
static inline AES_NI_TARGET __m128i aes_ni_next_even(__m128i k_2i_2, __m128i assist) {
    return _mm_xor_si128(aes_ni_shift_xor(k_2i_2), _mm_shuffle_epi32(assist, 0xff));
}

/* Round key 2i+1 from keys 2i-1 and 2i: SubWord of the last word of key 2i (dword 2). */
static inline AES_NI_TARGET __m128i aes_ni_next_odd(__m128i k_2i_1, __m128i k_2i) {
    __m128i assist = _mm_aeskeygenassist_si128(k_2i, 0x00);
    return _mm_xor_si128(aes_ni_shift_xor(k_2i_1), _mm_shuffle_epi32(assist, 0xaa));
}

#define AES_NI_EXPAND_PAIR(rk, i, rcon)                                                      \
    do {                                                                                     \
        rk[2 * i] =                                                                          \
            aes_ni_next_even(rk[2 * i - 2], _mm_aeskeygenassist_si128(rk[2 * i - 1], rcon)); \
        rk[2 * i + 1] = aes_ni_next_odd(rk[2 * i - 1], rk[2 * i]);                           \
    } while (0)

/* The AES-256 encryption key schedule: 15 round keys. */
static inline AES_NI_TARGET void aes_ni_expand_encrypt_keys(const uint8_t key[32],
                                                            __m128i rk[15]) {
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    AES_NI_EXPAND_PAIR(rk, 1, 0x01);
    AES_NI_EXPAND_PAIR(rk, 2, 0x02);
    AES_NI_EXPAND_PAIR(rk, 3, 0x04);
    AES_NI_EXPAND_PAIR(rk, 4, 0x08);
    AES_NI_EXPAND_PAIR(rk, 5, 0x10);
    AES_NI_EXPAND_PAIR(rk, 6, 0x20);
    rk[14] = aes_ni_next_even(rk[12], _mm_aeskeygenassist_si128(rk[13], 0x40));
}

/* Rounds 1..13 of one block s with the schedule k (op: _mm_aesenc_si128 or _mm_aesdec_si128). */
#define AES_NI_ROUNDS_1_TO_13(op, s, k)                                                \
    do {                                                                               \
        s = op(s, k[1]);  s = op(s, k[2]);  s = op(s, k[3]);  s = op(s, k[4]);          \
        s = op(s, k[5]);  s = op(s, k[6]);  s = op(s, k[7]);  s = op(s, k[8]);          \
        s = op(s, k[9]);  s = op(s, k[10]); s = op(s, k[11]); s = op(s, k[12]);         \
        s = op(s, k[13]);                                                              \
    } while (0)

#else /* not x86: no AES-NI */

#define AES_NI_AVAILABLE 0

static inline int aes_ni_supported(void) { return 0; }

#endif

#endif
