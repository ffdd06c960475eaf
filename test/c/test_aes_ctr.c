/* AES-256-CTR: the NIST SP 800-38A F.5.5 known answer, and chunking independence. */
#include "aes_ctr.h"
#include "ctest.h"

int main(void) {
    unsigned char key[32], iv[16], pt[64], ct[64], out[64];
    ctest_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key, 32);
    ctest_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, 16);
    ctest_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
              "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710", pt, 64);
    ctest_hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
              "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6", ct, 64);

    aes_ctr *ctr = aes_ctr_new(key, iv);
    CHECK(ctr != NULL);
    CHECK(aes_ctr_apply(ctr, pt, out, 64) == 0);
    CHECK_MEM(out, ct, 64);
    aes_ctr_free(ctr);

    /* The same stream fed in odd-sized pieces gives the same bytes. */
    ctr = aes_ctr_new(key, iv);
    size_t sizes[] = {1, 7, 16, 3, 37}, off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        CHECK(aes_ctr_apply(ctr, pt + off, out + off, sizes[i]) == 0);
        off += sizes[i];
    }
    CHECK(off == 64);
    CHECK_MEM(out, ct, 64);
    aes_ctr_free(ctr);
    aes_ctr_free(NULL);
    return ctest_summary("aes_ctr");
}
