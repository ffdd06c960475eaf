/* libFuzzer: the TL decoder on hostile bytes, as any boxed object and as the result type of a
 * method picked by the first two bytes. Besides ASan/UBSan, every tape a successful decode
 * produces is walked the way tl_decode_nif.c builds terms from it: the walk must end exactly at
 * the last token and every string must lie inside its buffer, or the fuzzer aborts.
 * The schema comes from $TL_SCHEMA_DIR or priv/schema (make fuzz runs from the repo root). */
#include <stdio.h>
#include <stdlib.h>

#include "tl_decode.h"

static tl_schema *S;
static int32_t *methods;
static int32_t nmethods;
static tl_tape T;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *dir = getenv("TL_SCHEMA_DIR");
    tl_diag diag;
    S = tl_schema_load_dir(dir ? dir : "priv/schema", &diag);
    if (!S) {
        fprintf(stderr, "fuzz_tl_decode: %s:%d: %s\n", diag.file, diag.line, diag.message);
        abort();
    }
    methods = malloc(sizeof(int32_t) * (size_t)S->nctors);
    for (int32_t i = 0; i < S->nctors; i++)
        if (S->ctors[i].is_method) methods[nmethods++] = i;
    return 0;
}

/* Walks one value from token *i, like the NIF's builder; returns 0 if the tape is consistent. */
static int walk(size_t *i, int depth) {
    if (*i >= T.ntoks || depth > TL_MAX_DEPTH + 2) return -1;
    const tl_tok *t = &T.toks[(*i)++];
    switch (t->kind) {
    case TOK_INT:
    case TOK_LONG:
    case TOK_DOUBLE:
    case TOK_TRUE:
    case TOK_FALSE: return 0;
    case TOK_BYTES: {
        size_t off = (size_t)(t->v >> 32), n = (size_t)(t->v & 0xffffffffu);
        return t->a < T.nbufs && off <= T.buf_lens[t->a] && n <= T.buf_lens[t->a] - off ? 0 : -1;
    }
    case TOK_LIST:
        for (uint64_t k = 0; k < t->v; k++)
            if (walk(i, depth + 1)) return -1;
        return 0;
    case TOK_OBJ: {
        if ((int32_t)t->a >= S->nctors) return -1;
        const tl_ctor *c = &S->ctors[t->a];
        uint64_t bits[(TL_MAX_PARAMS + 63) / 64] = {t->v};
        for (int k = 64; k < c->nparams; k += 64) {
            if (*i >= T.ntoks || T.toks[*i].kind != TOK_BITS) return -1;
            bits[k / 64] = T.toks[(*i)++].v;
        }
        for (int j = 0; j < c->nparams; j++) {
            const tl_param *p = &S->params[c->first_param + j];
            uint8_t kind = S->types[p->type].kind;
            if (kind == TLK_FLAGS || kind == TLK_TRUE) continue;
            if (((bits[j / 64] >> (j % 64)) & 1) && walk(i, depth + 1)) return -1;
        }
        return 0;
    }
    default: return -1;
    }
}

static void check(const uint8_t *data, size_t size, int32_t type) {
    tl_decode_opts opts = {1u << 20, 0}; /* 1 MiB of gzip output keeps runs fast */
    if (tl_decode(S, data, size, type, &opts, &T, NULL) != TL_OK) return;
    size_t i = 0;
    if (walk(&i, 0) != 0 || i != T.ntoks) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check(data, size, -1);
    if (size >= 2 && nmethods > 0) {
        int32_t m = methods[((size_t)data[0] << 8 | data[1]) % (size_t)nmethods];
        check(data + 2, size - 2, S->ctors[m].type);
    }
    return 0;
}
