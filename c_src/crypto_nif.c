/* NIF glue of the crypto area: AES-256-IGE, AES-256-CTR streams, MTProto 2.0 messages and the
 * handshake hashes. Argument checks and term building only; the work is in the plain-C core.
 * Wrong argument types or sizes raise badarg; bad wire data returns {error, Reason}. Inputs
 * above MTPROTO_MAX_BYTES_PER_SLICE bytes move to a dirty CPU scheduler. */
#include "crypto_nif.h"

#include <string.h>

#include <openssl/crypto.h>

#include "aes_ctr.h"
#include "aes_ige.h"
#include "auth_key.h"
#include "msg_crypto.h"

static ERL_NIF_TERM atom_aesni, atom_portable, atom_client, atom_server;
static ERL_NIF_TERM atom_auth_key_id_mismatch, atom_bad_length, atom_msg_key_mismatch;
static ERL_NIF_TERM atom_bad_message_length, atom_bad_padding;
static ErlNifResourceType *ctr_type;

/* ---- helpers shared with crypto_handshake_nif.c ---- */

int crypto_arg_bytes(ErlNifEnv *env, ERL_NIF_TERM term, ErlNifBinary *bin) {
    return enif_inspect_binary(env, term, bin) || enif_inspect_iolist_as_binary(env, term, bin);
}

int crypto_arg_sized(ErlNifEnv *env, ERL_NIF_TERM term, size_t size, ErlNifBinary *bin) {
    return crypto_arg_bytes(env, term, bin) && bin->size == size;
}

ERL_NIF_TERM crypto_make_binary(ErlNifEnv *env, const void *data, size_t len) {
    unsigned char *p;
    ERL_NIF_TERM term = mt_new_binary(env, len, &p);
    if (len) memcpy(p, data, len);
    return term;
}

void crypto_consume(ErlNifEnv *env, size_t bytes) {
    if (enif_thread_type() == ERL_NIF_THR_NORMAL_SCHEDULER)
        mt_consume_timeslice(env, bytes, MTPROTO_MAX_BYTES_PER_SLICE);
}

/* Runs `work` here, or on a dirty CPU scheduler when `size` is above one slice. */
#define RUN_SIZED(env, name, size, dirty_fun, argc, argv, work)                             \
    do {                                                                                    \
        if ((size) > MTPROTO_MAX_BYTES_PER_SLICE)                                           \
            return enif_schedule_nif(env, name, ERL_NIF_DIRTY_JOB_CPU_BOUND, dirty_fun, argc, \
                                     argv);                                                 \
        return work;                                                                        \
    } while (0)

/* ---- AES-256-IGE ---- */

/* (data, key32, iv32) with an implementation and a direction. */
static ERL_NIF_TERM ige(ErlNifEnv *env, aes_impl impl, int encrypt, ERL_NIF_TERM data_t,
                        ERL_NIF_TERM key_t, ERL_NIF_TERM iv_t) {
    ErlNifBinary data, key, iv;
    uint8_t ivc[32];
    unsigned char *out;
    if (!crypto_arg_bytes(env, data_t, &data) || data.size % 16 != 0 ||
        !crypto_arg_sized(env, key_t, 32, &key) || !crypto_arg_sized(env, iv_t, 32, &iv))
        return enif_make_badarg(env);
    ERL_NIF_TERM result = mt_new_binary(env, data.size, &out);
    if (!out) return enif_raise_exception(env, atom_enomem);
    memcpy(ivc, iv.data, 32);
    int rc = aes_ige_crypt(impl, encrypt, key.data, ivc, data.data, out, data.size);
    OPENSSL_cleanse(ivc, sizeof ivc);
    if (rc != 0) return enif_make_badarg(env);
    crypto_consume(env, data.size);
    return result;
}

static ERL_NIF_TERM ige_encrypt_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return ige(env, aes_impl_default(), 1, argv[0], argv[1], argv[2]);
}

static ERL_NIF_TERM ige_decrypt_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return ige(env, aes_impl_default(), 0, argv[0], argv[1], argv[2]);
}

/* Size of a binary or iolist argument (0 for anything else: the work function raises). */
static size_t arg_size(ErlNifEnv *env, ERL_NIF_TERM term) {
    ErlNifBinary bin;
    return crypto_arg_bytes(env, term, &bin) ? bin.size : 0;
}

