/* Hashes of the auth-key handshake; see auth_key.h for the formulas. */
#include "auth_key.h"

#include <string.h>

#include <openssl/crypto.h>

#include "digest.h"

int auth_key_id(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]) {
    uint8_t digest[DIGEST_SHA1_BYTES];
    if (sha1_of(auth_key, AUTH_KEY_BYTES, digest) != 0) return -1;
    memcpy(out, digest + DIGEST_SHA1_BYTES - 8, 8);
    OPENSSL_cleanse(digest, sizeof digest);
    return 0;
}

int auth_key_aux_hash(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]) {
    uint8_t digest[DIGEST_SHA1_BYTES];
    if (sha1_of(auth_key, AUTH_KEY_BYTES, digest) != 0) return -1;
    memcpy(out, digest, 8);
    OPENSSL_cleanse(digest, sizeof digest);
    return 0;
}

int auth_key_new_nonce_hash(const uint8_t new_nonce[32], const uint8_t auth_key[AUTH_KEY_BYTES],
                            int n, uint8_t out[16]) {
    uint8_t buf[32 + 1 + 8], digest[DIGEST_SHA1_BYTES];
    int rc = -1;
    if (n < 1 || n > 3) return -1;
    memcpy(buf, new_nonce, 32);
    buf[32] = (uint8_t)n;
    if (auth_key_aux_hash(auth_key, buf + 33) != 0) goto done;
    if (sha1_of(buf, sizeof buf, digest) != 0) goto done;
    memcpy(out, digest + DIGEST_SHA1_BYTES - 16, 16);
    rc = 0;
done:
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(digest, sizeof digest);
    return rc;
}

static int sha1_concat(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                       uint8_t out[DIGEST_SHA1_BYTES]) {
    return digest3(DIGEST_SHA1, a, a_len, b, b_len, NULL, 0, out);
}

int auth_key_tmp_aes(const uint8_t new_nonce[32], const uint8_t server_nonce[16],
                     uint8_t key[32], uint8_t iv[32]) {
    uint8_t ns[DIGEST_SHA1_BYTES], sn[DIGEST_SHA1_BYTES], nn[DIGEST_SHA1_BYTES];
    int rc = -1;
    if (sha1_concat(new_nonce, 32, server_nonce, 16, ns) != 0) goto done;
    if (sha1_concat(server_nonce, 16, new_nonce, 32, sn) != 0) goto done;
    if (sha1_concat(new_nonce, 32, new_nonce, 32, nn) != 0) goto done;
    memcpy(key, ns, 20);
    memcpy(key + 20, sn, 12);
    memcpy(iv, sn + 12, 8);
    memcpy(iv + 8, nn, 20);
    memcpy(iv + 28, new_nonce, 4);
    rc = 0;
done:
    OPENSSL_cleanse(ns, sizeof ns);
    OPENSSL_cleanse(sn, sizeof sn);
    OPENSSL_cleanse(nn, sizeof nn);
    return rc;
}
