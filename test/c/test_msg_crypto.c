/* MTProto 2.0 message crypto: the KDF and msg_key against the spec's formulas written out here
 * independently, round trips for both roles, every flipped bit rejected, and each receive
 * check (auth_key_id, length, msg_key, message_data_length, padding). */
#include <stdlib.h>

#include <openssl/sha.h>

#include "aes_ige.h"
#include "auth_key.h"
#include "ctest.h"
#include "msg_crypto.h"
#include "vectors.h"

static unsigned char auth_key[256];

/* The spec, transcribed: sha256_a = SHA256(msg_key + substr(auth_key, x, 36)), ... */
static void spec_kdf(const unsigned char *msg_key, int x, unsigned char *key, unsigned char *iv) {
    unsigned char buf[52], a[32], b[32];
    memcpy(buf, msg_key, 16);
    memcpy(buf + 16, auth_key + x, 36);
    SHA256(buf, 52, a);
    memcpy(buf, auth_key + 40 + x, 36);
    memcpy(buf + 36, msg_key, 16);
    SHA256(buf, 52, b);
    memcpy(key, a, 8), memcpy(key + 8, b + 8, 16), memcpy(key + 24, a + 24, 8);
    memcpy(iv, b, 8), memcpy(iv + 8, a + 8, 16), memcpy(iv + 24, b + 24, 8);
}

static void check_kdf(void) {
    unsigned char msg_key[16], k1[32], v1[32], k2[32], v2[32];
    for (int x = 0; x <= 8; x += 8)
        for (int i = 0; i < 20; i++) {
            test_random(msg_key, 16);
            CHECK(msg_kdf(auth_key, msg_key, x, k1, v1) == 0);
            spec_kdf(msg_key, x, k2, v2);
            CHECK_MEM(k1, k2, 32);
            CHECK_MEM(v1, v2, 32);
        }
    /* msg_key = SHA256(auth_key[88+x, 32) + data)[8, 16) */
    unsigned char data[64 + 32], digest[32], mk[16];
    test_random(data + 32, 64);
    for (int x = 0; x <= 8; x += 8) {
        memcpy(data, auth_key + 88 + x, 32);
        SHA256(data, sizeof data, digest);
        CHECK(msg_key_compute(auth_key, x, data + 32, 64, mk, NULL) == 0);
        CHECK_MEM(mk, digest + 8, 16);
        /* quick-ack token: the first 4 bytes of the same hash, little-endian, high bit set */
        uint32_t token = 0;
        CHECK(msg_key_compute(auth_key, x, data + 32, 64, mk, &token) == 0);
        uint32_t want = (uint32_t)digest[0] | (uint32_t)digest[1] << 8 |
                        (uint32_t)digest[2] << 16 | (uint32_t)(digest[3] | 0x80) << 24;
        CHECK(token == want);
    }
}

/* A plaintext: 32-byte header with message_data_length = body_len, then the body. */
static size_t make_plain(unsigned char *p, size_t body_len) {
    test_random(p, 28 + body_len + 4);
    p[28] = (unsigned char)body_len;
    p[29] = (unsigned char)(body_len >> 8);
    p[30] = (unsigned char)(body_len >> 16);
    p[31] = (unsigned char)(body_len >> 24);
    test_random(p + 32, body_len);
    return 32 + body_len;
}

static msg_status encrypt_decrypt(int x_enc, int x_dec, size_t body_len, unsigned extra) {
    unsigned char plain[4096], pad[1024], packet[24 + 4096 + 1024], out[4096 + 1024];
    size_t len = make_plain(plain, body_len), pad_len = msg_padding_length(len, extra), got = 0;
    test_random(pad, pad_len);
    uint32_t sent_token = 0, got_token = 0;
    CHECK(msg_encrypt(auth_key, x_enc, plain, len, pad, pad_len, packet, &sent_token) == MSG_OK);
    msg_status st = msg_decrypt(auth_key, x_dec, packet, 24 + len + pad_len, out, &got, &got_token);
    if (st == MSG_OK) CHECK(sent_token == got_token && (sent_token & 0x80000000u));
    if (st == MSG_OK) {
        CHECK(got == len);
        CHECK_MEM(out, plain, len);
        CHECK_MEM(out + len, pad, pad_len);
    }
    return st;
}

static void round_trips(void) {
    for (size_t body = 0; body <= 300; body += 4) {
        CHECK(encrypt_decrypt(MSG_X_CLIENT, MSG_X_CLIENT, body, (unsigned)body % 5) == MSG_OK);
        CHECK(encrypt_decrypt(MSG_X_SERVER, MSG_X_SERVER, body, 3) == MSG_OK);
    }
    CHECK(encrypt_decrypt(MSG_X_SERVER, MSG_X_SERVER, 4000, 100) == MSG_OK);
    /* the other role's key derivation does not decrypt it */
    CHECK(encrypt_decrypt(MSG_X_CLIENT, MSG_X_SERVER, 40, 0) == MSG_ERR_MSG_KEY);
    CHECK(encrypt_decrypt(MSG_X_SERVER, MSG_X_CLIENT, 40, 0) == MSG_ERR_MSG_KEY);
}

