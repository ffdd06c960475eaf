/* tl_encode NIF: term -> TL bytes by the schema. Terms are maps with the constructor atom under
 * `_` (see MTProto.TL). Flags words are computed from the fields present; a missing required
 * field, a value of the wrong type, an unknown constructor or key is {error, Reason} naming the
 * field path from the root, e.g. {missing_field, [peer, access_hash]}.
 *
 * Scheduling as in tl_decode_nif.c: a work budget on a normal scheduler, redone dirty past it. */
#include <stdio.h>
#include <string.h>

#include "tl_decode.h"
#include "tl_nif.h"

typedef struct {
    ErlNifEnv *env;
    const tl_schema *s;
    ErlNifBinary out;
    size_t len;
    size_t work, max_work;
    int depth;
    ERL_NIF_TERM path[TL_MAX_DEPTH * 2 + 8];
    int npath;
    ERL_NIF_TERM err; /* reason, once failed */
    int budget;       /* the budget ran out */
    ERL_NIF_TERM *vals; /* field values of the objects being encoded */
    size_t vsp, vcap;
} enc;

static ERL_NIF_TERM path_list(enc *e, int extra, ERL_NIF_TERM last) {
    ERL_NIF_TERM l = enif_make_list(e->env, 0);
    if (extra) l = enif_make_list_cell(e->env, last, l);
    for (int i = e->npath - 1; i >= 0; i--) l = enif_make_list_cell(e->env, e->path[i], l);
    return l;
}

/* {Reason, Path} */
static int fail(enc *e, const char *reason) {
    e->err = enif_make_tuple2(e->env, tl_nif_atom(e->env, reason), path_list(e, 0, 0));
    return -1;
}

/* {bad_value, Path, ExpectedTypeText} */
static int bad_value(enc *e, const char *type_text) {
    e->err = enif_make_tuple3(e->env, tl_nif_atom(e->env, "bad_value"), path_list(e, 0, 0),
                              tl_nif_text(e->env, type_text));
    return -1;
}

static int nomem(enc *e) {
    e->err = atom_enomem;
    return -1;
}

static int put(enc *e, const void *data, size_t n) {
    if (e->max_work && e->work + n > e->max_work) { /* before copying a large string */
        e->budget = 1;
        return -1;
    }
    if (e->len + n > e->out.size) {
        size_t cap = e->out.size * 2;
        while (cap < e->len + n) cap *= 2;
        if (!enif_realloc_binary(&e->out, cap)) return nomem(e);
    }
    memcpy(e->out.data + e->len, data, n);
    e->len += n;
    e->work += n;
    return 0;
}

static int put32(enc *e, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put(e, b, 4);
}

static int put64(enc *e, uint64_t v) {
    return put32(e, (uint32_t)v) || put32(e, (uint32_t)(v >> 32)) ? -1 : 0;
}

static int put_string(enc *e, const unsigned char *data, size_t n) {
    static const uint8_t zeros[4] = {0};
    uint8_t hdr[4];
    size_t h;
    if (n < 254) {
        hdr[0] = (uint8_t)n;
        h = 1;
    } else {
        hdr[0] = 254;
        hdr[1] = (uint8_t)n;
        hdr[2] = (uint8_t)(n >> 8);
        hdr[3] = (uint8_t)(n >> 16);
        h = 4;
    }
    size_t pad = (4 - (h + n) % 4) % 4;
    return put(e, hdr, h) || put(e, data, n) || put(e, zeros, pad) ? -1 : 0;
}

static int enc_value(enc *e, int32_t type, ERL_NIF_TERM v, const char *type_text);

static int enc_fields(enc *e, int32_t ci, ERL_NIF_TERM map);

/* A map (or true/false for Bool) where a boxed value, a bare constructor or any object goes. */
static int enc_object(enc *e, const tl_type *t, ERL_NIF_TERM v, const char *type_text) {
    const tl_schema *s = e->s;
    if (v == atom_true || v == atom_false) {
        if (t->kind != TLK_OBJECT || s->bool_true < 0) return bad_value(e, type_text);
        return put32(e, s->ctors[v == atom_true ? s->bool_true : s->bool_false].id);
    }
    if (!enif_is_map(e->env, v)) return bad_value(e, type_text);
    ERL_NIF_TERM name;
    int32_t ci;
    if (!enif_get_map_value(e->env, v, tl_state.atom_underscore, &name)) {
        if (t->kind != TLK_BARE) return fail(e, "no_constructor");
        ci = t->ref;
    } else if (t->kind == TLK_BARE) {
        ci = t->ref;
        if (name != tl_state.ctor_atoms[ci])
            goto wrong;
    } else {
        ci = enif_is_atom(e->env, name) ? tl_nif_ctor_of_atom(name) : -1;
        if (ci < 0) {
            e->err = enif_make_tuple3(e->env, tl_nif_atom(e->env, "unknown_constructor"), name,
                                      path_list(e, 0, 0));
            return -1;
        }
        if (t->kind == TLK_BOXED && (s->ctors[ci].is_method || s->ctors[ci].type != t->ref)) {
            /* a name shadowed by a later file may still be this type's (mtproto.tl's message) */
            const tl_boxed_type *bt = &s->boxed[t->ref];
            ci = -1;
            for (int32_t k = 0; k < bt->nctors && ci < 0; k++)
                if (tl_state.ctor_atoms[s->type_ctors[bt->first_ctor + k]] == name)
                    ci = s->type_ctors[bt->first_ctor + k];
            if (ci < 0) goto wrong;
        }
        if (put32(e, s->ctors[ci].id)) return -1;
    }
    return enc_fields(e, ci, v);
wrong:
    e->err = enif_make_tuple4(e->env, tl_nif_atom(e->env, "wrong_constructor"), name,
                              tl_nif_text(e->env, type_text), path_list(e, 0, 0));
    return -1;
}

