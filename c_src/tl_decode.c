/* TL bytes -> token tape, with every check a hostile peer calls for (see tl_decode.h). */
#include "tl_decode.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    const tl_schema *s;
    tl_tape *t;
    const uint8_t *p; /* current buffer */
    size_t pos, len;
    uint32_t buf;     /* its index in t->bufs */
    size_t work, max_work, gzip_left;
    int depth;
    int in_gzip;
    size_t gzip_offset;
} dec;

static tl_status fail(dec *d, tl_status st, size_t offset, uint32_t id, int32_t expected) {
    tl_decode_error *e = &d->t->err;
    if (e->status == TL_OK) {
        e->status = st;
        e->offset = offset;
        e->id = id;
        e->expected = expected;
        e->in_gzip = d->in_gzip;
        e->gzip_offset = d->gzip_offset;
    }
    return st;
}

static int push(dec *d, uint32_t kind, uint32_t a, uint64_t v) {
    tl_tape *t = d->t;
    if (t->ntoks == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        tl_tok *n = realloc(t->toks, cap * sizeof *n);
        if (!n) return -1;
        t->toks = n;
        t->cap = cap;
    }
    t->toks[t->ntoks++] = (tl_tok){kind, a, v};
    d->work += TL_WORK_TOKEN;
    return 0;
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) {
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#define NEED(d, n)                                                                  \
    do {                                                                            \
        if ((d)->len - (d)->pos < (size_t)(n))                                      \
            return fail((d), TL_E_TRUNCATED, (d)->pos, 0, -1);                      \
    } while (0)

#define PUSH(d, k, a, v)                                                            \
    do {                                                                            \
        if (push((d), (k), (a), (v))) return fail((d), TL_E_NOMEM, (d)->pos, 0, -1); \
    } while (0)

static tl_status dec_value(dec *d, int32_t type);

static int add_buffer(tl_tape *t, const uint8_t *data, size_t len) {
    if (t->nbufs == t->cap_bufs) {
        uint32_t cap = t->cap_bufs ? t->cap_bufs * 2 : 4;
        const uint8_t **b = realloc(t->bufs, cap * sizeof *b);
        if (!b) return -1;
        t->bufs = b;
        size_t *l = realloc(t->buf_lens, cap * sizeof *l);
        if (!l) return -1;
        t->buf_lens = l;
        t->cap_bufs = cap;
    }
    t->bufs[t->nbufs] = data;
    t->buf_lens[t->nbufs] = len;
    t->nbufs++;
    return 0;
}

/* Reads a TL string header at d->pos: *start and *n the payload, *total the bytes with padding. */
static tl_status read_string(dec *d, size_t *start, size_t *n, size_t *total) {
    NEED(d, 1);
    const uint8_t *q = d->p + d->pos;
    size_t hdr, len;
    if (q[0] < 254) {
        hdr = 1;
        len = q[0];
    } else if (q[0] == 254) {
        NEED(d, 4);
        hdr = 4;
        len = (size_t)q[1] | (size_t)q[2] << 8 | (size_t)q[3] << 16;
    } else {
        return fail(d, TL_E_BAD_LENGTH, d->pos, 0, -1);
    }
    size_t all = (hdr + len + 3) & ~(size_t)3;
    if (d->len - d->pos < all) return fail(d, TL_E_BAD_LENGTH, d->pos, 0, -1);
    *start = d->pos + hdr;
    *n = len;
    *total = all;
    return TL_OK;
}

/* Inflates gzip_packed data (the id already read at `at`) and decodes `type` from it. */
static tl_status unwrap_gzip(dec *d, int32_t type, size_t at) {
    size_t start, n, total;
    tl_status st = read_string(d, &start, &n, &total);
    if (st) return st;
    if (++d->depth > TL_MAX_DEPTH) return fail(d, TL_E_TOO_DEEP, at, 0, -1);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return fail(d, TL_E_NOMEM, at, 0, -1);
    size_t cap = n * 4 + 256, out_len = 0;
    if (cap > d->gzip_left + 1) cap = d->gzip_left + 1;
    uint8_t *out = malloc(cap ? cap : 1);
    int zr = Z_OK;
    tl_status result = TL_OK;
    if (!out) {
        result = fail(d, TL_E_NOMEM, at, 0, -1);
        goto done;
    }
    zs.next_in = (Bytef *)(d->p + start);
    zs.avail_in = (uInt)n;
    while (zr != Z_STREAM_END) {
        if (out_len == cap) {
            if (cap > d->gzip_left) {
                result = fail(d, TL_E_GZIP_TOO_LARGE, at, 0, -1);
                goto done;
            }
            size_t ncap = cap * 2 > d->gzip_left + 1 ? d->gzip_left + 1 : cap * 2;
            uint8_t *o = realloc(out, ncap);
            if (!o) {
                result = fail(d, TL_E_NOMEM, at, 0, -1);
                goto done;
            }
            out = o;
            cap = ncap;
        }
        /* at most 64 KiB a step, so that the work budget is checked as inflation goes */
        size_t room = cap - out_len > 65536 ? 65536 : cap - out_len;
        zs.next_out = out + out_len;
        zs.avail_out = (uInt)room;
        zr = inflate(&zs, Z_NO_FLUSH);
        out_len += room - zs.avail_out;
        if (d->max_work && d->work + out_len * TL_WORK_INFLATED > d->max_work) {
            result = fail(d, TL_E_BUDGET, at, 0, -1);
            goto done;
        }
        if (zr != Z_OK && zr != Z_STREAM_END) {
            result = fail(d, TL_E_GZIP, at, 0, -1);
            goto done;
        }
        if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            result = fail(d, TL_E_GZIP, at, 0, -1); /* input ended before the stream */
            goto done;
        }
    }
    if (out_len > d->gzip_left) {
        result = fail(d, TL_E_GZIP_TOO_LARGE, at, 0, -1);
        goto done;
    }
    d->gzip_left -= out_len;
    d->work += out_len * TL_WORK_INFLATED;
    if (add_buffer(d->t, out, out_len)) {
        result = fail(d, TL_E_NOMEM, at, 0, -1);
        goto done;
    }
    out = NULL; /* owned by the tape now */
    d->pos += total;
    {
        dec outer = *d;
        d->p = d->t->bufs[d->t->nbufs - 1];
        d->len = out_len;
        d->pos = 0;
        d->buf = d->t->nbufs - 1;
        if (!d->in_gzip) {
            d->in_gzip = 1;
            d->gzip_offset = at;
        }
        result = dec_value(d, type);
        if (result == TL_OK && d->pos != d->len)
            result = fail(d, TL_E_TRAILING_BYTES, d->pos, 0, -1);
        size_t work = d->work, left = d->gzip_left;
        *d = outer;
        d->work = work;
        d->gzip_left = left;
    }
done:
    inflateEnd(&zs);
    free(out);
    d->depth--;
    return result;
}

