/* MTProto transport framings as incremental codecs, plain C (no erl_nif):
 * abridged, intermediate, padded intermediate and full, each optionally wrapped in obfuscated2,
 * for both roles. A server can also detect the client's framing from its first bytes.
 *
 * Decoding is fed chunks of any size and calls a sink once per complete packet, quick ack or
 * transport error; a packet lying whole inside one chunk is handed over as a pointer into that
 * chunk (or into the buffer it was decrypted into: no copy), one spanning chunks is gathered in
 * a body buffer from the codec's allocator.
 * Encoding produces the header and trailer around a payload, so the payload is never copied
 * (obfuscated framings then run all three through the outgoing AES-256-CTR stream). */
#ifndef MTPROTO_FRAMING_H
#define MTPROTO_FRAMING_H

#include <stddef.h>
#include <stdint.h>

typedef enum { FR_ABRIDGED = 0, FR_INTERMEDIATE, FR_PADDED, FR_FULL, FR_DETECT } fr_kind;
typedef enum { FR_CLIENT = 0, FR_SERVER } fr_role;

/* Errors (negative); fr_error_name() gives each a stable snake_case name. */
enum {
    FR_ERR_TOO_LARGE = -1,            /* a length beyond max_packet */
    FR_ERR_BAD_LENGTH = -2,           /* zero, too short for its framing, or not representable */
    FR_ERR_BAD_CRC = -3,              /* full: CRC32 mismatch */
    FR_ERR_BAD_SEQNO = -4,            /* full: unexpected sequence number */
    FR_ERR_BAD_PADDING = -5,          /* padded: no MTProto packet fits with 0..15 padding bytes */
    FR_ERR_BAD_TAG = -6,              /* the first bytes are not this framing's tag */
    FR_ERR_UNKNOWN_FRAMING = -7,      /* detection: HTTP, TLS or another reserved first word */
    FR_ERR_UNKNOWN_PROTOCOL_TAG = -8, /* obfuscated2 init names no framing we know */
    FR_ERR_TAG_MISMATCH = -9,         /* obfuscated2 init names another framing than configured */
    FR_ERR_SECRET_REQUIRED = -10,     /* a server with a secret got a non-obfuscated framing */
    FR_ERR_NOMEM = -11,
    FR_ERR_CRYPTO = -12,              /* OpenSSL failed */
    FR_ERR_SINK = -13,                /* the sink refused an event */
    FR_ERR_UNSUPPORTED = -14,         /* e.g. a quick ack with the full framing */
    FR_ERR_RESERVED_INIT = -15,       /* client: the init's random starts like another protocol */
    FR_ERR_NOT_STARTED = -16,         /* client: encode before fr_start; server: before detection */
    FR_ERR_BAD_ARG = -17,             /* invalid configuration */
};

#define FR_DEFAULT_MAX_PACKET (16u * 1024 * 1024)
#define FR_MAX_HEADER 8         /* bytes before a payload */
#define FR_MAX_TRAILER 15       /* bytes after a payload: CRC32 (4) or padding (0..15) */
#define FR_ENCODE_RANDOM 16     /* random bytes fr_encode_frame takes (padded intermediate) */
#define FR_INIT_SIZE 64         /* obfuscated2 init */
#define FR_START_MAX FR_INIT_SIZE

/* Where a codec's memory comes from. Packet bodies that span chunks: alloc/realloc (NULL on
 * failure) and free, given ctx. The codec itself, a single block holding all its state (with
 * the obfuscated2 streams, about 900 bytes): state_alloc (NULL on failure; need not zero) and
 * state_free. NULL functions mean malloc/realloc/free. */
typedef struct fr_alloc {
    uint8_t *(*alloc)(void *ctx, size_t size);
    uint8_t *(*realloc)(void *ctx, uint8_t *body, size_t size);
    void (*free)(void *ctx, uint8_t *body);
    void *ctx;
    void *(*state_alloc)(size_t size);
    void (*state_free)(void *state);
} fr_alloc;

