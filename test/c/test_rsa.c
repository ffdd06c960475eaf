/* RSA: generated keys in both PEM forms, fingerprints that do not depend on the PEM form,
 * RSA_PAD and legacy round trips, the retry rule, and every refusal of the decryptions. */
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/sha.h>

#include "ctest.h"
#include "rsa.h"
#include "vectors.h"

static char *priv, *pub;
static size_t priv_len, pub_len;

/* The key's public half as "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo). */
static char *spki_pem(EVP_PKEY *key, size_t *len) {
    unsigned char *data = NULL;
    OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        "SubjectPublicKeyInfo", NULL);
    if (!e || OSSL_ENCODER_to_data(e, &data, len) != 1) data = NULL;
    OSSL_ENCODER_CTX_free(e);
    return (char *)data;
}

static void keys(void) {
    CHECK(rsa_generate(2048, &priv, &priv_len, &pub, &pub_len) == 0);
    CHECK(strstr(pub, "-----BEGIN RSA PUBLIC KEY-----") == pub);
    CHECK(strstr(priv, "-----BEGIN RSA PRIVATE KEY-----") == priv);
    EVP_PKEY *pk = rsa_public_from_pem((uint8_t *)pub, pub_len);
    EVP_PKEY *sk = rsa_private_from_pem((uint8_t *)priv, priv_len);
    EVP_PKEY *pk_from_private = rsa_public_from_pem((uint8_t *)priv, priv_len);
    CHECK(pk && sk && pk_from_private);
    CHECK(rsa_private_from_pem((uint8_t *)pub, pub_len) == NULL);

    size_t spki_len = 0;
    char *spki = spki_pem(pk, &spki_len);
    CHECK(spki && strstr(spki, "-----BEGIN PUBLIC KEY-----") == spki);
    EVP_PKEY *pk2 = rsa_public_from_pem((uint8_t *)spki, spki_len);
    int64_t f1 = 0, f2 = 1, f3 = 2;
    CHECK(pk2 && rsa_fingerprint(pk, &f1) == 0 && rsa_fingerprint(pk2, &f2) == 0);
    CHECK(rsa_fingerprint(pk_from_private, &f3) == 0);
    CHECK(f1 == f2 && f1 == f3);

    /* the Telegram key of the documentation example, in both forms */
    size_t tg_len = 0, tg_spki_len = 0;
    char *tg = vec_read_file("test/vectors/telegram_2013_public_key.pem", &tg_len);
    EVP_PKEY *tk = tg ? rsa_public_from_pem((uint8_t *)tg, tg_len) : NULL;
    char *tg_spki = tk ? spki_pem(tk, &tg_spki_len) : NULL;
    EVP_PKEY *tk2 = tg_spki ? rsa_public_from_pem((uint8_t *)tg_spki, tg_spki_len) : NULL;
    CHECK(tk2 && rsa_fingerprint(tk2, &f1) == 0 && (uint64_t)f1 == 0xC3B42B026CE86B21ull);

    const char *junk[] = {"", "-----BEGIN RSA PUBLIC KEY-----\n-----END RSA PUBLIC KEY-----\n",
                          "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
                          "not a key at all"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        CHECK(rsa_public_from_pem((const uint8_t *)junk[i], strlen(junk[i])) == NULL);
        CHECK(rsa_private_from_pem((const uint8_t *)junk[i], strlen(junk[i])) == NULL);
    }
    /* a 1024-bit key parses but is refused by the 2048-bit operations */
    char *p1 = NULL, *s1 = NULL;
    size_t p1_len, s1_len;
    unsigned char out[256], rnd[235] = {0}, data[16] = {0}, tkey[32] = {0}, dec[255];
    CHECK(rsa_generate(1024, &s1, &s1_len, &p1, &p1_len) == 0);
    EVP_PKEY *k1 = rsa_public_from_pem((uint8_t *)p1, p1_len);
    EVP_PKEY *k1s = rsa_private_from_pem((uint8_t *)s1, s1_len);
    CHECK(k1 && rsa_fingerprint(k1, &f1) == 0);
    CHECK(rsa_legacy_encrypt(k1, data, 16, rnd, out) == MT_RSA_ERR_KEY);
    CHECK(rsa_pad_encrypt(k1, data, 16, rnd, tkey, out) == MT_RSA_ERR_KEY);
    CHECK(rsa_legacy_decrypt(k1s, out, 128, dec) == MT_RSA_ERR_KEY);

    EVP_PKEY_free(pk), EVP_PKEY_free(sk), EVP_PKEY_free(pk_from_private), EVP_PKEY_free(pk2);
    EVP_PKEY_free(tk), EVP_PKEY_free(tk2), EVP_PKEY_free(k1), EVP_PKEY_free(k1s);
    OPENSSL_free(spki), OPENSSL_free(tg_spki), free(tg);
    OPENSSL_free(p1), OPENSSL_free(s1);
}

