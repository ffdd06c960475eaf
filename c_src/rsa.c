/* MTProto's RSA: RSA_PAD and legacy padding over raw 2048-bit RSA, PEM keys, fingerprints,
 * key generation; see rsa.h. */
#include "rsa.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "aes_ige.h"
#include "digest.h"

/* ---- keys ---- */

static EVP_PKEY *decode_pem(const uint8_t *pem, size_t len, int selection) {
    EVP_PKEY *pkey = NULL;
    if (len == 0 || len > RSA_MAX_PEM_BYTES) return NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
    if (dctx) {
        const unsigned char *data = pem;
        size_t left = len;
        if (OSSL_DECODER_CTX_get_num_decoders(dctx) == 0 ||
            !OSSL_DECODER_from_data(dctx, &data, &left)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        OSSL_DECODER_CTX_free(dctx);
    }
    ERR_clear_error();
    if (pkey && !EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static EVP_PKEY *parse_public(const uint8_t *pem, size_t len) {
    EVP_PKEY *pkey = decode_pem(pem, len, EVP_PKEY_PUBLIC_KEY);
    return pkey ? pkey : decode_pem(pem, len, EVP_PKEY_KEYPAIR);
}

static EVP_PKEY *parse_private(const uint8_t *pem, size_t len) {
    EVP_PKEY *pkey = decode_pem(pem, len, EVP_PKEY_KEYPAIR);
    BIGNUM *d = NULL;
    if (pkey && !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    BN_clear_free(d);
    ERR_clear_error();
    return pkey;
}

/* Parsed keys by the SHA-256 of their PEM text and kind. OpenSSL's PEM decoders cost ~200 µs a
 * key, a third of a server-side RSA decryption, and a server or client uses the same few keys
 * over and over. Entries are shared (reference-counted, read-only); the least recently used of
 * KEY_CACHE_SLOTS goes. Only keys that parsed are kept. */
#define KEY_CACHE_SLOTS 8
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    uint8_t digest[DIGEST_SHA256_BYTES];
    int private_key;
    EVP_PKEY *key;
    uint64_t used;
} key_cache[KEY_CACHE_SLOTS];
static uint64_t key_cache_clock;

static EVP_PKEY *key_cache_get(const uint8_t digest[DIGEST_SHA256_BYTES], int private_key) {
    EVP_PKEY *key = NULL;
    pthread_mutex_lock(&key_cache_lock);
    for (int i = 0; i < KEY_CACHE_SLOTS && !key; i++) {
        if (key_cache[i].key && key_cache[i].private_key == private_key &&
            CRYPTO_memcmp(key_cache[i].digest, digest, DIGEST_SHA256_BYTES) == 0 &&
            EVP_PKEY_up_ref(key_cache[i].key) == 1) {
            key = key_cache[i].key;
            key_cache[i].used = ++key_cache_clock;
        }
    }
    pthread_mutex_unlock(&key_cache_lock);
    return key;
}

static void key_cache_put(const uint8_t digest[DIGEST_SHA256_BYTES], int private_key,
                          EVP_PKEY *key) {
    EVP_PKEY *evicted = NULL;
    if (EVP_PKEY_up_ref(key) != 1) return;
    pthread_mutex_lock(&key_cache_lock);
    int slot = 0;
    for (int i = 1; i < KEY_CACHE_SLOTS; i++)
        if (key_cache[i].used < key_cache[slot].used) slot = i;
    evicted = key_cache[slot].key;
    memcpy(key_cache[slot].digest, digest, DIGEST_SHA256_BYTES);
    key_cache[slot].private_key = private_key;
    key_cache[slot].key = key;
    key_cache[slot].used = ++key_cache_clock;
    pthread_mutex_unlock(&key_cache_lock);
    EVP_PKEY_free(evicted);
}

static EVP_PKEY *cached_key(const uint8_t *pem, size_t len, int private_key) {
    uint8_t digest[DIGEST_SHA256_BYTES];
    if (len == 0 || len > RSA_MAX_PEM_BYTES) return NULL;
    if (sha256_of(pem, len, digest) != 0)
        return private_key ? parse_private(pem, len) : parse_public(pem, len);
    EVP_PKEY *key = key_cache_get(digest, private_key);
    if (!key) {
        key = private_key ? parse_private(pem, len) : parse_public(pem, len);
        if (key) key_cache_put(digest, private_key, key);
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return key;
}

EVP_PKEY *rsa_public_from_pem(const uint8_t *pem, size_t len) { return cached_key(pem, len, 0); }

EVP_PKEY *rsa_private_from_pem(const uint8_t *pem, size_t len) { return cached_key(pem, len, 1); }

/* The modulus as exactly 256 big-endian bytes; -1 unless the key is 2048-bit RSA. */
static int modulus_2048(const EVP_PKEY *key, uint8_t n[RSA_MODULUS_BYTES]) {
    BIGNUM *bn = NULL;
    int ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn) &&
             BN_num_bits(bn) == 8 * RSA_MODULUS_BYTES &&
             BN_bn2binpad(bn, n, RSA_MODULUS_BYTES) == RSA_MODULUS_BYTES;
    BN_free(bn);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* TL serialization of a bytes value: length prefix, the bytes, zero padding to 4. */
static size_t tl_bytes(uint8_t *out, const uint8_t *b, size_t len) {
    size_t o = 0;
    if (len < 254) {
        out[o++] = (uint8_t)len;
    } else {
        out[o++] = 254;
        out[o++] = (uint8_t)len;
        out[o++] = (uint8_t)(len >> 8);
        out[o++] = (uint8_t)(len >> 16);
    }
    memcpy(out + o, b, len);
    o += len;
    while (o % 4) out[o++] = 0;
    return o;
}

int rsa_fingerprint(const EVP_PKEY *key, int64_t *out) {
    BIGNUM *n = NULL, *e = NULL;
    uint8_t *nb = NULL, *eb = NULL, *tl = NULL, digest[DIGEST_SHA1_BYTES];
    int rc = -1;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        goto done;
    size_t n_len = (size_t)BN_num_bytes(n), e_len = (size_t)BN_num_bytes(e);
    if (n_len == 0 || e_len == 0 || n_len > (1u << 20) || e_len > (1u << 20)) goto done;
    nb = OPENSSL_malloc(n_len);
    eb = OPENSSL_malloc(e_len);
    tl = OPENSSL_malloc(n_len + e_len + 16);
    if (!nb || !eb || !tl) goto done;
    BN_bn2bin(n, nb);
    BN_bn2bin(e, eb);
    size_t tl_len = tl_bytes(tl, nb, n_len);
    tl_len += tl_bytes(tl + tl_len, eb, e_len);
    if (sha1_of(tl, tl_len, digest) != 0) goto done;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | digest[DIGEST_SHA1_BYTES - 8 + i];
    memcpy(out, &v, sizeof v);
    rc = 0;
done:
    BN_free(n);
    BN_free(e);
    OPENSSL_free(nb);
    OPENSSL_free(eb);
    OPENSSL_free(tl);
    ERR_clear_error();
    return rc;
}

/* ---- raw RSA ---- */

static mt_rsa_status raw_rsa(EVP_PKEY *key, int private_op, const uint8_t in[RSA_MODULUS_BYTES],
                             uint8_t out[RSA_MODULUS_BYTES]) {
    mt_rsa_status st = MT_RSA_ERR_INTERNAL;
    size_t out_len = RSA_MODULUS_BYTES;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!ctx) goto done;
    if (private_op) {
        if (EVP_PKEY_decrypt_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
            EVP_PKEY_decrypt(ctx, out, &out_len, in, RSA_MODULUS_BYTES) != 1)
            goto done;
    } else {
        if (EVP_PKEY_encrypt_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
            EVP_PKEY_encrypt(ctx, out, &out_len, in, RSA_MODULUS_BYTES) != 1)
            goto done;
    }
    if (out_len == RSA_MODULUS_BYTES) st = MT_RSA_OK;
done:
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return st;
}

/* The private operation on a ciphertext of up to 256 bytes, which must be below n. */
static mt_rsa_status private_op(EVP_PKEY *key, const uint8_t *enc, size_t len,
                                uint8_t m[RSA_MODULUS_BYTES]) {
    uint8_t n[RSA_MODULUS_BYTES], c[RSA_MODULUS_BYTES];
    if (modulus_2048(key, n) != 0) return MT_RSA_ERR_KEY;
    if (len == 0 || len > RSA_MODULUS_BYTES) return MT_RSA_ERR_LENGTH;
    memset(c, 0, RSA_MODULUS_BYTES - len);
    memcpy(c + RSA_MODULUS_BYTES - len, enc, len);
    if (memcmp(c, n, RSA_MODULUS_BYTES) >= 0) return MT_RSA_ERR_RANGE;
    return raw_rsa(key, 1, c, m);
}

/* ---- RSA_PAD ---- */

static int sha256_two(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                      uint8_t out[DIGEST_SHA256_BYTES]) {
    return digest3(DIGEST_SHA256, a, a_len, b, b_len, NULL, 0, out);
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t len) {
    for (size_t i = 0; i < len; i++) dst[i] = src[len - 1 - i];
}

mt_rsa_status rsa_pad_encrypt(EVP_PKEY *key, const uint8_t *data, size_t len,
                              const uint8_t *padding, const uint8_t temp_key[32],
                              uint8_t out[RSA_MODULUS_BYTES]) {
    uint8_t n[RSA_MODULUS_BYTES], with_padding[RSA_PAD_PADDED], with_hash[RSA_PAD_PADDED + 32];
    uint8_t block[RSA_MODULUS_BYTES], iv[32] = {0}, h[DIGEST_SHA256_BYTES];
    mt_rsa_status st = MT_RSA_ERR_INTERNAL;
    if (modulus_2048(key, n) != 0) return MT_RSA_ERR_KEY;
    if (len > RSA_PAD_MAX_DATA) return MT_RSA_ERR_LENGTH;

    memcpy(with_padding, data, len);
    memcpy(with_padding + len, padding, RSA_PAD_PADDED - len);
    reverse_copy(with_hash, with_padding, RSA_PAD_PADDED);
    if (sha256_two(temp_key, 32, with_padding, RSA_PAD_PADDED, with_hash + RSA_PAD_PADDED) != 0)
        goto done;
    uint8_t *aes_encrypted = block + 32;
    if (aes_ige_encrypt(temp_key, iv, with_hash, aes_encrypted, sizeof with_hash) != 0) goto done;
    if (sha256_of(aes_encrypted, sizeof with_hash, h) != 0) goto done;
    for (int i = 0; i < 32; i++) block[i] = temp_key[i] ^ h[i];
    if (memcmp(block, n, RSA_MODULUS_BYTES) >= 0) {
        st = MT_RSA_RETRY;
        goto done;
    }
    st = raw_rsa(key, 0, block, out);
done:
    OPENSSL_cleanse(with_padding, sizeof with_padding);
    OPENSSL_cleanse(with_hash, sizeof with_hash);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(h, sizeof h);
    return st;
}

/* RSA_PAD's inside of a decrypted number m: temp_key_xor, then AES-IGE of the reversed
 * data_with_padding and its SHA256. */
static mt_rsa_status pad_unwrap(const uint8_t m[RSA_MODULUS_BYTES], uint8_t out[RSA_PAD_PADDED]) {
    uint8_t temp_key[32], with_hash[RSA_PAD_PADDED + 32];
    uint8_t with_padding[RSA_PAD_PADDED], iv[32] = {0}, h[DIGEST_SHA256_BYTES];
    mt_rsa_status st = MT_RSA_ERR_INTERNAL;
    if (sha256_of(m + 32, sizeof with_hash, h) != 0) goto done;
    for (int i = 0; i < 32; i++) temp_key[i] = m[i] ^ h[i];
    if (aes_ige_decrypt(temp_key, iv, m + 32, with_hash, sizeof with_hash) != 0) goto done;
    reverse_copy(with_padding, with_hash, RSA_PAD_PADDED);
    if (sha256_two(temp_key, 32, with_padding, RSA_PAD_PADDED, h) != 0) goto done;
    if (CRYPTO_memcmp(h, with_hash + RSA_PAD_PADDED, 32) != 0) {
        st = MT_RSA_ERR_HASH;
        goto done;
    }
    memcpy(out, with_padding, RSA_PAD_PADDED);
    st = MT_RSA_OK;
done:
    OPENSSL_cleanse(temp_key, sizeof temp_key);
    OPENSSL_cleanse(with_hash, sizeof with_hash);
    OPENSSL_cleanse(with_padding, sizeof with_padding);
    OPENSSL_cleanse(h, sizeof h);
    return st;
}


/* ---- legacy padding ---- */

mt_rsa_status rsa_legacy_encrypt(EVP_PKEY *key, const uint8_t *data, size_t len,
                                 const uint8_t *random, uint8_t out[RSA_MODULUS_BYTES]) {
    uint8_t n[RSA_MODULUS_BYTES], block[RSA_MODULUS_BYTES];
    mt_rsa_status st = MT_RSA_ERR_INTERNAL;
    if (modulus_2048(key, n) != 0) return MT_RSA_ERR_KEY;
    if (len > RSA_LEGACY_MAX_DATA) return MT_RSA_ERR_LENGTH;
    block[0] = 0; /* 255 bytes below a 2048-bit modulus */
    if (sha1_of(data, len, block + 1) != 0) goto done;
    memcpy(block + 1 + 20, data, len);
    memcpy(block + 1 + 20 + len, random, RSA_LEGACY_MAX_DATA - len);
    st = raw_rsa(key, 0, block, out);
done:
    OPENSSL_cleanse(block, sizeof block);
    return st;
}

/* The legacy layout of a decrypted number: a zero byte, then SHA1(data) + data + random. */
static mt_rsa_status legacy_unwrap(const uint8_t m[RSA_MODULUS_BYTES],
                                   uint8_t out[RSA_LEGACY_BLOCK]) {
    if (m[0] != 0) return MT_RSA_ERR_PADDING;
    memcpy(out, m + 1, RSA_LEGACY_BLOCK);
    return MT_RSA_OK;
}


/* ---- either padding ---- */

static mt_rsa_status unwrap(mt_rsa_padding padding, const uint8_t m[RSA_MODULUS_BYTES],
                            uint8_t *out) {
    return padding == MT_RSA_PADDING_PAD ? pad_unwrap(m, out) : legacy_unwrap(m, out);
}

/* The private operation, then the first padding's layout, and the second's (if any) when the
 * first found a wrong hash; the one that fitted goes to *fitted. */
static mt_rsa_status decrypt_as(EVP_PKEY *key, const uint8_t *enc, size_t len,
                                mt_rsa_padding first, mt_rsa_padding second,
                                mt_rsa_padding *fitted, uint8_t *out) {
    uint8_t m[RSA_MODULUS_BYTES];
    mt_rsa_padding used = first;
    mt_rsa_status st = private_op(key, enc, len, m);
    if (st == MT_RSA_OK) st = unwrap(first, m, out);
    if (st == MT_RSA_ERR_HASH && second) st = unwrap(used = second, m, out);
    if (st == MT_RSA_OK && fitted) *fitted = used;
    OPENSSL_cleanse(m, sizeof m);
    return st;
}

mt_rsa_status rsa_pad_decrypt(EVP_PKEY *key, const uint8_t *enc, size_t len,
                              uint8_t out[RSA_PAD_PADDED]) {
    return decrypt_as(key, enc, len, MT_RSA_PADDING_PAD, 0, NULL, out);
}

mt_rsa_status rsa_legacy_decrypt(EVP_PKEY *key, const uint8_t *enc, size_t len,
                                 uint8_t out[RSA_LEGACY_BLOCK]) {
    return decrypt_as(key, enc, len, MT_RSA_PADDING_LEGACY, 0, NULL, out);
}

mt_rsa_status rsa_decrypt_any(EVP_PKEY *key, const uint8_t *enc, size_t len,
                              mt_rsa_padding *padding, uint8_t out[RSA_LEGACY_BLOCK]) {
    return decrypt_as(key, enc, len, MT_RSA_PADDING_PAD, MT_RSA_PADDING_LEGACY, padding, out);
}

/* ---- key generation ---- */

static int to_pem(EVP_PKEY *pkey, int selection, char **out, size_t *out_len) {
    unsigned char *data = NULL;
    size_t len = 0;
    OSSL_ENCODER_CTX *ectx =
        OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", "type-specific", NULL);
    int ok = ectx && OSSL_ENCODER_CTX_get_num_encoders(ectx) > 0 &&
             OSSL_ENCODER_to_data(ectx, &data, &len) == 1;
    OSSL_ENCODER_CTX_free(ectx);
    if (!ok) {
        OPENSSL_free(data);
        return -1;
    }
    *out = (char *)data;
    *out_len = len;
    return 0;
}

int rsa_generate(unsigned bits, char **private_pem, size_t *private_len, char **public_pem,
                 size_t *public_len) {
    int rc = -1;
    *private_pem = *public_pem = NULL;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!pkey) goto done;
    if (to_pem(pkey, EVP_PKEY_KEYPAIR, private_pem, private_len) != 0) goto done;
    if (to_pem(pkey, EVP_PKEY_PUBLIC_KEY, public_pem, public_len) != 0) goto done;
    rc = 0;
done:
    if (rc != 0) {
        if (*private_pem) OPENSSL_clear_free(*private_pem, *private_len);
        OPENSSL_free(*public_pem);
        *private_pem = *public_pem = NULL;
    }
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}