typedef struct fr_config {
    fr_kind kind;                 /* FR_DETECT: server only */
    fr_role role;
    int obfuscated;               /* wrap in obfuscated2 (abridged/intermediate/padded) */
    const uint8_t *secret;        /* 16 bytes mixed into the obfuscated2 keys, or NULL */
    int has_dc_id;
    int16_t dc_id;                /* client: written into the init; else random bytes stay */
    uint32_t max_packet;          /* 0: FR_DEFAULT_MAX_PACKET */
    unsigned max_padding;         /* padded: most padding bytes sent, 0..15 */
    const uint8_t *init_random;   /* obfuscated client: FR_INIT_SIZE random bytes */
    fr_alloc alloc;
} fr_config;

typedef struct fr_codec fr_codec;

typedef enum { FR_EV_PACKET, FR_EV_QUICK_ACK, FR_EV_TRANSPORT_ERROR } fr_event_kind;

typedef struct fr_event {
    fr_event_kind kind;
    const uint8_t *data;   /* packet: its bytes, inside the chunk or inside body */
    size_t len;
    uint8_t *body;         /* packet: non-NULL when data lies in a body from the allocator;
                              the sink then owns it (whatever it returns) */
    int quick_ack;         /* packet (server side): the client asked for a quick ack */
    uint32_t token;        /* quick ack (client side): 32 bits, high bit set */
    int32_t code;          /* transport error (e.g. -404) */
} fr_event;

/* Gets every decoded event in order; returns 0 to go on, nonzero to stop with FR_ERR_SINK. */
typedef int (*fr_sink)(void *ctx, const fr_event *ev);

/* A new codec, or NULL with *err set (FR_ERR_BAD_ARG, FR_ERR_RESERVED_INIT, FR_ERR_NOMEM...). */
fr_codec *fr_new(const fr_config *cfg, int *err);

/* Wipes keys, frees a pending body and the codec; NULL is allowed. */
void fr_free(fr_codec *c);

/* Client: the bytes to send before anything else (the tag, or the 64-byte obfuscated2 init;
 * nothing for full) into out (FR_START_MAX bytes); *len gets their count. Encoding needs it first. */
int fr_start(fr_codec *c, uint8_t out[FR_START_MAX], size_t *len);

/* Frames a payload: header bytes into hdr, trailer bytes (CRC32 or padding) into trl. quick_ack
 * asks the server for a quick ack (client side). random: FR_ENCODE_RANDOM bytes, used by padded
 * intermediate only (first byte picks the padding length, the rest fill it). The payload is only
 * read (full: for its CRC32). Sequence numbers advance. When the codec is obfuscated, the caller
 * then passes header, payload and trailer through fr_encrypt in that order. */
int fr_encode_frame(fr_codec *c, const uint8_t *payload, size_t len, int quick_ack,
                    const uint8_t *random, uint8_t hdr[FR_MAX_HEADER], size_t *hdr_len,
                    uint8_t trl[FR_MAX_TRAILER], size_t *trl_len);

/* Server: the 4 bytes answering a quick ack (token's high bit set; byte-swapped for abridged).
 * Pass them through fr_encrypt when obfuscated. */
int fr_encode_quick_ack(fr_codec *c, uint32_t token, uint8_t out[4]);

/* Applies the outgoing obfuscation stream (out may equal in); a plain copy when not obfuscated. */
int fr_encrypt(fr_codec *c, const uint8_t *in, uint8_t *out, size_t len);

/* Feeds one chunk, which is only read. When fr_decode_needs_work() is true (obfuscated, or a
 * server still detecting), work must point at len writable bytes (it may be in itself): the
 * chunk is decrypted into it and events then point there; otherwise work may be NULL. The sink
 * uses each event before the chunk and work go away. Returns 0 or an error, which sticks: later
 * calls return it. */
int fr_decode(fr_codec *c, const uint8_t *in, size_t len, uint8_t *work, fr_sink sink, void *ctx);
int fr_decode_needs_work(const fr_codec *c);

/* What the codec speaks: kind is FR_DETECT until a server has read enough. */
void fr_info(const fr_codec *c, fr_kind *kind, int *obfuscated, int *has_dc_id, int16_t *dc_id);
int fr_is_obfuscated(const fr_codec *c);
/* 1 when encoding reads the whole payload (obfuscated: encryption; full: CRC32), 0 when it only
 * frames it. */
int fr_encode_reads_payload(const fr_codec *c);

const char *fr_error_name(int err);

#endif
