/* AES-256-CTR as a stream, as obfuscated2 uses it in both directions: the 16-byte initial counter
 * block is a 128-bit big-endian number, incremented once per block and wrapping at 2^128
 * (OpenSSL's CTR mode). Two implementations (aes_impl.h) with identical bytes: AES-NI with eight
 * counter blocks in flight (aes_ctr_ni.c), and OpenSSL's aes-256-ecb over batches of counter
 * blocks (any CPU).
 *
 * The state is a plain struct of 72 bytes that allocates nothing (no OpenSSL context
 * lives between calls), so its owner embeds it where its memory is accounted for (the framing
 * codec, a NIF resource). It keeps the raw 32-byte key, not the 240-byte expanded schedule:
 * every connection holds two streams, mostly idle, so each call that needs new keystream
 * expands the schedule on its own stack and wipes it before returning (on AES-NI a chain of
 * 13 shuffle+aesenclast steps, ~14 ns of a 72-byte call's 30; the portable path's per-call
 * OpenSSL context expanded it already).
 * Its fields are private to aes_ctr*.c. */
#ifndef MTPROTO_AES_CTR_H
#define MTPROTO_AES_CTR_H

#include <stddef.h>
#include <stdint.h>

#include "aes_impl.h"

typedef struct aes_ctr {
    uint8_t key[32];       /* the AES-256 key; the schedule is expanded per call, never kept */
    uint64_t counter[2];   /* the next counter block as a 128-bit number: [0] high, [1] low half */
    uint8_t keystream[16]; /* the last keystream block; bytes used..15 are still to be used */
    uint8_t used;          /* 16: none left */
    uint8_t impl;          /* aes_impl */
} aes_ctr;

/* Keys a stream with a 32-byte key and a 16-byte initial counter block, on the default
 * implementation (aes_ctr_init) or a named one (tests, benchmarks). Returns 0, or -1 when impl
 * is not available on this CPU (aes_ctr_apply then fails). */
int aes_ctr_init(aes_ctr *ctr, const uint8_t key[32], const uint8_t iv[16]);
int aes_ctr_init_impl(aes_ctr *ctr, aes_impl impl, const uint8_t key[32], const uint8_t iv[16]);

/* XORs the next len bytes of keystream into out (out may equal in); any lengths and split
 * points give the same bytes as one call. Returns 0, or -1 when the portable path's OpenSSL call
 * fails (out of memory) or init failed; the stream is then unusable. */
int aes_ctr_apply(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len);

/* Wipes the key, counter and keystream. */
void aes_ctr_wipe(aes_ctr *ctr);

#endif
