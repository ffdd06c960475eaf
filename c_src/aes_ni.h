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

/* k ^ (k << 32) ^ (k << 64) ^ (k << 96): word j becomes the XOR of words 0..j. */
static inline AES_NI_TARGET __m128i aes_ni_prefix_xor(__m128i k) {
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, _mm_slli_si128(k, 8));
}

/* One round key of the AES-256 schedule: prefix_xor(two_back) ^ broadcast(f(last word of
 * one_back)), f being SubWord(RotWord(w)) ^ rcon (shuffle = AES_NI_ROT_WORD3) or SubWord(w)
 * (AES_NI_WORD3, rcon 0). SubWord is aesenclast's S-box on the word broadcast to all four
 * columns (ShiftRows then moves nothing: every row holds one byte four times), and the XOR with
 * prefix_xor(two_back) and rcon is aesenclast's own "^ round key", computed off the chain. So
 * each key waits on the previous one for a shuffle and an aesenclast only. The textbook
 * aeskeygenassist form needs a shuffle and an XOR more per key: a whole schedule, measured as a
 * dependent chain on this project's AMD EPYC host, took 35.6 ns that way and 21.5 ns this way
 * (CTR expands one per call, so this is most of a short call's extra cost). */
static inline AES_NI_TARGET __m128i aes_ni_next_key(__m128i two_back, __m128i one_back,
                                                   __m128i shuffle, int rcon) {
    __m128i rest = _mm_xor_si128(aes_ni_prefix_xor(two_back), _mm_set1_epi32(rcon));
    return _mm_aesenclast_si128(_mm_shuffle_epi8(one_back, shuffle), rest);
}

/* Shuffles for aes_ni_next_key: RotWord of word 3, or word 3, in all four columns. */
#define AES_NI_ROT_WORD3 _mm_set_epi8(12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13)
#define AES_NI_WORD3 _mm_set_epi8(15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12, 15, 14, 13, 12)

/* The AES-256 encryption key schedule: 15 round keys. */
static inline AES_NI_TARGET void aes_ni_expand_encrypt_keys(const uint8_t key[32],
                                                            __m128i rk[15]) {
    const __m128i rot_word3 = AES_NI_ROT_WORD3, word3 = AES_NI_WORD3;
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
#pragma GCC unroll 6
    for (int i = 1; i < 7; i++) {
        rk[2 * i] = aes_ni_next_key(rk[2 * i - 2], rk[2 * i - 1], rot_word3, 1 << (i - 1));
        rk[2 * i + 1] = aes_ni_next_key(rk[2 * i - 1], rk[2 * i], word3, 0);
    }
    rk[14] = aes_ni_next_key(rk[12], rk[13], rot_word3, 0x40);
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
