/* Framing codecs (c_src/framing.c, c_src/obfuscated2.c): wire bytes checked against the spec
 * and an independent bitwise CRC32, round trips for every framing and role at every chunking,
 * detection, and the errors a peer can cause. */
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "framing.h"
#include "obfuscated2.h"

/* ---------------------------------------------------------------- helpers */

#define MAX_EVENTS 64

typedef struct {
    const uint8_t *chunk, *work; /* what events may point into */
    size_t chunk_len;
    int stray;                   /* events pointing elsewhere */
    int n;
    fr_event ev[MAX_EVENTS];
    uint8_t *copy[MAX_EVENTS]; /* packet bytes, copied */
    int in_chunk[MAX_EVENTS];  /* 1: the packet pointed into the chunk (no copy) */
} events;

static int collect(void *ctx, const fr_event *ev) {
    events *e = ctx;
    if (e->n == MAX_EVENTS) {
        if (ev->body) free(ev->body);
        return 1;
    }
    e->ev[e->n] = *ev;
    e->copy[e->n] = NULL;
    if (ev->kind == FR_EV_PACKET) {
        int in_chunk = ev->data >= e->chunk && ev->data + ev->len <= e->chunk + e->chunk_len;
        int in_work = e->work && ev->data >= e->work && ev->data + ev->len <= e->work + e->chunk_len;
        if (!ev->body && !in_chunk && !in_work) e->stray++;
        e->copy[e->n] = malloc(ev->len ? ev->len : 1);
        memcpy(e->copy[e->n], ev->data, ev->len);
        e->in_chunk[e->n] = ev->body == NULL;
        free(ev->body); /* the default allocator is malloc */
    }
    e->n++;
    return 0;
}

static void events_clear(events *e) {
    for (int i = 0; i < e->n; i++) free(e->copy[i]);
    e->n = 0;
}

static size_t allocations, largest_allocation;
static uint8_t *counting_alloc(void *ctx, size_t size) {
    allocations++;
    if (size > largest_allocation) largest_allocation = size;
    return malloc(size);
}
static uint8_t *counting_realloc(void *ctx, uint8_t *b, size_t size) {
    allocations++;
    if (size > largest_allocation) largest_allocation = size;
    return realloc(b, size);
}
static void counting_free(void *ctx, uint8_t *b) { free(b); }

/* Codec states from the configured allocator: how many are live, and whether each was wiped. */
static long states_live, states_unwiped;
static size_t state_size;
static void *counting_state_alloc(size_t size) {
    states_live++;
    state_size = size;
    uint8_t *p = malloc(size);
    if (p) memset(p, 0xa5, size); /* the codec must not rely on zeroed memory */
    return p;
}
static void counting_state_free(void *state) {
    states_live--;
    for (size_t i = 0; i < state_size; i++)
        if (((uint8_t *)state)[i]) {
            states_unwiped++;
            break;
        }
    free(state);
}

static fr_config config(fr_kind kind, fr_role role, int obfuscated) {
    fr_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind;
    cfg.role = role;
    cfg.obfuscated = obfuscated;
    cfg.max_padding = 15;
    cfg.alloc = (fr_alloc){counting_alloc, counting_realloc, counting_free, NULL,
                           counting_state_alloc, counting_state_free};
    return cfg;
}

/* 64 bytes that are a valid obfuscated2 init random, varied by seed. */
static void init_random(uint8_t out[64], unsigned seed) {
    for (int i = 0; i < 64; i++) out[i] = (uint8_t)(seed * 31 + i * 7 + 1);
    out[0] = 0x11;
    out[4] = 0x22;
}

static fr_codec *make(fr_config cfg) {
    int err = 0;
    fr_codec *c = fr_new(&cfg, &err);
    CHECK(c != NULL);
    CHECK(err == 0);
    return c;
}

