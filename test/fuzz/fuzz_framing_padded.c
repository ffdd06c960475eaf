/* libFuzzer target: the padded framing's decoder, both roles (see fuzz_framing.h). */
#include "fuzz_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_framing_run(data, size, FR_PADDED, 0);
}
