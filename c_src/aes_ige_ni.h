/* The AES-NI implementation of AES-256-IGE (see aes_ige.h for the IV layout). Only aes_ige.c
 * calls it, after aes_ni_supported() (aes_ni.h) said yes. */
#ifndef MTPROTO_AES_IGE_NI_H
#define MTPROTO_AES_IGE_NI_H

#include <stddef.h>
#include <stdint.h>

/* blocks 16-byte blocks; iv updated in place; out may equal in. */
void aes_ige_ni_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks);
void aes_ige_ni_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                        size_t blocks);

#endif