/* Appends one encoded frame (through the obfuscation when there is one) to a stream buffer. */
static size_t put_frame(fr_codec *c, const uint8_t *payload, size_t len, int quick_ack,
                        unsigned rnd_seed, uint8_t *out) {
    uint8_t hdr[FR_MAX_HEADER], trl[FR_MAX_TRAILER], rnd[FR_ENCODE_RANDOM];
    size_t hl, tl;
    for (int i = 0; i < FR_ENCODE_RANDOM; i++) rnd[i] = (uint8_t)(rnd_seed * 13 + i);
    int r = fr_encode_frame(c, payload, len, quick_ack, rnd, hdr, &hl, trl, &tl);
    CHECK(r == 0);
    if (r) return 0;
    CHECK(fr_encrypt(c, hdr, out, hl) == 0);
    CHECK(fr_encrypt(c, payload, out + hl, len) == 0);
    CHECK(fr_encrypt(c, trl, out + hl + len, tl) == 0);
    return hl + len + tl;
}

/* Feeds a stream in chunks of `step` bytes, each a copy decrypted into a separate work buffer
 * (odd steps) or in place (even steps). */
static int feed(fr_codec *c, const uint8_t *stream, size_t len, size_t step, events *e) {
    for (size_t pos = 0; pos < len; pos += step) {
        size_t n = len - pos < step ? len - pos : step;
        uint8_t *chunk = malloc(n), *work = step % 2 ? malloc(n) : chunk;
        memcpy(chunk, stream + pos, n);
        e->chunk = chunk;
        e->work = work;
        e->chunk_len = n;
        int r = fr_decode(c, chunk, n, work, collect, e);
        if (work != chunk) free(work);
        free(chunk);
        if (r) {
            CHECK(e->stray == 0);
            return r;
        }
    }
    CHECK(e->stray == 0);
    return 0;
}

static uint32_t bitwise_crc32(const uint8_t *p, size_t n) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* An MTProto-shaped packet (so padded intermediate can find its end): encrypted-looking, 24+16k. */
static void mtproto_packet(uint8_t *p, size_t len, unsigned seed) {
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(seed + i * 131 + (i >> 8));
    p[0] |= 1; /* nonzero auth_key_id */
}

/* ---------------------------------------------------------------- wire bytes */

static void test_abridged_bytes(void) {
    fr_codec *c = make(config(FR_ABRIDGED, FR_CLIENT, 0));
    uint8_t start[FR_START_MAX], hdr[8], trl[16], payload[600] = {0};
    size_t len, hl, tl;
    CHECK(fr_encode_frame(c, payload, 4, 0, NULL, hdr, &hl, trl, &tl) == FR_ERR_NOT_STARTED);
    CHECK(fr_start(c, start, &len) == 0 && len == 1 && start[0] == 0xef);
    CHECK(fr_start(c, start, &len) == FR_ERR_BAD_ARG); /* only once */
    CHECK(fr_encode_frame(c, payload, 4, 0, NULL, hdr, &hl, trl, &tl) == 0 && hl == 1 && hdr[0] == 0x01 && tl == 0);
    CHECK(fr_encode_frame(c, payload, 504, 0, NULL, hdr, &hl, trl, &tl) == 0 && hl == 1 && hdr[0] == 0x7e);
    CHECK(fr_encode_frame(c, payload, 508, 0, NULL, hdr, &hl, trl, &tl) == 0 && hl == 4);
    CHECK(hdr[0] == 0x7f && hdr[1] == 0x7f && hdr[2] == 0 && hdr[3] == 0);
    CHECK(fr_encode_frame(c, payload, 8, 1, NULL, hdr, &hl, trl, &tl) == 0 && hl == 1 && hdr[0] == 0x82);
    CHECK(fr_encode_frame(c, payload, 508, 1, NULL, hdr, &hl, trl, &tl) == 0 && hdr[0] == 0xff && hdr[1] == 0x7f);
    CHECK(fr_encode_frame(c, payload, 6, 0, NULL, hdr, &hl, trl, &tl) == FR_ERR_BAD_LENGTH);
    CHECK(fr_encode_frame(c, payload, 0, 0, NULL, hdr, &hl, trl, &tl) == FR_ERR_BAD_LENGTH);
    fr_free(c);
}