static int enc_list(enc *e, const tl_type *t, ERL_NIF_TERM v, const char *type_text) {
    unsigned n;
    if (!enif_get_list_length(e->env, v, &n)) return bad_value(e, type_text);
    if (t->kind == TLK_VECTOR && put32(e, TL_ID_VECTOR)) return -1;
    if (put32(e, n)) return -1;
    char elem_text[128]; /* "Vector<T>" -> "T" for error reasons */
    size_t tl = strlen(type_text);
    if (tl > 8 && tl - 8 < sizeof elem_text && type_text[6] == '<') {
        memcpy(elem_text, type_text + 7, tl - 8);
        elem_text[tl - 8] = 0;
    } else {
        snprintf(elem_text, sizeof elem_text, "%s", type_text);
    }
    ERL_NIF_TERM head, tail = v;
    if (e->npath >= (int)(sizeof e->path / sizeof e->path[0])) return fail(e, "too_deep");
    int at = e->npath++;
    for (unsigned i = 0; enif_get_list_cell(e->env, tail, &head, &tail); i++) {
        e->path[at] = enif_make_uint(e->env, i);
        if (enc_value(e, t->elem, head, elem_text)) return -1;
    }
    e->npath--;
    return 0;
}

static int enc_value(enc *e, int32_t type, ERL_NIF_TERM v, const char *type_text) {
    const tl_type *t = &e->s->types[type];
    ErlNifSInt64 i;
    ErlNifUInt64 u;
    double d;
    ErlNifBinary b;
    e->work += TL_WORK_TOKEN;
    if (e->max_work && e->work > e->max_work) {
        e->budget = 1;
        return -1;
    }
    switch (t->kind) {
    case TLK_INT:
    case TLK_FLAGS:
        if (enif_get_int64(e->env, v, &i) && i >= INT32_MIN && i <= (ErlNifSInt64)UINT32_MAX)
            return put32(e, (uint32_t)i);
        return bad_value(e, type_text);
    case TLK_LONG:
        if (enif_get_int64(e->env, v, &i)) return put64(e, (uint64_t)i);
        if (enif_get_uint64(e->env, v, &u)) return put64(e, u);
        return bad_value(e, type_text);
    case TLK_DOUBLE:
        if (!enif_get_double(e->env, v, &d)) {
            if (!enif_get_int64(e->env, v, &i)) return bad_value(e, type_text);
            d = (double)i;
        }
        memcpy(&u, &d, sizeof u);
        return put64(e, u);
    case TLK_INT128:
    case TLK_INT256: {
        size_t n = t->kind == TLK_INT128 ? 16 : 32;
        if (!enif_inspect_binary(e->env, v, &b) || b.size != n) return bad_value(e, type_text);
        return put(e, b.data, n);
    }
    case TLK_STRING:
        if (!enif_inspect_binary(e->env, v, &b) || b.size >= (1u << 24))
            return bad_value(e, type_text);
        return put_string(e, b.data, b.size);
    case TLK_BOOL:
        if ((v != atom_true && v != atom_false) || e->s->bool_true < 0)
            return bad_value(e, type_text);
        return put32(e, e->s->ctors[v == atom_true ? e->s->bool_true : e->s->bool_false].id);
    case TLK_TRUE: return 0;
    case TLK_VECTOR:
    case TLK_BARE_VECTOR: return enc_list(e, t, v, type_text);
    default: return enc_object(e, t, v, type_text);
    }
}

