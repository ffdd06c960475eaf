/* C unit tests of the TL decoder: tokens for valid bytes, and the status and offset of every
 * kind of bad input (truncation, lengths, ids, depth, vectors, doubles, gzip, budget). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ctest.h"
#include "tl_decode.h"

static tl_schema *S;
static tl_tape T;

typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} buf;

static void u32(buf *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

static void u64(buf *b, uint64_t v) {
    u32(b, (uint32_t)v);
    u32(b, (uint32_t)(v >> 32));
}

static void str(buf *b, const char *s, size_t n) {
    size_t h = n < 254 ? 1 : 4;
    if (h == 1) {
        b->b[b->n++] = (uint8_t)n;
    } else {
        b->b[b->n++] = 254;
        b->b[b->n++] = (uint8_t)n;
        b->b[b->n++] = (uint8_t)(n >> 8);
        b->b[b->n++] = (uint8_t)(n >> 16);
    }
    memcpy(b->b + b->n, s, n);
    b->n += n;
    while ((b->n) % 4) b->b[b->n++] = 0;
}

static tl_status dec(const buf *b, int32_t type, size_t limit, size_t budget) {
    tl_decode_opts o = {limit, budget};
    return tl_decode(S, b->b, b->n, type, &o, &T, NULL);
}

static int32_t result_type(const char *method) {
    int32_t m = tl_schema_find_name(S, method, strlen(method));
    return m < 0 ? -1 : S->ctors[m].type;
}

static void gzip_into(buf *out, const uint8_t *data, size_t n) {
    static uint8_t z[1 << 16];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    deflate(&zs, Z_FINISH);
    size_t zn = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    u32(out, TL_ID_GZIP_PACKED);
    str(out, (const char *)z, zn);
}

static void test_valid(void) {
    buf b = {.n = 0};
    u32(&b, 0x7abe77ec); /* ping */
    u64(&b, 7);
    CHECK(dec(&b, -1, 0, 0) == TL_OK);
    CHECK(T.ntoks == 2 && T.toks[0].kind == TOK_OBJ && T.toks[1].kind == TOK_LONG);
    CHECK(T.toks[1].v == 7 && strcmp(S->ctors[T.toks[0].a].name, "ping") == 0);

    /* messages.sendMessage: flags with silent, inputPeerSelf, "hi", random_id */
    b.n = 0;
    u32(&b, 0x983f9745);
    u32(&b, 1u << 5);
    u32(&b, 0x7da07ec9);
    str(&b, "hi", 2);
    u64(&b, 1);
    CHECK(dec(&b, -1, 0, 0) == TL_OK);
    /* OBJ, OBJ(inputPeerSelf), BYTES, LONG; silent is bit 2 (param 2) of the presence bits */
    CHECK(T.ntoks == 4 && T.toks[0].kind == TOK_OBJ && ((T.toks[0].v >> 2) & 1) == 1);
    CHECK(((T.toks[0].v >> 3) & 1) == 0); /* background false */
    CHECK(T.toks[2].kind == TOK_BYTES && (T.toks[2].v & 0xffffffff) == 2);

    /* a typed result: Vector<long> */
    b.n = 0;
    u32(&b, TL_ID_VECTOR);
    u32(&b, 2);
    u64(&b, 1);
    u64(&b, (uint64_t)-1);
    CHECK(dec(&b, result_type("messages.receivedQueue"), 0, 0) == TL_OK);
    CHECK(T.ntoks == 3 && T.toks[0].kind == TOK_LIST && T.toks[0].v == 2);
    CHECK(dec(&b, -1, 0, 0) == TL_E_UNTYPED_VECTOR && T.err.offset == 0);

    /* Bool result */
    b.n = 0;
    u32(&b, 0x997275b5);
    CHECK(dec(&b, result_type("messages.setTyping"), 0, 0) == TL_OK && T.toks[0].kind == TOK_TRUE);
}

