/* AES-256-IGE: dispatch between the AES-NI path (aes_ige_ni.c) and the portable path below,
 * which runs one OpenSSL aes-256-ecb call per block (aes_impl.h). */
#include "aes_ige.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aes_ige_ni.h"

/* One generic chain for both directions: block i goes through
 *     out = AES(in ^ before) ^ after;  before = out;  after = in;
 * where, encrypting, before/after start as iv[0..16)/iv[16..32) (previous ciphertext/plaintext)
 * and, decrypting, the other way round. */
static int portable_crypt(int encrypt, const uint8_t key[32], uint8_t iv[32], const uint8_t *in,
                          uint8_t *out, size_t len) {
    uint8_t before[16], after[16], block[16], next_after[16];
    int ok = 0, outl = 0;
    EVP_CIPHER_CTX *ctx = aes_ecb_new(key, encrypt);
    if (!ctx) return -1;

    memcpy(before, encrypt ? iv : iv + 16, 16);
    memcpy(after, encrypt ? iv + 16 : iv, 16);
    for (size_t off = 0; off < len; off += 16) {
        memcpy(next_after, in + off, 16); /* in may alias out */
        for (int j = 0; j < 16; j++) block[j] = next_after[j] ^ before[j];
        if (EVP_CipherUpdate(ctx, block, &outl, block, 16) != 1 || outl != 16) goto done;
        for (int j = 0; j < 16; j++) out[off + j] = block[j] ^ after[j];
        memcpy(before, out + off, 16);
        memcpy(after, next_after, 16);
    }
    memcpy(encrypt ? iv : iv + 16, before, 16);
    memcpy(encrypt ? iv + 16 : iv, after, 16);
    ok = 1;
done:
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(before, sizeof before);
    OPENSSL_cleanse(after, sizeof after);
    OPENSSL_cleanse(next_after, sizeof next_after);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int aes_ige_crypt(aes_impl impl, int encrypt, const uint8_t key[32], uint8_t iv[32],
                  const uint8_t *in, uint8_t *out, size_t len) {
    if (len % 16 != 0 || !aes_impl_available(impl)) return -1;
    if (len == 0) return 0;
    if (impl == AES_AESNI) {
        if (encrypt)
            aes_ige_ni_encrypt(key, iv, in, out, len / 16);
        else
            aes_ige_ni_decrypt(key, iv, in, out, len / 16);
        return 0;
    }
    return portable_crypt(encrypt, key, iv, in, out, len);
}

int aes_ige_encrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                    size_t len) {
    return aes_ige_crypt(aes_impl_default(), 1, key, iv, in, out, len);
}

int aes_ige_decrypt(const uint8_t key[32], uint8_t iv[32], const uint8_t *in, uint8_t *out,
                    size_t len) {
    return aes_ige_crypt(aes_impl_default(), 0, key, iv, in, out, len);
}