static void padding_lengths(void) {
    for (size_t len = 32; len < 32 + 64; len++)
        for (unsigned extra = 0; extra < 80; extra += 7) {
            size_t pad = msg_padding_length(len, extra);
            CHECK(pad >= 12 && pad <= 1024 && (len + pad) % 16 == 0);
            CHECK(extra > 0 || pad < 28);
        }
    unsigned char plain[64] = {0}, pad[1040] = {0}, out[24 + 64 + 1040];
    CHECK(msg_encrypt(auth_key, 0, plain, 37, pad, 12, out, NULL) == MSG_ERR_PADDING); /* 49 % 16 */
    CHECK(msg_encrypt(auth_key, 0, plain, 36, pad, 12, out, NULL) == MSG_OK);
    CHECK(msg_encrypt(auth_key, 0, plain, 36, pad, 28, out, NULL) == MSG_OK);
    CHECK(msg_encrypt(auth_key, 0, plain, 36, pad, 11, out, NULL) == MSG_ERR_PADDING);
    CHECK(msg_encrypt(auth_key, 0, plain, 36, pad, 1036, out, NULL) == MSG_ERR_PADDING);
    CHECK(msg_encrypt(auth_key, 0, plain, 32, pad, 0, out, NULL) == MSG_ERR_PADDING);
}

static void every_bit_flipped(void) {
    unsigned char plain[200], pad[64], packet[24 + 200 + 64], out[200 + 64];
    size_t len = make_plain(plain, 100), pad_len = msg_padding_length(len, 1), got;
    size_t total = 24 + len + pad_len;
    test_random(pad, pad_len);
    CHECK(msg_encrypt(auth_key, 0, plain, len, pad, pad_len, packet, NULL) == MSG_OK);
    int rejected = 0;
    for (size_t bit = 0; bit < total * 8; bit++) {
        packet[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        msg_status st = msg_decrypt(auth_key, 0, packet, total, out, &got, NULL);
        rejected += st == (bit < 64 ? MSG_ERR_AUTH_KEY_ID : MSG_ERR_MSG_KEY);
        packet[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    CHECK(rejected == (int)(total * 8));
    CHECK(msg_decrypt(auth_key, 0, packet, total, out, &got, NULL) == MSG_OK);
}

/* Messages with a valid msg_key but a bad header, built with the encryptor. */
static msg_status with_length_field(uint32_t data_len, size_t body_len, size_t pad_len) {
    unsigned char plain[2048], pad[1100], packet[24 + 2048 + 1100], out[2048 + 1100];
    size_t len = make_plain(plain, body_len), got;
    plain[28] = (unsigned char)data_len, plain[29] = (unsigned char)(data_len >> 8);
    plain[30] = (unsigned char)(data_len >> 16), plain[31] = (unsigned char)(data_len >> 24);
    test_random(pad, pad_len);
    /* pad_len may be outside 12..1024 here: encrypt the padded plaintext as one piece */
    memcpy(plain + len, pad, pad_len);
    CHECK(msg_encrypt(auth_key, 0, plain, len + pad_len - 16, plain + len + pad_len - 16, 16,
                      packet, NULL) == MSG_OK || (len + pad_len) % 16 != 0);
    return msg_decrypt(auth_key, 0, packet, 24 + len + pad_len, out, &got, NULL);
}

static void header_checks(void) {
    /* 96 bytes: header 32, then data_len bytes of data, the rest is padding */
    CHECK(with_length_field(40, 40, 24) == MSG_OK);                   /* padding 24 */
    CHECK(with_length_field(42, 40, 24) == MSG_ERR_DATA_LENGTH);      /* not a multiple of 4 */
    CHECK(with_length_field(52, 40, 24) == MSG_OK);                   /* padding 12 */
    CHECK(with_length_field(56, 40, 24) == MSG_ERR_DATA_LENGTH);      /* padding 8 */
    CHECK(with_length_field(64, 40, 24) == MSG_ERR_DATA_LENGTH);      /* padding 0 */
    CHECK(with_length_field(68, 40, 24) == MSG_ERR_DATA_LENGTH);      /* past the end */
    CHECK(with_length_field(0xFFFFFFFC, 40, 24) == MSG_ERR_DATA_LENGTH);
    CHECK(with_length_field(0, 0, 1040) == MSG_ERR_PADDING);          /* padding 1040 */
    CHECK(with_length_field(16, 0, 1040) == MSG_OK);                  /* padding 1024 */
    CHECK(with_length_field(12, 0, 1040) == MSG_ERR_PADDING);         /* padding 1028 */
}

static void outer_checks(void) {
    unsigned char packet[24 + 64] = {0}, out[64];
    size_t got;
    CHECK(auth_key_id(auth_key, packet) == 0);
    CHECK(msg_decrypt(auth_key, 0, packet, 24 + 32, out, &got, NULL) == MSG_ERR_LENGTH);
    CHECK(msg_decrypt(auth_key, 0, packet, 24 + 47, out, &got, NULL) == MSG_ERR_LENGTH);
    CHECK(msg_decrypt(auth_key, 0, packet, 0, out, &got, NULL) == MSG_ERR_LENGTH);
    CHECK(msg_decrypt(auth_key, 0, packet, 24 + 48, out, &got, NULL) == MSG_ERR_MSG_KEY);
    packet[0] ^= 1;
    CHECK(msg_decrypt(auth_key, 0, packet, 24 + 48, out, &got, NULL) == MSG_ERR_AUTH_KEY_ID);
}

int main(void) {
    test_random(auth_key, sizeof auth_key);
    check_kdf();
    round_trips();
    padding_lengths();
    every_bit_flipped();
    header_checks();
    outer_checks();
    return ctest_summary("msg_crypto");
}
