/* MTProto 2.0 message encryption and the receive checks; see msg_crypto.h. */
#include "msg_crypto.h"

#include <string.h>

#include <openssl/crypto.h>

#include "aes_ige.h"
#include "auth_key.h"
#include "digest.h"

size_t msg_padding_length(size_t plain_len, unsigned extra_blocks) {
    size_t pad = MSG_MIN_PADDING + (16 - (plain_len + MSG_MIN_PADDING) % 16) % 16;
    size_t room = (MSG_MAX_PADDING - pad) / 16;
    return pad + 16 * (extra_blocks < room ? extra_blocks : room);
}

size_t msg_padding_choice(size_t plain_len, const uint8_t random[MSG_PADDING_RANDOM_BYTES]) {
    return msg_padding_length(plain_len, random[0] & 3);
}

int msg_key_compute(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *data,
                    size_t len, uint8_t msg_key[16], uint32_t *quick_ack) {
    uint8_t digest[DIGEST_SHA256_BYTES];
    int rc = digest3(DIGEST_SHA256, auth_key + 88 + x, 32, data, len, NULL, 0, digest);
    if (rc == 0) memcpy(msg_key, digest + 8, 16);
    if (rc == 0 && quick_ack)
        *quick_ack = ((uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16 |
                      (uint32_t)digest[3] << 24) |
                     0x80000000u;
    OPENSSL_cleanse(digest, sizeof digest);
    return rc;
}

int msg_kdf(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], const uint8_t msg_key[16], int x,
            uint8_t aes_key[32], uint8_t aes_iv[32]) {
    uint8_t a[DIGEST_SHA256_BYTES], b[DIGEST_SHA256_BYTES];
    int rc = -1;
    if (digest3(DIGEST_SHA256, msg_key, 16, auth_key + x, 36, NULL, 0, a) != 0) goto done;
    if (digest3(DIGEST_SHA256, auth_key + 40 + x, 36, msg_key, 16, NULL, 0, b) != 0) goto done;
    memcpy(aes_key, a, 8);
    memcpy(aes_key + 8, b + 8, 16);
    memcpy(aes_key + 24, a + 24, 8);
    memcpy(aes_iv, b, 8);
    memcpy(aes_iv + 8, a + 8, 16);
    memcpy(aes_iv + 24, b + 24, 8);
    rc = 0;
done:
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

static int valid_x(int x) { return x == MSG_X_CLIENT || x == MSG_X_SERVER; }

msg_status msg_encrypt(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *plain,
                       size_t plain_len, const uint8_t *padding, size_t pad_len, uint8_t *out,
                       uint32_t *quick_ack) {
    uint8_t key[32], iv[32];
    msg_status st = MSG_ERR_INTERNAL;
    if (!valid_x(x)) return MSG_ERR_INTERNAL;
    if (pad_len < MSG_MIN_PADDING || pad_len > MSG_MAX_PADDING || (plain_len + pad_len) % 16)
        return MSG_ERR_PADDING;
    uint8_t *body = out + MSG_OUTER_BYTES;
    memcpy(body, plain, plain_len);
    memcpy(body + plain_len, padding, pad_len);
    if (auth_key_id(auth_key, out) != 0) goto done;
    if (msg_key_compute(auth_key, x, body, plain_len + pad_len, out + 8, quick_ack) != 0) goto done;
    if (msg_kdf(auth_key, out + 8, x, key, iv) != 0) goto done;
    if (aes_ige_encrypt(key, iv, body, body, plain_len + pad_len) != 0) goto done;
    st = MSG_OK;
done:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    return st;
}

static uint32_t read_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

msg_status msg_decrypt(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *packet,
                       size_t len, uint8_t *out, size_t *plain_len, uint32_t *quick_ack) {
    uint8_t id[8], key[32], iv[32], expected[16];
    msg_status st = MSG_ERR_INTERNAL;
    if (!valid_x(x)) return MSG_ERR_INTERNAL;
    if (len < MSG_OUTER_BYTES + MSG_HEADER_BYTES + MSG_MIN_PADDING ||
        (len - MSG_OUTER_BYTES) % 16 != 0)
        return MSG_ERR_LENGTH;
    if (auth_key_id(auth_key, id) != 0) return MSG_ERR_INTERNAL;
    if (memcmp(id, packet, 8) != 0) return MSG_ERR_AUTH_KEY_ID;

    const uint8_t *msg_key = packet + 8;
    size_t total = len - MSG_OUTER_BYTES;
    if (msg_kdf(auth_key, msg_key, x, key, iv) != 0) goto done;
    if (aes_ige_decrypt(key, iv, packet + MSG_OUTER_BYTES, out, total) != 0) goto done;
    if (msg_key_compute(auth_key, x, out, total, expected, quick_ack) != 0) goto done;
    /* Security guidelines: msg_key first, in constant time, before looking at the contents. */
    if (CRYPTO_memcmp(expected, msg_key, 16) != 0) {
        st = MSG_ERR_MSG_KEY;
        goto done;
    }
    uint32_t data_len = read_le32(out + 28);
    if (data_len % 4 != 0 || data_len > total - MSG_HEADER_BYTES - MSG_MIN_PADDING) {
        st = MSG_ERR_DATA_LENGTH;
        goto done;
    }
    if (total - MSG_HEADER_BYTES - data_len > MSG_MAX_PADDING) {
        st = MSG_ERR_PADDING;
        goto done;
    }
    *plain_len = MSG_HEADER_BYTES + data_len;
    st = MSG_OK;
done:
    if (st != MSG_OK) OPENSSL_cleanse(out, total);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    return st;
}
