/* pq factorization: Pollard-Brent rho with Montgomery multiplication; see pq.h. */
#include "pq.h"

typedef unsigned __int128 u128;

#define BATCH 128                    /* gcd once per BATCH steps (Brent) */
#define MAX_STEPS_PER_TRY (1u << 21) /* ~25x the expected steps for two 32-bit primes */
#define TRIES 16

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t n) { return (uint64_t)((u128)a * b % n); }

static uint64_t powmod(uint64_t a, uint64_t e, uint64_t n) {
    uint64_t r = 1 % n;
    a %= n;
    while (e) {
        if (e & 1) r = mulmod(r, a, n);
        a = mulmod(a, a, n);
        e >>= 1;
    }
    return r;
}

int pq_is_prime(uint64_t n) {
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2) return 0;
    for (unsigned i = 0; i < sizeof bases / sizeof *bases; i++)
        if (n % bases[i] == 0) return n == bases[i];
    uint64_t d = n - 1;
    int s = 0;
    while ((d & 1) == 0) d >>= 1, s++;
    for (unsigned i = 0; i < sizeof bases / sizeof *bases; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1) continue;
        int witness = 1;
        for (int r = 1; r < s && witness; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1) witness = 0;
        }
        if (witness) return 0;
    }
    return 1;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Montgomery arithmetic modulo an odd n with R = 2^64; values stay below n. */
typedef struct {
    uint64_t n, n_inv; /* n * n_inv = 1 (mod 2^64) */
} mont;

static mont mont_new(uint64_t n) {
    uint64_t inv = n; /* correct to 3 bits for odd n; each Newton step doubles that */
    for (int i = 0; i < 5; i++) inv *= 2 - n * inv;
    return (mont){n, inv};
}

/* a * b / R mod n, for a, b < n. */
static uint64_t mont_mul(const mont *m, uint64_t a, uint64_t b) {
    u128 t = (u128)a * b;
    uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64);
    uint64_t k = lo * m->n_inv;
    uint64_t kn_hi = (uint64_t)(((u128)k * m->n) >> 64);
    return hi >= kn_hi ? hi - kn_hi : hi - kn_hi + m->n;
}

static uint64_t add_mod(uint64_t a, uint64_t c, uint64_t n) {
    return a >= n - c ? a - (n - c) : a + c;
}

static uint64_t diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

/* One Pollard-Brent run with f(y) = y^2/R + c; a nontrivial factor of odd n, or 0. */
static uint64_t rho(uint64_t n, uint64_t c, uint64_t y0) {
    mont m = mont_new(n);
    uint64_t y = y0 % n, x = y, ys = y, q = 1, g = 1, steps = 0;
    c %= n;
    for (uint64_t r = 1; g == 1; r <<= 1) {
        x = y;
        for (uint64_t i = 0; i < r; i++) y = add_mod(mont_mul(&m, y, y), c, n);
        for (uint64_t k = 0; k < r && g == 1; k += BATCH) {
            ys = y;
            uint64_t lim = r - k < BATCH ? r - k : BATCH;
            for (uint64_t i = 0; i < lim; i++) {
                y = add_mod(mont_mul(&m, y, y), c, n);
                q = mont_mul(&m, q, diff(x, y));
            }
            g = gcd(q, n);
            steps += lim;
        }
        if (steps > MAX_STEPS_PER_TRY) return 0;
    }
    if (g == n) { /* the batch overshot: redo it one step at a time */
        g = 1;
        for (int i = 0; i < BATCH && g == 1; i++) {
            ys = add_mod(mont_mul(&m, ys, ys), c, n);
            g = gcd(diff(x, ys), n);
        }
    }
    return g == 1 || g == n ? 0 : g;
}

pq_status pq_factorize(uint64_t pq, uint64_t *p, uint64_t *q) {
    if (pq < 6) return PQ_ERR_TOO_SMALL;
    if (pq_is_prime(pq)) return PQ_ERR_PRIME;
    uint64_t d = 0;
    if (pq % 2 == 0)
        d = 2;
    else
        for (uint64_t t = 1; t <= TRIES && d == 0; t++) d = rho(pq, t, t + 1);
    if (d == 0) return PQ_ERR_GAVE_UP;
    uint64_t a = pq / d, b = d;
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
    }
    if (a == b || !pq_is_prime(a) || !pq_is_prime(b)) return PQ_ERR_NOT_SEMIPRIME;
    *p = a;
    *q = b;
    return PQ_OK;
}
