/* TL schema resolution (see tl_schema.h): type references to type nodes, each file seeing its
 * own definitions first, boxed types and their constructors, id/name hash tables, distinct field
 * names, smallest sizes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_schema.h"
#include "tl_schema_impl.h"

/* ---- resolving ----------------------------------------------------------------------------- */

static uint32_t hash_str(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static uint32_t hash_id(uint32_t id) {
    id ^= id >> 16;
    id *= 0x7feb352du;
    id ^= id >> 15;
    return id;
}

int32_t tl_schema_find_id(const tl_schema *s, uint32_t id) {
    if (!s->by_id) return -1;
    for (uint32_t h = hash_id(id) & s->id_mask;; h = (h + 1) & s->id_mask) {
        int32_t ix = s->by_id[h];
        if (ix < 0 || s->ctors[ix].id == id) return ix;
    }
}

int32_t tl_schema_find_name(const tl_schema *s, const char *name, size_t len) {
    if (!s->by_name) return -1;
    for (uint32_t h = hash_str(name, len) & s->name_mask;; h = (h + 1) & s->name_mask) {
        int32_t ix = s->by_name[h];
        if (ix < 0) return -1;
        const char *n = s->ctors[ix].name;
        if (strncmp(n, name, len) == 0 && n[len] == 0) return ix;
    }
}

/* Boxed type lookup during resolution: a small open-addressing table over s->boxed. */
typedef struct {
    int32_t *slots;
    uint32_t mask;
} name_table;

/* The boxed type `n` as seen from `file`: its own definition first, else another file's. */
static int32_t boxed_find(const tl_schema *s, const name_table *t, int32_t file, const char *n,
                          size_t len) {
    int32_t any = -1;
    for (uint32_t h = hash_str(n, len) & t->mask;; h = (h + 1) & t->mask) {
        int32_t ix = t->slots[h];
        if (ix < 0) return any;
        if (strncmp(s->boxed[ix].name, n, len) == 0 && s->boxed[ix].name[len] == 0) {
            if (s->boxed[ix].file == file || file < 0) return ix;
            any = ix;
        }
    }
}

/* The constructor `n` as seen from `file`, like boxed_find. */
static int32_t ctor_find_in(const tl_schema *s, int32_t file, const char *n, size_t len) {
    int32_t c = tl_schema_find_name(s, n, len);
    if (c < 0 || s->ctors[c].file == file) return c;
    for (int32_t i = 0; i < s->nctors; i++)
        if (s->ctors[i].file == file && strncmp(s->ctors[i].name, n, len) == 0 &&
            s->ctors[i].name[len] == 0)
            return i;
    return c;
}

static int32_t new_type(tl_schema *s, tl_kind kind, int32_t ref, int32_t elem) {
    if (tl_schema_grow((void **)&s->types, &s->cap_types, s->ntypes + 1, sizeof *s->types)) return -1;
    s->types[s->ntypes] = (tl_type){(uint8_t)kind, ref, elem};
    return s->ntypes++;
}

static int has_generic(const char *generics, const char *n, size_t len) {
    const char *p = generics;
    while (*p) {
        while (*p == ' ') p++;
        const char *st = p;
        while (*p && *p != ' ') p++;
        if ((size_t)(p - st) == len && memcmp(st, n, len) == 0) return 1;
    }
    return 0;
}

/* Type text -> type-node index; -2 when a name is undefined (message in *err), -1 no memory. */
static int32_t resolve_type(tl_schema *s, const name_table *bt, int32_t file,
                            const char *generics, const char *t, size_t n, char *err,
                            size_t errn) {
    static const struct {
        const char *name;
        tl_kind kind;
    } prim[] = {{"int", TLK_INT},       {"long", TLK_LONG},       {"double", TLK_DOUBLE},
                {"int128", TLK_INT128}, {"int256", TLK_INT256},   {"string", TLK_STRING},
                {"bytes", TLK_STRING},  {"true", TLK_TRUE},       {"Bool", TLK_BOOL},
                {"#", TLK_FLAGS},       {"Object", TLK_OBJECT}};
    for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
        if (strlen(prim[i].name) == n && memcmp(prim[i].name, t, n) == 0)
            return new_type(s, prim[i].kind, -1, -1);
    if (n > 0 && t[0] == '!') return new_type(s, TLK_OBJECT, -1, -1);
    if (has_generic(generics, t, n)) return new_type(s, TLK_OBJECT, -1, -1);
    if (n > 8 && t[n - 1] == '>' && (memcmp(t, "Vector<", 7) == 0 || memcmp(t, "vector<", 7) == 0)) {
        int32_t e = resolve_type(s, bt, file, generics, t + 7, n - 8, err, errn);
        if (e < 0) return e;
        return new_type(s, t[0] == 'V' ? TLK_VECTOR : TLK_BARE_VECTOR, -1, e);
    }
    if (n > 1 && t[0] == '%') {
        int32_t b = boxed_find(s, bt, file, t + 1, n - 1);
        if (b < 0 || s->boxed[b].nctors != 1) {
            snprintf(err, errn, "%%%.*s needs a type with exactly one constructor", (int)n - 1,
                     t + 1);
            return -2;
        }
        return new_type(s, TLK_BARE, s->type_ctors[s->boxed[b].first_ctor], -1);
    }
    const char *last = t;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '.') last = t + i + 1;
    if (last < t + n && islower((unsigned char)*last)) {
        int32_t c = ctor_find_in(s, file, t, n);
        if (c < 0 || s->ctors[c].is_method) {
            snprintf(err, errn, "bare type %.*s names no constructor", (int)n, t);
            return -2;
        }
        return new_type(s, TLK_BARE, c, -1);
    }
    int32_t b = boxed_find(s, bt, file, t, n);
    if (b < 0) {
        snprintf(err, errn, "type %.*s has no constructor", (int)n, t);
        return -2;
    }
    return new_type(s, TLK_BOXED, b, -1);
}

