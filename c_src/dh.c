/* DH checks and modular exponentiation over OpenSSL BIGNUM; see dh.h. */
#include "dh.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

static const uint8_t builtin_prime[DH_PRIME_BYTES] = {
    0xC7, 0x1C, 0xAE, 0xB9, 0xC6, 0xB1, 0xC9, 0x04, 0x8E, 0x6C, 0x52, 0x2F, 0x70, 0xF1, 0x3F, 0x73,
    0x98, 0x0D, 0x40, 0x23, 0x8E, 0x3E, 0x21, 0xC1, 0x49, 0x34, 0xD0, 0x37, 0x56, 0x3D, 0x93, 0x0F,
    0x48, 0x19, 0x8A, 0x0A, 0xA7, 0xC1, 0x40, 0x58, 0x22, 0x94, 0x93, 0xD2, 0x25, 0x30, 0xF4, 0xDB,
    0xFA, 0x33, 0x6F, 0x6E, 0x0A, 0xC9, 0x25, 0x13, 0x95, 0x43, 0xAE, 0xD4, 0x4C, 0xCE, 0x7C, 0x37,
    0x20, 0xFD, 0x51, 0xF6, 0x94, 0x58, 0x70, 0x5A, 0xC6, 0x8C, 0xD4, 0xFE, 0x6B, 0x6B, 0x13, 0xAB,
    0xDC, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xF1, 0x8F, 0xAF, 0x8C, 0x59, 0x5F, 0x64,
    0x24, 0x77, 0xFE, 0x96, 0xBB, 0x2A, 0x94, 0x1D, 0x5B, 0xCD, 0x1D, 0x4A, 0xC8, 0xCC, 0x49, 0x88,
    0x07, 0x08, 0xFA, 0x9B, 0x37, 0x8E, 0x3C, 0x4F, 0x3A, 0x90, 0x60, 0xBE, 0xE6, 0x7C, 0xF9, 0xA4,
    0xA4, 0xA6, 0x95, 0x81, 0x10, 0x51, 0x90, 0x7E, 0x16, 0x27, 0x53, 0xB5, 0x6B, 0x0F, 0x6B, 0x41,
    0x0D, 0xBA, 0x74, 0xD8, 0xA8, 0x4B, 0x2A, 0x14, 0xB3, 0x14, 0x4E, 0x0E, 0xF1, 0x28, 0x47, 0x54,
    0xFD, 0x17, 0xED, 0x95, 0x0D, 0x59, 0x65, 0xB4, 0xB9, 0xDD, 0x46, 0x58, 0x2D, 0xB1, 0x17, 0x8D,
    0x16, 0x9C, 0x6B, 0xC4, 0x65, 0xB0, 0xD6, 0xFF, 0x9C, 0xA3, 0x92, 0x8F, 0xEF, 0x5B, 0x9A, 0xE4,
    0xE4, 0x18, 0xFC, 0x15, 0xE8, 0x3E, 0xBE, 0xA0, 0xF8, 0x7F, 0xA9, 0xFF, 0x5E, 0xED, 0x70, 0x05,
    0x0D, 0xED, 0x28, 0x49, 0xF4, 0x7B, 0xF9, 0x59, 0xD9, 0x56, 0x85, 0x0C, 0xE9, 0x29, 0x85, 0x1F,
    0x0D, 0x81, 0x15, 0xF6, 0x35, 0xB1, 0x05, 0xEE, 0x2E, 0x4E, 0x15, 0xD0, 0x4B, 0x24, 0x54, 0xBF,
    0x6F, 0x4F, 0xAD, 0xF0, 0x34, 0xB1, 0x04, 0x03, 0x11, 0x9C, 0xD8, 0xE3, 0xB9, 0x2F, 0xCC, 0x5B,
};

const uint8_t *dh_builtin_prime(void) { return builtin_prime; }

/* ---- cache of proven safe primes (slot 0 is the built-in prime) ---- */

