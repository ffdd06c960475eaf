/* MTProto transport framings: codec state, encoding, decoding (see framing.h). */
#include "framing.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "obfuscated2.h"

/* A body spanning chunks starts this big and doubles as bytes arrive, so a bare header cannot
 * make the codec reserve max_packet bytes. */
#define BODY_FIRST_ALLOC (64 * 1024)
/* Largest max_packet accepted: every length then fits the 31 bits intermediate has. */
#define MAX_PACKET_LIMIT (0x7fffffffu - 64)
#define QUICK_ACK_BIT 0x80000000u
#define FULL_OVERHEAD 12 /* length, seqno, CRC32 */

struct fr_codec {
    fr_kind kind;        /* FR_DETECT until a server has read the client's first bytes */
    fr_role role;
    int obfuscated;
    int prefix_done;     /* client: fr_start called; server: tag, init or detection read */
    int err;             /* sticky decode error */
    uint32_t max_packet;
    unsigned max_padding;
    int has_secret;
    uint8_t secret[OBF2_SECRET_SIZE];
    int has_dc_id;
    int16_t dc_id;
    obf2_streams streams;
    uint8_t prefix[FR_INIT_SIZE]; /* client: bytes fr_start gives; server: first bytes read */
    size_t prefix_len;
    uint8_t hdr[FR_MAX_HEADER];   /* frame header being read */
    size_t hdr_len;
    int hdr_done;                 /* header parsed; body_need bytes follow */
    size_t body_need;
    int body_quick_ack;
    uint8_t *body;                /* body spanning chunks, from alloc */
    size_t body_cap, body_have;
    uint32_t send_seq, recv_seq;  /* full */
    fr_alloc alloc;
};

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint8_t *default_alloc(void *ctx, size_t size) { return malloc(size); }
static uint8_t *default_realloc(void *ctx, uint8_t *body, size_t size) { return realloc(body, size); }
static void default_free(void *ctx, uint8_t *body) { free(body); }

static uint32_t obfuscation_tag(fr_kind kind) {
    switch (kind) {
    case FR_ABRIDGED: return OBF2_TAG_ABRIDGED;
    case FR_INTERMEDIATE: return OBF2_TAG_INTERMEDIATE;
    case FR_PADDED: return OBF2_TAG_PADDED;
    default: return 0;
    }
}

/* The plain (non-obfuscated) first bytes a client sends: 1 or 4 bytes, none for full. */
static size_t plain_tag(fr_kind kind, uint8_t out[4]) {
    switch (kind) {
    case FR_ABRIDGED: out[0] = 0xef; return 1;
    case FR_INTERMEDIATE: memset(out, 0xee, 4); return 4;
    case FR_PADDED: memset(out, 0xdd, 4); return 4;
    default: return 0;
    }
}

/* ---------------------------------------------------------------- lifecycle */

static int check_config(const fr_config *cfg) {
    if (cfg->kind > FR_DETECT || (cfg->role != FR_CLIENT && cfg->role != FR_SERVER)) return FR_ERR_BAD_ARG;
    if (cfg->kind == FR_DETECT && cfg->role != FR_SERVER) return FR_ERR_BAD_ARG;
    if (cfg->kind == FR_FULL && cfg->obfuscated) return FR_ERR_BAD_ARG;
    if (cfg->secret && !cfg->obfuscated && cfg->kind != FR_DETECT) return FR_ERR_BAD_ARG;
    if (cfg->max_padding > 15 || cfg->max_packet > MAX_PACKET_LIMIT) return FR_ERR_BAD_ARG;
    if (cfg->role == FR_CLIENT && cfg->obfuscated && !cfg->init_random) return FR_ERR_BAD_ARG;
    return 0;
}

