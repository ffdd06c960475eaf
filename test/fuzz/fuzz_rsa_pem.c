/* libFuzzer: PEM key parsing (public and private readers) and fingerprints of what parses. */
#include <stdlib.h>

#include "rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t fp;
    EVP_PKEY *pub = rsa_public_from_pem(data, size);
    if (pub) rsa_fingerprint(pub, &fp);
    EVP_PKEY_free(pub);
    EVP_PKEY *priv = rsa_private_from_pem(data, size);
    if (priv) rsa_fingerprint(priv, &fp);
    EVP_PKEY_free(priv);
    return 0;
}
