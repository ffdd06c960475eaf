/* NIF glue of the framing area: argument checks and term building around the plain-C core. */
#include "framing_nif.h"

int framing_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    return 0;
}
