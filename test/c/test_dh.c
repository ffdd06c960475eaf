/* DH checks: safe primes accepted (the built-in prime, RFC 3526's 2048-bit MODP prime),
 * composite and non-safe primes refused, the residue condition per g, the cache, the range
 * check at its edges, and mod_pow against small known answers and leading zeros. */
#include <stdlib.h>
#include <time.h>

#include <openssl/bn.h>

#include "ctest.h"
#include "dh.h"
#include "vectors.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void bn_bytes(const BIGNUM *bn, unsigned char out[256]) { BN_bn2binpad(bn, out, 256); }

static void primes(void) {
    unsigned char p[256], q[256];
    const unsigned char *builtin = dh_builtin_prime();
    dh_cache_reset();
    double t = now();
    CHECK(dh_check_prime(builtin, 256, 3, 0) == DH_OK);
    printf("  safe-prime proof of the built-in prime: %.0f ms\n", (now() - t) * 1e3);
    t = now();
    CHECK(dh_check_prime(builtin, 256, 3, 1) == DH_OK);
    printf("  the same from the cache: %.3f ms\n", (now() - t) * 1e3);
    /* g conditions for the built-in prime: p mod 8 = 3, mod 3 = 2, mod 5 = 3, mod 24 = 11, mod 7 = 6 */
    int want[8] = {0, 0, DH_ERR_G_NOT_RESIDUE, DH_OK, DH_OK, DH_ERR_G_NOT_RESIDUE,
                   DH_ERR_G_NOT_RESIDUE, DH_OK};
    for (int g = 2; g <= 7; g++) CHECK(dh_check_prime(builtin, 256, g, 1) == (dh_status)want[g]);
    CHECK(dh_check_prime(builtin, 256, 1, 1) == DH_ERR_BAD_G);
    CHECK(dh_check_prime(builtin, 256, 8, 1) == DH_ERR_BAD_G);

    /* RFC 3526 group 14 (a safe prime, p = 7 mod 8 so g = 2 passes); proven, then cached */
    BIGNUM *rfc = BN_get_rfc3526_prime_2048(NULL);
    bn_bytes(rfc, p);
    CHECK(dh_check_prime(p, 256, 2, 1) == DH_OK);
    t = now();
    CHECK(dh_check_prime(p, 256, 2, 1) == DH_OK);
    CHECK(now() - t < 0.005);
    dh_cache_reset();
    t = now();
    CHECK(dh_check_prime(p, 256, 4, 1) == DH_OK);
    CHECK(now() - t > 0.005); /* forgotten: proven again */

    /* leading zero bytes are fine; a shorter or longer number is not 2048 bits */
    unsigned char padded[258] = {0};
    memcpy(padded + 2, p, 256);
    CHECK(dh_check_prime(padded, 258, 2, 1) == DH_OK);
    CHECK(dh_check_prime(p + 1, 255, 2, 1) == DH_ERR_PRIME_SIZE);
    CHECK(dh_check_prime(p, 0, 2, 1) == DH_ERR_PRIME_SIZE);
    memcpy(q, p, 256);
    q[0] &= 0x7f;
    CHECK(dh_check_prime(q, 256, 2, 1) == DH_ERR_PRIME_SIZE);
    BIGNUM *rfc3072 = BN_get_rfc3526_prime_3072(NULL);
    unsigned char big[384];
    BN_bn2binpad(rfc3072, big, 384);
    CHECK(dh_check_prime(big, 384, 2, 1) == DH_ERR_PRIME_SIZE);

    /* composites: built-in + 4 is divisible by 3 (and 7 mod 8); an even number */
    BIGNUM *c = BN_bin2bn(builtin, 256, NULL);
    BN_add_word(c, 4);
    CHECK(BN_mod_word(c, 3) == 0);
    bn_bytes(c, q);
    CHECK(dh_check_prime(q, 256, 2, 1) == DH_ERR_NOT_SAFE_PRIME);
    CHECK(dh_check_prime(q, 256, 4, 0) == DH_ERR_NOT_SAFE_PRIME);
    BN_add_word(c, 1);
    bn_bytes(c, q);
    CHECK(dh_check_prime(q, 256, 4, 0) == DH_ERR_NOT_SAFE_PRIME);
    /* a prime p whose (p-1)/2 is composite: p = 2 * 3 * k + 1 */
    BIGNUM *r = BN_new(), *three = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    BN_set_word(three, 3);
    int found = 0;
    for (int tries = 0; tries < 5000 && !found; tries++) {
        BN_rand(r, 2048 - 3, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ANY); /* r ~ 2^2045 */
        BN_mul_word(r, 6);
        BN_add_word(r, 1); /* (r-1)/2 = 3k: never prime */
        if (BN_num_bits(r) == 2048 && BN_check_prime(r, ctx, NULL) == 1) found = 1;
    }
    CHECK(found);
    bn_bytes(r, q);
    CHECK(dh_check_prime(q, 256, 4, 0) == DH_ERR_NOT_SAFE_PRIME);
    BN_free(r), BN_free(three), BN_free(c), BN_free(rfc), BN_free(rfc3072), BN_CTX_free(ctx);
}

