/* SHA-1 and SHA-256 of up to three concatenated pieces, over OpenSSL EVP with the algorithms
 * fetched once (OpenSSL 3's one-shot SHA1()/SHA256() fetch on every call, which costs more
 * than hashing a short message). */
#ifndef MTPROTO_DIGEST_H
#define MTPROTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA1_BYTES 20
#define DIGEST_SHA256_BYTES 32

typedef enum { DIGEST_SHA1, DIGEST_SHA256 } digest_kind;

/* out = H(a + b + c); unused pieces are NULL with length 0. Returns 0, or -1 on failure. */
int digest3(digest_kind kind, const void *a, size_t a_len, const void *b, size_t b_len,
            const void *c, size_t c_len, uint8_t *out);

#define sha1_of(data, len, out) digest3(DIGEST_SHA1, data, len, NULL, 0, NULL, 0, out)
#define sha256_of(data, len, out) digest3(DIGEST_SHA256, data, len, NULL, 0, NULL, 0, out)

#endif