static void test_intermediate_and_padded_bytes(void) {
    uint8_t start[FR_START_MAX], hdr[8], trl[16], payload[64] = {0}, rnd[16];
    size_t len, hl, tl;
    fr_codec *c = make(config(FR_INTERMEDIATE, FR_CLIENT, 0));
    CHECK(fr_start(c, start, &len) == 0 && len == 4 && memcmp(start, "\xee\xee\xee\xee", 4) == 0);
    CHECK(fr_encode_frame(c, payload, 40, 0, NULL, hdr, &hl, trl, &tl) == 0 && hl == 4 && tl == 0);
    CHECK_MEM(hdr, "\x28\x00\x00\x00", 4);
    CHECK(fr_encode_frame(c, payload, 40, 1, NULL, hdr, &hl, trl, &tl) == 0);
    CHECK_MEM(hdr, "\x28\x00\x00\x80", 4);
    fr_free(c);

    c = make(config(FR_PADDED, FR_CLIENT, 0));
    CHECK(fr_start(c, start, &len) == 0 && len == 4 && memcmp(start, "\xdd\xdd\xdd\xdd", 4) == 0);
    for (int i = 0; i < 16; i++) rnd[i] = (uint8_t)(0xa0 + i);
    rnd[0] = 0x1d; /* 29 % 16 = 13 padding bytes */
    CHECK(fr_encode_frame(c, payload, 40, 0, rnd, hdr, &hl, trl, &tl) == 0 && tl == 13);
    CHECK_MEM(hdr, "\x35\x00\x00\x00", 4);
    CHECK_MEM(trl, rnd + 1, 13);
    CHECK(fr_encode_frame(c, payload, 40, 0, NULL, hdr, &hl, trl, &tl) == FR_ERR_BAD_ARG);
    fr_free(c);
}

static void test_full_bytes(void) {
    uint8_t start[FR_START_MAX], hdr[8], trl[16], frame[64];
    const uint8_t payload[] = "ping-pong-12"; /* 12 bytes */
    size_t len, hl, tl;
    fr_codec *c = make(config(FR_FULL, FR_CLIENT, 0));
    CHECK(fr_start(c, start, &len) == 0 && len == 0);
    for (uint32_t seq = 0; seq < 3; seq++) {
        CHECK(fr_encode_frame(c, payload, 12, 0, NULL, hdr, &hl, trl, &tl) == 0 && hl == 8 && tl == 4);
        CHECK(hdr[0] == 24 && hdr[1] == 0 && hdr[4] == seq && hdr[5] == 0);
        memcpy(frame, hdr, 8);
        memcpy(frame + 8, payload, 12);
        uint32_t crc = bitwise_crc32(frame, 20);
        CHECK(trl[0] == (uint8_t)crc && trl[1] == (uint8_t)(crc >> 8) && trl[2] == (uint8_t)(crc >> 16) &&
              trl[3] == (uint8_t)(crc >> 24));
    }
    CHECK(fr_encode_frame(c, payload, 12, 1, NULL, hdr, &hl, trl, &tl) == FR_ERR_UNSUPPORTED);
    fr_free(c);
}

/* ---------------------------------------------------------------- round trips */