ERL_NIF_TERM nif_aes_ige_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "aes_ige_encrypt", arg_size(env, argv[0]), ige_encrypt_dirty, argc, argv,
              ige_encrypt_dirty(env, argc, argv));
}

ERL_NIF_TERM nif_aes_ige_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "aes_ige_decrypt", arg_size(env, argv[0]), ige_decrypt_dirty, argc, argv,
              ige_decrypt_dirty(env, argc, argv));
}

static int get_impl(ErlNifEnv *env, ERL_NIF_TERM term, aes_impl *impl) {
    if (enif_is_identical(term, atom_aesni)) *impl = AES_AESNI;
    else if (enif_is_identical(term, atom_portable)) *impl = AES_PORTABLE;
    else return 0;
    return aes_impl_available(*impl);
}

static ERL_NIF_TERM ige_with_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    aes_impl impl;
    if (!get_impl(env, argv[0], &impl)) return enif_make_badarg(env);
    int encrypt = enif_is_identical(argv[1], atom_true);
    if (!encrypt && !enif_is_identical(argv[1], atom_false)) return enif_make_badarg(env);
    return ige(env, impl, encrypt, argv[2], argv[3], argv[4]);
}

/* aes_ige_with(Impl, Encrypt :: boolean(), Data, Key, Iv) */
ERL_NIF_TERM nif_aes_ige_with(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "aes_ige_with", arg_size(env, argv[2]), ige_with_dirty, argc, argv,
              ige_with_dirty(env, argc, argv));
}

ERL_NIF_TERM nif_aes_ige_impls(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ERL_NIF_TERM list = enif_make_list1(env, atom_portable);
    if (aes_impl_available(AES_AESNI)) list = enif_make_list_cell(env, atom_aesni, list);
    return list;
}

ERL_NIF_TERM nif_aes_ige_default_impl(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return aes_impl_default() == AES_AESNI ? atom_aesni : atom_portable;
}

/* ---- AES-256-CTR streams ---- */

typedef struct {
    ErlNifMutex *lock; /* one process may share the stream with another */
    aes_ctr ctr;       /* inline: the resource holds the whole state */
} ctr_resource;

static void ctr_dtor(ErlNifEnv *env, void *obj) {
    ctr_resource *r = obj;
    aes_ctr_wipe(&r->ctr);
    if (r->lock) enif_mutex_destroy(r->lock);
}

ERL_NIF_TERM nif_aes_ctr_init(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary key, iv;
    if (!crypto_arg_sized(env, argv[0], 32, &key) || !crypto_arg_sized(env, argv[1], 16, &iv))
        return enif_make_badarg(env);
    ctr_resource *r = enif_alloc_resource(ctr_type, sizeof *r);
    if (!r) return enif_raise_exception(env, atom_enomem);
    aes_ctr_init(&r->ctr, key.data, iv.data); /* the default implementation: cannot fail */
    r->lock = enif_mutex_create("mtproto_aes_ctr");
    ERL_NIF_TERM term = enif_make_resource(env, r);
    enif_release_resource(r);
    if (!r->lock) return enif_raise_exception(env, atom_enomem);
    return term;
}

static ERL_NIF_TERM ctr_apply_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ctr_resource *r;
    ErlNifBinary data;
    unsigned char *out;
    if (!enif_get_resource(env, argv[0], ctr_type, (void **)&r) ||
        !crypto_arg_bytes(env, argv[1], &data))
        return enif_make_badarg(env);
    ERL_NIF_TERM result = mt_new_binary(env, data.size, &out);
    if (!out) return enif_raise_exception(env, atom_enomem);
    enif_mutex_lock(r->lock);
    int rc = aes_ctr_apply(&r->ctr, data.data, out, data.size);
    enif_mutex_unlock(r->lock);
    if (rc != 0) return enif_raise_exception(env, atom_enomem);
    crypto_consume(env, data.size);
    return result;
}

ERL_NIF_TERM nif_aes_ctr_apply(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "aes_ctr_apply", arg_size(env, argv[1]), ctr_apply_dirty, argc, argv,
              ctr_apply_dirty(env, argc, argv));
}

/* ---- handshake hashes ---- */

