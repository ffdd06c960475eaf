/* NIF glue of the framing area: argument checks and term building around the plain-C core
 * (framing.c, obfuscated2.c). A codec lives in a resource; a packet spanning chunks is gathered
 * straight into the refc binary that becomes its term, and a packet inside one chunk becomes a
 * sub-binary of it, so payloads are copied at most once (obfuscated input: decrypted once). */
#include "framing_nif.h"

#include <stdatomic.h>
#include <string.h>

#include "framing.h"

/* A codec is one process's, except that a started client codec's two directions are separate
 * (the encoder writes only the outgoing stream and counters, the decoder only the incoming ones):
 * one process may encode while another decodes. Each direction has a lock; anything touching
 * both (start, info, every server-side call: detection changes what encoding reads) takes both.
 * The locks are only tried: misuse becomes an exception, never a wait. So each is an atomic flag
 * (acquire on taking, release on leaving), not a mutex: a connection idles with its codec, and a
 * pair of mutexes would be most of the resource's memory. */
typedef struct {
    atomic_flag enc_lock;
    atomic_flag dec_lock;
    fr_codec *codec;
    fr_role role;
    ErlNifBinary pending; /* the body being gathered, while has_pending */
    int has_pending;
} framing_res;

static ErlNifResourceType *framing_res_type;

static ERL_NIF_TERM atom_abridged, atom_intermediate, atom_padded_intermediate, atom_full,
    atom_detect, atom_client, atom_server, atom_packet, atom_quick_ack, atom_transport,
    atom_concurrent_use;

/* ---------------------------------------------------------------- body storage for the core */

static uint8_t *pending_alloc(void *ctx, size_t size) {
    framing_res *res = ctx;
    if (res->has_pending || !enif_alloc_binary(size, &res->pending)) return NULL;
    res->has_pending = 1;
    return res->pending.data;
}

static uint8_t *pending_realloc(void *ctx, uint8_t *body, size_t size) {
    framing_res *res = ctx;
    if (!res->has_pending || body != res->pending.data) return NULL;
    if (!enif_realloc_binary(&res->pending, size)) return NULL;
    return res->pending.data;
}

static void pending_free(void *ctx, uint8_t *body) {
    framing_res *res = ctx;
    if (res->has_pending && body == res->pending.data) {
        enif_release_binary(&res->pending);
        res->has_pending = 0;
    }
}

static void framing_res_dtor(ErlNifEnv *env, void *obj) {
    framing_res *res = obj;
    fr_free(res->codec); /* releases a pending body through pending_free */
    if (res->has_pending) enif_release_binary(&res->pending);
}

/* ---------------------------------------------------------------- helpers */

static ERL_NIF_TERM fr_err(ErlNifEnv *env, int err) {
    if (err == FR_ERR_NOMEM) return mt_error(env, atom_enomem);
    return mt_error(env, mt_atom(env, fr_error_name(err)));
}

static int get_kind(ErlNifEnv *env, ERL_NIF_TERM t, fr_kind *kind) {
    if (enif_is_identical(t, atom_abridged)) *kind = FR_ABRIDGED;
    else if (enif_is_identical(t, atom_intermediate)) *kind = FR_INTERMEDIATE;
    else if (enif_is_identical(t, atom_padded_intermediate)) *kind = FR_PADDED;
    else if (enif_is_identical(t, atom_full)) *kind = FR_FULL;
    else if (enif_is_identical(t, atom_detect)) *kind = FR_DETECT;
    else return 0;
    return 1;
}

static ERL_NIF_TERM kind_atom(fr_kind kind) {
    switch (kind) {
    case FR_ABRIDGED: return atom_abridged;
    case FR_INTERMEDIATE: return atom_intermediate;
    case FR_PADDED: return atom_padded_intermediate;
    case FR_FULL: return atom_full;
    default: return atom_detect;
    }
}

static int get_bool(ERL_NIF_TERM t, int *v) {
    if (enif_is_identical(t, atom_true)) *v = 1;
    else if (enif_is_identical(t, atom_false)) *v = 0;
    else return 0;
    return 1;
}