static int enc_fields(enc *e, int32_t ci, ERL_NIF_TERM map) {
    const tl_schema *s = e->s;
    const tl_ctor *c = &s->ctors[ci];
    if (e->depth >= TL_MAX_DEPTH || e->npath + 2 >= (int)(sizeof e->path / sizeof e->path[0]))
        return fail(e, "too_deep");
    if (e->vsp + c->nparams + 1 > e->vcap) {
        size_t cap = e->vcap ? e->vcap * 2 : 512;
        while (cap < e->vsp + c->nparams + 1) cap *= 2;
        ERL_NIF_TERM *nv = enif_realloc(e->vals, cap * sizeof *nv);
        if (!nv) return nomem(e);
        e->vals = nv;
        e->vcap = cap;
    }
    size_t base = e->vsp;
    e->vsp += c->nparams;
    e->depth++;
    e->work += TL_WORK_OBJECT + TL_WORK_KEY * (size_t)c->nparams;
    /* One pass over the map: each key to its param; a value is "present" unless nil. */
    uint32_t flags[TL_MAX_PARAMS];
    memset(flags, 0, sizeof(uint32_t) * c->nparams);
    for (int j = 0; j < c->nparams; j++) e->vals[base + j] = 0;
    ErlNifMapIterator it;
    ERL_NIF_TERM k, v;
    if (!enif_map_iterator_create(e->env, map, &it, ERL_NIF_MAP_ITERATOR_FIRST)) return nomem(e);
    while (enif_map_iterator_get_pair(e->env, &it, &k, &v)) {
        if (k != tl_state.atom_underscore) {
            int j = tl_nif_param_of(ci, k);
            if (j < 0) {
                enif_map_iterator_destroy(e->env, &it);
                e->err = enif_make_tuple3(e->env, tl_nif_atom(e->env, "unknown_field"), k,
                                          path_list(e, 0, 0));
                return -1;
            }
            e->vals[base + j] = v == atom_nil ? 0 : v;
        }
        enif_map_iterator_next(e->env, &it);
    }
    enif_map_iterator_destroy(e->env, &it);
    for (int j = 0; j < c->nparams; j++) {
        const tl_param *p = &s->params[c->first_param + j];
        if (p->flag_param < 0) continue;
        ERL_NIF_TERM v = e->vals[base + j];
        int on;
        if (s->types[p->type].kind == TLK_TRUE) {
            if (v && v != atom_true && v != atom_false) {
                e->path[e->npath++] = tl_state.field_atoms[p->name_id];
                return bad_value(e, "true");
            }
            on = v == atom_true;
        } else {
            on = v != 0;
        }
        if (on) flags[p->flag_param] |= 1u << p->flag_bit;
    }
    for (int j = 0; j < c->nparams; j++) {
        const tl_param *p = &s->params[c->first_param + j];
        ERL_NIF_TERM v = e->vals[base + j];
        uint8_t kind = s->types[p->type].kind;
        e->path[e->npath++] = tl_state.field_atoms[p->name_id];
        if (kind == TLK_FLAGS) {
            if (put32(e, flags[j])) return -1;
        } else if (p->flag_param >= 0) {
            int on = (flags[p->flag_param] >> p->flag_bit) & 1;
            if (kind == TLK_TRUE) {
                if (on && v != atom_true) return fail(e, "flag_conflict");
            } else if (on) {
                if (!v) return fail(e, "missing_field"); /* a field sharing its bit is set */
                if (enc_value(e, p->type, v, p->type_text)) return -1;
            }
        } else if (kind != TLK_TRUE) {
            if (!v) return fail(e, "missing_field");
            if (enc_value(e, p->type, v, p->type_text)) return -1;
        }
        e->npath--;
    }
    e->depth--;
    e->vsp = base;
    return 0;
}

ERL_NIF_TERM nif_tl_encode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifUInt64 slice;
    if (!enif_get_uint64(env, argv[2], &slice)) return enif_make_badarg(env);
    int32_t method = -1;
    if (argv[1] != atom_nil) {
        method = enif_is_atom(env, argv[1]) ? tl_nif_ctor_of_atom(argv[1]) : -1;
        if (method < 0 || !tl_state.schema->ctors[method].is_method)
            return mt_error(env, enif_make_tuple2(env, tl_nif_atom(env, "unknown_method"), argv[1]));
    }
    int dirty = enif_thread_type() != ERL_NIF_THR_NORMAL_SCHEDULER;
    enc e;
    memset(&e, 0, sizeof e);
    e.env = env;
    e.s = tl_state.schema;
    e.max_work = dirty ? 0 : (size_t)slice;
    if (!enif_alloc_binary(256, &e.out)) return mt_error(env, atom_enomem);
    int rc;
    if (method >= 0) {
        const tl_ctor *m = &e.s->ctors[method];
        rc = enc_value(&e, m->type, argv[0], m->type_text);
    } else {
        const tl_type object = {TLK_OBJECT, -1, -1};
        rc = enc_object(&e, &object, argv[0], "Object");
    }
    enif_free(e.vals);
    if (rc) {
        enif_release_binary(&e.out);
        if (e.budget)
            return enif_schedule_nif(env, "tl_encode", ERL_NIF_DIRTY_JOB_CPU_BOUND, nif_tl_encode,
                                     3, argv);
        return mt_error(env, e.err);
    }
    if (!enif_realloc_binary(&e.out, e.len)) {
        enif_release_binary(&e.out);
        return mt_error(env, atom_enomem);
    }
    if (!dirty && slice > 0) mt_consume_timeslice(env, e.work, slice);
    return mt_ok(env, enif_make_binary(env, &e.out));
}
