/* libFuzzer: MTProto 2.0 message decryption of arbitrary packets, for both roles, with and
 * without the right auth_key_id in front; and encrypt-then-decrypt of arbitrary plaintexts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_key.h"
#include "msg_crypto.h"

static uint8_t auth_key[256];

static void check(const uint8_t *packet, size_t len, int x) {
    size_t plain_len = 0;
    uint8_t *out = malloc(len > MSG_OUTER_BYTES ? len - MSG_OUTER_BYTES : 1);
    if (!out) return;
    msg_status st = msg_decrypt(auth_key, x, packet, len, out, &plain_len, NULL);
    if (st == MSG_OK && (plain_len < 32 || plain_len + 12 > len - MSG_OUTER_BYTES)) abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (auth_key[0] == 0)
        for (int i = 0; i < 256; i++) auth_key[i] = (uint8_t)(i * 7 + 3);

    check(data, size, MSG_X_CLIENT);
    check(data, size, MSG_X_SERVER);

    /* the same bytes behind this key's auth_key_id reach the decryption */
    uint8_t *packet = malloc(size + 8);
    if (!packet) return 0;
    auth_key_id(auth_key, packet);
    memcpy(packet + 8, data, size);
    check(packet, size + 8, MSG_X_SERVER);
    free(packet);

    /* round trip: the input as plaintext, its first bytes as padding randomness */
    if (size >= MSG_PADDING_RANDOM_BYTES && size < 1 << 16) {
        const uint8_t *random = data;
        const uint8_t *plain = data + MSG_PADDING_RANDOM_BYTES;
        size_t plain_len = size - MSG_PADDING_RANDOM_BYTES;
        size_t pad = msg_padding_choice(plain_len, random);
        uint8_t *enc = malloc(MSG_OUTER_BYTES + plain_len + pad), *dec = malloc(plain_len + pad);
        size_t got = 0;
        if (enc && dec &&
            msg_encrypt(auth_key, MSG_X_CLIENT, plain, plain_len, random + 1, pad, enc, NULL) == MSG_OK) {
            msg_status st = msg_decrypt(auth_key, MSG_X_CLIENT, enc, MSG_OUTER_BYTES + plain_len + pad,
                                        dec, &got, NULL);
            /* decryption must give back the bytes, whatever the header claims */
            if (st == MSG_OK && memcmp(dec, plain, got < plain_len ? got : plain_len) != 0) abort();
            if (st == MSG_ERR_MSG_KEY || st == MSG_ERR_AUTH_KEY_ID) abort();
            if (st == MSG_ERR_LENGTH && plain_len + pad >= MSG_HEADER_BYTES + MSG_MIN_PADDING) abort();
        }
        free(enc);
        free(dec);
    }
    return 0;
}