#define CACHE_SLOTS 8
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t cache[CACHE_SLOTS][DH_PRIME_BYTES];
static int cache_used = 0, cache_next = 1;

static void cache_seed_locked(void) {
    if (cache_used == 0) {
        memcpy(cache[0], builtin_prime, DH_PRIME_BYTES);
        cache_used = 1;
        cache_next = 1;
    }
}

static int cache_has(const uint8_t p[DH_PRIME_BYTES]) {
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    cache_seed_locked();
    for (int i = 0; i < cache_used && !found; i++) found = memcmp(cache[i], p, DH_PRIME_BYTES) == 0;
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static void cache_add(const uint8_t p[DH_PRIME_BYTES]) {
    pthread_mutex_lock(&cache_lock);
    cache_seed_locked();
    memcpy(cache[cache_next], p, DH_PRIME_BYTES);
    if (cache_used < CACHE_SLOTS) cache_used++;
    cache_next = cache_next + 1 < CACHE_SLOTS ? cache_next + 1 : 1;
    pthread_mutex_unlock(&cache_lock);
}

void dh_cache_reset(void) {
    pthread_mutex_lock(&cache_lock);
    cache_used = 0;
    cache_seed_locked();
    pthread_mutex_unlock(&cache_lock);
}

/* ---- checks ---- */

/* Skips leading zero bytes; 1 when what is left is 256 bytes with the top bit set. */
static int is_2048_bits(const uint8_t **p, size_t *len) {
    while (*len > 0 && (*p)[0] == 0) (*p)++, (*len)--;
    return *len == DH_PRIME_BYTES && ((*p)[0] & 0x80);
}

/* The quadratic-reciprocity conditions on p mod 4g from the security guidelines. */
static int g_generates_subgroup(BIGNUM *p, int g) {
    BN_ULONG m;
    switch (g) {
    case 2: return BN_mod_word(p, 8) == 7;
    case 3: return BN_mod_word(p, 3) == 2;
    case 4: return 1;
    case 5: m = BN_mod_word(p, 5); return m == 1 || m == 4;
    case 6: m = BN_mod_word(p, 24); return m == 19 || m == 23;
    case 7: m = BN_mod_word(p, 7); return m == 3 || m == 5 || m == 6;
    }
    return 0;
}

/* p = 2q + 1 is a safe prime iff q is prime and p is prime. Given q prime (Miller-Rabin with
 * OpenSSL's default rounds), Pocklington's criterion with q > sqrt(p) proves p prime from
 * 3^(p-1) = 1 (mod p), since gcd(3^2 - 1, p) = gcd(8, p) = 1 for odd p. The Fermat test on p
 * also rejects most composites before the expensive part. Returns 1, 0, or -1 on failure. */
static int is_safe_prime(const BIGNUM *p, BN_CTX *ctx) {
    int rc = -1;
    BN_CTX_start(ctx);
    BIGNUM *q = BN_CTX_get(ctx), *pm1 = BN_CTX_get(ctx), *r = BN_CTX_get(ctx);
    BIGNUM *three = BN_CTX_get(ctx);
    if (!three) goto done;
    if (!BN_is_odd(p)) { rc = 0; goto done; }
    if (!BN_sub(pm1, p, BN_value_one()) || !BN_rshift1(q, pm1) || !BN_set_word(three, 3)) goto done;
    if (!BN_mod_exp_mont(r, three, pm1, p, ctx, NULL)) goto done;
    if (!BN_is_one(r)) { rc = 0; goto done; }
    rc = BN_check_prime(q, ctx, NULL);
done:
    BN_CTX_end(ctx);
    return rc;
}

dh_status dh_check_prime(const uint8_t *p_bytes, size_t p_len, int g, int use_cache) {
    dh_status st = DH_ERR_INTERNAL;
    if (!is_2048_bits(&p_bytes, &p_len)) return DH_ERR_PRIME_SIZE;
    if (g < 2 || g > 7) return DH_ERR_BAD_G;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_bin2bn(p_bytes, (int)p_len, NULL);
    if (!ctx || !p) goto done;
    if (!g_generates_subgroup(p, g)) { st = DH_ERR_G_NOT_RESIDUE; goto done; }
    if (use_cache && cache_has(p_bytes)) { st = DH_OK; goto done; }
    switch (is_safe_prime(p, ctx)) {
    case 1: st = DH_OK; cache_add(p_bytes); break;
    case 0: st = DH_ERR_NOT_SAFE_PRIME; break;
    default: break;
    }
done:
    BN_free(p);
    BN_CTX_free(ctx);
    return st;
}

dh_status dh_check_range(const uint8_t *g_x_bytes, size_t g_x_len, const uint8_t *p_bytes,
                         size_t p_len) {
    dh_status st = DH_ERR_INTERNAL;
    if (g_x_len > DH_MAX_OPERAND_BYTES || p_len > DH_MAX_OPERAND_BYTES) return DH_ERR_RANGE;
    BN_CTX *ctx = BN_CTX_new();
    if (!ctx) return DH_ERR_INTERNAL;
    BN_CTX_start(ctx);
    BIGNUM *g_x = BN_CTX_get(ctx), *p = BN_CTX_get(ctx), *lo = BN_CTX_get(ctx);
    BIGNUM *hi = BN_CTX_get(ctx), *pm1 = BN_CTX_get(ctx);
    if (!pm1 || !BN_bin2bn(g_x_bytes, (int)g_x_len, g_x) || !BN_bin2bn(p_bytes, (int)p_len, p))
        goto done;
    /* lo = 2^1984, hi = p - 2^1984, pm1 = p - 1 */
    if (!BN_set_word(lo, 0) || !BN_set_bit(lo, 2048 - 64) || !BN_sub(hi, p, lo) ||
        !BN_sub(pm1, p, BN_value_one()))
        goto done;
    int ok = BN_cmp(g_x, BN_value_one()) > 0 && BN_cmp(g_x, pm1) < 0 &&
             BN_cmp(g_x, lo) >= 0 && BN_cmp(g_x, hi) <= 0;
    st = ok ? DH_OK : DH_ERR_RANGE;
done:
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return st;
}

int dh_mod_pow(const uint8_t *base_bytes, size_t base_len, const uint8_t *exp_bytes,
               size_t exp_len, const uint8_t *mod_bytes, size_t mod_len, uint8_t *out) {
    int rc = -1;
    if (base_len > DH_MAX_OPERAND_BYTES || exp_len > DH_MAX_OPERAND_BYTES ||
        mod_len > DH_MAX_OPERAND_BYTES || mod_len == 0)
        return -1;
    BN_CTX *ctx = BN_CTX_new();
    if (!ctx) return -1;
    BN_CTX_start(ctx);
    BIGNUM *base = BN_CTX_get(ctx), *exp = BN_CTX_get(ctx), *mod = BN_CTX_get(ctx);
    BIGNUM *r = BN_CTX_get(ctx);
    if (!r || !BN_bin2bn(base_bytes, (int)base_len, base) ||
        !BN_bin2bn(exp_bytes, (int)exp_len, exp) || !BN_bin2bn(mod_bytes, (int)mod_len, mod))
        goto done;
    if (BN_is_zero(mod)) goto done;
    if (!BN_nnmod(base, base, mod, ctx)) goto done;
    if (BN_is_odd(mod)) {
        BN_set_flags(exp, BN_FLG_CONSTTIME);
        if (!BN_mod_exp_mont_consttime(r, base, exp, mod, ctx, NULL)) goto done;
    } else {
        if (!BN_mod_exp(r, base, exp, mod, ctx)) goto done;
    }
    if (BN_bn2binpad(r, out, (int)mod_len) != (int)mod_len) goto done;
    rc = 0;
done:
    if (exp) BN_clear(exp);
    if (r) BN_clear(r);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}
