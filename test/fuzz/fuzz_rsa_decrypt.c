/* libFuzzer: the server-side RSA decryptions (RSA_PAD, legacy, and either with one private
 * operation, which must agree with the other two) of arbitrary ciphertexts, and
 * encrypt-then-decrypt round trips with fuzzer-chosen data and randomness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsa.h"

static EVP_PKEY *pub, *priv;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static char pem[8192];
    FILE *f = fopen("test/fuzz/rsa_test_key.pem", "rb");
    if (!f) {
        fprintf(stderr, "run from the repository root (test/fuzz/rsa_test_key.pem)\n");
        abort();
    }
    size_t len = fread(pem, 1, sizeof pem, f);
    fclose(f);
    priv = rsa_private_from_pem((uint8_t *)pem, len);
    pub = rsa_public_from_pem((uint8_t *)pem, len);
    if (!priv || !pub) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t out[RSA_MODULUS_BYTES], pad_out[RSA_PAD_PADDED], legacy_out[RSA_LEGACY_BLOCK];
    uint8_t any_out[RSA_LEGACY_BLOCK];
    mt_rsa_padding which = 0;
    mt_rsa_status pad_st = rsa_pad_decrypt(priv, data, size, pad_out);
    mt_rsa_status legacy_st = rsa_legacy_decrypt(priv, data, size, legacy_out);
    mt_rsa_status any_st = rsa_decrypt_any(priv, data, size, &which, any_out);
    if (pad_st == MT_RSA_OK) {
        if (any_st != MT_RSA_OK || which != MT_RSA_PADDING_PAD) abort();
        if (memcmp(any_out, pad_out, RSA_PAD_PADDED) != 0) abort();
    } else if (pad_st == MT_RSA_ERR_HASH) {
        if (any_st != legacy_st) abort();
        if (any_st == MT_RSA_OK &&
            (which != MT_RSA_PADDING_LEGACY || memcmp(any_out, legacy_out, RSA_LEGACY_BLOCK) != 0))
            abort();
    } else if (any_st != pad_st) {
        abort();
    }

    /* data = len(1) | temp_key(32) | random(235): encrypt data[..len] both ways, decrypt back */
    if (size >= 1 + 32 + RSA_LEGACY_MAX_DATA) {
        size_t len = data[0] % (RSA_PAD_MAX_DATA + 1);
        const uint8_t *temp_key = data + 1, *random = data + 33;
        const uint8_t *msg = random + RSA_LEGACY_MAX_DATA - len; /* any bytes will do */
        mt_rsa_status st = rsa_pad_encrypt(pub, msg, len, random, temp_key, out);
        if (st == MT_RSA_OK) {
            if (rsa_pad_decrypt(priv, out, sizeof out, pad_out) != MT_RSA_OK) abort();
            if (memcmp(pad_out, msg, len) != 0) abort();
        } else if (st != MT_RSA_RETRY) {
            abort();
        }
        if (rsa_legacy_encrypt(pub, msg, len, random, out) != MT_RSA_OK) abort();
        if (rsa_legacy_decrypt(priv, out, sizeof out, legacy_out) != MT_RSA_OK) abort();
        if (memcmp(legacy_out + 20, msg, len) != 0) abort();
    }
    return 0;
}
