/* NIF glue of the tl area: argument checks and term building around the plain-C core. */
#include "tl_nif.h"

int tl_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    return 0;
}
