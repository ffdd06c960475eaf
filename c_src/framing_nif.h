/* NIF functions of the framing area: the table entries and the load hook used by mtproto_nif.c. */
#ifndef MTPROTO_FRAMING_NIF_H
#define MTPROTO_FRAMING_NIF_H

#include "nif_common.h"

ERL_NIF_TERM nif_framing_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_framing_start(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_framing_info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_framing_encode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_framing_encode_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_framing_decode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/* Entries of the NIF function table, each followed by a comma. Each has a stub of the same name
 * and arity in lib/mtproto_nif_framing.hrl. encode/decode move to a dirty CPU scheduler above
 * MTPROTO_MAX_BYTES_PER_SLICE bytes. */
#define FRAMING_NIF_FUNCS                                                   \
    {"framing_new", 8, nif_framing_new, 0},                                 \
    {"framing_start", 1, nif_framing_start, 0},                             \
    {"framing_info", 1, nif_framing_info, 0},                               \
    {"framing_encode", 4, nif_framing_encode, 0},                           \
    {"framing_encode_quick_ack", 2, nif_framing_encode_quick_ack, 0},       \
    {"framing_decode", 2, nif_framing_decode, 0},

/* Called once from load() and upgrade(): create atoms and resource types (ERL_NIF_RT_CREATE |
 * ERL_NIF_RT_TAKEOVER). load_info is #{abi => Int, priv_dir => Binary}. Returns 0 on success. */
int framing_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info);

#endif
