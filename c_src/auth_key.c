/* Hashes of the auth-key handshake; see auth_key.h for the formulas. */
#include "auth_key.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

int auth_key_id(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]) {
    uint8_t digest[SHA_DIGEST_LENGTH];
    if (!SHA1(auth_key, AUTH_KEY_BYTES, digest)) return -1;
    memcpy(out, digest + SHA_DIGEST_LENGTH - 8, 8);
    OPENSSL_cleanse(digest, sizeof digest);
    return 0;
}

int auth_key_aux_hash(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]) {
    uint8_t digest[SHA_DIGEST_LENGTH];
    if (!SHA1(auth_key, AUTH_KEY_BYTES, digest)) return -1;
    memcpy(out, digest, 8);
    OPENSSL_cleanse(digest, sizeof digest);
    return 0;
}

int auth_key_new_nonce_hash(const uint8_t new_nonce[32], const uint8_t auth_key[AUTH_KEY_BYTES],
                            int n, uint8_t out[16]) {
    uint8_t buf[32 + 1 + 8], digest[SHA_DIGEST_LENGTH];
    int rc = -1;
    if (n < 1 || n > 3) return -1;
    memcpy(buf, new_nonce, 32);
    buf[32] = (uint8_t)n;
    if (auth_key_aux_hash(auth_key, buf + 33) != 0) goto done;
    if (!SHA1(buf, sizeof buf, digest)) goto done;
    memcpy(out, digest + SHA_DIGEST_LENGTH - 16, 16);
    rc = 0;
done:
    OPENSSL_cleanse(buf, sizeof buf);
    OPENSSL_cleanse(digest, sizeof digest);
    return rc;
}

/* SHA1(a + b) for two short strings. */
static int sha1_concat(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                       uint8_t out[SHA_DIGEST_LENGTH]) {
    uint8_t buf[64];
    if (a_len + b_len > sizeof buf) return -1;
    memcpy(buf, a, a_len);
    memcpy(buf + a_len, b, b_len);
    int ok = SHA1(buf, a_len + b_len, out) != NULL;
    OPENSSL_cleanse(buf, sizeof buf);
    return ok ? 0 : -1;
}

int auth_key_tmp_aes(const uint8_t new_nonce[32], const uint8_t server_nonce[16],
                     uint8_t key[32], uint8_t iv[32]) {
    uint8_t ns[SHA_DIGEST_LENGTH], sn[SHA_DIGEST_LENGTH], nn[SHA_DIGEST_LENGTH];
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
