/* MTProto 2.0 message encryption (core.telegram.org/mtproto/description), both directions:
 *   x = 0 for messages from client to server, x = 8 from server to client;
 *   msg_key_large = SHA256(auth_key[88+x, 32) + plaintext + padding); msg_key = its bytes 8..24;
 *   aes_key, aes_iv from SHA256(msg_key + auth_key[x, 36)) and SHA256(auth_key[40+x, 36) + msg_key);
 *   packet = auth_key_id(8) + msg_key(16) + AES-256-IGE(plaintext + padding).
 * plaintext = salt(8) session_id(8) msg_id(8) seq_no(4) message_data_length(4) message_data;
 * padding is 12..1024 random bytes bringing plaintext + padding to a multiple of 16. */
#ifndef MTPROTO_MSG_CRYPTO_H
#define MTPROTO_MSG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MSG_AUTH_KEY_BYTES 256
#define MSG_HEADER_BYTES 32 /* salt .. message_data_length */
#define MSG_OUTER_BYTES 24  /* auth_key_id + msg_key */
#define MSG_MIN_PADDING 12
#define MSG_MAX_PADDING 1024
#define MSG_X_CLIENT 0
#define MSG_X_SERVER 8

typedef enum {
    MSG_OK = 0,
    MSG_ERR_AUTH_KEY_ID,  /* the packet is for another key */
    MSG_ERR_LENGTH,       /* too short, or the encrypted part is not a multiple of 16 */
    MSG_ERR_MSG_KEY,      /* msg_key does not match the decrypted data */
    MSG_ERR_DATA_LENGTH,  /* message_data_length not a multiple of 4 or past the end */
    MSG_ERR_PADDING,      /* padding outside 12..1024 (decrypt), or a bad padding argument */
    MSG_ERR_INTERNAL      /* OpenSSL failure */
} msg_status;

/* The padding length for plain_len bytes: the least valid length plus 16 * extra_blocks,
 * never above 1024. */
size_t msg_padding_length(size_t plain_len, unsigned extra_blocks);

/* Random bytes that pick the padding of one message: random[0] chooses 0..3 extra blocks (so
 * lengths leak a little less), the padding itself is taken from random + 1. */
#define MSG_PADDING_RANDOM_BYTES (1 + 27 + 3 * 16)
size_t msg_padding_choice(size_t plain_len, const uint8_t random[MSG_PADDING_RANDOM_BYTES]);

/* msg_key over data (plaintext + padding). Returns 0 or -1. When quick_ack is not NULL it also
 * gets the quick-ack token of the same hash (core.telegram.org/mtproto/mtproto-transports): the
 * first 4 bytes of msg_key_large read little-endian, with the high bit set. */
int msg_key_compute(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *data,
                    size_t len, uint8_t msg_key[16], uint32_t *quick_ack);

/* aes_key and aes_iv from auth_key and msg_key. Returns 0 or -1. */
int msg_kdf(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], const uint8_t msg_key[16], int x,
            uint8_t aes_key[32], uint8_t aes_iv[32]);

/* Writes MSG_OUTER_BYTES + plain_len + pad_len bytes to out (which must not overlap the inputs).
 * pad_len must be 12..1024 with (plain_len + pad_len) % 16 == 0, else MSG_ERR_PADDING.
 * quick_ack (may be NULL) gets the message's quick-ack token. */
msg_status msg_encrypt(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *plain,
                       size_t plain_len, const uint8_t *padding, size_t pad_len, uint8_t *out,
                       uint32_t *quick_ack);

/* Checks and decrypts packet (len bytes) into out, which has room for len - MSG_OUTER_BYTES
 * bytes. On MSG_OK, out holds the header and message_data (*plain_len = 32 + data length),
 * followed by the padding. The msg_key check runs, in constant time, before any check of the
 * decrypted contents; on failure out is wiped. quick_ack (may be NULL) gets the token the
 * receiver answers a quick-ack request with. */
msg_status msg_decrypt(const uint8_t auth_key[MSG_AUTH_KEY_BYTES], int x, const uint8_t *packet,
                       size_t len, uint8_t *out, size_t *plain_len, uint32_t *quick_ack);

#endif
