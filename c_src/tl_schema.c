/* TL schema text -> read-only tables (see tl_schema.h). */
#include "tl_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Text kept until tl_schema_finish resolves it. */
struct tl_schema_pending {
    char **generics; /* per constructor: space-separated generic variable names ("" if none) */
    int32_t cap;
};

static void diag_set(tl_diag *d, const char *file, int line, const char *fmt, ...) {
    if (!d) return;
    snprintf(d->file, sizeof d->file, "%s", file ? file : "");
    d->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
}

static char *keep(tl_schema *s, const char *p, size_t n) {
    if (s->nstrings == s->cap_strings) {
        int32_t cap = s->cap_strings ? s->cap_strings * 2 : 1024;
        char **a = realloc(s->strings, (size_t)cap * sizeof *a);
        if (!a) return NULL;
        s->strings = a;
        s->cap_strings = cap;
    }
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, p, n);
    c[n] = 0;
    s->strings[s->nstrings++] = c;
    return c;
}

static int grow(void **arr, int32_t *cap, int32_t need, size_t elem) {
    if (need <= *cap) return 0;
    int32_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *a = realloc(*arr, (size_t)c * elem);
    if (!a) return -1;
    *arr = a;
    *cap = c;
    return 0;
}

tl_schema *tl_schema_new(void) {
    tl_schema *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pending = calloc(1, sizeof *s->pending);
    if (!s->pending) {
        free(s);
        return NULL;
    }
    s->bool_true = s->bool_false = s->gzip_packed = s->object_type = -1;
    return s;
}

void tl_schema_free(tl_schema *s) {
    if (!s) return;
    for (int32_t i = 0; i < s->nstrings; i++) free(s->strings[i]);
    free(s->strings);
    if (s->pending) {
        free(s->pending->generics);
        free(s->pending);
    }
    free(s->ctors);
    free(s->params);
    free(s->types);
    free(s->boxed);
    free(s->type_ctors);
    free(s->field_names);
    free(s->files);
    free(s->by_id);
    free(s->by_name);
    free(s);
}

/* ---- canonical form and CRC ---------------------------------------------------------------- */

typedef struct {
    const char *p;
    size_t n;
} span;

/* Splits text into whitespace-separated tokens; returns the count (at most cap). */
static int tokenize(const char *text, size_t len, span *tok, int cap) {
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        if (i >= len) break;
        size_t st = i;
        while (i < len && !isspace((unsigned char)text[i])) i++;
        if (n == cap) return -1;
        tok[n].p = text + st;
        tok[n].n = i - st;
        n++;
    }
    return n;
}

static int span_eq(span t, const char *lit) {
    return t.n == strlen(lit) && memcmp(t.p, lit, t.n) == 0;
}

static const char *span_find(span t, char c) {
    return memchr(t.p, c, t.n);
}

/* True for a `name:flagsX.N?true` parameter: it takes no bytes and is not in the CRC. */
static int is_flag_true(span t) {
    const char *q = span_find(t, '?');
    if (!q || !span_find(t, ':') || !span_find(t, '.')) return 0;
    size_t rest = (size_t)(t.p + t.n - (q + 1));
    return rest == 4 && memcmp(q + 1, "true", 4) == 0;
}

/* Appends a token in canonical form: braces dropped, '<' as ' ', '>' dropped, ":bytes"/"?bytes"
 * (as the whole type) as string. */
static size_t canon_token(span t, char *out, size_t pos, size_t cap) {
    size_t n = t.n;
    const char *p = t.p;
    int bytes_type = n >= 6 && memcmp(p + n - 6, ":bytes", 6) == 0;
    bytes_type = bytes_type || (n >= 6 && memcmp(p + n - 6, "?bytes", 6) == 0);
    size_t stop = bytes_type ? n - 5 : n;
    for (size_t i = 0; i < stop && pos < cap; i++) {
        char c = p[i];
        if (c == '{' || c == '}' || c == '>') continue;
        out[pos++] = c == '<' ? ' ' : c;
    }
    if (bytes_type)
        for (const char *r = "string"; *r && pos < cap; r++) out[pos++] = *r;
    return pos;
}

