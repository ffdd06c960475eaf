/* libFuzzer target: a detecting server's decoder, from the first bytes on (see fuzz_framing.h). */
#include "fuzz_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_framing_run(data, size, FR_DETECT, 1);
}
