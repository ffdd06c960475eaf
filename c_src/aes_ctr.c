/* AES-256-CTR stream (see aes_ctr.h): partial-block bookkeeping and dispatch between the AES-NI
 * path (aes_ctr_ni.c) and the portable one below. */
#include "aes_ctr.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aes_ctr_ni.h"

/* Counter blocks encrypted per OpenSSL call on the portable path (a 1 KiB stack buffer). */
#define PORTABLE_BATCH 64

int aes_ctr_init_impl(aes_ctr *ctr, aes_impl impl, const uint8_t key[32], const uint8_t iv[16]) {
    memset(ctr, 0, sizeof *ctr);
    ctr->used = 16;
    ctr->impl = (uint8_t)impl;
    for (int i = 0; i < 8; i++) {
        ctr->counter[0] = ctr->counter[0] << 8 | iv[i];
        ctr->counter[1] = ctr->counter[1] << 8 | iv[8 + i];
    }
    if (!aes_impl_available(impl)) {
        ctr->impl = UINT8_MAX; /* aes_ctr_apply refuses it */
        return -1;
    }
    memcpy(ctr->key, key, 32);
    return 0;
}

int aes_ctr_init(aes_ctr *ctr, const uint8_t key[32], const uint8_t iv[16]) {
    return aes_ctr_init_impl(ctr, aes_impl_default(), key, iv);
}

static void put_be64(uint8_t *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* out = in ^ ks over n bytes, eight at a time where it can. */
static void xor_bytes(uint8_t *out, const uint8_t *in, const uint8_t *ks, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, in + i, 8);
        memcpy(&b, ks + i, 8);
        a ^= b;
        memcpy(out + i, &a, 8);
    }
    for (; i < n; i++) out[i] = in[i] ^ ks[i];
}

/* The portable path, with the same contract as aes_ctr_ni_crypt: counter blocks are written
 * into a buffer, encrypted by one OpenSSL ECB call per PORTABLE_BATCH blocks and XORed in. The
 * ECB context (with its key schedule) lives only for this call. */
static int portable_crypt(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len) {
    uint8_t ks[16 * PORTABLE_BATCH];
    uint64_t counter[2] = {ctr->counter[0], ctr->counter[1]};
    int ok = 0, outl = 0;
    EVP_CIPHER_CTX *ecb = aes_ecb_new(ctr->key, 1);
    if (!ecb) return -1;
    while (len > 0) {
        size_t blocks = (len + 15) / 16;
        if (blocks > PORTABLE_BATCH) blocks = PORTABLE_BATCH;
        for (size_t j = 0; j < blocks; j++) {
            put_be64(ks + 16 * j, counter[0]);
            put_be64(ks + 16 * j + 8, counter[1]);
            if (++counter[1] == 0) counter[0]++; /* wraps at 2^128 */
        }
        if (EVP_EncryptUpdate(ecb, ks, &outl, ks, (int)(16 * blocks)) != 1 ||
            outl != (int)(16 * blocks))
            goto done;
        size_t n = len < 16 * blocks ? len : 16 * blocks;
        xor_bytes(out, in, ks, n);
        in += n, out += n, len -= n;
        if (n % 16) { /* the last, partial block: keep the rest of its keystream */
            memcpy(ctr->keystream, ks + 16 * (blocks - 1), 16);
            ctr->used = (uint8_t)(n % 16);
        }
    }
    ctr->counter[0] = counter[0];
    ctr->counter[1] = counter[1];
    ok = 1;
done:
    OPENSSL_cleanse(ks, sizeof ks);
    EVP_CIPHER_CTX_free(ecb);
    return ok ? 0 : -1;
}

int aes_ctr_apply(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len) {
    /* the rest of a keystream block a previous call began */
    while (len > 0 && ctr->used < 16) {
        *out++ = *in++ ^ ctr->keystream[ctr->used++];
        len--;
    }
    if (len == 0) return 0;
    switch (ctr->impl) {
    case AES_AESNI: aes_ctr_ni_crypt(ctr, in, out, len); return 0;
    case AES_PORTABLE: return portable_crypt(ctr, in, out, len);
    default: return -1;
    }
}

void aes_ctr_wipe(aes_ctr *ctr) { OPENSSL_cleanse(ctr, sizeof *ctr); }