static tl_status dec_fields(dec *d, int32_t ci) {
    const tl_schema *s = d->s;
    const tl_ctor *c = &s->ctors[ci];
    if (++d->depth > TL_MAX_DEPTH) return fail(d, TL_E_TOO_DEEP, d->pos, c->id, -1);
    if (d->max_work && d->work > d->max_work) return fail(d, TL_E_BUDGET, d->pos, 0, -1);
    size_t obj = d->t->ntoks;
    PUSH(d, TOK_OBJ, (uint32_t)ci, 0);
    d->work += TL_WORK_OBJECT + TL_WORK_KEY * (size_t)c->nparams;
    for (int k = 64; k < c->nparams; k += 64) PUSH(d, TOK_BITS, 0, 0);
    uint32_t fw[TL_MAX_FLAG_WORDS] = {0};
    int16_t fw_param[TL_MAX_FLAG_WORDS];
    int nfw = 0;
    for (int j = 0; j < c->nparams; j++) {
        const tl_param *p = &s->params[c->first_param + j];
        uint8_t kind = s->types[p->type].kind;
        int bit = 1;
        if (p->flag_param >= 0) {
            uint32_t word = 0;
            for (int f = 0; f < nfw; f++)
                if (fw_param[f] == p->flag_param) word = fw[f];
            bit = (word >> p->flag_bit) & 1;
        }
        if (kind == TLK_FLAGS) {
            NEED(d, 4);
            if (nfw < TL_MAX_FLAG_WORDS) {
                fw_param[nfw] = (int16_t)j;
                fw[nfw++] = rd32(d->p + d->pos);
            }
            d->pos += 4;
            d->work += 4;
            continue;
        }
        if (kind != TLK_TRUE && bit) {
            tl_status st = dec_value(d, p->type);
            if (st) return st;
        }
        if (bit) {
            tl_tok *w = &d->t->toks[obj + (size_t)(j / 64)];
            w->v |= (uint64_t)1 << (j % 64);
        }
    }
    d->depth--;
    return TL_OK;
}

