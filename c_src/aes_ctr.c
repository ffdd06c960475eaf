/* AES-256-CTR stream over OpenSSL EVP (AES-NI where the CPU has it). */
#include "aes_ctr.h"

#include <limits.h>
#include <openssl/evp.h>

struct aes_ctr {
    EVP_CIPHER_CTX *evp;
};

aes_ctr *aes_ctr_new(const uint8_t key[32], const uint8_t iv[16]) {
    aes_ctr *ctr = OPENSSL_zalloc(sizeof *ctr);
    if (!ctr) return NULL;
    ctr->evp = EVP_CIPHER_CTX_new();
    if (!ctr->evp || EVP_EncryptInit_ex(ctr->evp, EVP_aes_256_ctr(), NULL, key, iv) != 1) {
        aes_ctr_free(ctr);
        return NULL;
    }
    return ctr;
}

int aes_ctr_apply(aes_ctr *ctr, const uint8_t *in, uint8_t *out, size_t len) {
    while (len > 0) {
        int chunk = len > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)len;
        int outl = 0;
        if (EVP_EncryptUpdate(ctr->evp, out, &outl, in, chunk) != 1 || outl != chunk) return -1;
        in += chunk;
        out += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void aes_ctr_free(aes_ctr *ctr) {
    if (!ctr) return;
    EVP_CIPHER_CTX_free(ctr->evp); /* clears the key schedule */
    OPENSSL_free(ctr);
}