/* Id and name tables; a second definition of a name or an id is an error naming its line. */
static int build_tables(tl_schema *s, tl_diag *diag) {
    uint32_t size = 16;
    while (size < (uint32_t)s->nctors * 2) size *= 2;
    s->by_id = malloc(size * sizeof(int32_t));
    s->by_name = malloc(size * sizeof(int32_t));
    if (!s->by_id || !s->by_name) {
        tl_schema_diag(diag, "", 0, "out of memory");
        return -1;
    }
    memset(s->by_id, 0xff, size * sizeof(int32_t));
    memset(s->by_name, 0xff, size * sizeof(int32_t));
    s->id_mask = s->name_mask = size - 1;
    for (int32_t i = 0; i < s->nctors; i++) {
        const tl_ctor *c = &s->ctors[i];
        int32_t same_id = tl_schema_find_id(s, c->id);
        int32_t same_name = tl_schema_find_name(s, c->name, strlen(c->name));
        int32_t other = same_id >= 0 ? same_id : same_name;
        if (other >= 0 && (same_id >= 0 || s->ctors[other].file == c->file)) {
            tl_schema_diag(diag, s->files[c->file], c->line, "%s#%08x: name or id already defined at %s:%d",
                     c->name, c->id, s->files[s->ctors[other].file], s->ctors[other].line);
            return -1;
        }
        uint32_t h = hash_id(c->id) & s->id_mask;
        while (s->by_id[h] >= 0) h = (h + 1) & s->id_mask;
        s->by_id[h] = i;
        /* A name defined in an earlier file (mtproto.tl's bare `message`) is shadowed by a later
         * one (api.tl's `message`) in name lookups; references inside a file see its own. */
        h = hash_str(c->name, strlen(c->name)) & s->name_mask;
        while (s->by_name[h] >= 0 && s->by_name[h] != same_name) h = (h + 1) & s->name_mask;
        s->by_name[h] = i;
    }
    return 0;
}

static int build_boxed(tl_schema *s, name_table *bt) {
    uint32_t size = 16;
    while (size < (uint32_t)s->nctors * 2) size *= 2;
    bt->slots = malloc(size * sizeof(int32_t));
    s->boxed = calloc((size_t)s->nctors + 1, sizeof *s->boxed);
    s->type_ctors = malloc(((size_t)s->nctors + 1) * sizeof(int32_t));
    int32_t *count = calloc((size_t)s->nctors + 1, sizeof(int32_t));
    if (!bt->slots || !s->boxed || !s->type_ctors || !count) {
        free(count);
        return -1;
    }
    memset(bt->slots, 0xff, size * sizeof(int32_t));
    bt->mask = size - 1;
    for (int32_t i = 0; i < s->nctors; i++) {
        tl_ctor *c = &s->ctors[i];
        if (c->is_method) continue;
        size_t n = strlen(c->type_text);
        int32_t b = boxed_find(s, bt, c->file, c->type_text, n);
        if (b < 0 || s->boxed[b].file != c->file) {
            b = s->nboxed++;
            s->boxed[b].name = c->type_text;
            s->boxed[b].file = c->file;
            uint32_t h = hash_str(c->type_text, n) & bt->mask;
            while (bt->slots[h] >= 0) h = (h + 1) & bt->mask;
            bt->slots[h] = b;
        }
        c->type = b;
        count[b]++;
    }
    int32_t at = 0;
    for (int32_t b = 0; b < s->nboxed; b++) {
        s->boxed[b].first_ctor = at;
        at += count[b];
        count[b] = s->boxed[b].first_ctor;
    }
    for (int32_t i = 0; i < s->nctors; i++)
        if (!s->ctors[i].is_method) s->type_ctors[count[s->ctors[i].type]++] = i;
    for (int32_t b = 0; b < s->nboxed; b++)
        s->boxed[b].nctors = count[b] - s->boxed[b].first_ctor;
    free(count);
    return 0;
}