int64_t tl_schema_line_crc(const char *def, size_t len) {
    span tok[TL_MAX_PARAMS + 8];
    int n = tokenize(def, len, tok, TL_MAX_PARAMS + 8);
    if (n < 3) return -1;
    char buf[8192];
    size_t pos = 0;
    const char *hash = span_find(tok[0], '#');
    span name = {tok[0].p, hash ? (size_t)(hash - tok[0].p) : tok[0].n};
    if (name.n >= sizeof buf) return -1;
    memcpy(buf, name.p, name.n);
    pos = name.n;
    int after_eq = 0;
    for (int i = 1; i < n; i++) {
        if (span_eq(tok[i], "=")) after_eq = 1;
        if (!after_eq && is_flag_true(tok[i])) continue;
        if (pos < sizeof buf) buf[pos++] = ' ';
        pos = canon_token(tok[i], buf, pos, sizeof buf);
    }
    if (pos >= sizeof buf) return -1;
    return (int64_t)crc32(0, (const Bytef *)buf, (uInt)pos);
}

/* ---- adding definitions -------------------------------------------------------------------- */

static int add_definition(tl_schema *s, const char *file, int32_t file_ix, int line,
                          const char *def, size_t len, int is_method, int marked,
                          tl_diag *diag) {
    span tok[TL_MAX_PARAMS + 8];
    int n = tokenize(def, len, tok, TL_MAX_PARAMS + 8);
    if (n < 0) {
        diag_set(diag, file, line, "too many parameters");
        return -1;
    }
    if (n == 0) return 0;
    int eq = -1;
    for (int i = 0; i < n; i++)
        if (span_eq(tok[i], "=")) {
            eq = i;
            break;
        }
    if (eq < 1 || eq == n - 1) {
        diag_set(diag, file, line, "expected `name ... = Type;`");
        return -1;
    }
    /* Built-in definitions (int ? = Int; int128 4*[ int ] = Int128; vector {t:Type} # [ t ]). */
    for (int i = 1; i < eq; i++)
        if (span_eq(tok[i], "?") || span_find(tok[i], '[')) return 0;
    if (eq + 2 != n) {
        diag_set(diag, file, line, "the result type must be one token");
        return -1;
    }

    const char *hash = span_find(tok[0], '#');
    size_t name_len = hash ? (size_t)(hash - tok[0].p) : tok[0].n;
    if (name_len == 0) {
        diag_set(diag, file, line, "missing name");
        return -1;
    }
    int64_t crc = tl_schema_line_crc(def, len);
    if (crc < 0) {
        diag_set(diag, file, line, "cannot compute the canonical form");
        return -1;
    }
    uint32_t id = (uint32_t)crc;
    uint8_t id_not_crc = 0;
    if (hash) {
        size_t hl = tok[0].n - name_len - 1;
        char hex[9];
        if (hl < 1 || hl > 8) {
            diag_set(diag, file, line, "bad constructor id");
            return -1;
        }
        memcpy(hex, hash + 1, hl);
        hex[hl] = 0;
        for (size_t i = 0; i < hl; i++)
            if (!isxdigit((unsigned char)hex[i])) {
                diag_set(diag, file, line, "bad constructor id");
                return -1;
            }
        uint32_t declared = (uint32_t)strtoul(hex, NULL, 16);
        if (declared != id) {
            if (!marked) {
                diag_set(diag, file, line,
                         "%.*s: declared id %08x is not the CRC32 %08x of the canonical form "
                         "(mark the line with `// " TL_ID_NOT_CRC_MARK "` if the id is official)",
                         (int)name_len, tok[0].p, declared, id);
                return -1;
            }
            id_not_crc = 1;
        } else if (marked) {
            diag_set(diag, file, line, "marked " TL_ID_NOT_CRC_MARK " but the id is the CRC32");
            return -1;
        }
        id = declared;
    }

    if (grow((void **)&s->ctors, &s->cap_ctors, s->nctors + 1, sizeof *s->ctors) ||
        grow((void **)&s->pending->generics, &s->pending->cap, s->nctors + 1, sizeof(char *)) ||
        grow((void **)&s->params, &s->cap_params, s->nparams + eq, sizeof *s->params))
        goto nomem;

    tl_ctor *c = &s->ctors[s->nctors];
    memset(c, 0, sizeof *c);
    c->name = keep(s, tok[0].p, name_len);
    c->type_text = keep(s, tok[eq + 1].p, tok[eq + 1].n);
    if (!c->name || !c->type_text) goto nomem;
    c->id = id;
    c->id_not_crc = id_not_crc;
    c->is_method = (uint8_t)is_method;
    c->first_param = s->nparams;
    c->file = file_ix;
    c->line = line;
    c->type = -1;

    int nflags = 0;
    char generics[256] = "";
    size_t glen = 0;
    for (int i = 1; i < eq; i++) {
        span t = tok[i];
        if (t.p[0] == '{') {
            const char *colon = span_find(t, ':');
            if (!colon || t.p[t.n - 1] != '}') {
                diag_set(diag, file, line, "bad generic parameter %.*s", (int)t.n, t.p);
                return -1;
            }
            size_t vn = (size_t)(colon - t.p - 1);
            if (glen + vn + 2 >= sizeof generics) {
                diag_set(diag, file, line, "too many generic parameters");
                return -1;
            }
            generics[glen++] = ' ';
            memcpy(generics + glen, t.p + 1, vn);
            glen += vn;
            generics[glen] = 0;
            continue;
        }
        const char *colon = span_find(t, ':');
        if (!colon || colon == t.p || colon == t.p + t.n - 1) {
            diag_set(diag, file, line, "expected name:Type, got %.*s", (int)t.n, t.p);
            return -1;
        }
        tl_param *p = &s->params[s->nparams];
        memset(p, 0, sizeof *p);
        p->name = keep(s, t.p, (size_t)(colon - t.p));
        const char *ty = colon + 1;
        size_t tyn = (size_t)(t.p + t.n - ty);
        p->flag_param = -1;
        p->type = -1;
        const char *q = memchr(ty, '?', tyn);
        if (q) {
            const char *dot = memchr(ty, '.', (size_t)(q - ty));
            if (!dot) {
                diag_set(diag, file, line, "bad flag condition in %.*s", (int)t.n, t.p);
                return -1;
            }
            int bit = atoi(dot + 1);
            int found = -1;
            for (int j = 0; j < c->nparams; j++) {
                tl_param *f = &s->params[c->first_param + j];
                if (strlen(f->name) == (size_t)(dot - ty) && memcmp(f->name, ty, dot - ty) == 0 &&
                    strcmp(f->type_text, "#") == 0)
                    found = j;
            }
            if (found < 0 || bit < 0 || bit > 31) {
                diag_set(diag, file, line, "flag condition %.*s names no earlier flags word",
                         (int)t.n, t.p);
                return -1;
            }
            p->flag_param = (int16_t)found;
            p->flag_bit = (uint8_t)bit;
            tyn -= (size_t)(q + 1 - ty);
            ty = q + 1;
        }
        p->type_text = keep(s, ty, tyn);
        if (!p->name || !p->type_text) goto nomem;
        if (strcmp(p->type_text, "#") == 0 && ++nflags > TL_MAX_FLAG_WORDS) {
            diag_set(diag, file, line, "more than %d flags words", TL_MAX_FLAG_WORDS);
            return -1;
        }
        c->nparams++;
        s->nparams++;
    }
    char *g = keep(s, generics, glen);
    if (!g) goto nomem;
    s->pending->generics[s->nctors] = g;
    s->nctors++;
    return 0;
nomem:
    diag_set(diag, file, line, "out of memory");
    return -1;
}

