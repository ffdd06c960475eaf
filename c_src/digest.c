/* SHA-1 / SHA-256 over EVP with fetched algorithms; see digest.h. */
#include "digest.h"

#include <pthread.h>

#include <openssl/evp.h>

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md, *sha256_md;

static void fetch(void) {
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int digest3(digest_kind kind, const void *a, size_t a_len, const void *b, size_t b_len,
            const void *c, size_t c_len, uint8_t *out) {
    pthread_once(&fetch_once, fetch);
    const EVP_MD *md = kind == DIGEST_SHA1 ? sha1_md : sha256_md;
    unsigned int out_len = 0;
    int ok = 0;
    if (!md) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return -1;
    if (EVP_DigestInit_ex2(ctx, md, NULL) == 1 && (a_len == 0 || EVP_DigestUpdate(ctx, a, a_len) == 1) &&
        (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
        (c_len == 0 || EVP_DigestUpdate(ctx, c, c_len) == 1) &&
        EVP_DigestFinal_ex(ctx, out, &out_len) == 1)
        ok = 1;
    EVP_MD_CTX_free(ctx); /* wipes the hash state */
    return ok ? 0 : -1;
}
