/* Choice of AES implementation and the portable block cipher (see aes_impl.h). */
#include "aes_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aes_ni.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *ecb_cipher;
static aes_impl default_impl = AES_PORTABLE;
static int have_aesni; /* CPUID is slow (a VM exit under virtualization): asked once */

static void init(void) {
    ecb_cipher = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
    have_aesni = aes_ni_supported();
    default_impl = have_aesni ? AES_AESNI : AES_PORTABLE;
    const char *force = getenv("MTPROTO_AES_IGE");
    if (force && strcmp(force, "portable") == 0) default_impl = AES_PORTABLE;
}

int aes_impl_init(void) {
    pthread_once(&init_once, init);
    return ecb_cipher ? 0 : -1;
}

aes_impl aes_impl_default(void) {
    aes_impl_init();
    return default_impl;
}

int aes_impl_available(aes_impl impl) {
    if (aes_impl_init() != 0) return 0;
    switch (impl) {
    case AES_AESNI: return have_aesni;
    case AES_PORTABLE: return 1;
    }
    return 0;
}

const char *aes_impl_name(aes_impl impl) { return impl == AES_AESNI ? "aesni" : "portable"; }

EVP_CIPHER_CTX *aes_ecb_new(const uint8_t key[32], int encrypt) {
    if (aes_impl_init() != 0) return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return NULL;
    if (EVP_CipherInit_ex(ctx, ecb_cipher, NULL, key, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