static void rsa_pad(void) {
    EVP_PKEY *pk = rsa_public_from_pem((uint8_t *)pub, pub_len);
    EVP_PKEY *sk = rsa_private_from_pem((uint8_t *)priv, priv_len);
    unsigned char data[144], pad[192], tkey[32], out[256], out2[256], dec[192];
    int ok = 0, retries = 0;
    for (int i = 0; i < 64; i++) {
        size_t len = (size_t)(i * 37) % 145;
        test_random(data, len), test_random(pad, 192 - len), test_random(tkey, 32);
        mt_rsa_status st = rsa_pad_encrypt(pk, data, len, pad, tkey, out);
        if (st == MT_RSA_RETRY) {
            retries++;
            continue;
        }
        CHECK(st == MT_RSA_OK);
        /* deterministic given the random inputs */
        CHECK(rsa_pad_encrypt(pk, data, len, pad, tkey, out2) == MT_RSA_OK);
        CHECK_MEM(out, out2, 256);
        CHECK(rsa_pad_decrypt(sk, out, 256, dec) == MT_RSA_OK);
        CHECK_MEM(dec, data, len);
        CHECK_MEM(dec + len, pad, 192 - len);
        /* a flipped bit breaks the SHA256 inside (or lands at/above the modulus) */
        out[i % 256] ^= (unsigned char)(1u << (i % 8));
        st = rsa_pad_decrypt(sk, out, 256, dec);
        CHECK(st == MT_RSA_ERR_HASH || st == MT_RSA_ERR_RANGE);
        ok++;
    }
    printf("  RSA_PAD: %d encrypted, %d retries asked for\n", ok, retries);
    CHECK(ok > 0);
    CHECK(rsa_pad_encrypt(pk, data, 145, pad, tkey, out) == MT_RSA_ERR_LENGTH);

    /* ciphertext at or above the modulus; lengths 0 and 257; short ciphertexts left-padded */
    BIGNUM *n = NULL;
    unsigned char nb[257] = {0};
    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
    BN_bn2binpad(n, nb, 256);
    CHECK(rsa_pad_decrypt(sk, nb, 256, dec) == MT_RSA_ERR_RANGE);
    memset(out, 0xff, 256);
    CHECK(rsa_pad_decrypt(sk, out, 256, dec) == MT_RSA_ERR_RANGE);
    CHECK(rsa_pad_decrypt(sk, out, 0, dec) == MT_RSA_ERR_LENGTH);
    CHECK(rsa_pad_decrypt(sk, nb, 257, dec) == MT_RSA_ERR_LENGTH);
    CHECK(rsa_pad_decrypt(sk, out, 255, dec) == MT_RSA_ERR_HASH);
    BN_free(n);
    EVP_PKEY_free(pk), EVP_PKEY_free(sk);
}

static void legacy(void) {
    EVP_PKEY *pk = rsa_public_from_pem((uint8_t *)pub, pub_len);
    EVP_PKEY *sk = rsa_private_from_pem((uint8_t *)priv, priv_len);
    unsigned char data[235], rnd[235], out[256], dec[255], sha[20];
    for (size_t len = 0; len <= 235; len += 47) {
        test_random(data, len), test_random(rnd, 235 - len);
        CHECK(rsa_legacy_encrypt(pk, data, len, rnd, out) == MT_RSA_OK);
        CHECK(rsa_legacy_decrypt(sk, out, 256, dec) == MT_RSA_OK);
        SHA1(data, len, sha);
        CHECK_MEM(dec, sha, 20);
        CHECK_MEM(dec + 20, data, len);
        CHECK_MEM(dec + 20 + len, rnd, 235 - len);
    }
    CHECK(rsa_legacy_encrypt(pk, data, 236, rnd, out) == MT_RSA_ERR_LENGTH);
    /* a random ciphertext decrypts to a 256-byte number: refused */
    int refused = 0;
    for (int i = 0; i < 8; i++) {
        test_random(out, 256);
        out[0] &= 0x7f;
        refused += rsa_legacy_decrypt(sk, out, 256, dec) == MT_RSA_ERR_PADDING;
    }
    CHECK(refused >= 6);
    EVP_PKEY_free(pk), EVP_PKEY_free(sk);
}

/* rsa_decrypt_any: one private operation, then RSA_PAD or legacy; the same bytes as the
 * single-padding decryptions, and their refusals. */
