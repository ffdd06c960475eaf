/* obfuscated2 init and key derivation (see obfuscated2.h). */
#include "obfuscated2.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int obf2_reserved_first_word(uint32_t first) {
    static const uint32_t reserved[] = {
        0x44414548u, /* "HEAD" */
        0x54534f50u, /* "POST" */
        0x20544547u, /* "GET " */
        0x4954504fu, /* "OPTI" */
        0x47725650u, /* "PVrG" */
        0x02010316u, /* TLS record header */
        OBF2_TAG_INTERMEDIATE,
        OBF2_TAG_PADDED,
    };
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (first == reserved[i]) return 1;
    return 0;
}

int obf2_init_is_reserved(const uint8_t init[OBF2_INIT_SIZE]) {
    return init[0] == 0xef || obf2_reserved_first_word(le32(init)) || le32(init + 4) == 0;
}

/* One stream from 32 key bytes and 16 iv bytes, the key hashed with the secret when there is one. */
static int stream_from(const uint8_t key_iv[48], const uint8_t *secret, aes_ctr *ctr) {
    uint8_t key[32];
    if (secret) {
        uint8_t keyed[32 + OBF2_SECRET_SIZE];
        memcpy(keyed, key_iv, 32);
        memcpy(keyed + 32, secret, OBF2_SECRET_SIZE);
        SHA256(keyed, sizeof keyed, key);
        OPENSSL_cleanse(keyed, sizeof keyed);
    } else {
        memcpy(key, key_iv, 32);
    }
    int r = aes_ctr_init(ctr, key, key_iv + 32);
    OPENSSL_cleanse(key, sizeof key);
    return r;
}

/* The client's outgoing stream comes from init[8..56], the other from those 48 bytes reversed. */
static int derive(const uint8_t init[OBF2_INIT_SIZE], const uint8_t *secret, aes_ctr *client_out,
                  aes_ctr *server_out) {
    uint8_t reversed[48];
    for (size_t i = 0; i < 48; i++) reversed[i] = init[55 - i];
    int r = stream_from(init + 8, secret, client_out) | stream_from(reversed, secret, server_out);
    OPENSSL_cleanse(reversed, sizeof reversed);
    return r;
}

int obf2_client_init(const uint8_t random[OBF2_INIT_SIZE], uint32_t tag, int has_dc_id,
                     int16_t dc_id, const uint8_t *secret, uint8_t out[OBF2_INIT_SIZE],
                     obf2_streams *streams) {
    uint8_t plain[OBF2_INIT_SIZE], sealed[OBF2_INIT_SIZE];
    memset(streams, 0, sizeof *streams);
    if (obf2_init_is_reserved(random)) return -1;
    memcpy(plain, random, sizeof plain);
    for (int i = 0; i < 4; i++) plain[56 + i] = (uint8_t)(tag >> (8 * i));
    if (has_dc_id) {
        uint16_t dc = (uint16_t)dc_id;
        plain[60] = (uint8_t)dc;
        plain[61] = (uint8_t)(dc >> 8);
    }
    if (derive(plain, secret, &streams->out, &streams->in) != 0 ||
        aes_ctr_apply(&streams->out, plain, sealed, sizeof plain) != 0) {
        obf2_streams_wipe(streams);
        OPENSSL_cleanse(plain, sizeof plain);
        return -2;
    }
    streams->keyed = 1;
    memcpy(out, plain, 56);
    memcpy(out + 56, sealed + 56, 8);
    OPENSSL_cleanse(plain, sizeof plain);
    OPENSSL_cleanse(sealed, sizeof sealed);
    return 0;
}

int obf2_server_init(const uint8_t init[OBF2_INIT_SIZE], const uint8_t *secret,
                     uint32_t *tag, int16_t *dc_id, obf2_streams *streams) {
    uint8_t plain[OBF2_INIT_SIZE];
    memset(streams, 0, sizeof *streams);
    /* The client's outgoing stream is what the server receives. */
    if (derive(init, secret, &streams->in, &streams->out) != 0 ||
        aes_ctr_apply(&streams->in, init, plain, sizeof plain) != 0) {
        obf2_streams_wipe(streams);
        return -2;
    }
    streams->keyed = 1;
    *tag = le32(plain + 56);
    *dc_id = (int16_t)(uint16_t)(plain[60] | plain[61] << 8);
    OPENSSL_cleanse(plain, sizeof plain);
    return 0;
}

void obf2_streams_wipe(obf2_streams *streams) { OPENSSL_cleanse(streams, sizeof *streams); }
