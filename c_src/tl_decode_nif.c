/* tl_decode NIF: runs the plain-C decoder (tl_decode.c) and turns its checked token tape into
 * terms: maps with the constructor atom under `_`, built with enif_make_map_from_arrays.
 *
 * Scheduling: on a normal scheduler the decoder runs with a work budget (bytes + tokens); past it
 * (or for an input larger than the budget) the call is redone from the start on a dirty CPU
 * scheduler, so no normal-scheduler call holds on longer than the budget's worth of work. Strings
 * are copied out of the input, so no decoded term keeps a large input binary alive. */
#include <string.h>

#include "tl_decode.h"
#include "tl_nif.h"

typedef struct {
    ErlNifEnv *env;
    const tl_schema *s;
    const tl_tape *t;
    size_t i;           /* next token */
    ERL_NIF_TERM *stack; /* keys/values/elements of the objects and lists being built */
    size_t sp, cap;
} builder;

static int reserve(builder *b, size_t n) {
    if (b->sp + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->sp + n) cap *= 2;
    ERL_NIF_TERM *ns = enif_realloc(b->stack, cap * sizeof *ns);
    if (!ns) return -1;
    b->stack = ns;
    b->cap = cap;
    return 0;
}

static int build(builder *b, ERL_NIF_TERM *out);

static int build_object(builder *b, const tl_tok *tok, ERL_NIF_TERM *out) {
    const tl_schema *s = b->s;
    const tl_ctor *c = &s->ctors[tok->a];
    uint64_t bits[(TL_MAX_PARAMS + 63) / 64] = {tok->v};
    for (int k = 64; k < c->nparams; k += 64) bits[k / 64] = b->t->toks[b->i++].v; /* TOK_BITS */
    size_t n = 1 + (size_t)c->nparams;
    if (reserve(b, 3 * n)) return -1;
    /* values by param (0: absent), then keys and values in the constructor's sorted key order */
    size_t by_param = b->sp, keys = b->sp + n, vals = b->sp + 2 * n, k = 0;
    b->sp += 3 * n;
    b->stack[by_param] = tl_state.ctor_atoms[tok->a];
    for (int j = 0; j < c->nparams; j++) {
        const tl_param *p = &s->params[c->first_param + j];
        uint8_t kind = s->types[p->type].kind;
        int bit = (int)((bits[j / 64] >> (j % 64)) & 1);
        ERL_NIF_TERM v = 0;
        if (kind == TLK_TRUE)
            v = bit ? atom_true : atom_false;
        else if (kind != TLK_FLAGS && bit && build(b, &v))
            return -1;
        b->stack[by_param + 1 + j] = v;
    }
    const uint16_t *order = tl_state.key_order + c->first_param + tok->a;
    for (size_t o = 0; o < n; o++) {
        unsigned ix = order[o];
        ERL_NIF_TERM v = b->stack[by_param + ix];
        if (!v) continue;
        b->stack[keys + k] =
            ix == 0 ? tl_state.atom_underscore
                    : tl_state.field_atoms[s->params[c->first_param + ix - 1].name_id];
        b->stack[vals + k] = v;
        k++;
    }
    int ok = enif_make_map_from_arrays(b->env, b->stack + keys, b->stack + vals, k, out);
    b->sp -= 3 * n;
    return ok ? 0 : -1;
}