typedef enum { LOCK_ENC = 1, LOCK_DEC = 2, LOCK_BOTH = 3 } lock_want;

/* The locks a call needs: a client's encode or decode its direction's, everything else both. */
static int locks_for(const framing_res *res, lock_want want) {
    return res->role == FR_CLIENT ? want : LOCK_BOTH;
}

/* Takes the locks `want` asks for: NULL (with *exc set to the exception) on a bad or busy
 * resource. *held gets the locks taken, for unlock_res. */
static framing_res *lock_res(ErlNifEnv *env, ERL_NIF_TERM t, lock_want want, int *held,
                             ERL_NIF_TERM *exc) {
    framing_res *res;
    if (!enif_get_resource(env, t, framing_res_type, (void **)&res) || !res->codec) {
        *exc = enif_make_badarg(env);
        return NULL;
    }
    int locks = locks_for(res, want);
    if ((locks & LOCK_ENC) && atomic_flag_test_and_set_explicit(&res->enc_lock, memory_order_acquire)) {
        *exc = enif_raise_exception(env, atom_concurrent_use);
        return NULL;
    }
    if ((locks & LOCK_DEC) && atomic_flag_test_and_set_explicit(&res->dec_lock, memory_order_acquire)) {
        if (locks & LOCK_ENC) atomic_flag_clear_explicit(&res->enc_lock, memory_order_release);
        *exc = enif_raise_exception(env, atom_concurrent_use);
        return NULL;
    }
    *held = locks;
    return res;
}

static void unlock_res(framing_res *res, int held) {
    if (held & LOCK_DEC) atomic_flag_clear_explicit(&res->dec_lock, memory_order_release);
    if (held & LOCK_ENC) atomic_flag_clear_explicit(&res->enc_lock, memory_order_release);
}

static ERL_NIF_TERM small_binary(ErlNifEnv *env, const uint8_t *data, size_t len) {
    ERL_NIF_TERM term;
    unsigned char *p = enif_make_new_binary(env, len, &term);
    if (p && len) memcpy(p, data, len);
    return term;
}

/* ---------------------------------------------------------------- new, start, info */

/* framing_new(Kind, Role, Obfuscated, Secret | nil, DcId | nil, MaxPacket, MaxPadding, InitRandom) */
ERL_NIF_TERM nif_framing_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    fr_config cfg;
    ErlNifBinary secret, random;
    int dc_id, obfuscated;
    unsigned max_packet, max_padding;
    memset(&cfg, 0, sizeof cfg);

    if (!get_kind(env, argv[0], &cfg.kind)) return enif_make_badarg(env);
    if (enif_is_identical(argv[1], atom_client)) cfg.role = FR_CLIENT;
    else if (enif_is_identical(argv[1], atom_server)) cfg.role = FR_SERVER;
    else return enif_make_badarg(env);
    if (!get_bool(argv[2], &obfuscated)) return enif_make_badarg(env);
    cfg.obfuscated = obfuscated;
    if (!enif_is_identical(argv[3], atom_nil)) {
        if (!enif_inspect_binary(env, argv[3], &secret) || secret.size != 16) return enif_make_badarg(env);
        cfg.secret = secret.data;
    }
    if (!enif_is_identical(argv[4], atom_nil)) {
        if (!enif_get_int(env, argv[4], &dc_id) || dc_id < INT16_MIN || dc_id > INT16_MAX)
            return enif_make_badarg(env);
        cfg.has_dc_id = 1;
        cfg.dc_id = (int16_t)dc_id;
    }
    if (!enif_get_uint(env, argv[5], &max_packet) || max_packet == 0) return enif_make_badarg(env);
    if (!enif_get_uint(env, argv[6], &max_padding)) return enif_make_badarg(env);
    if (!enif_inspect_binary(env, argv[7], &random)) return enif_make_badarg(env);
    if (random.size == FR_INIT_SIZE) cfg.init_random = random.data;
    cfg.max_packet = max_packet;
    cfg.max_padding = max_padding;

    framing_res *res = enif_alloc_resource(framing_res_type, sizeof *res);
    if (!res) return mt_error(env, atom_enomem);
    memset(res, 0, sizeof *res);
    atomic_flag_clear(&res->enc_lock);
    atomic_flag_clear(&res->dec_lock);
    res->role = cfg.role;
    /* the codec's state (keys included) from enif_alloc: the VM counts it */
    cfg.alloc = (fr_alloc){pending_alloc, pending_realloc, pending_free, res, enif_alloc, enif_free};
    int err = FR_ERR_NOMEM;
    res->codec = fr_new(&cfg, &err);
    if (!res->codec) {
        enif_release_resource(res);
        return fr_err(env, err);
    }
    ERL_NIF_TERM term = enif_make_resource(env, res);
    enif_release_resource(res);
    return mt_ok(env, term);
}

