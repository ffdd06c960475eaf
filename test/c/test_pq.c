/* pq factorization: products of random 31- and 32-bit primes, small and edge cases, inputs that
 * are not products of two distinct primes; primality against trial division. */
#include <time.h>

#include "ctest.h"
#include "pq.h"
#include "vectors.h"

static int trial_prime(uint64_t n) {
    if (n < 2) return 0;
    for (uint64_t d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

static uint64_t random_prime(int bits) {
    uint64_t n;
    do {
        test_random((unsigned char *)&n, sizeof n);
        n = (n >> (64 - bits)) | 1ull << (bits - 1) | 1;
    } while (!pq_is_prime(n));
    return n;
}

int main(void) {
    uint64_t p, q;
    for (uint64_t n = 0; n < 20000; n++) CHECK(pq_is_prime(n) == trial_prime(n));
    CHECK(pq_is_prime(18446744073709551557ull));  /* largest 64-bit prime */
    CHECK(!pq_is_prime(3215031751ull));           /* strong pseudoprime to bases 2, 3, 5, 7 */
    CHECK(!pq_is_prime(3825123056546413051ull));  /* ... to bases 2..23 */

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = 0, n = 300;
    for (int i = 0; i < n; i++) {
        int bits = 31 + (i & 1);
        uint64_t a = random_prime(bits), b;
        do b = random_prime(bits); while (b == a);
        uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
        ok += pq_factorize(a * b, &p, &q) == PQ_OK && p == lo && q == hi;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(ok == n);
    printf("  %d products of two 31/32-bit primes: %.0f us each\n", n,
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n / 1e3);

    CHECK(pq_factorize(0x17ED48941A08F981ull, &p, &q) == PQ_OK);
    CHECK(p == 0x494C553B && q == 0x53911073);
    CHECK(pq_factorize(6, &p, &q) == PQ_OK && p == 2 && q == 3);
    CHECK(pq_factorize(15, &p, &q) == PQ_OK && p == 3 && q == 5);
    CHECK(pq_factorize(2ull * 4294967291ull, &p, &q) == PQ_OK && p == 2 && q == 4294967291ull);
    CHECK(pq_factorize(4294967291ull * 4294967279ull, &p, &q) == PQ_OK && p == 4294967279ull);
    CHECK(pq_factorize(3ull * 6148914691236517199ull, &p, &q) == PQ_OK); /* one tiny factor */

    CHECK(pq_factorize(0, &p, &q) == PQ_ERR_TOO_SMALL);
    CHECK(pq_factorize(5, &p, &q) == PQ_ERR_TOO_SMALL);
    CHECK(pq_factorize(4294967291ull, &p, &q) == PQ_ERR_PRIME);
    CHECK(pq_factorize(18446744073709551557ull, &p, &q) == PQ_ERR_PRIME);
    CHECK(pq_factorize(9, &p, &q) == PQ_ERR_NOT_SEMIPRIME);
    CHECK(pq_factorize(4294967291ull * 4294967291ull, &p, &q) == PQ_ERR_NOT_SEMIPRIME);
    CHECK(pq_factorize(3ull * 5 * 7, &p, &q) == PQ_ERR_NOT_SEMIPRIME);
    CHECK(pq_factorize(UINT64_MAX, &p, &q) == PQ_ERR_NOT_SEMIPRIME);
    CHECK(pq_factorize(1ull << 63, &p, &q) == PQ_ERR_NOT_SEMIPRIME);
    return ctest_summary("pq");
}