static int build(builder *b, ERL_NIF_TERM *out) {
    const tl_tok *tok = &b->t->toks[b->i++];
    ErlNifEnv *env = b->env;
    switch (tok->kind) {
    case TOK_OBJ: return build_object(b, tok, out);
    case TOK_INT: *out = enif_make_int(env, (int)(int32_t)tok->v); return 0;
    case TOK_LONG: *out = enif_make_int64(env, (ErlNifSInt64)tok->v); return 0;
    case TOK_DOUBLE: {
        double d;
        memcpy(&d, &tok->v, sizeof d);
        *out = enif_make_double(env, d);
        return 0;
    }
    case TOK_BYTES: {
        size_t off = (size_t)(tok->v >> 32), n = (size_t)(tok->v & 0xffffffffu);
        unsigned char *data;
        *out = mt_new_binary(env, n, &data);
        if (!data) return -1;
        if (n) memcpy(data, b->t->bufs[tok->a] + off, n);
        return 0;
    }
    case TOK_TRUE: *out = atom_true; return 0;
    case TOK_FALSE: *out = atom_false; return 0;
    case TOK_LIST: {
        size_t n = (size_t)tok->v;
        if (reserve(b, n)) return -1;
        size_t base = b->sp;
        b->sp += n;
        for (size_t i = 0; i < n; i++) {
            ERL_NIF_TERM v;
            if (build(b, &v)) return -1;
            b->stack[base + i] = v;
        }
        *out = enif_make_list_from_array(env, b->stack + base, (unsigned)n);
        b->sp -= n;
        return 0;
    }
    default: return -1;
    }
}

static ERL_NIF_TERM error_reason(ErlNifEnv *env, const tl_decode_error *e) {
    ERL_NIF_TERM name = tl_nif_atom(env, tl_status_name(e->status));
    ERL_NIF_TERM off = enif_make_uint64(env, e->offset);
    ERL_NIF_TERM r;
    if (e->status == TL_E_NOMEM) return atom_enomem;
    if (e->status == TL_E_UNKNOWN_CONSTRUCTOR || e->status == TL_E_UNEXPECTED_CONSTRUCTOR)
        r = enif_make_tuple3(env, name, enif_make_uint(env, e->id), off);
    else
        r = enif_make_tuple2(env, name, off);
    if (e->in_gzip)
        r = enif_make_tuple3(env, tl_nif_atom(env, "in_gzip"), enif_make_uint64(env, e->gzip_offset),
                             r);
    return r;
}

static ERL_NIF_TERM decode(ErlNifEnv *env, const ERL_NIF_TERM argv[], int dirty) {
    ErlNifBinary bin;
    ErlNifUInt64 gzip_limit, slice;
    int32_t type = -1;
    if (!enif_inspect_binary(env, argv[0], &bin) || !enif_get_uint64(env, argv[2], &gzip_limit) ||
        !enif_get_uint64(env, argv[3], &slice) || gzip_limit == 0)
        return enif_make_badarg(env);
    if (argv[1] != atom_nil) {
        int32_t m = enif_is_atom(env, argv[1]) ? tl_nif_ctor_of_atom(argv[1]) : -1;
        if (m < 0 || !tl_state.schema->ctors[m].is_method)
            return mt_error(env, enif_make_tuple2(env, tl_nif_atom(env, "unknown_method"), argv[1]));
        type = tl_state.schema->ctors[m].type;
    }
    if (!dirty && slice > 0 && bin.size > slice)
        goto go_dirty;

    tl_tape tape;
    memset(&tape, 0, sizeof tape);
    tl_decode_opts opts = {(size_t)gzip_limit, dirty ? 0 : (size_t)slice};
    size_t work = 0;
    tl_status st = tl_decode(tl_state.schema, bin.data, bin.size, type, &opts, &tape, &work);
    ERL_NIF_TERM result;
    if (st == TL_E_BUDGET) {
        tl_tape_free(&tape);
        goto go_dirty;
    }
    if (st != TL_OK) {
        result = mt_error(env, error_reason(env, &tape.err));
    } else {
        builder b = {env, tl_state.schema, &tape, 0, NULL, 0, 0};
        ERL_NIF_TERM term;
        result = build(&b, &term) ? mt_error(env, atom_enomem) : mt_ok(env, term);
        enif_free(b.stack);
    }
    tl_tape_free(&tape);
    if (!dirty && slice > 0) mt_consume_timeslice(env, work, slice);
    return result;

go_dirty:
    return enif_schedule_nif(env, "tl_decode", ERL_NIF_DIRTY_JOB_CPU_BOUND,
                             nif_tl_decode, 4, argv);
}

ERL_NIF_TERM nif_tl_decode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return decode(env, argv, enif_thread_type() != ERL_NIF_THR_NORMAL_SCHEDULER);
}