/* An 8-byte hash of the auth key (auth_key_id or auth_key_aux_hash). */
static ERL_NIF_TERM key_hash(ErlNifEnv *env, ERL_NIF_TERM arg,
                             int (*hash)(const uint8_t *, uint8_t *)) {
    ErlNifBinary key;
    uint8_t out[8];
    if (!crypto_arg_sized(env, arg, AUTH_KEY_BYTES, &key)) return enif_make_badarg(env);
    if (hash(key.data, out) != 0) return enif_raise_exception(env, atom_enomem);
    return crypto_make_binary(env, out, sizeof out);
}

ERL_NIF_TERM nif_auth_key_id(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return key_hash(env, argv[0], auth_key_id);
}

ERL_NIF_TERM nif_auth_key_aux_hash(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return key_hash(env, argv[0], auth_key_aux_hash);
}

/* new_nonce_hash(NewNonce32, AuthKey, N) */
ERL_NIF_TERM nif_new_nonce_hash(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary nonce, key;
    int n;
    uint8_t out[16];
    if (!crypto_arg_sized(env, argv[0], 32, &nonce) ||
        !crypto_arg_sized(env, argv[1], AUTH_KEY_BYTES, &key) || !enif_get_int(env, argv[2], &n) ||
        n < 1 || n > 3)
        return enif_make_badarg(env);
    if (auth_key_new_nonce_hash(nonce.data, key.data, n, out) != 0)
        return enif_raise_exception(env, atom_enomem);
    return crypto_make_binary(env, out, sizeof out);
}

/* tmp_aes_key_iv(NewNonce32, ServerNonce16) -> {Key, Iv} */
ERL_NIF_TERM nif_tmp_aes_key_iv(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary nonce, server_nonce;
    uint8_t key[32], iv[32];
    if (!crypto_arg_sized(env, argv[0], 32, &nonce) ||
        !crypto_arg_sized(env, argv[1], 16, &server_nonce))
        return enif_make_badarg(env);
    if (auth_key_tmp_aes(nonce.data, server_nonce.data, key, iv) != 0)
        return enif_raise_exception(env, atom_enomem);
    ERL_NIF_TERM result = enif_make_tuple2(env, crypto_make_binary(env, key, 32),
                                           crypto_make_binary(env, iv, 32));
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    return result;
}

/* ---- MTProto 2.0 messages ---- */

static int get_x(ErlNifEnv *env, ERL_NIF_TERM sender, int *x) {
    if (enif_is_identical(sender, atom_client)) *x = MSG_X_CLIENT;
    else if (enif_is_identical(sender, atom_server)) *x = MSG_X_SERVER;
    else return 0;
    return 1;
}

/* encrypt_message(AuthKey, Sender, Plaintext, Random): Random is MSG_PADDING_RANDOM_BYTES
 * random bytes that choose the padding length and fill the padding. With want_token the result
 * is {Packet, QuickAckToken}. */
static ERL_NIF_TERM encrypt_message_impl(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                         int want_token) {
    ErlNifBinary key, plain, random;
    int x;
    unsigned char *out;
    uint32_t token = 0;
    if (!crypto_arg_sized(env, argv[0], MSG_AUTH_KEY_BYTES, &key) || !get_x(env, argv[1], &x) ||
        !crypto_arg_bytes(env, argv[2], &plain) ||
        !crypto_arg_sized(env, argv[3], MSG_PADDING_RANDOM_BYTES, &random))
        return enif_make_badarg(env);
    size_t pad_len = msg_padding_choice(plain.size, random.data);
    ERL_NIF_TERM result = mt_new_binary(env, MSG_OUTER_BYTES + plain.size + pad_len, &out);
    if (!out) return enif_raise_exception(env, atom_enomem);
    if (msg_encrypt(key.data, x, plain.data, plain.size, random.data + 1, pad_len, out,
                    &token) != MSG_OK)
        return enif_raise_exception(env, atom_enomem);
    crypto_consume(env, plain.size);
    return want_token ? enif_make_tuple2(env, result, enif_make_uint(env, token)) : result;
}

static ERL_NIF_TERM encrypt_message_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return encrypt_message_impl(env, argv, 0);
}

static ERL_NIF_TERM encrypt_message_token_dirty(ErlNifEnv *env, int argc,
                                                const ERL_NIF_TERM argv[]) {
    return encrypt_message_impl(env, argv, 1);
}

ERL_NIF_TERM nif_encrypt_message(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "encrypt_message", arg_size(env, argv[2]), encrypt_message_dirty, argc, argv,
              encrypt_message_dirty(env, argc, argv));
}

