/* Shared body of the framing fuzz targets (fuzz_framing_<name>.c): feeds the input to a decoder
 * in chunks of varying size, checks every event, then re-encodes the packets it got and checks a
 * fresh decoder gives them back unchanged at another chunking.
 *
 * Input: byte 0 picks the role decoding (bit 0: client, i.e. a server's stream), bit 1 whether
 * an obfuscated stream is sealed first (the rest is then the plaintext after a valid init) and
 * the chunk sizes (bits 2..7); the rest is the stream. */
#include <stdlib.h>
#include <string.h>

#include "framing.h"

#define FUZZ_MAX_PACKET 4096
#define FUZZ_MAX_EVENTS 256

typedef struct {
    const uint8_t *chunk, *work; /* what events may point into */
    size_t chunk_len;
    int n;
    uint8_t *data[FUZZ_MAX_EVENTS];
    size_t len[FUZZ_MAX_EVENTS];
    int quick_ack[FUZZ_MAX_EVENTS];
} fuzz_events;

static int fuzz_sink(void *ctx, const fr_event *ev) {
    fuzz_events *e = ctx;
    if (ev->kind != FR_EV_PACKET) return 0;
    if (ev->len == 0 || ev->len > FUZZ_MAX_PACKET) abort();
    int in_chunk = ev->data >= e->chunk && ev->data + ev->len <= e->chunk + e->chunk_len;
    int in_work = e->work && ev->data >= e->work && ev->data + ev->len <= e->work + e->chunk_len;
    if (!ev->body && !in_chunk && !in_work) abort();
    if (e->n == FUZZ_MAX_EVENTS) {
        free(ev->body);
        return 1;
    }
    e->data[e->n] = malloc(ev->len);
    memcpy(e->data[e->n], ev->data, ev->len); /* ASan checks the bytes are all there */
    e->len[e->n] = ev->len;
    e->quick_ack[e->n] = ev->quick_ack;
    e->n++;
    free(ev->body);
    return 0;
}

static void fuzz_events_free(fuzz_events *e) {
    for (int i = 0; i < e->n; i++) free(e->data[i]);
    e->n = 0;
}

static const uint8_t fuzz_init_random[64] = {
    0x4a, 0x91, 0x22, 0x13, 0x05, 0x77, 0x6b, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x80,
    0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x80,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};

static fr_codec *fuzz_codec(fr_kind kind, fr_role role, int obfuscated) {
    fr_config cfg;
    int err;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind;
    cfg.role = role;
    cfg.obfuscated = obfuscated;
    cfg.max_packet = FUZZ_MAX_PACKET;
    cfg.max_padding = 15;
    cfg.init_random = fuzz_init_random;
    fr_codec *c = fr_new(&cfg, &err);
    if (!c) abort();
    return c;
}

/* Decodes a stream fed in chunks whose sizes come from seed; returns the decoder's result. */
static int fuzz_feed(fr_codec *c, const uint8_t *stream, size_t len, unsigned seed, fuzz_events *e) {
    size_t pos = 0;
    while (pos < len) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % (seed & 0x100 ? 7 : 300);
        if (n > len - pos) n = len - pos;
        uint8_t *chunk = malloc(n), *work = fr_decode_needs_work(c) ? malloc(n) : NULL;
        memcpy(chunk, stream + pos, n);
        e->chunk = chunk;
        e->work = work;
        e->chunk_len = n;
        int r = fr_decode(c, chunk, n, work, fuzz_sink, e);
        free(chunk);
        free(work);
        if (r) return r;
        pos += n;
    }
    return 0;
}