/* Client -> server and server -> client over one framing, fed at several chunk sizes. */
static void round_trip(fr_kind kind, int obfuscated, const uint8_t *secret) {
    static const size_t sizes[] = {24, 40, 504, 520, 1032, 70008}; /* 24 + 16k, as MTProto packets */
    static const size_t steps[] = {1, 3, 7, 64, 1000, (1 << 20) + 1, 1 << 20};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        fr_config ccfg = config(kind, FR_CLIENT, obfuscated), scfg = config(kind, FR_SERVER, obfuscated);
        uint8_t rnd[64];
        init_random(rnd, (unsigned)s);
        ccfg.init_random = rnd;
        ccfg.secret = scfg.secret = secret;
        ccfg.has_dc_id = 1;
        ccfg.dc_id = -3;
        fr_codec *client = make(ccfg), *server = make(scfg);
        size_t cap = 200000, up_len = 0, down_len = 0;
        uint8_t *up = malloc(cap), *down = malloc(cap), *pkt = malloc(80000);
        CHECK(fr_start(client, up, &up_len) == 0);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            mtproto_packet(pkt, sizes[i], (unsigned)i);
            up_len += put_frame(client, pkt, sizes[i], kind != FR_FULL && i == 1, (unsigned)i, up + up_len);
        }
        events e = {0};
        CHECK(feed(server, up, up_len, steps[s], &e) == 0);
        CHECK(e.n == (int)(sizeof sizes / sizeof *sizes));
        for (int i = 0; i < e.n; i++) {
            mtproto_packet(pkt, sizes[i], (unsigned)i);
            CHECK(e.ev[i].kind == FR_EV_PACKET && e.ev[i].len == sizes[i]);
            CHECK(memcmp(e.copy[i], pkt, sizes[i]) == 0);
            CHECK(e.ev[i].quick_ack == (kind != FR_FULL && i == 1));
        }
        if (steps[s] >= 1 << 20) CHECK(e.in_chunk[0] && e.in_chunk[e.n - 1]); /* whole: no copy */
        events_clear(&e);
        fr_kind k;
        int obf, has_dc;
        int16_t dc;
        fr_info(server, &k, &obf, &has_dc, &dc);
        CHECK(k == kind && obf == obfuscated);
        if (obfuscated) CHECK(has_dc && dc == -3);

        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            mtproto_packet(pkt, sizes[i], (unsigned)i);
            down_len += put_frame(server, pkt, sizes[i], 0, (unsigned)i + 7, down + down_len);
        }

        CHECK(feed(client, down, down_len, steps[s], &e) == 0);
        CHECK(e.n == (int)(sizeof sizes / sizeof *sizes));
        for (int i = 0; i < e.n; i++) {
            mtproto_packet(pkt, sizes[i], (unsigned)i);
            CHECK(e.ev[i].kind == FR_EV_PACKET && e.ev[i].len == sizes[i] && !e.ev[i].quick_ack);
            CHECK(memcmp(e.copy[i], pkt, sizes[i]) == 0);
        }
        events_clear(&e);
        free(up);
        free(down);
        free(pkt);
        fr_free(client);
        fr_free(server);
    }
}

static void test_round_trips(void) {
    const uint8_t secret[16] = "0123456789abcdef";
    round_trip(FR_ABRIDGED, 0, NULL);
    round_trip(FR_INTERMEDIATE, 0, NULL);
    round_trip(FR_PADDED, 0, NULL);
    round_trip(FR_FULL, 0, NULL);
    round_trip(FR_ABRIDGED, 1, NULL);
    round_trip(FR_INTERMEDIATE, 1, NULL);
    round_trip(FR_PADDED, 1, NULL);
    round_trip(FR_INTERMEDIATE, 1, secret);
}

/* ---------------------------------------------------------------- detection */

static void detect_one(fr_kind kind, int obfuscated, size_t step) {
    fr_config ccfg = config(kind, FR_CLIENT, obfuscated);
    uint8_t rnd[64], stream[4096], pkt[1032];
    size_t len;
    init_random(rnd, 5);
    ccfg.init_random = rnd;
    fr_codec *client = make(ccfg), *server = make(config(FR_DETECT, FR_SERVER, 0));
    CHECK(fr_decode_needs_work(server));
    CHECK(fr_start(client, stream, &len) == 0);
    mtproto_packet(pkt, sizeof pkt, 9);
    len += put_frame(client, pkt, sizeof pkt, 0, 1, stream + len);
    len += put_frame(client, pkt, 40, 0, 2, stream + len);
    events e = {0};
    CHECK(feed(server, stream, len, step, &e) == 0);
    CHECK(e.n == 2 && e.ev[0].len == sizeof pkt && e.ev[1].len == 40);
    if (e.n == 2) CHECK(memcmp(e.copy[0], pkt, sizeof pkt) == 0 && memcmp(e.copy[1], pkt, 40) == 0);
    fr_kind k;
    int obf, has_dc;
    int16_t dc;
    fr_info(server, &k, &obf, &has_dc, &dc);
    CHECK(k == kind && obf == obfuscated);
    CHECK(fr_decode_needs_work(server) == obfuscated);
    events_clear(&e);
    fr_free(client);
    fr_free(server);
}

