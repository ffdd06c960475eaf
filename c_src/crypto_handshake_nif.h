/* NIF functions of the crypto area for the handshake math: RSA, DH checks, mod_pow, pq.
 * Everything that can take more than a millisecond runs on a dirty CPU scheduler. */
#ifndef MTPROTO_CRYPTO_HANDSHAKE_NIF_H
#define MTPROTO_CRYPTO_HANDSHAKE_NIF_H

#include "nif_common.h"

#define CRYPTO_HANDSHAKE_NIF_FUNCS                                                  \
    {"factorize", 1, nif_factorize, ERL_NIF_DIRTY_JOB_CPU_BOUND},                   \
    {"dh_check_prime", 2, nif_dh_check_prime, ERL_NIF_DIRTY_JOB_CPU_BOUND},         \
    {"dh_check_range", 2, nif_dh_check_range, 0},                                   \
    {"mod_pow", 3, nif_mod_pow, ERL_NIF_DIRTY_JOB_CPU_BOUND},                       \
    {"dh_prime", 0, nif_dh_prime, 0},                                               \
    {"rsa_generate", 1, nif_rsa_generate, ERL_NIF_DIRTY_JOB_CPU_BOUND},             \
    {"rsa_fingerprint", 1, nif_rsa_fingerprint, ERL_NIF_DIRTY_JOB_CPU_BOUND},       \
    {"rsa_pad_encrypt", 4, nif_rsa_pad_encrypt, ERL_NIF_DIRTY_JOB_CPU_BOUND},       \
    {"rsa_legacy_encrypt", 3, nif_rsa_legacy_encrypt, ERL_NIF_DIRTY_JOB_CPU_BOUND}, \
    {"rsa_pad_decrypt", 2, nif_rsa_pad_decrypt, ERL_NIF_DIRTY_JOB_CPU_BOUND},       \
    {"rsa_legacy_decrypt", 2, nif_rsa_legacy_decrypt, ERL_NIF_DIRTY_JOB_CPU_BOUND}, \
    {"rsa_decrypt_any", 2, nif_rsa_decrypt_any, ERL_NIF_DIRTY_JOB_CPU_BOUND},

ERL_NIF_TERM nif_factorize(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_dh_check_prime(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_dh_check_range(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_mod_pow(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_dh_prime(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_generate(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_fingerprint(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_pad_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_legacy_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_pad_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_legacy_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);
ERL_NIF_TERM nif_rsa_decrypt_any(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/* Atoms of this file; called from crypto_nif_load. */
void crypto_handshake_nif_load(ErlNifEnv *env);

#endif