static int build_field_names(tl_schema *s) {
    uint32_t size = 16;
    while (size < (uint32_t)s->nparams * 2) size *= 2;
    int32_t *slots = malloc(size * sizeof(int32_t));
    s->field_names = malloc(((size_t)s->nparams + 1) * sizeof(char *));
    if (!slots || !s->field_names) {
        free(slots);
        return -1;
    }
    memset(slots, 0xff, size * sizeof(int32_t));
    for (int32_t i = 0; i < s->nparams; i++) {
        const char *n = s->params[i].name;
        uint32_t h = hash_str(n, strlen(n)) & (size - 1);
        for (;; h = (h + 1) & (size - 1)) {
            if (slots[h] < 0) {
                slots[h] = s->nfield_names;
                s->field_names[s->nfield_names++] = n;
                break;
            }
            if (strcmp(s->field_names[slots[h]], n) == 0) break;
        }
        s->params[i].name_id = (uint32_t)slots[h];
    }
    free(slots);
    return 0;
}

static uint32_t type_min_size(const tl_schema *s, int32_t t, int depth);

static uint32_t ctor_min_size(const tl_schema *s, const tl_ctor *c, int depth) {
    uint32_t sum = 0;
    for (int j = 0; j < c->nparams; j++) {
        const tl_param *p = &s->params[c->first_param + j];
        if (p->flag_param < 0) sum += type_min_size(s, p->type, depth + 1);
    }
    return sum > 0xffff ? 0xffff : sum;
}

static uint32_t type_min_size(const tl_schema *s, int32_t t, int depth) {
    switch (s->types[t].kind) {
    case TLK_TRUE: return 0;
    case TLK_LONG:
    case TLK_DOUBLE:
    case TLK_VECTOR: return 8;
    case TLK_INT128: return 16;
    case TLK_INT256: return 32;
    case TLK_BARE:
        return depth > 8 ? 0 : ctor_min_size(s, &s->ctors[s->types[t].ref], depth);
    default: return 4;
    }
}

int tl_schema_finish(tl_schema *s, tl_diag *diag) {
    name_table bt = {0};
    char err[200];
    if (build_tables(s, diag)) goto fail;
    if (build_boxed(s, &bt) || build_field_names(s)) goto nomem;
    s->object_type = new_type(s, TLK_OBJECT, -1, -1);
    if (s->object_type < 0) goto nomem;
    for (int32_t i = 0; i < s->nctors; i++) {
        tl_ctor *c = &s->ctors[i];
        const char *g = s->pending->generics[i];
        for (int j = 0; j < c->nparams; j++) {
            tl_param *p = &s->params[c->first_param + j];
            p->type = resolve_type(s, &bt, c->file, g, p->type_text, strlen(p->type_text), err, sizeof err);
            if (p->type == -1) goto nomem;
            if (p->type < 0) {
                tl_schema_diag(diag, s->files[c->file], c->line, "%s: %s", c->name, err);
                goto fail;
            }
        }
        if (c->is_method) {
            c->type = resolve_type(s, &bt, c->file, g, c->type_text, strlen(c->type_text), err, sizeof err);
            if (c->type == -1) goto nomem;
            if (c->type < 0) {
                tl_schema_diag(diag, s->files[c->file], c->line, "%s: %s", c->name, err);
                goto fail;
            }
        }
    }
    for (int32_t i = 0; i < s->nctors; i++) s->ctors[i].min_size = (uint16_t)ctor_min_size(s, &s->ctors[i], 0);
    s->bool_true = tl_schema_find_name(s, "boolTrue", 8);
    s->bool_false = tl_schema_find_name(s, "boolFalse", 9);
    s->gzip_packed = tl_schema_find_id(s, TL_ID_GZIP_PACKED);
    free(bt.slots);
    return 0;
nomem:
    tl_schema_diag(diag, "", 0, "out of memory");
fail:
    free(bt.slots);
    return -1;
}

