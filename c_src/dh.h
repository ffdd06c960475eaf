/* Diffie-Hellman math of the auth-key handshake and the checks of the MTProto security
 * guidelines: dh_prime is a 2048-bit safe prime, g in 2..7 generates the subgroup of order
 * (p-1)/2 (a condition on p mod 4g), g_a/g_b lie in [2^1984, p - 2^1984]. Big numbers are
 * big-endian byte strings. Proven primes are cached (thread safe). */
#ifndef MTPROTO_DH_H
#define MTPROTO_DH_H

#include <stddef.h>
#include <stdint.h>

#define DH_PRIME_BYTES 256
#define DH_MAX_OPERAND_BYTES 512 /* mod_pow operands, 4096 bits */

typedef enum {
    DH_OK = 0,
    DH_ERR_PRIME_SIZE,     /* not 2^2047 < p < 2^2048 */
    DH_ERR_BAD_G,          /* g outside 2..7 */
    DH_ERR_G_NOT_RESIDUE,  /* g does not generate the subgroup of order (p-1)/2 */
    DH_ERR_NOT_SAFE_PRIME, /* p or (p-1)/2 composite */
    DH_ERR_RANGE,          /* g_x outside [2^1984, p - 2^1984] (or not 1 < g_x < p-1) */
    DH_ERR_INTERNAL        /* allocation or OpenSSL failure */
} dh_status;

/* The server's current dh_prime as published in the MTProto documentation: a 2048-bit safe
 * prime for which g = 3, 4 and 7 pass the residue condition. The cache starts with it. */
const uint8_t *dh_builtin_prime(void);

/* Full check of (p, g). With use_cache, a p proven before (or the built-in one) skips the
 * primality tests; without it, they always run (about 100 ms). */
dh_status dh_check_prime(const uint8_t *p, size_t p_len, int g, int use_cache);

/* 1 < g_x < p - 1 and 2^(2048-64) <= g_x <= p - 2^(2048-64). */
dh_status dh_check_range(const uint8_t *g_x, size_t g_x_len, const uint8_t *p, size_t p_len);

/* base^exp mod mod, written to out as exactly mod_len bytes (left-padded with zeros), constant
 * time in exp for odd moduli. Each operand at most DH_MAX_OPERAND_BYTES. Returns 0, or -1 when
 * mod is zero, an operand is too long, or OpenSSL fails. */
int dh_mod_pow(const uint8_t *base, size_t base_len, const uint8_t *exp, size_t exp_len,
               const uint8_t *mod, size_t mod_len, uint8_t *out);

/* Forgets every proven prime but the built-in one (tests). */
void dh_cache_reset(void);

#endif
