/* The AES-NI implementation of AES-256-CTR (see aes_ctr.h). Only aes_ctr.c calls it, after
 * aes_impl_available(AES_AESNI) said yes. */
#ifndef MTPROTO_AES_CTR_NI_H
#define MTPROTO_AES_CTR_NI_H

#include <stddef.h>
#include <stdint.h>

#include "aes_ctr.h"

/* Expands ctr->key's schedule on the stack (wiped before it returns), then XORs len bytes of
 * keystream (len > 0, starting at a block boundary: ctr->counter is the next block) into out;
 * advances the counter by ceil(len / 16) blocks and, when the last block is partial, leaves its
 * keystream in ctr->keystream with ctr->used = len % 16 (else used = 16). */
void aes_ctr_ni_crypt(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len);

#endif
