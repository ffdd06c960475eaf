/* Hashes of the auth-key handshake (core.telegram.org/mtproto/auth_key): auth_key_id,
 * auth_key_aux_hash, new_nonce_hash1/2/3 and the temporary AES key and iv. Byte strings are in
 * wire order; the auth key is always 256 bytes. Each returns 0, or -1 on an OpenSSL failure. */
#ifndef MTPROTO_AUTH_KEY_H
#define MTPROTO_AUTH_KEY_H

#include <stdint.h>

#define AUTH_KEY_BYTES 256

/* The 64 lower-order bits of SHA1(auth_key): the last 8 bytes of the digest, as on the wire. */
int auth_key_id(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]);

/* The 64 higher-order bits of SHA1(auth_key): the first 8 bytes (retry_id of dh_gen_retry). */
int auth_key_aux_hash(const uint8_t auth_key[AUTH_KEY_BYTES], uint8_t out[8]);

/* new_nonce_hash<n> (n = 1, 2, 3): the last 16 bytes of
 * SHA1(new_nonce + byte(n) + auth_key_aux_hash). Returns -1 for another n too. */
int auth_key_new_nonce_hash(const uint8_t new_nonce[32], const uint8_t auth_key[AUTH_KEY_BYTES],
                            int n, uint8_t out[16]);

/* tmp_aes_key := SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12)
 * tmp_aes_iv  := SHA1(server_nonce + new_nonce)[12..20) + SHA1(new_nonce + new_nonce)
 *                + new_nonce[0..4) */
int auth_key_tmp_aes(const uint8_t new_nonce[32], const uint8_t server_nonce[16],
                     uint8_t key[32], uint8_t iv[32]);

#endif