fr_codec *fr_new(const fr_config *cfg, int *err) {
    *err = check_config(cfg);
    if (*err) return NULL;
    fr_codec *c = cfg->alloc.state_alloc ? cfg->alloc.state_alloc(sizeof *c) : malloc(sizeof *c);
    if (!c) {
        *err = FR_ERR_NOMEM;
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->kind = cfg->kind;
    c->role = cfg->role;
    c->obfuscated = cfg->kind != FR_DETECT && cfg->obfuscated;
    c->max_packet = cfg->max_packet ? cfg->max_packet : FR_DEFAULT_MAX_PACKET;
    c->max_padding = cfg->max_padding;
    c->alloc.alloc = cfg->alloc.alloc ? cfg->alloc.alloc : default_alloc;
    c->alloc.realloc = cfg->alloc.realloc ? cfg->alloc.realloc : default_realloc;
    c->alloc.free = cfg->alloc.free ? cfg->alloc.free : default_free;
    c->alloc.ctx = cfg->alloc.ctx;
    c->alloc.state_free = cfg->alloc.state_free ? cfg->alloc.state_free : free;
    if (cfg->secret) {
        c->has_secret = 1;
        memcpy(c->secret, cfg->secret, OBF2_SECRET_SIZE);
    }
    c->has_dc_id = cfg->has_dc_id;
    c->dc_id = cfg->dc_id;

    if (c->role == FR_CLIENT && c->obfuscated) {
        int r = obf2_client_init(cfg->init_random, obfuscation_tag(c->kind), c->has_dc_id, c->dc_id,
                                 c->has_secret ? c->secret : NULL, c->prefix, &c->streams);
        if (r != 0) {
            *err = r == -1 ? FR_ERR_RESERVED_INIT : FR_ERR_CRYPTO;
            fr_free(c);
            return NULL;
        }
        c->prefix_len = FR_INIT_SIZE;
    } else if (c->role == FR_CLIENT) {
        c->prefix_len = plain_tag(c->kind, c->prefix);
    } else if (c->kind == FR_FULL) {
        c->prefix_done = 1; /* the full framing has no tag */
    }
    return c;
}

static void drop_body(fr_codec *c) {
    if (c->body) c->alloc.free(c->alloc.ctx, c->body);
    c->body = NULL;
    c->body_cap = c->body_have = 0;
}

void fr_free(fr_codec *c) {
    if (!c) return;
    drop_body(c);
    void (*state_free)(void *) = c->alloc.state_free;
    OPENSSL_cleanse(c, sizeof *c); /* keys included */
    state_free(c);
}

int fr_start(fr_codec *c, uint8_t out[FR_START_MAX], size_t *len) {
    *len = 0;
    if (c->role != FR_CLIENT) return 0;
    if (c->prefix_done) return FR_ERR_BAD_ARG; /* sending the first bytes twice breaks the stream */
    memcpy(out, c->prefix, c->prefix_len);
    *len = c->prefix_len;
    OPENSSL_cleanse(c->prefix, sizeof c->prefix);
    c->prefix_done = 1;
    return 0;
}

void fr_info(const fr_codec *c, fr_kind *kind, int *obfuscated, int *has_dc_id, int16_t *dc_id) {
    *kind = c->kind;
    *obfuscated = c->obfuscated;
    *has_dc_id = c->has_dc_id;
    *dc_id = c->dc_id;
}

int fr_is_obfuscated(const fr_codec *c) { return c->obfuscated; }

int fr_encode_reads_payload(const fr_codec *c) {
    return c->obfuscated || c->kind == FR_FULL || c->kind == FR_DETECT;
}

int fr_decode_needs_work(const fr_codec *c) { return c->obfuscated || c->kind == FR_DETECT; }

/* ---------------------------------------------------------------- encoding */

/* A client sends after its first bytes; a server once it knows its framing and keys. */
static int can_send(const fr_codec *c) {
    if (c->role == FR_CLIENT) return c->prefix_done;
    return c->kind != FR_DETECT && (!c->obfuscated || c->streams.keyed);
}

/* Header for `wire_len` bytes following it (payload plus padding). */
static int frame_header(fr_codec *c, size_t wire_len, int quick_ack, uint8_t *hdr, size_t *hdr_len) {
    switch (c->kind) {
    case FR_ABRIDGED: {
        if (wire_len % 4 != 0) return FR_ERR_BAD_LENGTH;
        size_t words = wire_len / 4;
        if (words < 0x7f) {
            hdr[0] = (uint8_t)(words | (quick_ack ? 0x80 : 0));
            *hdr_len = 1;
        } else if (words < (1u << 24)) {
            put_le32(hdr, (uint32_t)(words << 8) | (quick_ack ? 0xff : 0x7f));
            *hdr_len = 4;
        } else {
            return FR_ERR_BAD_LENGTH;
        }
        return 0;
    }
    case FR_INTERMEDIATE:
    case FR_PADDED:
        put_le32(hdr, (uint32_t)wire_len | (quick_ack ? QUICK_ACK_BIT : 0));
        *hdr_len = 4;
        return 0;
    case FR_FULL:
        if (quick_ack) return FR_ERR_UNSUPPORTED;
        put_le32(hdr, (uint32_t)(wire_len + FULL_OVERHEAD));
        put_le32(hdr + 4, c->send_seq);
        *hdr_len = 8;
        return 0;
    default:
        return FR_ERR_NOT_STARTED;
    }
}

int fr_encode_frame(fr_codec *c, const uint8_t *payload, size_t len, int quick_ack,
                    const uint8_t *random, uint8_t hdr[FR_MAX_HEADER], size_t *hdr_len,
                    uint8_t trl[FR_MAX_TRAILER], size_t *trl_len) {
    *hdr_len = *trl_len = 0;
    if (!can_send(c)) return FR_ERR_NOT_STARTED;
    if (quick_ack && c->role != FR_CLIENT) return FR_ERR_UNSUPPORTED;
    if (len == 0) return FR_ERR_BAD_LENGTH;
    if (len > c->max_packet) return FR_ERR_TOO_LARGE;

    size_t pad = 0;
    if (c->kind == FR_PADDED && c->max_padding > 0) {
        if (!random) return FR_ERR_BAD_ARG;
        pad = random[0] % (c->max_padding + 1);
        memcpy(trl, random + 1, pad);
    }
    int r = frame_header(c, len + pad, quick_ack, hdr, hdr_len);
    if (r) return r;
    if (c->kind == FR_FULL) {
        uLong crc = crc32(0L, hdr, (uInt)*hdr_len);
        crc = crc32(crc, payload, (uInt)len);
        put_le32(trl, (uint32_t)crc);
        pad = 4;
        c->send_seq++;
    }
    *trl_len = pad;
    return 0;
}

int fr_encode_quick_ack(fr_codec *c, uint32_t token, uint8_t out[4]) {
    if (c->role != FR_SERVER) return FR_ERR_UNSUPPORTED;
    if (!can_send(c)) return FR_ERR_NOT_STARTED;
    token |= QUICK_ACK_BIT;
    switch (c->kind) {
    case FR_ABRIDGED: /* byte-swapped, so the first byte has its high bit set */
        out[0] = (uint8_t)(token >> 24);
        out[1] = (uint8_t)(token >> 16);
        out[2] = (uint8_t)(token >> 8);
        out[3] = (uint8_t)token;
        return 0;
    case FR_INTERMEDIATE:
    case FR_PADDED:
        put_le32(out, token);
        return 0;
    default:
        return FR_ERR_UNSUPPORTED;
    }
}

int fr_encrypt(fr_codec *c, const uint8_t *in, uint8_t *out, size_t len) {
    if (!c->obfuscated) {
        if (out != in) memmove(out, in, len);
        return 0;
    }
    return aes_ctr_apply(&c->streams.out, in, out, len) == 0 ? 0 : FR_ERR_CRYPTO;
}

/* ---------------------------------------------------------------- decoding: first bytes */

/* Settles a server on a non-obfuscated framing. */
static int settle_plain(fr_codec *c, fr_kind kind) {
    if (c->has_secret) return FR_ERR_SECRET_REQUIRED;
    c->kind = kind;
    c->obfuscated = 0;
    c->prefix_done = 1;
    return 1;
}

/* Reads the obfuscated2 init in c->prefix: streams, framing from the tag, dc id. */
static int settle_obfuscated(fr_codec *c) {
    uint32_t tag;
    int16_t dc_id;
    fr_kind kind;
    if (obf2_server_init(c->prefix, c->has_secret ? c->secret : NULL, &tag, &dc_id, &c->streams) != 0)
        return FR_ERR_CRYPTO;
    OPENSSL_cleanse(c->prefix, sizeof c->prefix);
    switch (tag) {
    case OBF2_TAG_ABRIDGED: kind = FR_ABRIDGED; break;
    case OBF2_TAG_INTERMEDIATE: kind = FR_INTERMEDIATE; break;
    case OBF2_TAG_PADDED: kind = FR_PADDED; break;
    default: return FR_ERR_UNKNOWN_PROTOCOL_TAG;
    }
    if (c->kind != FR_DETECT && c->kind != kind) return FR_ERR_TAG_MISMATCH;
    c->kind = kind;
    c->obfuscated = 1;
    c->has_dc_id = 1;
    c->dc_id = dc_id;
    c->prefix_done = 1;
    return 1;
}

/* Server: decides from the first bytes read so far. Returns 1 when settled, 0 when *need bytes
 * in all are wanted first, or an error. Detection: 0xef abridged; 0xeeeeeeee intermediate;
 * 0xdddddddd padded; a zero second word is the full framing's first seqno; else obfuscated2. */
static int classify(fr_codec *c, size_t *need) {
    const uint8_t *p = c->prefix;
    size_t n = c->prefix_len;
    if (c->obfuscated) {
        *need = FR_INIT_SIZE;
        return n < FR_INIT_SIZE ? 0 : settle_obfuscated(c);
    }
    switch (c->kind) {
    case FR_ABRIDGED:
        *need = 1;
        if (n < 1) return 0;
        return p[0] == 0xef ? settle_plain(c, FR_ABRIDGED) : FR_ERR_BAD_TAG;
    case FR_INTERMEDIATE:
    case FR_PADDED:
        *need = 4;
        if (n < 4) return 0;
        return le32(p) == obfuscation_tag(c->kind) ? settle_plain(c, c->kind) : FR_ERR_BAD_TAG;
    case FR_DETECT:
        break;
    default:
        return FR_ERR_BAD_ARG;
    }
    *need = 1;
    if (n < 1) return 0;
    if (p[0] == 0xef) return settle_plain(c, FR_ABRIDGED);
    *need = 4;
    if (n < 4) return 0;
    uint32_t first = le32(p);
    if (first == OBF2_TAG_INTERMEDIATE) return settle_plain(c, FR_INTERMEDIATE);
    if (first == OBF2_TAG_PADDED) return settle_plain(c, FR_PADDED);
    if (obf2_reserved_first_word(first)) return FR_ERR_UNKNOWN_FRAMING;
    *need = 8;
    if (n < 8) return 0;
    if (le32(p + 4) == 0) return settle_plain(c, FR_FULL);
    *need = FR_INIT_SIZE;
    return n < FR_INIT_SIZE ? 0 : settle_obfuscated(c);
}

static int read_frames(fr_codec *c, const uint8_t *in, size_t len, fr_sink sink, void *ctx);

/* Server: consumes the first bytes from in (advancing *pos) until the framing is settled. */
static int read_prefix(fr_codec *c, const uint8_t *in, size_t len, size_t *pos, fr_sink sink, void *ctx) {
    for (;;) {
        size_t need = 0;
        int r = classify(c, &need);
        if (r < 0) return r;
        if (r == 1) break;
        size_t take = need - c->prefix_len;
        if (take > len - *pos) take = len - *pos;
        if (take == 0) return 0;
        memcpy(c->prefix + c->prefix_len, in + *pos, take);
        c->prefix_len += take;
        *pos += take;
    }
    if (c->kind == FR_FULL) {
        /* The 8 bytes read were the first frame's header: hand them on. */
        uint8_t header[8];
        memcpy(header, c->prefix, sizeof header);
        return read_frames(c, header, sizeof header, sink, ctx);
    }
    return 0;
}

/* ---------------------------------------------------------------- decoding: frames */

static size_t header_size(const fr_codec *c) {
    switch (c->kind) {
    case FR_ABRIDGED: {
        if (c->hdr_len == 0) return 1;
        uint8_t b = c->hdr[0];
        if (c->role == FR_CLIENT && (b & 0x80)) return 4; /* quick ack from the server */
        return (b & 0x7f) == 0x7f ? 4 : 1;
    }
    case FR_FULL: return 8;
    default: return 4;
    }
}

static int emit(fr_sink sink, void *ctx, const fr_event *ev) {
    return sink(ctx, ev) == 0 ? 0 : FR_ERR_SINK;
}

static int emit_quick_ack(fr_codec *c, uint32_t token, fr_sink sink, void *ctx) {
    fr_event ev = {.kind = FR_EV_QUICK_ACK, .token = token};
    c->hdr_len = 0;
    return emit(sink, ctx, &ev);
}

/* Parses a complete header. Returns 1 when it was a whole quick ack, 0 when a body follows. */
static int parse_header(fr_codec *c, fr_sink sink, void *ctx) {
    const uint8_t *h = c->hdr;
    uint64_t need;
    uint64_t limit = c->max_packet;
    int quick_ack = 0;
    switch (c->kind) {
    case FR_ABRIDGED:
        if (c->role == FR_CLIENT && (h[0] & 0x80)) {
            uint32_t token = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            return emit_quick_ack(c, token, sink, ctx) ? FR_ERR_SINK : 1;
        }
        quick_ack = c->role == FR_SERVER && (h[0] & 0x80);
        need = (h[0] & 0x7f) == 0x7f ? (uint64_t)(le32(h) >> 8) * 4 : (uint64_t)(h[0] & 0x7f) * 4;
        break;
    case FR_INTERMEDIATE:
    case FR_PADDED: {
        uint32_t v = le32(h);
        if (v & QUICK_ACK_BIT) {
            if (c->role == FR_CLIENT) return emit_quick_ack(c, v, sink, ctx) ? FR_ERR_SINK : 1;
            quick_ack = 1;
            v &= ~QUICK_ACK_BIT;
        }
        need = v;
        if (c->kind == FR_PADDED) limit += 15;
        break;
    }
    case FR_FULL: {
        uint64_t total = le32(h);
        if (total > limit + FULL_OVERHEAD) return FR_ERR_TOO_LARGE;
        if (total <= FULL_OVERHEAD) return FR_ERR_BAD_LENGTH;
        if (le32(h + 4) != c->recv_seq) return FR_ERR_BAD_SEQNO;
        need = total - 8; /* payload and CRC32 */
        limit += 4;
        break;
    }
    default:
        return FR_ERR_BAD_ARG;
    }
    if (need > limit) return FR_ERR_TOO_LARGE;
    if (need == 0 || (c->kind == FR_PADDED && need < 4)) return FR_ERR_BAD_LENGTH;
    c->body_need = (size_t)need;
    c->body_quick_ack = quick_ack;
    c->hdr_done = 1;
    return 0;
}

/* Padded intermediate: the MTProto packet inside n bytes followed by 0..15 padding bytes. An
 * unencrypted message (auth_key_id 0) states its length at offset 16; an encrypted one is
 * 24 + 16k bytes long; fewer than 20 bytes can only be a 4-byte transport error. 0: none fits. */
static size_t padded_payload_len(const uint8_t *d, size_t n) {
    if (n < 20) return 4;
    static const uint8_t zero_key_id[8];
    if (memcmp(d, zero_key_id, 8) == 0) {
        uint64_t len = 20 + (uint64_t)le32(d + 16);
        return len <= n && n - len <= 15 ? (size_t)len : 0;
    }
    size_t len = n - ((n - 8) & 15);
    return len >= 24 ? len : 0;
}

/* A complete body: checks, strips, and hands the payload to the sink. body is the allocated
 * buffer holding data, or NULL when data lies in the chunk. */
static int finish_frame(fr_codec *c, const uint8_t *data, size_t n, uint8_t *body, fr_sink sink, void *ctx) {
    size_t len = n;
    int err = 0;
    if (c->kind == FR_FULL) {
        uLong crc = crc32(crc32(0L, c->hdr, 8), data, (uInt)(n - 4));
        if ((uint32_t)crc != le32(data + n - 4)) err = FR_ERR_BAD_CRC;
        len = n - 4;
        c->recv_seq++;
    } else if (c->kind == FR_PADDED) {
        len = padded_payload_len(data, n);
        if (len == 0) err = FR_ERR_BAD_PADDING;
        else if (len > c->max_packet) err = FR_ERR_TOO_LARGE;
    }
    c->hdr_len = 0;
    c->hdr_done = 0;
    c->body_need = 0;
    fr_event ev = {.kind = FR_EV_PACKET, .data = data, .len = len, .body = body,
                   .quick_ack = c->body_quick_ack};
    if (!err && len == 4 && (int32_t)le32(data) < 0) {
        ev = (fr_event){.kind = FR_EV_TRANSPORT_ERROR, .code = (int32_t)le32(data)};
    } else if (!err) {
        return emit(sink, ctx, &ev); /* the sink owns body now */
    }
    if (body) c->alloc.free(c->alloc.ctx, body);
    return err ? err : emit(sink, ctx, &ev);
}

/* Makes room for `size` bytes of the pending body, growing geometrically up to body_need. */
static int reserve_body(fr_codec *c, size_t size) {
    if (size <= c->body_cap) return 0;
    size_t cap = c->body_cap ? c->body_cap : BODY_FIRST_ALLOC;
    while (cap < size) cap *= 2;
    if (cap > c->body_need) cap = c->body_need;
    uint8_t *b = c->body ? c->alloc.realloc(c->alloc.ctx, c->body, cap) : c->alloc.alloc(c->alloc.ctx, cap);
    if (!b) return FR_ERR_NOMEM;
    c->body = b;
    c->body_cap = cap;
    return 0;
}

static int read_frames(fr_codec *c, const uint8_t *in, size_t len, fr_sink sink, void *ctx) {
    size_t pos = 0;
    int r;
    for (;;) {
        if (!c->hdr_done) {
            size_t want;
            while (c->hdr_len < (want = header_size(c))) {
                if (pos == len) return 0;
                size_t take = want - c->hdr_len;
                if (take > len - pos) take = len - pos;
                memcpy(c->hdr + c->hdr_len, in + pos, take);
                c->hdr_len += take;
                pos += take;
            }
            r = parse_header(c, sink, ctx);
            if (r < 0) return r;
            if (r == 1) continue;
        }
        size_t avail = len - pos;
        if (c->body_have == 0 && avail >= c->body_need) { /* whole in this chunk: no copy */
            size_t n = c->body_need;
            r = finish_frame(c, in + pos, n, NULL, sink, ctx);
            pos += n;
            if (r < 0) return r;
            continue;
        }
        if (avail == 0) return 0;
        size_t take = c->body_need - c->body_have;
        if (take > avail) take = avail;
        if ((r = reserve_body(c, c->body_have + take)) < 0) return r;
        memcpy(c->body + c->body_have, in + pos, take);
        c->body_have += take;
        pos += take;
        if (c->body_have == c->body_need) {
            uint8_t *body = c->body;
            size_t n = c->body_have;
            c->body = NULL;
            c->body_cap = c->body_have = 0;
            if ((r = finish_frame(c, body, n, body, sink, ctx)) < 0) return r;
        }
    }
}

int fr_decode(fr_codec *c, const uint8_t *in, size_t len, uint8_t *work, fr_sink sink, void *ctx) {
    if (c->err) return c->err;
    size_t pos = 0;
    int r = 0;
    if (c->role == FR_SERVER && !c->prefix_done) {
        r = read_prefix(c, in, len, &pos, sink, ctx);
        if (r < 0 || !c->prefix_done) goto done;
    }
    if (c->obfuscated && pos < len) {
        if (!work) {
            r = FR_ERR_BAD_ARG;
            goto done;
        }
        memset(work, 0, pos); /* the init bytes: nothing of them is left in work */
        if (aes_ctr_apply(&c->streams.in, in + pos, work + pos, len - pos) != 0) {
            r = FR_ERR_CRYPTO;
            goto done;
        }
        in = work;
    }
    r = read_frames(c, in + pos, len - pos, sink, ctx);
done:
    if (r < 0) {
        c->err = r;
        drop_body(c);
    }
    return r < 0 ? r : 0;
}

const char *fr_error_name(int err) {
    switch (err) {
    case FR_ERR_TOO_LARGE: return "packet_too_large";
    case FR_ERR_BAD_LENGTH: return "bad_length";
    case FR_ERR_BAD_CRC: return "bad_crc";
    case FR_ERR_BAD_SEQNO: return "bad_seqno";
    case FR_ERR_BAD_PADDING: return "bad_padding";
    case FR_ERR_BAD_TAG: return "bad_tag";
    case FR_ERR_UNKNOWN_FRAMING: return "unknown_framing";
    case FR_ERR_UNKNOWN_PROTOCOL_TAG: return "unknown_protocol_tag";
    case FR_ERR_TAG_MISMATCH: return "protocol_tag_mismatch";
    case FR_ERR_SECRET_REQUIRED: return "secret_required";
    case FR_ERR_NOMEM: return "enomem";
    case FR_ERR_CRYPTO: return "crypto_failure";
    case FR_ERR_SINK: return "sink_failure";
    case FR_ERR_UNSUPPORTED: return "unsupported";
    case FR_ERR_RESERVED_INIT: return "reserved_init";
    case FR_ERR_NOT_STARTED: return "not_started";
    case FR_ERR_BAD_ARG: return "bad_argument";
    default: return "unknown_error";
    }
}