static void test_detection(void) {
    static const size_t steps[] = {1, 2, 5, 9, 63, 65, 4096, 4097};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        detect_one(FR_ABRIDGED, 0, steps[s]);
        detect_one(FR_INTERMEDIATE, 0, steps[s]);
        detect_one(FR_PADDED, 0, steps[s]);
        detect_one(FR_FULL, 0, steps[s]);
        detect_one(FR_ABRIDGED, 1, steps[s]);
        detect_one(FR_INTERMEDIATE, 1, steps[s]);
        detect_one(FR_PADDED, 1, steps[s]);
    }
    /* HTTP, TLS: not ours */
    static const char *other[] = {"POST / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n", "HEAD / HTTP/1.1\r\n",
                                  "OPTIONS * HTTP/1.1\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01"};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        fr_codec *server = make(config(FR_DETECT, FR_SERVER, 0));
        events e = {0};
        CHECK(feed(server, (const uint8_t *)other[i], strlen(other[i]), 1, &e) == FR_ERR_UNKNOWN_FRAMING);
        CHECK(fr_decode(server, (const uint8_t *)"x", 1, NULL, collect, &e) == FR_ERR_UNKNOWN_FRAMING); /* sticks */
        fr_free(server);
    }
    /* 64 random bytes whose decrypted tag is nothing we know */
    uint8_t junk[64];
    init_random(junk, 3);
    fr_codec *server = make(config(FR_DETECT, FR_SERVER, 0));
    events e = {0};
    CHECK(feed(server, junk, 63, 7, &e) == 0);
    CHECK(feed(server, junk + 63, 1, 1, &e) == FR_ERR_UNKNOWN_PROTOCOL_TAG);
    fr_free(server);
    /* a server with a secret refuses plain framings */
    const uint8_t secret[16] = "0123456789abcdef";
    fr_config scfg = config(FR_DETECT, FR_SERVER, 0);
    scfg.secret = secret;
    server = make(scfg);
    CHECK(feed(server, (const uint8_t *)"\xef\x01", 2, 1, &e) == FR_ERR_SECRET_REQUIRED);
    fr_free(server);
}

/* ---------------------------------------------------------------- obfuscated2 */

