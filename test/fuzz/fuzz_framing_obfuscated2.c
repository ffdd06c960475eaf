/* libFuzzer target: obfuscated2 decoders (init, then abridged/intermediate/padded frames), both
 * roles; the framing comes from the input's second byte (see fuzz_framing.h). */
#include "fuzz_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const fr_kind kinds[] = {FR_ABRIDGED, FR_INTERMEDIATE, FR_PADDED};
    if (size < 2) return 0;
    uint8_t *copy = malloc(size - 1);
    copy[0] = data[0]; /* control byte; data[1] picks the framing */
    memcpy(copy + 1, data + 2, size - 2);
    fuzz_framing_run(copy, size - 1, kinds[data[1] % 3], 1);
    free(copy);
    return 0;
}
