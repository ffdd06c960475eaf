/* The AES implementations shared by AES-256-IGE (aes_ige.c) and AES-256-CTR (aes_ctr.c):
 *   AES_AESNI     AES-NI intrinsics (x86 CPUs with AES-NI and SSSE3; see aes_ni.h);
 *   AES_PORTABLE  OpenSSL's EVP aes-256-ecb (any CPU; OpenSSL picks its best code for it).
 * Both give identical bytes. The default is chosen once, at aes_impl_init(), from CPUID;
 * MTPROTO_AES_IGE=portable in the environment forces the portable one (for testing a whole
 * system on it; the name predates CTR, which follows it too). */
#ifndef MTPROTO_AES_IMPL_H
#define MTPROTO_AES_IMPL_H

#include <stdint.h>

#include <openssl/evp.h>

typedef enum { AES_PORTABLE = 0, AES_AESNI = 1 } aes_impl;

/* Picks the default implementation (CPUID) and fetches OpenSSL's AES-256-ECB; idempotent, thread
 * safe. Returns 0, or -1 when OpenSSL cannot provide AES-256-ECB. */
int aes_impl_init(void);

/* The implementation used when none is named. */
aes_impl aes_impl_default(void);

/* 1 when this build and CPU can run impl. */
int aes_impl_available(aes_impl impl);

/* Name of an implementation: "aesni" or "portable". */
const char *aes_impl_name(aes_impl impl);

/* The portable block cipher: a new AES-256-ECB context without padding, keyed for encryption
 * (encrypt = 1) or decryption; NULL on failure. The caller frees it (EVP_CIPHER_CTX_free). */
EVP_CIPHER_CTX *aes_ecb_new(const uint8_t key[32], int encrypt);

#endif
