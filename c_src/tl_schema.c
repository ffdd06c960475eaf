/* TL schema text -> definitions: tokenizing, the canonical form and its CRC32, flags and
 * generic parameters, files and sections (see tl_schema.h). Resolution is tl_schema_resolve.c. */
#include "tl_schema.h"
#include "tl_schema_impl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void tl_schema_diag(tl_diag *d, const char *file, int line, const char *fmt, ...) {
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

int tl_schema_grow(void **arr, int32_t *cap, int32_t need, size_t elem) {
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
        tl_schema_diag(diag, file, line, "too many parameters");
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
        tl_schema_diag(diag, file, line, "expected `name ... = Type;`");
        return -1;
    }
    /* Built-in definitions (int ? = Int; int128 4*[ int ] = Int128; vector {t:Type} # [ t ]). */
    for (int i = 1; i < eq; i++)
        if (span_eq(tok[i], "?") || span_find(tok[i], '[')) return 0;
    if (eq + 2 != n) {
        tl_schema_diag(diag, file, line, "the result type must be one token");
        return -1;
    }

    const char *hash = span_find(tok[0], '#');
    size_t name_len = hash ? (size_t)(hash - tok[0].p) : tok[0].n;
    if (name_len == 0) {
        tl_schema_diag(diag, file, line, "missing name");
        return -1;
    }
    int64_t crc = tl_schema_line_crc(def, len);
    if (crc < 0) {
        tl_schema_diag(diag, file, line, "cannot compute the canonical form");
        return -1;
    }
    uint32_t id = (uint32_t)crc;
    uint8_t id_not_crc = 0;
    if (hash) {
        size_t hl = tok[0].n - name_len - 1;
        char hex[9];
        if (hl < 1 || hl > 8) {
            tl_schema_diag(diag, file, line, "bad constructor id");
            return -1;
        }
        memcpy(hex, hash + 1, hl);
        hex[hl] = 0;
        for (size_t i = 0; i < hl; i++)
            if (!isxdigit((unsigned char)hex[i])) {
                tl_schema_diag(diag, file, line, "bad constructor id");
                return -1;
            }
        uint32_t declared = (uint32_t)strtoul(hex, NULL, 16);
        if (declared != id) {
            if (!marked) {
                tl_schema_diag(diag, file, line,
                         "%.*s: declared id %08x is not the CRC32 %08x of the canonical form "
                         "(mark the line with `// " TL_ID_NOT_CRC_MARK "` if the id is official)",
                         (int)name_len, tok[0].p, declared, id);
                return -1;
            }
            id_not_crc = 1;
        } else if (marked) {
            tl_schema_diag(diag, file, line, "marked " TL_ID_NOT_CRC_MARK " but the id is the CRC32");
            return -1;
        }
        id = declared;
    }

    if (tl_schema_grow((void **)&s->ctors, &s->cap_ctors, s->nctors + 1, sizeof *s->ctors) ||
        tl_schema_grow((void **)&s->pending->generics, &s->pending->cap, s->nctors + 1, sizeof(char *)) ||
        tl_schema_grow((void **)&s->params, &s->cap_params, s->nparams + eq, sizeof *s->params))
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
                tl_schema_diag(diag, file, line, "bad generic parameter %.*s", (int)t.n, t.p);
                return -1;
            }
            size_t vn = (size_t)(colon - t.p - 1);
            if (glen + vn + 2 >= sizeof generics) {
                tl_schema_diag(diag, file, line, "too many generic parameters");
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
            tl_schema_diag(diag, file, line, "expected name:Type, got %.*s", (int)t.n, t.p);
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
                tl_schema_diag(diag, file, line, "bad flag condition in %.*s", (int)t.n, t.p);
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
                tl_schema_diag(diag, file, line, "flag condition %.*s names no earlier flags word",
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
            tl_schema_diag(diag, file, line, "more than %d flags words", TL_MAX_FLAG_WORDS);
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
    tl_schema_diag(diag, file, line, "out of memory");
    return -1;
}

int tl_schema_add(tl_schema *s, const char *file, const char *text, size_t len, tl_diag *diag) {
    char **files = realloc(s->files, (size_t)(s->nfiles + 1) * sizeof *files);
    if (!files) {
        tl_schema_diag(diag, file, 0, "out of memory");
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
                    tl_schema_diag(diag, file, lineno, "out of memory");
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
        tl_schema_diag(diag, file, stmt_line, "definition without a closing `;`");
        rc = -1;
    }
    free(stmt);
    return rc;
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
        tl_schema_diag(diag, "", 0, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *text = read_file(path, &len);
        if (!text) {
            tl_schema_diag(diag, path, 0, "cannot read the schema file");
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
    if (s->layer <= 0) { /* the layer sent in invokeWithLayer comes from here */
        tl_schema_diag(diag, "api.tl", 0, "no `// LAYER N` line (Telegram's api.tl ends with one)");
        tl_schema_free(s);
        return NULL;
    }
    return s;
}