int tl_schema_add(tl_schema *s, const char *file, const char *text, size_t len, tl_diag *diag) {
    char **files = realloc(s->files, (size_t)(s->nfiles + 1) * sizeof *files);
    if (!files) {
        diag_set(diag, file, 0, "out of memory");
        return -1;
    }
    s->files = files;
    const char *base = strrchr(file, '/');
    s->files[s->nfiles] = keep(s, base ? base + 1 : file, strlen(base ? base + 1 : file));
    if (!s->files[s->nfiles]) return -1;
    int32_t file_ix = s->nfiles++;

    int is_method = 0;
    char *stmt = NULL;
    size_t stmt_len = 0, stmt_cap = 0;
    int stmt_line = 0, stmt_started = 0, rc = 0, lineno = 0;
    size_t i = 0;
    while (i < len && rc == 0) {
        size_t st = i;
        while (i < len && text[i] != '\n') i++;
        size_t end = i;
        if (i < len) i++;
        lineno++;
        const char *line = text + st;
        size_t ll = end - st;
        const char *cm = NULL;
        for (size_t k = 0; k + 1 < ll; k++)
            if (line[k] == '/' && line[k + 1] == '/') {
                cm = line + k;
                break;
            }
        size_t code_len = cm ? (size_t)(cm - line) : ll;
        int marked = 0;
        if (cm) {
            size_t cl = ll - code_len;
            int lay;
            char tmp[64];
            size_t tl = cl < sizeof tmp - 1 ? cl : sizeof tmp - 1;
            memcpy(tmp, cm, tl);
            tmp[tl] = 0;
            if (sscanf(tmp, "// LAYER %d", &lay) == 1) s->layer = lay;
            size_t ml = strlen(TL_ID_NOT_CRC_MARK);
            for (size_t k = 0; k + ml <= cl; k++)
                if (memcmp(cm + k, TL_ID_NOT_CRC_MARK, ml) == 0) marked = 1;
        }
        /* Section markers. */
        span tok[2];
        int nt = tokenize(line, code_len, tok, 2);
        if (nt == 1 && span_eq(tok[0], "---functions---")) {
            is_method = 1;
            continue;
        }
        if (nt == 1 && span_eq(tok[0], "---types---")) {
            is_method = 0;
            continue;
        }
        /* Append code to the statement; each ';' completes one. */
        size_t k = 0;
        while (k < code_len) {
            const char *semi = memchr(line + k, ';', code_len - k);
            size_t take = semi ? (size_t)(semi - line - k) : code_len - k;
            if (stmt_len + take + 2 > stmt_cap) {
                size_t nc = (stmt_len + take + 2) * 2;
                char *ns = realloc(stmt, nc);
                if (!ns) {
                    diag_set(diag, file, lineno, "out of memory");
                    rc = -1;
                    break;
                }
                stmt = ns;
                stmt_cap = nc;
            }
            if (!stmt_started) {
                span t1[1];
                if (tokenize(line + k, take, t1, 1) != 0) {
                    stmt_line = lineno;
                    stmt_started = 1;
                }
            }
            memcpy(stmt + stmt_len, line + k, take);
            stmt_len += take;
            stmt[stmt_len++] = ' ';
            k += take;
            if (semi) {
                k++;
                rc = add_definition(s, file, file_ix, stmt_line, stmt, stmt_len, is_method,
                                    marked, diag);
                stmt_len = 0;
                stmt_started = 0;
                if (rc) break;
            }
        }
    }
    if (rc == 0 && stmt_started) {
        diag_set(diag, file, stmt_line, "definition without a closing `;`");
        rc = -1;
    }
    free(stmt);
    return rc;
}

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
    if (grow((void **)&s->types, &s->cap_types, s->ntypes + 1, sizeof *s->types)) return -1;
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
        diag_set(diag, "", 0, "out of memory");
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
            diag_set(diag, s->files[c->file], c->line, "%s#%08x: name or id already defined at %s:%d",
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
                diag_set(diag, s->files[c->file], c->line, "%s: %s", c->name, err);
                goto fail;
            }
        }
        if (c->is_method) {
            c->type = resolve_type(s, &bt, c->file, g, c->type_text, strlen(c->type_text), err, sizeof err);
            if (c->type == -1) goto nomem;
            if (c->type < 0) {
                diag_set(diag, s->files[c->file], c->line, "%s: %s", c->name, err);
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
    diag_set(diag, "", 0, "out of memory");
fail:
    free(bt.slots);
    return -1;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = (n + 65536) * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

tl_schema *tl_schema_load_dir(const char *dir, tl_diag *diag) {
    static const char *names[] = {"mtproto.tl", "api.tl"};
    tl_schema *s = tl_schema_new();
    if (!s) {
        diag_set(diag, "", 0, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *text = read_file(path, &len);
        if (!text) {
            diag_set(diag, path, 0, "cannot read the schema file");
            tl_schema_free(s);
            return NULL;
        }
        int rc = tl_schema_add(s, path, text, len, diag);
        free(text);
        if (rc) {
            tl_schema_free(s);
            return NULL;
        }
    }
    if (tl_schema_finish(s, diag)) {
        tl_schema_free(s);
        return NULL;
    }
    return s;
}