static void range(void) {
    const unsigned char *p = dh_builtin_prime();
    BIGNUM *pb = BN_bin2bn(p, 256, NULL), *lo = BN_new(), *x = BN_new();
    unsigned char buf[256], one = 1, zero = 0;
    BN_set_bit(lo, 2048 - 64);
    struct { int delta_from_lo; int from_top; int ok; } cases[] = {
        {-1, 0, 0}, {0, 0, 1}, {1, 0, 1}, /* around 2^1984 */
        {1, 1, 0}, {0, 1, 1}, {-1, 1, 1}, /* around p - 2^1984 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].from_top)
            BN_sub(x, pb, lo);
        else
            BN_copy(x, lo);
        if (cases[i].delta_from_lo > 0) BN_add_word(x, 1);
        if (cases[i].delta_from_lo < 0) BN_sub_word(x, 1);
        bn_bytes(x, buf);
        CHECK(dh_check_range(buf, 256, p, 256) == (cases[i].ok ? DH_OK : DH_ERR_RANGE));
    }
    CHECK(dh_check_range(&one, 1, p, 256) == DH_ERR_RANGE);
    CHECK(dh_check_range(&zero, 1, p, 256) == DH_ERR_RANGE);
    CHECK(dh_check_range(NULL, 0, p, 256) == DH_ERR_RANGE);
    CHECK(dh_check_range(p, 256, p, 256) == DH_ERR_RANGE);
    BN_sub_word(pb, 1);
    bn_bytes(pb, buf);
    CHECK(dh_check_range(buf, 256, p, 256) == DH_ERR_RANGE);
    BN_free(pb), BN_free(lo), BN_free(x);
}

static uint64_t small_pow(uint64_t b, uint64_t e, uint64_t m) {
    unsigned __int128 r = 1 % m, x = b % m;
    for (; e; e >>= 1, x = x * x % m)
        if (e & 1) r = r * x % m;
    return (uint64_t)r;
}

static void mod_pow(void) {
    unsigned char out[256], base[8], exp[8], mod[8];
    for (int i = 0; i < 200; i++) {
        uint64_t b, e, m;
        test_random((unsigned char *)&b, 8), test_random((unsigned char *)&e, 8);
        test_random((unsigned char *)&m, 8);
        m |= (uint64_t)(i & 1); /* odd and even moduli */
        if (m == 0) m = 7;
        for (int j = 0; j < 8; j++)
            base[j] = (unsigned char)(b >> (56 - 8 * j)), exp[j] = (unsigned char)(e >> (56 - 8 * j)),
            mod[j] = (unsigned char)(m >> (56 - 8 * j));
        CHECK(dh_mod_pow(base, 8, exp, 8, mod, 8, out) == 0);
        uint64_t want = small_pow(b, e, m), got = 0;
        for (int j = 0; j < 8; j++) got = got << 8 | out[j];
        CHECK(got == want);
    }
    /* the result always has the modulus's size: 1^x mod p is 255 zero bytes and a 1 */
    unsigned char one = 1, x[256];
    test_random(x, 256);
    CHECK(dh_mod_pow(&one, 1, x, 256, dh_builtin_prime(), 256, out) == 0);
    int zeros = 1;
    for (int i = 0; i < 255; i++) zeros &= out[i] == 0;
    CHECK(zeros && out[255] == 1);
    unsigned char zero_mod[4] = {0};
    CHECK(dh_mod_pow(&one, 1, x, 8, zero_mod, 4, out) == -1);
    CHECK(dh_mod_pow(&one, 1, x, 8, zero_mod, 0, out) == -1);
    static unsigned char huge[DH_MAX_OPERAND_BYTES + 1];
    huge[0] = 1;
    CHECK(dh_mod_pow(&one, 1, huge, sizeof huge, dh_builtin_prime(), 256, out) == -1);
}

int main(void) {
    primes();
    range();
    mod_pow();
    return ctest_summary("dh");
}