static void either(void) {
    EVP_PKEY *pk = rsa_public_from_pem((uint8_t *)pub, pub_len);
    EVP_PKEY *sk = rsa_private_from_pem((uint8_t *)priv, priv_len);
    unsigned char data[144], pad[192], tkey[32], rnd[235], out[256], dec[255], any[255];
    mt_rsa_padding which;
    int pads = 0;
    for (int i = 0; i < 24; i++) {
        size_t len = (size_t)(i * 41) % 145;
        test_random(data, len), test_random(pad, 192 - len), test_random(tkey, 32);
        if (rsa_pad_encrypt(pk, data, len, pad, tkey, out) == MT_RSA_OK) {
            which = 0;
            CHECK(rsa_decrypt_any(sk, out, 256, &which, any) == MT_RSA_OK);
            CHECK(which == MT_RSA_PADDING_PAD);
            CHECK(rsa_pad_decrypt(sk, out, 256, dec) == MT_RSA_OK);
            CHECK_MEM(any, dec, RSA_PAD_PADDED);
            pads++;
        }
        test_random(rnd, 235 - len);
        CHECK(rsa_legacy_encrypt(pk, data, len, rnd, out) == MT_RSA_OK);
        which = 0;
        CHECK(rsa_decrypt_any(sk, out, 256, &which, any) == MT_RSA_OK);
        CHECK(which == MT_RSA_PADDING_LEGACY);
        CHECK(rsa_legacy_decrypt(sk, out, 256, dec) == MT_RSA_OK);
        CHECK_MEM(any, dec, RSA_LEGACY_BLOCK);
        CHECK_MEM(any + 20, data, len);
    }
    CHECK(pads > 0);
    /* random ciphertexts: neither padding (a 1/256 chance of a leading zero byte aside) */
    int refused = 0;
    for (int i = 0; i < 8; i++) {
        test_random(out, 256);
        out[0] &= 0x7f;
        mt_rsa_status st = rsa_decrypt_any(sk, out, 256, &which, any);
        CHECK(st == MT_RSA_ERR_PADDING || (st == MT_RSA_OK && which == MT_RSA_PADDING_LEGACY));
        refused += st == MT_RSA_ERR_PADDING;
    }
    CHECK(refused >= 6);
    memset(out, 0xff, 256);
    CHECK(rsa_decrypt_any(sk, out, 256, &which, any) == MT_RSA_ERR_RANGE);
    CHECK(rsa_decrypt_any(sk, out, 0, &which, any) == MT_RSA_ERR_LENGTH);
    CHECK(rsa_decrypt_any(sk, out, 257, &which, any) == MT_RSA_ERR_LENGTH);
    CHECK(rsa_decrypt_any(pk, out, 255, &which, any) != MT_RSA_OK); /* no private half */
    EVP_PKEY_free(pk), EVP_PKEY_free(sk);
}

/* The parsed-key cache: more keys than it holds, each kind apart, the same keys every time. */
static void key_cache(void) {
    enum { N = 10 };
    char *sk_pem[N], *pk_pem[N];
    size_t sk_len[N], pk_len[N];
    EVP_PKEY *first[N];
    for (int i = 0; i < N; i++) {
        CHECK(rsa_generate(1024, &sk_pem[i], &sk_len[i], &pk_pem[i], &pk_len[i]) == 0);
        first[i] = rsa_private_from_pem((uint8_t *)sk_pem[i], sk_len[i]);
        CHECK(first[i] != NULL);
        EVP_PKEY *pk = rsa_public_from_pem((uint8_t *)pk_pem[i], pk_len[i]);
        CHECK(pk && EVP_PKEY_eq(pk, first[i]) == 1);
        /* a cached public key never answers for a private one */
        CHECK(rsa_private_from_pem((uint8_t *)pk_pem[i], pk_len[i]) == NULL);
        EVP_PKEY_free(pk);
    }
    /* the last key is cached (the same object comes back); the first was evicted (N > 8) */
    EVP_PKEY *last = rsa_private_from_pem((uint8_t *)sk_pem[N - 1], sk_len[N - 1]);
    EVP_PKEY *oldest = rsa_private_from_pem((uint8_t *)sk_pem[0], sk_len[0]);
    CHECK(last == first[N - 1]);
    CHECK(oldest != first[0] && oldest && EVP_PKEY_eq(oldest, first[0]) == 1);
    EVP_PKEY_free(last), EVP_PKEY_free(oldest);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            EVP_PKEY *again = rsa_private_from_pem((uint8_t *)sk_pem[i], sk_len[i]);
            CHECK(again && EVP_PKEY_eq(again, first[i]) == 1);
            for (int j = 0; j < N; j++)
                if (j != i) CHECK(EVP_PKEY_eq(again, first[j]) != 1);
            EVP_PKEY_free(again);
        }
    }
    for (int i = 0; i < N; i++) {
        EVP_PKEY_free(first[i]);
        OPENSSL_clear_free(sk_pem[i], sk_len[i]);
        OPENSSL_free(pk_pem[i]);
    }
}

int main(void) {
    keys();
    rsa_pad();
    legacy();
    either();
    key_cache();
    OPENSSL_clear_free(priv, priv_len);
    OPENSSL_free(pub);
    return ctest_summary("rsa");
}