static tl_status dec_vector_body(dec *d, int32_t elem) {
    NEED(d, 4);
    size_t at = d->pos;
    uint32_t count = rd32(d->p + d->pos);
    d->pos += 4;
    d->work += 4;
    const tl_type *et = &d->s->types[elem];
    size_t min = 4;
    switch (et->kind) {
    case TLK_LONG:
    case TLK_DOUBLE: min = 8; break;
    case TLK_INT128: min = 16; break;
    case TLK_INT256: min = 32; break;
    case TLK_BARE: min = d->s->ctors[et->ref].min_size; break;
    case TLK_TRUE: min = 0; break;
    default: break;
    }
    if (min == 0) min = 1;
    if (count > (d->len - d->pos) / min) return fail(d, TL_E_VECTOR_TOO_LONG, at, 0, -1);
    if (++d->depth > TL_MAX_DEPTH) return fail(d, TL_E_TOO_DEEP, at, 0, -1);
    PUSH(d, TOK_LIST, 0, count);
    for (uint32_t i = 0; i < count; i++) {
        if (d->max_work && d->work > d->max_work) return fail(d, TL_E_BUDGET, d->pos, 0, -1);
        tl_status st = dec_value(d, elem);
        if (st) return st;
    }
    d->depth--;
    return TL_OK;
}

/* Reads a constructor id where a boxed value of `type` is expected; gzip_packed is unwrapped. */
static tl_status dec_boxed(dec *d, int32_t type) {
    const tl_schema *s = d->s;
    const tl_type *t = &s->types[type];
    NEED(d, 4);
    size_t at = d->pos;
    uint32_t id = rd32(d->p + d->pos);
    d->pos += 4;
    d->work += 4;
    if (id == TL_ID_GZIP_PACKED && s->gzip_packed >= 0) return unwrap_gzip(d, type, at);
    if (t->kind == TLK_VECTOR) {
        if (id != TL_ID_VECTOR) {
            int32_t c = tl_schema_find_id(s, id);
            return fail(d, c < 0 ? TL_E_UNKNOWN_CONSTRUCTOR : TL_E_UNEXPECTED_CONSTRUCTOR, at, id,
                        type);
        }
        return dec_vector_body(d, t->elem);
    }
    if (id == TL_ID_VECTOR)
        return fail(d, t->kind == TLK_OBJECT ? TL_E_UNTYPED_VECTOR : TL_E_UNEXPECTED_CONSTRUCTOR,
                    at, id, type);
    int32_t c = tl_schema_find_id(s, id);
    if (c < 0) return fail(d, TL_E_UNKNOWN_CONSTRUCTOR, at, id, type);
    if (c == s->bool_true || c == s->bool_false) {
        if (t->kind != TLK_BOOL && t->kind != TLK_OBJECT)
            return fail(d, TL_E_UNEXPECTED_CONSTRUCTOR, at, id, type);
        PUSH(d, c == s->bool_true ? TOK_TRUE : TOK_FALSE, 0, 0);
        return TL_OK;
    }
    if (t->kind == TLK_BOOL ||
        (t->kind == TLK_BOXED && (s->ctors[c].is_method || s->ctors[c].type != t->ref)))
        return fail(d, TL_E_UNEXPECTED_CONSTRUCTOR, at, id, type);
    return dec_fields(d, c);
}

