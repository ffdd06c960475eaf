/* NIF functions of the crypto area: the table entries and the load hook used by mtproto_nif.c.
 * crypto_nif.c holds AES, CTR, message encryption and the handshake hashes;
 * crypto_handshake_nif.c holds the slow handshake math (RSA, DH, pq) on dirty schedulers. */
#ifndef MTPROTO_CRYPTO_NIF_H
#define MTPROTO_CRYPTO_NIF_H

#include "nif_common.h"

#include "crypto_handshake_nif.h"

/* Every entry needs a stub of the same name and arity in lib/mtproto_nif_crypto.hrl.
 * Entries with flag 0 either finish in well under 1 ms or reschedule themselves onto a dirty
 * CPU scheduler above MTPROTO_MAX_BYTES_PER_SLICE bytes. */
#define CRYPTO_NIF_FUNCS                                              \
    {"aes_ige_encrypt", 3, nif_aes_ige_encrypt, 0},                   \
    {"aes_ige_decrypt", 3, nif_aes_ige_decrypt, 0},                   \
    {"aes_ige_with", 5, nif_aes_ige_with, 0},                         \
    {"aes_ige_impls", 0, nif_aes_ige_impls, 0},                       \
    {"aes_ige_default_impl", 0, nif_aes_ige_default_impl, 0},         \
    {"aes_ctr_init", 2, nif_aes_ctr_init, 0},                         \
    {"aes_ctr_apply", 2, nif_aes_ctr_apply, 0},                       \
    {"auth_key_id", 1, nif_auth_key_id, 0},                           \
    {"auth_key_aux_hash", 1, nif_auth_key_aux_hash, 0},               \
    {"new_nonce_hash", 3, nif_new_nonce_hash, 0},                     \
    {"tmp_aes_key_iv", 2, nif_tmp_aes_key_iv, 0},                     \
    {"encrypt_message", 4, nif_encrypt_message, 0},                   \
    {"decrypt_message", 3, nif_decrypt_message, 0},                   \
    {"encrypt_message_quick_ack", 4, nif_encrypt_message_quick_ack, 0}, \
    {"decrypt_message_quick_ack", 3, nif_decrypt_message_quick_ack, 0}, \
    CRYPTO_HANDSHAKE_NIF_FUNCS

ERL_NIF_TERM nif_aes_ige_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ige_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ige_with(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ige_impls(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ige_default_impl(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ctr_init(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_aes_ctr_apply(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_auth_key_id(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_auth_key_aux_hash(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_new_nonce_hash(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_tmp_aes_key_iv(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_encrypt_message(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_decrypt_message(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_encrypt_message_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_decrypt_message_quick_ack(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/* Called once from load() and upgrade(): create atoms and resource types (ERL_NIF_RT_CREATE |
 * ERL_NIF_RT_TAKEOVER). load_info is #{abi => Int, priv_dir => Binary}. Returns 0 on success. */
int crypto_nif_load(ErlNifEnv *env, ERL_NIF_TERM load_info);

/* Helpers shared by the two crypto NIF files. */

/* A binary or iolist argument as bytes (no copy for a binary). */
int crypto_arg_bytes(ErlNifEnv *env, ERL_NIF_TERM term, ErlNifBinary *bin);

/* As above, and exactly `size` bytes long. */
int crypto_arg_sized(ErlNifEnv *env, ERL_NIF_TERM term, size_t size, ErlNifBinary *bin);

/* A fresh binary term holding a copy of len bytes. */
ERL_NIF_TERM crypto_make_binary(ErlNifEnv *env, const void *data, size_t len);

/* Reports work of `bytes` to the scheduler when running on a normal scheduler. */
void crypto_consume(ErlNifEnv *env, size_t bytes);

#endif
