/* NIF functions of the tl area: the table entries and the load hook used by mtproto_nif.c. */
#ifndef MTPROTO_TL_NIF_H
#define MTPROTO_TL_NIF_H

#include "nif_common.h"
#include "tl_schema.h"

/* The schema and its atoms, built once at load from <priv_dir>/schema and only read after. */
typedef struct {
    tl_schema *schema;
    ERL_NIF_TERM *ctor_atoms;  /* per constructor / method */
    ERL_NIF_TERM *field_atoms; /* per distinct field name (tl_param.name_id) */
    ERL_NIF_TERM *atom_keys;   /* open addressing: atom -> constructor (name lookups) */
    int32_t *atom_ctors;
    uint32_t atom_mask;
    ERL_NIF_TERM atom_underscore; /* `_`, the constructor key of a term */
    /* Per constructor i, at key_order[first_param + i]: its nparams + 1 keys (0 = `_`, j + 1 =
     * param j) in term order, so that maps are built from already sorted keys. */
    uint16_t *key_order;
    /* (constructor, field atom) -> param index, open addressing (see tl_nif_param_of). */
    ERL_NIF_TERM *pk_atoms;
    int32_t *pk_ctors;
    uint16_t *pk_params;
    uint32_t pk_mask;
} tl_nif_state;

extern tl_nif_state tl_state;

/* The constructor a term's `_` atom names (api.tl's where mtproto.tl has the same name), or -1. */
int32_t tl_nif_ctor_of_atom(ERL_NIF_TERM atom);

/* The index of constructor ci's param named by the atom `key`, or -1. */
int tl_nif_param_of(int32_t ci, ERL_NIF_TERM key);

/* Makes an error-reason atom from a constant name. */
ERL_NIF_TERM tl_nif_atom(ErlNifEnv *env, const char *name);

/* A binary holding a C string (schema text for reasons and Schema entries). */
ERL_NIF_TERM tl_nif_text(ErlNifEnv *env, const char *text);

ERL_NIF_TERM nif_tl_decode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_tl_encode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_tl_schema_layer(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_tl_schema_entries(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/* Entries of the NIF function table, each followed by a comma; stubs in lib/mtproto_nif_tl.hrl.
 * tl_decode(Bin, ResultOfMethod | nil, GzipLimit, SliceWork) and tl_encode(Term, ResultOfMethod |
 * nil, SliceWork) (nil: any boxed value; a method: a value of its return type) run on
 * the calling scheduler while the work stays under SliceWork (0: no limit) and redo it on a
 * dirty CPU scheduler past that. */
#define TL_NIF_FUNCS                                                            \
    {"tl_decode", 4, nif_tl_decode, 0},                                         \
    {"tl_encode", 3, nif_tl_encode, 0},                                         \
    {"tl_schema_layer", 0, nif_tl_schema_layer, 0},                             \
    {"tl_schema_entries", 0, nif_tl_schema_entries, ERL_NIF_DIRTY_JOB_CPU_BOUND},

/* Called from load() and upgrade(): parses <priv_dir>/schema once (kept across upgrades).
 * load_info is #{abi => Int, priv_dir => Binary}. Returns 0 on success. */
int tl_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info);

/* Called from unload(): frees the schema when the last library instance goes. */
void tl_nif_unload(void);

#endif