static tl_status dec_value(dec *d, int32_t type) {
    const tl_type *t = &d->s->types[type];
    switch (t->kind) {
    case TLK_INT:
        NEED(d, 4);
        PUSH(d, TOK_INT, 0, (uint64_t)(int64_t)(int32_t)rd32(d->p + d->pos));
        d->pos += 4;
        d->work += 4;
        return TL_OK;
    case TLK_LONG:
        NEED(d, 8);
        PUSH(d, TOK_LONG, 0, rd64(d->p + d->pos));
        d->pos += 8;
        d->work += 8;
        return TL_OK;
    case TLK_DOUBLE: {
        NEED(d, 8);
        uint64_t bits = rd64(d->p + d->pos);
        if (((bits >> 52) & 0x7ff) == 0x7ff) return fail(d, TL_E_BAD_DOUBLE, d->pos, 0, -1);
        PUSH(d, TOK_DOUBLE, 0, bits);
        d->pos += 8;
        d->work += 8;
        return TL_OK;
    }
    case TLK_INT128:
    case TLK_INT256: {
        size_t n = t->kind == TLK_INT128 ? 16 : 32;
        NEED(d, n);
        PUSH(d, TOK_BYTES, d->buf, (uint64_t)d->pos << 32 | n);
        d->pos += n;
        d->work += n;
        return TL_OK;
    }
    case TLK_STRING: {
        size_t start, n, total;
        tl_status st = read_string(d, &start, &n, &total);
        if (st) return st;
        PUSH(d, TOK_BYTES, d->buf, (uint64_t)start << 32 | n);
        d->pos += total;
        d->work += total;
        return TL_OK;
    }
    case TLK_TRUE: PUSH(d, TOK_TRUE, 0, 0); return TL_OK;
    case TLK_FLAGS: /* a bare `#` outside a constructor: read as an int */
        NEED(d, 4);
        PUSH(d, TOK_INT, 0, (uint64_t)(int64_t)(int32_t)rd32(d->p + d->pos));
        d->pos += 4;
        return TL_OK;
    case TLK_BARE_VECTOR: return dec_vector_body(d, t->elem);
    case TLK_BARE: return dec_fields(d, t->ref);
    default: return dec_boxed(d, type); /* BOOL, VECTOR, BOXED, OBJECT */
    }
}

tl_status tl_decode(const tl_schema *s, const uint8_t *data, size_t len, int32_t type,
                    const tl_decode_opts *opts, tl_tape *tape, size_t *work) {
    for (uint32_t i = 1; i < tape->nbufs; i++) free((void *)tape->bufs[i]);
    tape->nbufs = 0;
    tape->ntoks = 0;
    memset(&tape->err, 0, sizeof tape->err);
    dec d = {0};
    d.s = s;
    d.t = tape;
    d.p = data;
    d.len = len;
    d.max_work = opts ? opts->max_work : 0;
    d.gzip_left = opts && opts->gzip_limit ? opts->gzip_limit : TL_DEFAULT_GZIP_LIMIT;
    tl_status st;
    if (len >= ((size_t)1 << 32)) {
        st = fail(&d, TL_E_TOO_LARGE, 0, 0, -1);
    } else if (add_buffer(tape, data, len)) {
        st = fail(&d, TL_E_NOMEM, 0, 0, -1);
    } else {
        st = dec_value(&d, type < 0 ? s->object_type : type);
        if (st == TL_OK && d.pos != d.len) st = fail(&d, TL_E_TRAILING_BYTES, d.pos, 0, -1);
    }
    if (work) *work = d.work;
    return st;
}

void tl_tape_free(tl_tape *tape) {
    for (uint32_t i = 1; i < tape->nbufs; i++) free((void *)tape->bufs[i]);
    free(tape->bufs);
    free(tape->buf_lens);
    free(tape->toks);
    memset(tape, 0, sizeof *tape);
}

const char *tl_status_name(tl_status st) {
    switch (st) {
    case TL_OK: return "ok";
    case TL_E_TRUNCATED: return "truncated";
    case TL_E_BAD_LENGTH: return "bad_length";
    case TL_E_UNKNOWN_CONSTRUCTOR: return "unknown_constructor";
    case TL_E_UNEXPECTED_CONSTRUCTOR: return "unexpected_constructor";
    case TL_E_TRAILING_BYTES: return "trailing_bytes";
    case TL_E_TOO_DEEP: return "too_deep";
    case TL_E_VECTOR_TOO_LONG: return "vector_too_long";
    case TL_E_BAD_DOUBLE: return "bad_double";
    case TL_E_UNTYPED_VECTOR: return "untyped_vector";
    case TL_E_GZIP: return "bad_gzip";
    case TL_E_GZIP_TOO_LARGE: return "gzip_too_large";
    case TL_E_TOO_LARGE: return "too_large";
    case TL_E_NOMEM: return "enomem";
    case TL_E_BUDGET: return "budget";
    }
    return "unknown";
}