static void test_errors(void) {
    buf b = {.n = 0};
    u32(&b, 0x2144ca19); /* rpc_error */
    u32(&b, 400);
    str(&b, "FLOOD_WAIT_3", 12);
    size_t full = b.n;
    for (size_t n = 0; n < full; n++) {
        b.n = n;
        tl_status st = dec(&b, -1, 0, 0);
        CHECK(st == TL_E_TRUNCATED || st == TL_E_BAD_LENGTH);
        CHECK(T.err.offset <= n);
    }
    b.n = full;
    b.b[b.n++] = 0;
    CHECK(dec(&b, -1, 0, 0) == TL_E_TRAILING_BYTES && T.err.offset == full);

    b.n = 0;
    u32(&b, 0xdeadbeef);
    CHECK(dec(&b, -1, 0, 0) == TL_E_UNKNOWN_CONSTRUCTOR && T.err.id == 0xdeadbeef);

    /* a length prefix past the end, and the invalid 255 prefix */
    b.n = 0;
    u32(&b, 0x2144ca19);
    u32(&b, 1);
    b.b[b.n++] = 200;
    b.b[b.n++] = 'a';
    b.b[b.n++] = 'b';
    b.b[b.n++] = 'c';
    CHECK(dec(&b, -1, 0, 0) == TL_E_BAD_LENGTH && T.err.offset == 8);
    b.b[8] = 255;
    CHECK(dec(&b, -1, 0, 0) == TL_E_BAD_LENGTH && T.err.offset == 8);

    /* a vector count far beyond the bytes left */
    b.n = 0;
    u32(&b, 0x62d6b459);
    u32(&b, TL_ID_VECTOR);
    u32(&b, 0xffffffff);
    u64(&b, 1);
    CHECK(dec(&b, -1, 0, 0) == TL_E_VECTOR_TOO_LONG && T.err.offset == 8);

    /* a known constructor of the wrong type: inputUserSelf where InputPeer goes */
    b.n = 0;
    u32(&b, 0x58943ee2); /* messages.setTyping flags peer ... */
    u32(&b, 0);
    u32(&b, 0xf7c1b13f);
    CHECK(dec(&b, -1, 0, 0) == TL_E_UNEXPECTED_CONSTRUCTOR && T.err.offset == 8);

    /* nesting: invokeWithoutUpdates query:!X, 100 deep */
    b.n = 0;
    for (int i = 0; i < 100; i++) u32(&b, 0xbf9459b7);
    u32(&b, 0x7abe77ec);
    u64(&b, 1);
    CHECK(dec(&b, -1, 0, 0) == TL_E_TOO_DEEP);

    /* NaN and infinity */
    b.n = 0;
    u32(&b, 0x48222faf);
    u32(&b, 0);
    u64(&b, 0x7ff8000000000000ull);
    u64(&b, 0);
    CHECK(dec(&b, -1, 0, 0) == TL_E_BAD_DOUBLE && T.err.offset == 8);
    b.n = 8;
    u64(&b, 0);
    u64(&b, 0xfff0000000000000ull);
    CHECK(dec(&b, -1, 0, 0) == TL_E_BAD_DOUBLE && T.err.offset == 16);

    /* the work budget */
    b.n = 0;
    u32(&b, 0x62d6b459);
    u32(&b, TL_ID_VECTOR);
    u32(&b, 1000);
    for (int i = 0; i < 1000; i++) u64(&b, (uint64_t)i);
    CHECK(dec(&b, -1, 0, 100) == TL_E_BUDGET);
    CHECK(dec(&b, -1, 0, 0) == TL_OK && T.ntoks == 1002);
}

static void test_gzip(void) {
    buf inner = {.n = 0}, b = {.n = 0};
    u32(&inner, 0x7abe77ec);
    u64(&inner, 42);
    gzip_into(&b, inner.b, inner.n);
    CHECK(dec(&b, -1, 0, 0) == TL_OK && T.ntoks == 2 && T.toks[1].v == 42);
    /* strings inside point into the inflated buffer */
    inner.n = 0;
    u32(&inner, 0x2144ca19);
    u32(&inner, 1);
    str(&inner, "INSIDE", 6);
    b.n = 0;
    gzip_into(&b, inner.b, inner.n);
    CHECK(dec(&b, -1, 0, 0) == TL_OK && T.toks[2].kind == TOK_BYTES && T.toks[2].a == 1);
    CHECK(memcmp(T.bufs[1] + (T.toks[2].v >> 32), "INSIDE", 6) == 0);
    /* the limit: 12 inflated bytes against a limit of 11 */
    inner.n = 0;
    u32(&inner, 0x7abe77ec);
    u64(&inner, 42);
    b.n = 0;
    gzip_into(&b, inner.b, inner.n);
    CHECK(dec(&b, -1, 11, 0) == TL_E_GZIP_TOO_LARGE);
    CHECK(dec(&b, -1, 12, 0) == TL_OK);
    /* a bomb: 1 MiB of zeros against the 16 MiB default is fine, against 64 KiB it is not */
    static uint8_t zeros[1 << 20];
    buf *big = malloc(sizeof *big);
    big->n = 0;
    gzip_into(big, zeros, sizeof zeros);
    CHECK(dec(big, -1, 65536, 0) == TL_E_GZIP_TOO_LARGE);
    /* inflation stops as soon as the work budget runs out, not after the whole output */
    CHECK(dec(big, -1, 0, 100000) == TL_E_BUDGET);
    free(big);
    /* not gzip; inner errors carry the offset of the gzip_packed */
    b.n = 0;
    u32(&b, 0x7abe77ec);
    u64(&b, 1);
    u32(&b, TL_ID_GZIP_PACKED);
    str(&b, "garbage!", 8);
    CHECK(dec(&b, -1, 0, 0) == TL_E_TRAILING_BYTES);
    b.n = 0;
    u32(&b, TL_ID_GZIP_PACKED);
    str(&b, "garbage!", 8);
    CHECK(dec(&b, -1, 0, 0) == TL_E_GZIP && T.err.offset == 0);
    inner.n = 0;
    u32(&inner, 0x7abe77ec);
    u64(&inner, 42);
    u32(&inner, 0);
    b.n = 0;
    u32(&b, 0x62d6b459); /* msgs_ack with a gzipped Vector<long>... that has trailing bytes */
    gzip_into(&b, inner.b, inner.n);
    CHECK(dec(&b, -1, 0, 0) == TL_E_UNEXPECTED_CONSTRUCTOR && T.err.in_gzip && T.err.gzip_offset == 4);
}

int main(void) {
    tl_diag diag;
    S = tl_schema_load_dir("priv/schema", &diag);
    if (!S) {
        fprintf(stderr, "%s:%d: %s\n", diag.file, diag.line, diag.message);
        return 1;
    }
    test_valid();
    test_errors();
    test_gzip();
    tl_tape_free(&T);
    tl_schema_free(S);
    return ctest_summary("tl_decode");
}
