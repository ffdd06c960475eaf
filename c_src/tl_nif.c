/* NIF glue of the tl area: the schema loaded once at load (shared read-only by every process),
 * its atoms, and the schema description handed to MTProto.TL.Schema. Decode and encode live in
 * tl_decode_nif.c and tl_encode_nif.c. */
#include "tl_decode.h"
#include "tl_nif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tl_nif_state tl_state;
static int tl_refs; /* library instances sharing tl_state (load + upgrades) */

ERL_NIF_TERM tl_nif_atom(ErlNifEnv *env, const char *name) {
    return mt_atom(env, name);
}

static uint32_t hash_term(ERL_NIF_TERM t) {
    uint64_t x = (uint64_t)t;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x;
}

int32_t tl_nif_ctor_of_atom(ERL_NIF_TERM atom) {
    for (uint32_t h = hash_term(atom) & tl_state.atom_mask;; h = (h + 1) & tl_state.atom_mask) {
        if (tl_state.atom_ctors[h] < 0) return -1;
        if (tl_state.atom_keys[h] == atom) return tl_state.atom_ctors[h];
    }
}

static uint32_t hash_param(int32_t ci, ERL_NIF_TERM key) {
    return hash_term(key ^ ((ERL_NIF_TERM)ci * 0x9e3779b97f4a7c15ull));
}

int tl_nif_param_of(int32_t ci, ERL_NIF_TERM key) {
    for (uint32_t h = hash_param(ci, key) & tl_state.pk_mask;; h = (h + 1) & tl_state.pk_mask) {
        if (tl_state.pk_ctors[h] < 0) return -1;
        if (tl_state.pk_atoms[h] == key && tl_state.pk_ctors[h] == ci) return tl_state.pk_params[h];
    }
}

static int build_param_table(void) {
    const tl_schema *s = tl_state.schema;
    uint32_t size = 16;
    while (size < (uint32_t)s->nparams * 2) size *= 2;
    tl_state.pk_atoms = calloc(size, sizeof(ERL_NIF_TERM));
    tl_state.pk_ctors = malloc(size * sizeof(int32_t));
    tl_state.pk_params = calloc(size, sizeof(uint16_t));
    if (!tl_state.pk_atoms || !tl_state.pk_ctors || !tl_state.pk_params) return -1;
    memset(tl_state.pk_ctors, 0xff, size * sizeof(int32_t));
    tl_state.pk_mask = size - 1;
    for (int32_t i = 0; i < s->nctors; i++)
        for (int j = 0; j < s->ctors[i].nparams; j++) {
            ERL_NIF_TERM a = tl_state.field_atoms[s->params[s->ctors[i].first_param + j].name_id];
            if (tl_nif_param_of(i, a) >= 0) continue; /* a field named twice: the first wins */
            uint32_t h = hash_param(i, a) & tl_state.pk_mask;
            while (tl_state.pk_ctors[h] >= 0) h = (h + 1) & tl_state.pk_mask;
            tl_state.pk_atoms[h] = a;
            tl_state.pk_ctors[h] = i;
            tl_state.pk_params[h] = (uint16_t)j;
        }
    return 0;
}

static void state_free(void) {
    tl_schema_free(tl_state.schema);
    free(tl_state.ctor_atoms);
    free(tl_state.field_atoms);
    free(tl_state.atom_keys);
    free(tl_state.atom_ctors);
    free(tl_state.key_order);
    free(tl_state.pk_atoms);
    free(tl_state.pk_ctors);
    free(tl_state.pk_params);
    memset(&tl_state, 0, sizeof tl_state);
}

static const ERL_NIF_TERM *sort_keys; /* load time only (no concurrency there) */

static int compare_keys(const void *a, const void *b) {
    return enif_compare(sort_keys[*(const uint16_t *)a], sort_keys[*(const uint16_t *)b]);
}

