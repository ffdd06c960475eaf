/* Shared helpers for the NIF glue files (c_src/ *_nif.c). Plain-C core files never include this. */
#ifndef MTPROTO_NIF_COMMON_H
#define MTPROTO_NIF_COMMON_H

#include <erl_nif.h>
#include <stddef.h>
#include <stdint.h>

/* Bumped whenever the NIF's function table changes; lib/mtproto_nif.erl passes the same number. */
#define MTPROTO_NIF_ABI 4

/* Work above this many bytes in one call is moved to a dirty CPU scheduler (or yields). */
#define MTPROTO_MAX_BYTES_PER_SLICE (64 * 1024)

extern ERL_NIF_TERM atom_ok;
extern ERL_NIF_TERM atom_error;
extern ERL_NIF_TERM atom_true;
extern ERL_NIF_TERM atom_false;
extern ERL_NIF_TERM atom_nil;
extern ERL_NIF_TERM atom_undefined;
extern ERL_NIF_TERM atom_enomem;

/* {error, Reason} */
static inline ERL_NIF_TERM mt_error(ErlNifEnv *env, ERL_NIF_TERM reason) {
    return enif_make_tuple2(env, atom_error, reason);
}

/* {ok, Value} */
static inline ERL_NIF_TERM mt_ok(ErlNifEnv *env, ERL_NIF_TERM value) {
    return enif_make_tuple2(env, atom_ok, value);
}

/* Looks up an existing atom or creates it: for names known at build/load time only, never wire data. */
static inline ERL_NIF_TERM mt_atom(ErlNifEnv *env, const char *name) {
    ERL_NIF_TERM atom;
    if (enif_make_existing_atom(env, name, &atom, ERL_NIF_LATIN1)) return atom;
    return enif_make_atom(env, name);
}

/* A fresh binary term of `size` bytes; *data points at its bytes. NULL data on failure. */
static inline ERL_NIF_TERM mt_new_binary(ErlNifEnv *env, size_t size, unsigned char **data) {
    ERL_NIF_TERM term;
    *data = enif_make_new_binary(env, size, &term);
    return term;
}

/* Tells the scheduler how much of a timeslice `done` of `total` units of work took. */
static inline void mt_consume_timeslice(ErlNifEnv *env, size_t done, size_t total) {
    if (total == 0) return;
    int percent = (int)((done * 100) / total);
    if (percent < 1) percent = 1;
    if (percent > 100) percent = 100;
    enif_consume_timeslice(env, percent);
}

#endif
