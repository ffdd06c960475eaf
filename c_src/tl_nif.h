/* NIF functions of the tl area: the table entries and the load hook used by mtproto_nif.c. */
#ifndef MTPROTO_TL_NIF_H
#define MTPROTO_TL_NIF_H

#include "nif_common.h"

/* Entries of the NIF function table, each followed by a comma, e.g.
 *   {"aes_ige_encrypt", 3, nif_aes_ige_encrypt, 0},
 * Every entry needs a stub of the same name and arity in lib/mtproto_nif.erl. */
#define TL_NIF_FUNCS

/* Called once from load() and upgrade(): create atoms and resource types (ERL_NIF_RT_CREATE |
 * ERL_NIF_RT_TAKEOVER). load_info is #{abi => Int, priv_dir => Binary}. Returns 0 on success. */
int tl_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info);

#endif
