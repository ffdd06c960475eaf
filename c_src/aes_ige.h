/* AES-256-IGE as MTProto uses it, with two interchangeable implementations (aes_impl.h):
 *   AES_AESNI     AES-NI intrinsics with the IGE XORs folded into the first and last rounds,
 *                 so a block costs exactly one AES chain (x86-64 CPUs with AES-NI);
 *   AES_PORTABLE  one OpenSSL EVP aes-256-ecb call per block (any CPU).
 * Both give identical bytes; aes_ige_encrypt/aes_ige_decrypt use aes_impl_default().
 *
 * IV layout (the OpenSSL/Telegram convention): iv[0..16) is the previous ciphertext block and
 * iv[16..32) the previous plaintext block, in both directions. The functions update iv in place,
 * so a long buffer may be processed in several calls. out may equal in. */
#ifndef MTPROTO_AES_IGE_H
#define MTPROTO_AES_IGE_H

#include <stddef.h>
#include <stdint.h>

#include "aes_impl.h"

/* len must be a multiple of 16. Return 0, or -1 (bad length, unavailable impl, OpenSSL error). */
int aes_ige_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                    size_t len);
int aes_ige_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                    size_t len);

/* The same with an explicit implementation (tests and benchmarks compare them). */
int aes_ige_crypt(aes_impl impl, int encrypt, const uint8_t key[32], uint8_t iv[32],
                  const uint8_t *in, uint8_t *out, size_t len);

#endif