static void test_obfuscated2(void) {
    uint8_t rnd[64], out[64], plain[64];
    obf2_streams cs, ss;
    uint32_t tag;
    int16_t dc;
    init_random(rnd, 1);
    CHECK(obf2_client_init(rnd, OBF2_TAG_PADDED, 1, 2, NULL, out, &cs) == 0);
    CHECK(memcmp(out, rnd, 56) == 0);                 /* sent in clear */
    CHECK(memcmp(out + 56, "\xdd\xdd\xdd\xdd", 4) != 0); /* tag sent encrypted */
    CHECK(obf2_server_init(out, NULL, &tag, &dc, &ss) == 0 && tag == OBF2_TAG_PADDED && dc == 2);
    /* both directions: client out = server in, server out = client in */
    const uint8_t msg[] = "the same keystream on both sides";
    uint8_t a[sizeof msg], b[sizeof msg];
    CHECK(aes_ctr_apply(&cs.out, msg, a, sizeof msg) == 0 && aes_ctr_apply(&ss.in, a, b, sizeof msg) == 0);
    CHECK_MEM(b, msg, sizeof msg);
    CHECK(memcmp(a, msg, sizeof msg) != 0);
    CHECK(aes_ctr_apply(&ss.out, msg, a, sizeof msg) == 0 && aes_ctr_apply(&cs.in, a, b, sizeof msg) == 0);
    CHECK_MEM(b, msg, sizeof msg);
    obf2_streams_wipe(&cs);
    obf2_streams_wipe(&ss);

    /* reserved random is refused */
    static const char *reserved[] = {"\xef", "HEAD", "POST", "GET ", "OPTI", "\xee\xee\xee\xee",
                                     "\xdd\xdd\xdd\xdd", "\x16\x03\x01\x02", "PVrG"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
        init_random(plain, 2);
        memcpy(plain, reserved[i], strlen(reserved[i]));
        CHECK(obf2_init_is_reserved(plain));
        CHECK(obf2_client_init(plain, OBF2_TAG_ABRIDGED, 0, 0, NULL, out, &cs) == -1);
    }
    init_random(plain, 2);
    memset(plain + 4, 0, 4);
    CHECK(obf2_init_is_reserved(plain));
    fr_config cfg = config(FR_ABRIDGED, FR_CLIENT, 1);
    cfg.init_random = plain;
    int err = 0;
    CHECK(fr_new(&cfg, &err) == NULL && err == FR_ERR_RESERVED_INIT);

    /* the secret changes the keys: a server with another secret cannot read the tag */
    const uint8_t s1[16] = "0123456789abcdef", s2[16] = "0123456789abcdeg";
    init_random(rnd, 4);
    CHECK(obf2_client_init(rnd, OBF2_TAG_INTERMEDIATE, 0, 0, s1, out, &cs) == 0);
    CHECK(obf2_server_init(out, s1, &tag, &dc, &ss) == 0 && tag == OBF2_TAG_INTERMEDIATE);
    obf2_streams_wipe(&ss);
    CHECK(obf2_server_init(out, s2, &tag, &dc, &ss) == 0 && tag != OBF2_TAG_INTERMEDIATE);
    obf2_streams_wipe(&ss);
    CHECK(obf2_server_init(out, NULL, &tag, &dc, &ss) == 0 && tag != OBF2_TAG_INTERMEDIATE);
    obf2_streams_wipe(&ss);
    obf2_streams_wipe(&cs);

    /* a server configured for one framing refuses an init naming another */
    fr_config ccfg = config(FR_ABRIDGED, FR_CLIENT, 1), scfg = config(FR_INTERMEDIATE, FR_SERVER, 1);
    ccfg.init_random = rnd;
    fr_codec *client = make(ccfg), *server = make(scfg);
    size_t len;
    events e = {0};
    CHECK(fr_start(client, out, &len) == 0 && len == 64);
    CHECK(feed(server, out, len, 64, &e) == FR_ERR_TAG_MISMATCH);
    fr_free(client);
    fr_free(server);
}

/* ---------------------------------------------------------------- errors and limits */