/* framing_start(Ref) -> {ok, FirstBytes} | {error, Reason} */
ERL_NIF_TERM nif_framing_start(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ERL_NIF_TERM exc;
    int held;
    framing_res *res = lock_res(env, argv[0], LOCK_BOTH, &held, &exc);
    if (!res) return exc;
    uint8_t out[FR_START_MAX];
    size_t len;
    int r = fr_start(res->codec, out, &len);
    unlock_res(res, held);
    if (r) return fr_err(env, r);
    ERL_NIF_TERM bin = small_binary(env, out, len);
    memset(out, 0, sizeof out);
    return mt_ok(env, bin);
}

/* framing_info(Ref) -> {Kind, Obfuscated, DcId | nil} */
ERL_NIF_TERM nif_framing_info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ERL_NIF_TERM exc;
    int held;
    framing_res *res = lock_res(env, argv[0], LOCK_BOTH, &held, &exc);
    if (!res) return exc;
    fr_kind kind;
    int obfuscated, has_dc_id;
    int16_t dc_id;
    fr_info(res->codec, &kind, &obfuscated, &has_dc_id, &dc_id);
    unlock_res(res, held);
    return enif_make_tuple3(env, kind_atom(kind), obfuscated ? atom_true : atom_false,
                            has_dc_id ? enif_make_int(env, dc_id) : atom_nil);
}

/* ---------------------------------------------------------------- encode */

/* Encrypts header, payload and trailer into out: small frames in one cipher call, large ones
 * straight from the payload (no copy). */
#define SEAL_COPY_BELOW 4096
static int seal_frame(fr_codec *c, const uint8_t *hdr, size_t hl, const uint8_t *payload, size_t len,
                      const uint8_t *trl, size_t tl, uint8_t *out) {
    if (len < SEAL_COPY_BELOW) {
        memcpy(out, hdr, hl);
        memcpy(out + hl, payload, len);
        memcpy(out + hl + len, trl, tl);
        return fr_encrypt(c, out, out, hl + len + tl);
    }
    return fr_encrypt(c, hdr, out, hl) || fr_encrypt(c, payload, out + hl, len) ||
           fr_encrypt(c, trl, out + hl + len, tl);
}

