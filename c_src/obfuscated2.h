/* obfuscated2: the 64-byte init that opens an obfuscated connection and the two AES-256-CTR
 * streams derived from it (MTProto transport obfuscation; MTProxy's optional 16-byte secret).
 *
 * Init layout: bytes 0..55 random (8..39 key, 40..55 iv of the client's outgoing stream; the
 * same 48 bytes reversed give the key and iv of the server's), 56..59 the protocol tag, 60..61
 * the signed dc id (little-endian), 62..63 random; bytes 56..63 are sent encrypted with the
 * client's outgoing stream, which thus starts 64 bytes in. With a secret, each key is
 * SHA256(key || secret). */
#ifndef MTPROTO_OBFUSCATED2_H
#define MTPROTO_OBFUSCATED2_H

#include <stddef.h>
#include <stdint.h>

#include "aes_ctr.h"

#define OBF2_INIT_SIZE 64
#define OBF2_SECRET_SIZE 16

#define OBF2_TAG_ABRIDGED 0xefefefefu
#define OBF2_TAG_INTERMEDIATE 0xeeeeeeeeu
#define OBF2_TAG_PADDED 0xddddddddu

/* The two streams, held inline (no allocation of their own). */
typedef struct obf2_streams {
    aes_ctr out; /* what this side sends */
    aes_ctr in;  /* what this side receives */
    int keyed;   /* 1 once an init succeeded */
} obf2_streams;

/* 1 when a little-endian first word starts another protocol: HTTP verbs, the intermediate and
 * padded tags, a TLS record. */
int obf2_reserved_first_word(uint32_t first);

/* 1 when random bytes cannot open an init: first byte 0xef, a first word that starts another
 * protocol (HTTP verbs, intermediate/padded tags, TLS) or a zero second word (full framing). */
int obf2_init_is_reserved(const uint8_t init[OBF2_INIT_SIZE]);

/* Client: builds the init to send from 64 random bytes, the tag and optionally a dc id, and the
 * streams. Returns 0, -1 for reserved random, -2 on an OpenSSL failure (streams then wiped). */
int obf2_client_init(const uint8_t random[OBF2_INIT_SIZE], uint32_t tag, int has_dc_id,
                     int16_t dc_id, const uint8_t *secret, uint8_t out[OBF2_INIT_SIZE],
                     obf2_streams *streams);

/* Server: derives the streams from the received init and reads its tag and dc id.
 * Returns 0 or -2 on an OpenSSL failure. */
int obf2_server_init(const uint8_t init[OBF2_INIT_SIZE], const uint8_t *secret,
                     uint32_t *tag, int16_t *dc_id, obf2_streams *streams);

/* Wipes both streams' keys and state (keyed becomes 0). */
void obf2_streams_wipe(obf2_streams *streams);

#endif
