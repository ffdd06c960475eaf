/* TL decoding, plain C: checks hostile bytes against the schema and writes a flat token tape that
 * the NIF turns into terms (tl_nif.c) without further checks. gzip_packed is inflated on the way
 * (zlib, with an output budget). Used directly by the C tests and the fuzzer. */
#ifndef MTPROTO_TL_DECODE_H
#define MTPROTO_TL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "tl_schema.h"

#define TL_DEFAULT_GZIP_LIMIT (16u * 1024 * 1024) /* inflated bytes per decode */

/* Work units (about 2 ns each on a 2020s x86 core, term building included): a byte read costs
 * 1, a token 8, a constructor 32 more plus 8 per param (its map is the dearest term, and its
 * size grows with the flags.N?true keys that take no bytes), an inflated byte 2. */
#define TL_WORK_TOKEN 8
#define TL_WORK_OBJECT 32
#define TL_WORK_KEY 8
#define TL_WORK_INFLATED 2

typedef enum {
    TOK_OBJ,    /* a = constructor index; v = presence bits of params 0..63 (see below) */
    TOK_BITS,   /* presence bits of params 64*k..64*k+63, following TOK_OBJ for big constructors */
    TOK_INT,    /* v = sign-extended int32 */
    TOK_LONG,   /* v = int64 */
    TOK_DOUBLE, /* v = IEEE bits (finite) */
    TOK_BYTES,  /* a = buffer index, v = offset << 32 | length */
    TOK_TRUE,
    TOK_FALSE,
    TOK_LIST    /* v = element count; the elements follow */
} tl_tok_kind;

/* For TOK_OBJ: bit i of the presence bits says, for a flags.N?true param, its value; for a
 * `#` param nothing (no token); for any other param that a token follows for it (clear: an
 * absent optional field). */
typedef struct {
    uint32_t kind;
    uint32_t a;
    uint64_t v;
} tl_tok;

typedef enum {
    TL_OK = 0,
    TL_E_TRUNCATED,           /* fewer bytes than the value needs */
    TL_E_BAD_LENGTH,          /* a string length prefix past the end */
    TL_E_UNKNOWN_CONSTRUCTOR, /* id in no schema */
    TL_E_UNEXPECTED_CONSTRUCTOR, /* known id, not of the expected type */
    TL_E_TRAILING_BYTES,      /* bytes left after the value */
    TL_E_TOO_DEEP,            /* nesting beyond TL_MAX_DEPTH */
    TL_E_VECTOR_TOO_LONG,     /* count larger than the remaining bytes allow */
    TL_E_BAD_DOUBLE,          /* NaN or infinity (no BEAM float for it) */
    TL_E_UNTYPED_VECTOR,      /* a Vector where any object was expected: element type unknown */
    TL_E_GZIP,                /* gzip_packed that does not inflate */
    TL_E_GZIP_TOO_LARGE,      /* inflated output beyond the limit */
    TL_E_TOO_LARGE,           /* input of 4 GiB or more */
    TL_E_NOMEM,
    TL_E_BUDGET               /* the work budget ran out (the caller redoes it elsewhere) */
} tl_status;

typedef struct {
    tl_status status;
    size_t offset;      /* where, in the buffer being read (the inflated one inside gzip) */
    uint32_t id;        /* constructor id for the constructor errors */
    int32_t expected;   /* type node expected, -1 if none */
    int in_gzip;        /* the error is inside gzip_packed data ... */
    size_t gzip_offset; /* ... which starts at this offset of the input */
} tl_decode_error;

typedef struct {
    tl_tok *toks;
    size_t ntoks, cap;
    /* buffers the BYTES tokens point into: [0] is the input, the rest are inflated (owned) */
    const uint8_t **bufs;
    size_t *buf_lens;
    uint32_t nbufs, cap_bufs;
    tl_decode_error err;
} tl_tape;

typedef struct {
    size_t gzip_limit; /* inflated bytes allowed in total, 0 = TL_DEFAULT_GZIP_LIMIT */
    size_t max_work;   /* 0 = unlimited; else stop with TL_E_BUDGET past this much work */
} tl_decode_opts;

/* Decodes one value of type node `type` (-1: any boxed object, methods included) filling all of
 * `data`. The tape must be zeroed before the first use; free it with tl_tape_free. On error the
 * status is returned and tape->err says where. `work` receives the work done (bytes + tokens). */
tl_status tl_decode(const tl_schema *s, const uint8_t *data, size_t len, int32_t type,
                    const tl_decode_opts *opts, tl_tape *tape, size_t *work);

void tl_tape_free(tl_tape *tape);

/* A short constant name for a status, e.g. "truncated". */
const char *tl_status_name(tl_status st);

#endif