/* key_order: each constructor's keys sorted by term order (see tl_nif.h). */
static int build_key_order(void) {
    const tl_schema *s = tl_state.schema;
    tl_state.key_order = malloc(((size_t)s->nparams + (size_t)s->nctors) * sizeof(uint16_t));
    if (!tl_state.key_order) return -1;
    ERL_NIF_TERM keys[TL_MAX_PARAMS + 1];
    for (int32_t i = 0; i < s->nctors; i++) {
        const tl_ctor *c = &s->ctors[i];
        uint16_t *order = tl_state.key_order + c->first_param + i;
        keys[0] = tl_state.atom_underscore;
        order[0] = 0;
        for (int j = 0; j < c->nparams; j++) {
            keys[j + 1] = tl_state.field_atoms[s->params[c->first_param + j].name_id];
            order[j + 1] = (uint16_t)(j + 1);
        }
        sort_keys = keys;
        qsort(order, (size_t)c->nparams + 1, sizeof *order, compare_keys);
    }
    sort_keys = NULL;
    return 0;
}

static int build_atoms(ErlNifEnv *env) {
    const tl_schema *s = tl_state.schema;
    uint32_t size = 16;
    while (size < (uint32_t)s->nctors * 2) size *= 2;
    tl_state.ctor_atoms = calloc((size_t)s->nctors + 1, sizeof(ERL_NIF_TERM));
    tl_state.field_atoms = calloc((size_t)s->nfield_names + 1, sizeof(ERL_NIF_TERM));
    tl_state.atom_keys = calloc(size, sizeof(ERL_NIF_TERM));
    tl_state.atom_ctors = malloc(size * sizeof(int32_t));
    if (!tl_state.ctor_atoms || !tl_state.field_atoms || !tl_state.atom_keys ||
        !tl_state.atom_ctors)
        return -1;
    memset(tl_state.atom_ctors, 0xff, size * sizeof(int32_t));
    tl_state.atom_mask = size - 1;
    for (int32_t i = 0; i < s->nfield_names; i++)
        tl_state.field_atoms[i] = mt_atom(env, s->field_names[i]);
    for (int32_t i = 0; i < s->nctors; i++) {
        const char *name = s->ctors[i].name;
        ERL_NIF_TERM a = mt_atom(env, name);
        tl_state.ctor_atoms[i] = a;
        int32_t winner = tl_schema_find_name(s, name, strlen(name));
        if (winner != i) continue; /* shadowed by a later file's definition */
        uint32_t h = hash_term(a) & tl_state.atom_mask;
        while (tl_state.atom_ctors[h] >= 0) h = (h + 1) & tl_state.atom_mask;
        tl_state.atom_keys[h] = a;
        tl_state.atom_ctors[h] = i;
    }
    tl_state.atom_underscore = mt_atom(env, "_");
    if (build_key_order() || build_param_table()) return -1;
    /* Every reason atom now, so that no call ever adds an atom. */
    for (int st = TL_OK; st <= TL_E_BUDGET; st++) mt_atom(env, tl_status_name((tl_status)st));
    static const char *reasons[] = {"in_gzip", "unknown_method", "bad_value", "missing_field",
                                    "unknown_constructor", "wrong_constructor", "unknown_field",
                                    "no_constructor", "flag_conflict", "too_deep"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) mt_atom(env, reasons[i]);
    return 0;
}

int tl_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    if (tl_state.schema) { /* an upgrade of the same library image: keep the loaded schema */
        tl_refs++;
        return 0;
    }
    ERL_NIF_TERM dir_term;
    ErlNifBinary dir;
    if (!enif_get_map_value(env, load_info, enif_make_atom(env, "priv_dir"), &dir_term) ||
        !enif_inspect_binary(env, dir_term, &dir) || dir.size > 3800)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%.*s/schema", (int)dir.size, (const char *)dir.data);
    tl_diag diag;
    memset(&diag, 0, sizeof diag);
    tl_state.schema = tl_schema_load_dir(path, &diag);
    if (!tl_state.schema) {
        fprintf(stderr, "mtproto_nif: TL schema: %s:%d: %s\r\n", diag.file, diag.line,
                diag.message);
        return 1;
    }
    if (build_atoms(env)) {
        state_free();
        return 1;
    }
    tl_refs = 1;
    return 0;
}

void tl_nif_unload(void) {
    if (tl_refs > 0 && --tl_refs == 0) state_free();
}

ERL_NIF_TERM nif_tl_schema_layer(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return enif_make_int(env, tl_state.schema->layer);
}

