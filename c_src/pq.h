/* Factorization of the handshake's pq (a product of two distinct primes below 2^64) by
 * Pollard-Brent rho in 64-bit Montgomery arithmetic; deterministic Miller-Rabin for primality. */
#ifndef MTPROTO_PQ_H
#define MTPROTO_PQ_H

#include <stdint.h>

typedef enum {
    PQ_OK = 0,
    PQ_ERR_TOO_SMALL,     /* pq < 6 */
    PQ_ERR_PRIME,         /* pq itself is prime */
    PQ_ERR_NOT_SEMIPRIME, /* not the product of two distinct primes */
    PQ_ERR_GAVE_UP        /* no factor found within the step budget (not seen in practice) */
} pq_status;

/* pq = p * q with p < q both prime. */
pq_status pq_factorize(uint64_t pq, uint64_t *p, uint64_t *q);

/* Deterministic for every 64-bit n (Miller-Rabin with the first twelve prime bases). */
int pq_is_prime(uint64_t n);

#endif
