/* libFuzzer: the DH checks on server-supplied values (g, dh_prime, g_a) and mod_pow on them.
 * Input: g(1) | p_len(2, big-endian, at most 300) | p | g_a. */
#include <stdlib.h>
#include <string.h>

#include "dh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    int g = data[0];
    size_t p_len = ((size_t)data[1] << 8 | data[2]) % 301;
    if (size - 3 < p_len) p_len = size - 3;
    const uint8_t *p = data + 3, *g_a = p + p_len;
    size_t g_a_len = size - 3 - p_len;

    dh_status range = dh_check_range(g_a, g_a_len, p, p_len);
    if (range != DH_OK && range != DH_ERR_RANGE) abort();
    dh_check_prime(p, p_len, g % 10, 1);

    uint8_t out[DH_MAX_OPERAND_BYTES];
    if (p_len > 0 && g_a_len <= DH_MAX_OPERAND_BYTES) {
        int rc = dh_mod_pow(g_a, g_a_len, data, 3, p, p_len, out);
        int zero = 1;
        for (size_t i = 0; i < p_len; i++) zero &= p[i] == 0;
        if ((rc == 0) == zero) abort(); /* fails exactly for a zero modulus */
    }
    return 0;
}