static ERL_NIF_TERM do_encode(ErlNifEnv *env, const ERL_NIF_TERM argv[]) {
    ErlNifBinary payload, random;
    int quick_ack;
    ERL_NIF_TERM exc;
    if (!enif_inspect_binary(env, argv[1], &payload) || !get_bool(argv[2], &quick_ack) ||
        !enif_inspect_binary(env, argv[3], &random))
        return enif_make_badarg(env);
    int held;
    framing_res *res = lock_res(env, argv[0], LOCK_ENC, &held, &exc);
    if (!res) return exc;

    uint8_t hdr[FR_MAX_HEADER], trl[FR_MAX_TRAILER];
    size_t hl, tl;
    ERL_NIF_TERM result;
    const uint8_t *rnd = random.size >= FR_ENCODE_RANDOM ? random.data : NULL;
    int r = fr_encode_frame(res->codec, payload.data, payload.size, quick_ack, rnd, hdr, &hl, trl, &tl);
    if (r) {
        result = fr_err(env, r);
    } else if (fr_is_obfuscated(res->codec)) {
        ERL_NIF_TERM bin;
        unsigned char *out = enif_make_new_binary(env, hl + payload.size + tl, &bin);
        if (!out) {
            result = mt_error(env, atom_enomem);
        } else if (seal_frame(res->codec, hdr, hl, payload.data, payload.size, trl, tl, out) != 0) {
            result = fr_err(env, FR_ERR_CRYPTO);
        } else {
            result = mt_ok(env, bin);
        }
    } else {
        ERL_NIF_TERM parts[3] = {small_binary(env, hdr, hl), argv[1], 0};
        if (tl) parts[2] = small_binary(env, trl, tl);
        result = mt_ok(env, enif_make_list_from_array(env, parts, tl ? 3 : 2));
    }
    unlock_res(res, held);
    return result;
}

static ERL_NIF_TERM nif_framing_encode_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return do_encode(env, argv);
}

/* framing_encode(Ref, Payload, QuickAck, Random) -> {ok, IoData} | {error, Reason}.
 * Encrypting or CRC-ing a large payload goes to a dirty CPU scheduler; framing one in plain
 * abridged or intermediate touches only its header, so it stays here. */
ERL_NIF_TERM nif_framing_encode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary payload;
    ERL_NIF_TERM exc;
    if (!enif_inspect_binary(env, argv[1], &payload)) return enif_make_badarg(env);
    if (payload.size > MTPROTO_MAX_BYTES_PER_SLICE) {
        int held;
        framing_res *res = lock_res(env, argv[0], LOCK_ENC, &held, &exc);
        if (!res) return exc;
        int heavy = fr_encode_reads_payload(res->codec);
        unlock_res(res, held);
        if (heavy)
            return enif_schedule_nif(env, "framing_encode", ERL_NIF_DIRTY_JOB_CPU_BOUND,
                                     nif_framing_encode_dirty, argc, argv);
    }
    return do_encode(env, argv);
}

/* framing_encode_quick_ack(Ref, Token) -> {ok, Bytes} | {error, Reason} (server) */
ERL_NIF_TERM nif_framing_encode_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    unsigned token;
    ERL_NIF_TERM exc;
    if (!enif_get_uint(env, argv[1], &token)) return enif_make_badarg(env);
    int held;
    framing_res *res = lock_res(env, argv[0], LOCK_ENC, &held, &exc);
    if (!res) return exc;
    uint8_t out[4];
    int r = fr_encode_quick_ack(res->codec, token, out);
    if (!r) r = fr_encrypt(res->codec, out, out, sizeof out);
    unlock_res(res, held);
    return r ? fr_err(env, r) : mt_ok(env, small_binary(env, out, sizeof out));
}

/* ---------------------------------------------------------------- decode */

typedef struct {
    ErlNifEnv *env;
    framing_res *res;
    ErlNifBinary chunk;      /* the chunk as received */
    ERL_NIF_TERM chunk_term;
    const uint8_t *work;     /* what it was decrypted into, or NULL */
    ERL_NIF_TERM work_term;
    ERL_NIF_TERM events;     /* reversed */
} decode_ctx;

/* A sub-binary of whichever of chunk and work holds data. */
static ERL_NIF_TERM chunk_part(decode_ctx *ctx, const uint8_t *data, size_t len) {
    if (ctx->work && data >= ctx->work && data + len <= ctx->work + ctx->chunk.size)
        return enif_make_sub_binary(ctx->env, ctx->work_term, (size_t)(data - ctx->work), len);
    return enif_make_sub_binary(ctx->env, ctx->chunk_term, (size_t)(data - ctx->chunk.data), len);
}