ERL_NIF_TERM tl_nif_text(ErlNifEnv *env, const char *text) {
    unsigned char *data;
    size_t n = strlen(text);
    ERL_NIF_TERM t = mt_new_binary(env, n, &data);
    if (data) memcpy(data, text, n);
    return t;
}

/* A type node as a term: int | long | double | int128 | int256 | string | bytes | bool | true |
 * '#' | object | {vector, T} | {bare_vector, T} | {boxed, Name, Index} | {bare, CtorId}. */
static ERL_NIF_TERM type_term(ErlNifEnv *env, int32_t ti, const char *text) {
    const tl_schema *s = tl_state.schema;
    const tl_type *t = &s->types[ti];
    switch (t->kind) {
    case TLK_INT: return mt_atom(env, "int");
    case TLK_LONG: return mt_atom(env, "long");
    case TLK_DOUBLE: return mt_atom(env, "double");
    case TLK_INT128: return mt_atom(env, "int128");
    case TLK_INT256: return mt_atom(env, "int256");
    case TLK_STRING: return mt_atom(env, text && strcmp(text, "bytes") == 0 ? "bytes" : "string");
    case TLK_BOOL: return mt_atom(env, "bool");
    case TLK_TRUE: return mt_atom(env, "true");
    case TLK_FLAGS: return mt_atom(env, "#");
    case TLK_OBJECT: return mt_atom(env, "object");
    case TLK_VECTOR:
    case TLK_BARE_VECTOR: {
        const char *inner = NULL;
        if (text && strlen(text) > 8 && strcmp(text + 6, "<bytes>") == 0) inner = "bytes";
        return enif_make_tuple2(env, mt_atom(env, t->kind == TLK_VECTOR ? "vector" : "bare_vector"),
                                type_term(env, t->elem, inner));
    }
    case TLK_BOXED:
        return enif_make_tuple3(env, mt_atom(env, "boxed"), tl_nif_text(env, s->boxed[t->ref].name),
                                enif_make_int(env, t->ref));
    case TLK_BARE:
        return enif_make_tuple2(env, mt_atom(env, "bare"),
                                enif_make_uint(env, s->ctors[t->ref].id));
    }
    return atom_undefined;
}

/* [{Name, Id, constructor | method, TypeText, BoxedIndex | nil, Params, File, Line}] with Params
 * [{Field, TypeText, TypeTerm, nil | {FlagsField, Bit}}], in schema order. */
ERL_NIF_TERM nif_tl_schema_entries(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    const tl_schema *s = tl_state.schema;
    ERL_NIF_TERM list = enif_make_list(env, 0);
    ERL_NIF_TERM kinds[2] = {mt_atom(env, "constructor"), mt_atom(env, "method")};
    for (int32_t i = s->nctors - 1; i >= 0; i--) {
        const tl_ctor *c = &s->ctors[i];
        ERL_NIF_TERM params = enif_make_list(env, 0);
        for (int j = c->nparams - 1; j >= 0; j--) {
            const tl_param *p = &s->params[c->first_param + j];
            ERL_NIF_TERM cond = atom_nil;
            if (p->flag_param >= 0)
                cond = enif_make_tuple2(
                    env, tl_state.field_atoms[s->params[c->first_param + p->flag_param].name_id],
                    enif_make_int(env, p->flag_bit));
            ERL_NIF_TERM pt = enif_make_tuple4(env, tl_state.field_atoms[p->name_id],
                                               tl_nif_text(env, p->type_text),
                                               type_term(env, p->type, p->type_text), cond);
            params = enif_make_list_cell(env, pt, params);
        }
        ERL_NIF_TERM boxed = c->is_method ? atom_nil : enif_make_int(env, c->type);
        ERL_NIF_TERM items[8] = {tl_state.ctor_atoms[i],
                                 enif_make_uint(env, c->id),
                                 kinds[c->is_method],
                                 tl_nif_text(env, c->type_text),
                                 boxed,
                                 params,
                                 tl_nif_text(env, s->files[c->file]),
                                 enif_make_int(env, c->line)};
        list = enif_make_list_cell(env, enif_make_tuple_from_array(env, items, 8), list);
    }
    return list;
}
