/* AES-256-CTR as a stream (OpenSSL EVP): used by the obfuscated2 transport in both directions. */
#ifndef MTPROTO_AES_CTR_H
#define MTPROTO_AES_CTR_H

#include <stddef.h>
#include <stdint.h>

typedef struct aes_ctr aes_ctr;

/* A new stream keyed with a 32-byte key and a 16-byte initial counter block; NULL on failure. */
aes_ctr *aes_ctr_new(const uint8_t key[32], const uint8_t iv[16]);

/* XORs len bytes of keystream into out (out may equal in). Returns 0, or -1 on an OpenSSL error. */
int aes_ctr_apply(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len);

/* Wipes and frees the stream; NULL is allowed. */
void aes_ctr_free(aes_ctr *ctr);

#endif
