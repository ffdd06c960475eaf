/* AES-256-IGE: known answers from the MTProto auth-key example (both directions), then the
 * AES-NI and portable paths against each other at many sizes, in place, and in pieces. */
#include <stdlib.h>

#include "aes_ige.h"
#include "ctest.h"
#include "vectors.h"

#include <openssl/sha.h>

static unsigned char key[32], iv[32], enc_answer[592], answer_with_hash[592];
static unsigned char enc_client[336];

static void known_answers(aes_impl impl) {
    unsigned char out[592], ivc[32], answer[564], sha[20];
    printf("  known answers on %s\n", aes_impl_name(impl));
    /* server_DH_params_ok.encrypted_answer decrypts to SHA1(answer) + answer + 8 bytes. */
    memcpy(ivc, iv, 32);
    CHECK(aes_ige_crypt(impl, 0, key, ivc, enc_answer, out, sizeof enc_answer) == 0);
    CHECK(vec_get(SAMPLE, "answer", answer, sizeof answer) == 564);
    CHECK_MEM(out + 20, answer, 564);
    CHECK(SHA1(answer, 564, sha) != NULL);
    CHECK_MEM(out, sha, 20);
    memcpy(answer_with_hash, out, sizeof out);
    /* ...and encrypting that gives the server's bytes back. */
    memcpy(ivc, iv, 32);
    CHECK(aes_ige_crypt(impl, 1, key, ivc, answer_with_hash, out, sizeof out) == 0);
    CHECK_MEM(out, enc_answer, sizeof enc_answer);
    /* set_client_DH_params.encrypted_data: decrypt, re-encrypt, same 336 bytes. */
    unsigned char plain[336];
    memcpy(ivc, iv, 32);
    CHECK(aes_ige_crypt(impl, 0, key, ivc, enc_client, plain, sizeof plain) == 0);
    CHECK(plain[20] == 0x54 && plain[21] == 0xb6 && plain[22] == 0x43 && plain[23] == 0x66);
    memcpy(ivc, iv, 32);
    CHECK(aes_ige_crypt(impl, 1, key, ivc, plain, out, sizeof plain) == 0);
    CHECK_MEM(out, enc_client, sizeof enc_client);
}

static void paths_agree(size_t len) {
    unsigned char k[32], v[32], v1[32], v2[32];
    unsigned char *in = malloc(len + 1), *a = malloc(len + 1), *b = malloc(len + 1);
    test_random(k, 32);
    test_random(v, 32);
    test_random(in, len);
    for (int enc = 0; enc <= 1; enc++) {
        memcpy(v1, v, 32);
        memcpy(v2, v, 32);
        CHECK(aes_ige_crypt(AES_AESNI, enc, k, v1, in, a, len) == 0);
        CHECK(aes_ige_crypt(AES_PORTABLE, enc, k, v2, in, b, len) == 0);
        CHECK_MEM(a, b, len);
        CHECK_MEM(v1, v2, 32);
    }
    /* round trip on the default path, in place */
    memcpy(a, in, len);
    memcpy(v1, v, 32);
    CHECK(aes_ige_encrypt(k, v1, a, a, len) == 0);
    memcpy(v1, v, 32);
    CHECK(aes_ige_decrypt(k, v1, a, a, len) == 0);
    CHECK_MEM(a, in, len);
    free(in);
    free(a);
    free(b);
}

static void chunked(aes_impl impl) {
    unsigned char k[32], v[32], v1[32], in[16 * 40], whole[16 * 40], parts[16 * 40];
    test_random(k, 32);
    test_random(v, 32);
    test_random(in, sizeof in);
    for (int enc = 0; enc <= 1; enc++) {
        memcpy(v1, v, 32);
        CHECK(aes_ige_crypt(impl, enc, k, v1, in, whole, sizeof in) == 0);
        memcpy(v1, v, 32);
        size_t sizes[] = {16, 48, 0, 160, 16, 400}, off = 0;
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            CHECK(aes_ige_crypt(impl, enc, k, v1, in + off, parts + off, sizes[i]) == 0);
            off += sizes[i];
        }
        CHECK(off == sizeof in);
        CHECK_MEM(whole, parts, sizeof in);
    }
}

int main(void) {
    CHECK(aes_impl_init() == 0);
    CHECK(aes_impl_available(AES_PORTABLE));
    printf("  default path: %s, AES-NI %savailable\n", aes_impl_name(aes_impl_default()),
           aes_impl_available(AES_AESNI) ? "" : "not ");
    CHECK(vec_get(SAMPLE, "tmp_aes_key", key, 32) == 32);
    CHECK(vec_get(SAMPLE, "tmp_aes_iv", iv, 32) == 32);
    CHECK(vec_get(SAMPLE, "encrypted_answer", enc_answer, sizeof enc_answer) == 592);
    CHECK(vec_get(SAMPLE, "set_client_encrypted", enc_client, sizeof enc_client) == 336);

    known_answers(AES_PORTABLE);
    chunked(AES_PORTABLE);
    if (aes_impl_available(AES_AESNI)) {
        known_answers(AES_AESNI);
        chunked(AES_AESNI);
        for (size_t blocks = 0; blocks <= 70; blocks++) paths_agree(16 * blocks);
        paths_agree(16 * 4096 + 16);
    }

    /* lengths that are not whole blocks are refused */
    unsigned char buf[32] = {0}, v[32] = {0};
    CHECK(aes_ige_encrypt(key, v, buf, buf, 15) == -1);
    CHECK(aes_ige_decrypt(key, v, buf, buf, 17) == -1);
    CHECK(aes_ige_encrypt(key, v, buf, buf, 0) == 0);
    return ctest_summary("aes_ige");
}