/* Appends the client's (or server's) first bytes and the frames of packets to out. */
static size_t fuzz_encode(fr_codec *c, const fuzz_events *e, int with_quick_ack, uint8_t *out) {
    size_t len = 0, hl, tl;
    uint8_t hdr[FR_MAX_HEADER], trl[FR_MAX_TRAILER], rnd[FR_ENCODE_RANDOM];
    if (fr_start(c, out, &len) != 0) abort();
    for (int i = 0; i < e->n; i++) {
        for (int k = 0; k < FR_ENCODE_RANDOM; k++) rnd[k] = (uint8_t)(e->len[i] * 7 + k);
        int r = fr_encode_frame(c, e->data[i], e->len[i], with_quick_ack && e->quick_ack[i], rnd, hdr, &hl, trl, &tl);
        if (r) abort(); /* whatever was decoded can be sent again */
        if (fr_encrypt(c, hdr, out + len, hl) || fr_encrypt(c, e->data[i], out + len + hl, e->len[i]) ||
            fr_encrypt(c, trl, out + len + hl + e->len[i], tl))
            abort();
        len += hl + e->len[i] + tl;
    }
    return len;
}

static int fuzz_framing_run(const uint8_t *data, size_t size, fr_kind kind, int obfuscated) {
    if (size < 1) return 0;
    unsigned control = data[0];
    fr_role role = (control & 1) && kind != FR_DETECT ? FR_CLIENT : FR_SERVER;
    const uint8_t *stream = data + 1;
    size_t len = size - 1;
    uint8_t *sealed = NULL;
    fr_codec *dec;

    if (obfuscated && role == FR_SERVER && (control & 2)) {
        /* a valid init from a client, then the input as the plaintext it encrypts */
        fr_codec *client = fuzz_codec(kind == FR_DETECT ? FR_INTERMEDIATE : kind, FR_CLIENT, 1);
        size_t n;
        sealed = malloc(FR_START_MAX + len);
        if (fr_start(client, sealed, &n) || fr_encrypt(client, stream, sealed + n, len)) abort();
        stream = sealed;
        len += n;
        fr_free(client);
    }
    dec = fuzz_codec(kind, role, obfuscated);
    if (role == FR_CLIENT) {
        size_t n;
        uint8_t start[FR_START_MAX];
        if (fr_start(dec, start, &n)) abort();
    }

    fuzz_events e = {0};
    fuzz_feed(dec, stream, len, control >> 2, &e);

    /* Re-encode what was decoded: a fresh decoder must give the same packets back. */
    fr_kind settled;
    int settled_obf, has_dc;
    int16_t dc;
    fr_info(dec, &settled, &settled_obf, &has_dc, &dc);
    if (e.n > 0 && settled != FR_DETECT) {
        fr_codec *enc = fuzz_codec(settled, role == FR_SERVER ? FR_CLIENT : FR_SERVER, settled_obf);
        fr_codec *again = fuzz_codec(kind, role, obfuscated);
        size_t cap = FR_START_MAX + (size_t)e.n * (FUZZ_MAX_PACKET + 32);
        uint8_t *out = malloc(cap);
        size_t out_len;
        if (role == FR_CLIENT) {
            uint8_t start[FR_START_MAX];
            size_t n;
            if (fr_start(again, start, &n)) abort();
            out_len = 0;
            /* a server sends no first bytes, and its obfuscation keys come from the client's init:
             * pair the fresh decoder with a server that read that init */
            if (settled_obf) {
                fr_free(enc);
                enc = fuzz_codec(settled, FR_SERVER, 1);
                fuzz_events none = {0};
                if (fuzz_feed(enc, start, n, 1, &none) || none.n) abort();
            }
            out_len = fuzz_encode(enc, &e, 0, out);
        } else {
            out_len = fuzz_encode(enc, &e, settled != FR_FULL, out);
        }
        fuzz_events e2 = {0};
        if (fuzz_feed(again, out, out_len, control * 31 + 7, &e2) != 0 || e2.n != e.n) abort();
        for (int i = 0; i < e.n; i++) {
            if (e2.len[i] != e.len[i] || memcmp(e2.data[i], e.data[i], e.len[i]) != 0) abort();
            if (role == FR_SERVER && settled != FR_FULL && e2.quick_ack[i] != e.quick_ack[i]) abort();
        }
        fuzz_events_free(&e2);
        free(out);
        fr_free(enc);
        fr_free(again);
    }
    fuzz_events_free(&e);
    fr_free(dec);
    free(sealed);
    return 0;
}
