/* libFuzzer: factorization of any 64-bit pq a server may send; an answer must be right. */
#include <stdlib.h>
#include <string.h>

#include "pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t pq = 0, p, q;
    if (size > 8) size = 8;
    for (size_t i = 0; i < size; i++) pq = pq << 8 | data[i];
    if (pq_factorize(pq, &p, &q) == PQ_OK) {
        if (p >= q || (unsigned __int128)p * q != pq || !pq_is_prime(p) || !pq_is_prime(q))
            abort();
    }
    return 0;
}