ERL_NIF_TERM nif_encrypt_message_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "encrypt_message_quick_ack", arg_size(env, argv[2]),
              encrypt_message_token_dirty, argc, argv,
              encrypt_message_token_dirty(env, argc, argv));
}

static ERL_NIF_TERM msg_error(ErlNifEnv *env, msg_status st) {
    switch (st) {
    case MSG_ERR_AUTH_KEY_ID: return mt_error(env, atom_auth_key_id_mismatch);
    case MSG_ERR_LENGTH: return mt_error(env, atom_bad_length);
    case MSG_ERR_MSG_KEY: return mt_error(env, atom_msg_key_mismatch);
    case MSG_ERR_DATA_LENGTH: return mt_error(env, atom_bad_message_length);
    case MSG_ERR_PADDING: return mt_error(env, atom_bad_padding);
    default: return enif_raise_exception(env, atom_enomem);
    }
}

/* decrypt_message(AuthKey, Sender, Packet) -> {ok, HeaderAndBody} | {error, Reason}; with
 * want_token {ok, HeaderAndBody, QuickAckToken}. */
static ERL_NIF_TERM decrypt_message_impl(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                         int want_token) {
    ErlNifBinary key, packet, out;
    int x;
    size_t plain_len = 0;
    uint32_t token = 0;
    if (!crypto_arg_sized(env, argv[0], MSG_AUTH_KEY_BYTES, &key) || !get_x(env, argv[1], &x) ||
        !crypto_arg_bytes(env, argv[2], &packet))
        return enif_make_badarg(env);
    if (packet.size < MSG_OUTER_BYTES + MSG_HEADER_BYTES + MSG_MIN_PADDING)
        return mt_error(env, atom_bad_length);
    if (!enif_alloc_binary(packet.size - MSG_OUTER_BYTES, &out))
        return enif_raise_exception(env, atom_enomem);
    msg_status st =
        msg_decrypt(key.data, x, packet.data, packet.size, out.data, &plain_len, &token);
    crypto_consume(env, packet.size);
    if (st != MSG_OK) {
        enif_release_binary(&out);
        return msg_error(env, st);
    }
    if (!enif_realloc_binary(&out, plain_len)) {
        enif_release_binary(&out);
        return enif_raise_exception(env, atom_enomem);
    }
    ERL_NIF_TERM plain = enif_make_binary(env, &out);
    if (!want_token) return mt_ok(env, plain);
    return enif_make_tuple3(env, atom_ok, plain, enif_make_uint(env, token));
}

static ERL_NIF_TERM decrypt_message_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return decrypt_message_impl(env, argv, 0);
}

static ERL_NIF_TERM decrypt_message_token_dirty(ErlNifEnv *env, int argc,
                                                const ERL_NIF_TERM argv[]) {
    return decrypt_message_impl(env, argv, 1);
}

ERL_NIF_TERM nif_decrypt_message(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "decrypt_message", arg_size(env, argv[2]), decrypt_message_dirty, argc, argv,
              decrypt_message_dirty(env, argc, argv));
}

ERL_NIF_TERM nif_decrypt_message_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    RUN_SIZED(env, "decrypt_message_quick_ack", arg_size(env, argv[2]),
              decrypt_message_token_dirty, argc, argv,
              decrypt_message_token_dirty(env, argc, argv));
}

/* ---- load ---- */

int crypto_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info) {
    if (aes_impl_init() != 0) return 1;
    atom_aesni = mt_atom(env, "aesni");
    atom_portable = mt_atom(env, "portable");
    atom_client = mt_atom(env, "client");
    atom_server = mt_atom(env, "server");
    atom_auth_key_id_mismatch = mt_atom(env, "auth_key_id_mismatch");
    atom_bad_length = mt_atom(env, "bad_length");
    atom_msg_key_mismatch = mt_atom(env, "msg_key_mismatch");
    atom_bad_message_length = mt_atom(env, "bad_message_length");
    atom_bad_padding = mt_atom(env, "bad_padding");
    ctr_type = enif_open_resource_type(env, NULL, "mtproto_aes_ctr", ctr_dtor,
                                       ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER, NULL);
    if (!ctr_type) return 1;
    crypto_handshake_nif_load(env);
    return 0;
}
