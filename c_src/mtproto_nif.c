/* The NIF library's entry file: the function table, atoms shared by every area, load/upgrade.
 * Each area (crypto, tl, framing) keeps its NIF functions and resource types in <area>_nif.c
 * and lists its table entries in <area>_nif.h. */
#include "nif_common.h"
#include "crypto_nif.h"
#include "framing_nif.h"
#include "tl_nif.h"

ERL_NIF_TERM atom_ok;
ERL_NIF_TERM atom_error;
ERL_NIF_TERM atom_true;
ERL_NIF_TERM atom_false;
ERL_NIF_TERM atom_nil;
ERL_NIF_TERM atom_undefined;
ERL_NIF_TERM atom_enomem;

static ERL_NIF_TERM nif_abi_version(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return enif_make_int(env, MTPROTO_NIF_ABI);
}

static ErlNifFunc nif_funcs[] = {
    {"abi_version", 0, nif_abi_version, 0},
    CRYPTO_NIF_FUNCS
    TL_NIF_FUNCS
    FRAMING_NIF_FUNCS
};

static int load_all(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    /* load_info is #{abi => Int, priv_dir => Binary}; a stale .so refuses to load. */
    ERL_NIF_TERM abi_term;
    int abi;
    if (!enif_is_map(env, load_info)) return 1;
    if (!enif_get_map_value(env, load_info, enif_make_atom(env, "abi"), &abi_term)) return 1;
    if (!enif_get_int(env, abi_term, &abi) || abi != MTPROTO_NIF_ABI) return 1;

    atom_ok = enif_make_atom(env, "ok");
    atom_error = enif_make_atom(env, "error");
    atom_true = enif_make_atom(env, "true");
    atom_false = enif_make_atom(env, "false");
    atom_nil = enif_make_atom(env, "nil");
    atom_undefined = enif_make_atom(env, "undefined");
    atom_enomem = enif_make_atom(env, "enomem");

    if (crypto_nif_load(env, load_info) != 0) return 2;
    if (tl_nif_load(env, load_info) != 0) return 3;
    if (framing_nif_load(env, load_info) != 0) return 4;
    return 0;
}

static int load(ErlNifEnv *env, void **priv_data, ERL_NIF_TERM load_info) {
    return load_all(env, load_info);
}

static int upgrade(ErlNifEnv *env, void **priv_data, void **old_priv_data, ERL_NIF_TERM load_info) {
    return load_all(env, load_info);
}

static void unload(ErlNifEnv *env, void *priv_data) {
    tl_nif_unload();
}

ERL_NIF_INIT(mtproto_nif, nif_funcs, load, NULL, upgrade, unload)