static void test_full_errors(void) {
    uint8_t stream[256], pkt[40];
    mtproto_packet(pkt, sizeof pkt, 1);
    fr_codec *client = make(config(FR_FULL, FR_CLIENT, 0));
    size_t len = 0, n;
    CHECK(fr_start(client, stream, &n) == 0);
    len += put_frame(client, pkt, sizeof pkt, 0, 0, stream + len);
    size_t first = len;
    len += put_frame(client, pkt, sizeof pkt, 0, 0, stream + len);
    events e = {0};

    fr_codec *server = make(config(FR_FULL, FR_SERVER, 0));
    uint8_t bad[256];
    memcpy(bad, stream, len);
    bad[20] ^= 1; /* payload bit */
    CHECK(feed(server, bad, len, 5, &e) == FR_ERR_BAD_CRC && e.n == 0);
    fr_free(server);

    server = make(config(FR_FULL, FR_SERVER, 0));
    CHECK(feed(server, stream + first, len - first, 64, &e) == FR_ERR_BAD_SEQNO); /* seqno 1 first */
    fr_free(server);

    server = make(config(FR_FULL, FR_SERVER, 0));
    memcpy(bad, stream, len);
    memcpy(bad + first, stream, first); /* seqno 0 again */
    CHECK(feed(server, bad, len, 64, &e) == FR_ERR_BAD_SEQNO && e.n == 1);
    events_clear(&e);
    fr_free(server);

    server = make(config(FR_FULL, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\x0c\x00\x00\x00\x00\x00\x00\x00", 8, 8, &e) == FR_ERR_BAD_LENGTH);
    fr_free(server);
    fr_free(client);
}

static void test_limits(void) {
    events e = {0};
    /* 16 MiB + 4 declared: refused at the header, nothing allocated */
    allocations = 0;
    fr_codec *server = make(config(FR_INTERMEDIATE, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\xee\xee\xee\xee\x04\x00\x00\x01", 8, 8, &e) == FR_ERR_TOO_LARGE);
    CHECK(allocations == 0);
    fr_free(server);
    /* exactly the limit is fine; its body grows as bytes arrive, not all at once */
    server = make(config(FR_ABRIDGED, FR_SERVER, 0));
    uint8_t hdr[] = {0xef, 0x7f, 0x00, 0x00, 0x40}; /* 0x400000 words = 16 MiB */
    largest_allocation = 0;
    CHECK(feed(server, hdr, sizeof hdr, 5, &e) == 0 && allocations == 0);
    uint8_t some[1000] = {0};
    CHECK(feed(server, some, sizeof some, 1000, &e) == 0 && allocations == 1 && largest_allocation <= 65536);
    fr_free(server);
    fr_config cfg = config(FR_ABRIDGED, FR_SERVER, 0);
    cfg.max_packet = 400;
    server = make(cfg);
    CHECK(feed(server, (const uint8_t *)"\xef\x65", 2, 2, &e) == FR_ERR_TOO_LARGE); /* 404 bytes */
    fr_free(server);
    cfg = config(FR_PADDED, FR_SERVER, 0);
    cfg.max_packet = 100; /* 104 bytes (24 + 80) without padding: within max + 15, still too large */
    server = make(cfg);
    uint8_t padded[112] = {0xdd, 0xdd, 0xdd, 0xdd, 104, 0, 0, 0, 1};
    CHECK(feed(server, padded, sizeof padded, 112, &e) == FR_ERR_TOO_LARGE);
    fr_free(server);
    server = make(config(FR_FULL, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\x10\x00\x00\x01\x00\x00\x00\x00", 8, 8, &e) == FR_ERR_TOO_LARGE);
    fr_free(server);
    /* zero length and wrong tags */
    server = make(config(FR_INTERMEDIATE, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\xee\xee\xee\xee\x00\x00\x00\x00", 8, 3, &e) == FR_ERR_BAD_LENGTH);
    fr_free(server);
    server = make(config(FR_INTERMEDIATE, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\xdd\xdd\xdd\xdd", 4, 1, &e) == FR_ERR_BAD_TAG);
    fr_free(server);
    server = make(config(FR_ABRIDGED, FR_SERVER, 0));
    CHECK(feed(server, (const uint8_t *)"\xee", 1, 1, &e) == FR_ERR_BAD_TAG);
    fr_free(server);
    /* configuration */
    int err;
    cfg = config(FR_FULL, FR_CLIENT, 1);
    CHECK(fr_new(&cfg, &err) == NULL && err == FR_ERR_BAD_ARG);
    cfg = config(FR_DETECT, FR_CLIENT, 0);
    CHECK(fr_new(&cfg, &err) == NULL && err == FR_ERR_BAD_ARG);
    CHECK(e.n == 0);
}

/* ---------------------------------------------------------------- quick acks, transport errors, padding */

static void test_quick_acks_and_transport_errors(void) {
    static const fr_kind kinds[] = {FR_ABRIDGED, FR_INTERMEDIATE, FR_PADDED};
    for (size_t k = 0; k < 3; k++) {
        for (int obf = 0; obf <= 1; obf++) {
            fr_config ccfg = config(kinds[k], FR_CLIENT, obf);
            uint8_t rnd[64], stream[256], ack[4];
            size_t len;
            init_random(rnd, 8);
            ccfg.init_random = rnd;
            fr_codec *client = make(ccfg), *server = make(config(kinds[k], FR_SERVER, obf));
            CHECK(fr_start(client, stream, &len) == 0);
            CHECK(fr_encode_quick_ack(client, 1, ack) == FR_ERR_UNSUPPORTED);
            CHECK(fr_encode_quick_ack(server, 1, ack) == (obf ? FR_ERR_NOT_STARTED : 0));
            events e = {0};
            CHECK(feed(server, stream, len, 64, &e) == 0 && e.n == 0);
            /* server -> client: quick ack, transport error, packet */
            size_t down = 0;
            uint8_t out[256], pkt[40];
            CHECK(fr_encode_quick_ack(server, 0x01020304, ack) == 0);
            if (kinds[k] == FR_ABRIDGED && !obf) CHECK_MEM(ack, "\x81\x02\x03\x04", 4);
            if (kinds[k] != FR_ABRIDGED && !obf) CHECK_MEM(ack, "\x04\x03\x02\x81", 4);
            CHECK(fr_encrypt(server, ack, out, 4) == 0);
            down += 4;
            down += put_frame(server, (const uint8_t *)"\x6c\xfe\xff\xff", 4, 0, 3, out + down); /* -404 */
            mtproto_packet(pkt, sizeof pkt, 2);
            down += put_frame(server, pkt, sizeof pkt, 0, 4, out + down);
            CHECK(feed(client, out, down, 1, &e) == 0);
            CHECK(e.n == 3);
            CHECK(e.ev[0].kind == FR_EV_QUICK_ACK && e.ev[0].token == 0x81020304u);
            CHECK(e.ev[1].kind == FR_EV_TRANSPORT_ERROR && e.ev[1].code == -404);
            CHECK(e.ev[2].kind == FR_EV_PACKET && e.ev[2].len == sizeof pkt);
            events_clear(&e);
            fr_free(client);
            fr_free(server);
        }
    }
}

static void test_padded_payloads(void) {
    /* unencrypted: its length field tells; encrypted: 24 + 16k; any 0..15 padding */
    uint8_t frame[256];
    for (unsigned pad = 0; pad <= 15; pad++) {
        for (int encrypted = 0; encrypted <= 1; encrypted++) {
            fr_codec *server = make(config(FR_PADDED, FR_SERVER, 0));
            size_t plen = encrypted ? 72 : 20 + 40;
            memcpy(frame, "\xdd\xdd\xdd\xdd", 4);
            frame[4] = (uint8_t)(plen + pad);
            frame[5] = frame[6] = frame[7] = 0;
            memset(frame + 8, 0, plen + pad);
            if (encrypted) memset(frame + 8, 0x5a, plen);
            else frame[8 + 16] = 40; /* message_data_length */
            memset(frame + 8 + plen, 0xa5, pad);
            events e = {0};
            CHECK(feed(server, frame, 8 + plen + pad, 8 + plen + pad, &e) == 0);
            CHECK(e.n == 1 && e.ev[0].len == plen);
            events_clear(&e);
            fr_free(server);
        }
    }
    /* an unencrypted message longer than the frame, or more than 15 bytes short of it */
    fr_codec *server = make(config(FR_PADDED, FR_SERVER, 0));
    memset(frame, 0, sizeof frame);
    memcpy(frame, "\xdd\xdd\xdd\xdd\x40\x00\x00\x00", 8);
    frame[8 + 16] = 20; /* 40 bytes of 64 */
    events e = {0};
    CHECK(feed(server, frame, 8 + 64, 100, &e) == FR_ERR_BAD_PADDING);
    fr_free(server);
}

int main(void) {
    test_abridged_bytes();
    test_intermediate_and_padded_bytes();
    test_full_bytes();
    test_round_trips();
    test_detection();
    test_obfuscated2();
    test_full_errors();
    test_limits();
    test_quick_acks_and_transport_errors();
    test_padded_payloads();
    /* every codec above came from the state allocator, went back to it, wiped */
    CHECK(state_size > 0 && states_live == 0 && states_unwiped == 0);
    printf("  codec state: %zu bytes, one allocation\n", state_size);
    return ctest_summary("test_framing");
}