static int decode_sink(void *arg, const fr_event *ev) {
    decode_ctx *ctx = arg;
    ErlNifEnv *env = ctx->env;
    ERL_NIF_TERM event;
    switch (ev->kind) {
    case FR_EV_PACKET: {
        ERL_NIF_TERM bin;
        if (ev->body) {
            framing_res *res = ctx->res;
            if (!res->has_pending || ev->body != res->pending.data) return -1;
            size_t whole = res->pending.size;
            size_t offset = (size_t)(ev->data - ev->body);
            bin = enif_make_binary(env, &res->pending);
            res->has_pending = 0;
            if (offset != 0 || ev->len != whole) bin = enif_make_sub_binary(env, bin, offset, ev->len);
        } else {
            bin = chunk_part(ctx, ev->data, ev->len);
        }
        event = ev->quick_ack ? enif_make_tuple3(env, atom_packet, bin, atom_quick_ack)
                              : enif_make_tuple2(env, atom_packet, bin);
        break;
    }
    case FR_EV_QUICK_ACK:
        event = enif_make_tuple2(env, atom_quick_ack, enif_make_uint(env, ev->token));
        break;
    case FR_EV_TRANSPORT_ERROR:
        event = mt_error(env, enif_make_tuple2(env, atom_transport, enif_make_int(env, ev->code)));
        break;
    default:
        return -1;
    }
    ctx->events = enif_make_list_cell(env, event, ctx->events);
    return 0;
}

static ERL_NIF_TERM do_decode(ErlNifEnv *env, const ERL_NIF_TERM argv[]) {
    ErlNifBinary chunk;
    ERL_NIF_TERM exc;
    if (!enif_inspect_binary(env, argv[1], &chunk)) return enif_make_badarg(env);
    int held;
    framing_res *res = lock_res(env, argv[0], LOCK_DEC, &held, &exc);
    if (!res) return exc;

    decode_ctx ctx = {env, res, chunk, argv[1], NULL, 0, enif_make_list(env, 0)};
    uint8_t *work = NULL;
    if (fr_decode_needs_work(res->codec)) { /* decrypted straight into the binary events share */
        work = enif_make_new_binary(env, chunk.size, &ctx.work_term); /* mutable until we return */
        if (!work) {
            unlock_res(res, held);
            return mt_error(env, atom_enomem);
        }
        ctx.work = work;
    }
    int r = fr_decode(res->codec, chunk.data, chunk.size, work, decode_sink, &ctx);
    unlock_res(res, held);
    if (r) return fr_err(env, r);
    ERL_NIF_TERM events;
    enif_make_reverse_list(env, ctx.events, &events);
    return mt_ok(env, events);
}

static ERL_NIF_TERM nif_framing_decode_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return do_decode(env, argv);
}

/* framing_decode(Ref, Chunk) -> {ok, [Event]} | {error, Reason}; large chunks run dirty. */
ERL_NIF_TERM nif_framing_decode(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary chunk;
    if (!enif_inspect_binary(env, argv[1], &chunk)) return enif_make_badarg(env);
    if (chunk.size > MTPROTO_MAX_BYTES_PER_SLICE)
        return enif_schedule_nif(env, "framing_decode", ERL_NIF_DIRTY_JOB_CPU_BOUND,
                                 nif_framing_decode_dirty, argc, argv);
    return do_decode(env, argv);
}

/* ---------------------------------------------------------------- load */

int framing_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    atom_abridged = enif_make_atom(env, "abridged");
    atom_intermediate = enif_make_atom(env, "intermediate");
    atom_padded_intermediate = enif_make_atom(env, "padded_intermediate");
    atom_full = enif_make_atom(env, "full");
    atom_detect = enif_make_atom(env, "detect");
    atom_client = enif_make_atom(env, "client");
    atom_server = enif_make_atom(env, "server");
    atom_packet = enif_make_atom(env, "packet");
    atom_quick_ack = enif_make_atom(env, "quick_ack");
    atom_transport = enif_make_atom(env, "transport");
    atom_concurrent_use = enif_make_atom(env, "concurrent_use");
    framing_res_type = enif_open_resource_type(env, NULL, "mtproto_framing", framing_res_dtor,
                                               ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, NULL);
    return framing_res_type ? 0 : 1;
}
