/* RSA as the MTProto handshake uses it (core.telegram.org/mtproto/auth_key): raw 2048-bit RSA
 * with Telegram's RSA_PAD (p_q_inner_data_dc, 4.1) or the legacy SHA1(data) + data + random
 * padding; both server-side decryptions; key generation; PEM parsing (public keys as
 * "RSA PUBLIC KEY" (PKCS#1) or "PUBLIC KEY" (SubjectPublicKeyInfo)); fingerprints.
 * Randomness is an input, so results are reproducible in tests. */
#ifndef MTPROTO_RSA_H
#define MTPROTO_RSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define RSA_MODULUS_BYTES 256
#define RSA_PAD_MAX_DATA 144
#define RSA_PAD_PADDED 192
#define RSA_LEGACY_BLOCK 255
#define RSA_LEGACY_MAX_DATA (RSA_LEGACY_BLOCK - 20)
#define RSA_MAX_PEM_BYTES 16384

typedef enum {
    MT_RSA_OK = 0,
    MT_RSA_RETRY,        /* RSA_PAD: key_aes_encrypted >= modulus; draw a new temp_key */
    MT_RSA_ERR_KEY,      /* not a 2048-bit RSA key (of the needed kind) */
    MT_RSA_ERR_LENGTH,   /* data or ciphertext of a wrong length */
    MT_RSA_ERR_RANGE,    /* ciphertext not below the modulus */
    MT_RSA_ERR_HASH,     /* RSA_PAD: the SHA256 inside does not match */
    MT_RSA_ERR_PADDING,  /* legacy: the decrypted number has more than 255 bytes */
    MT_RSA_ERR_INTERNAL  /* allocation or OpenSSL failure */
} mt_rsa_status;

/* An RSA key from PEM text, or NULL. The public reader also takes a private key (and uses its
 * public half). Free with EVP_PKEY_free. Parsed keys are cached by the SHA-256 of the PEM (the
 * 8 last used; parsing costs more than a third of a decryption), and shared: never modify one. */
EVP_PKEY *rsa_public_from_pem(const uint8_t *pem, size_t len);
EVP_PKEY *rsa_private_from_pem(const uint8_t *pem, size_t len);

/* The 64 lower-order bits of SHA1 of the bare TL rsa_public_key n:bytes e:bytes, read as a
 * little-endian signed 64-bit integer (the TL long that resPQ lists). Returns 0 or -1. */
int rsa_fingerprint(const EVP_PKEY *key, int64_t *out);

/* RSA_PAD(data): data at most 144 bytes; padding holds 192 - len random bytes; temp_key 32
 * random bytes. MT_RSA_RETRY asks for another temp_key (same padding). */
mt_rsa_status rsa_pad_encrypt(EVP_PKEY *key, const uint8_t *data, size_t len,
                              const uint8_t *padding, const uint8_t temp_key[32],
                              uint8_t out[RSA_MODULUS_BYTES]);

/* Legacy: RSA(SHA1(data) + data + random); data at most 235 bytes, random 235 - len bytes. */
mt_rsa_status rsa_legacy_encrypt(EVP_PKEY *key, const uint8_t *data, size_t len,
                                 const uint8_t *random, uint8_t out[RSA_MODULUS_BYTES]);

/* Server side. enc is the big-endian ciphertext of at most 256 bytes (shorter is left-padded).
 * RSA_PAD gives data_with_padding (192 bytes) after checking the SHA256 inside; legacy gives
 * the 255 bytes SHA1(data) + data + padding (the caller knows where data ends). */
mt_rsa_status rsa_pad_decrypt(EVP_PKEY *key, const uint8_t *enc, size_t len,
                              uint8_t out[RSA_PAD_PADDED]);
mt_rsa_status rsa_legacy_decrypt(EVP_PKEY *key, const uint8_t *enc, size_t len,
                                 uint8_t out[RSA_LEGACY_BLOCK]);

/* Server side, either padding with one private-key operation (clients in the field send both,
 * and the operation is the whole cost): RSA_PAD is tried first on the decrypted number (its
 * SHA256 checked), then the legacy layout (leading zero byte). On MT_RSA_OK, *padding tells
 * which: out holds RSA_PAD's 192 bytes of data_with_padding, or legacy's 255 bytes. When neither
 * fits the result is MT_RSA_ERR_PADDING. */
typedef enum { MT_RSA_PADDING_PAD = 1, MT_RSA_PADDING_LEGACY = 2 } mt_rsa_padding;

mt_rsa_status rsa_decrypt_any(EVP_PKEY *key, const uint8_t *enc, size_t len,
                              mt_rsa_padding *padding, uint8_t out[RSA_LEGACY_BLOCK]);

/* A new key pair with e = 65537, as PEM: the private key in PKCS#1 ("RSA PRIVATE KEY") and the
 * public key as Telegram publishes them ("RSA PUBLIC KEY"). Free both with OPENSSL_free.
 * Returns 0 or -1. */
int rsa_generate(unsigned bits, char **private_pem, size_t *private_len, char **public_pem,
                 size_t *public_len);

#endif
