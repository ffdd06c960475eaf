/* NIF glue for the handshake math: pq factorization, DH checks and mod_pow, RSA. All the slow
 * functions are registered as dirty CPU NIFs (see crypto_handshake_nif.h). Keys are PEM
 * binaries, parsed per call (a handshake needs one or two RSA operations). */
#include "crypto_handshake_nif.h"

#include <string.h>

#include <openssl/crypto.h>

#include "crypto_nif.h"
#include "dh.h"
#include "pq.h"
#include "rsa.h"

static ERL_NIF_TERM atom_too_small, atom_prime, atom_not_semiprime, atom_gave_up;
static ERL_NIF_TERM atom_prime_not_2048_bits, atom_bad_g, atom_g_not_generator;
static ERL_NIF_TERM atom_not_safe_prime, atom_g_x_out_of_range, atom_retry;
static ERL_NIF_TERM atom_bad_length, atom_out_of_range, atom_bad_hash, atom_bad_padding;
static ERL_NIF_TERM atom_rsa_pad, atom_legacy;

void crypto_handshake_nif_load(ErlNifEnv *env) {
    atom_too_small = mt_atom(env, "too_small");
    atom_prime = mt_atom(env, "prime");
    atom_not_semiprime = mt_atom(env, "not_semiprime");
    atom_gave_up = mt_atom(env, "gave_up");
    atom_prime_not_2048_bits = mt_atom(env, "prime_not_2048_bits");
    atom_bad_g = mt_atom(env, "bad_g");
    atom_g_not_generator = mt_atom(env, "g_not_generator");
    atom_not_safe_prime = mt_atom(env, "not_safe_prime");
    atom_g_x_out_of_range = mt_atom(env, "g_x_out_of_range");
    atom_retry = mt_atom(env, "retry");
    atom_bad_length = mt_atom(env, "bad_length");
    atom_out_of_range = mt_atom(env, "out_of_range");
    atom_bad_hash = mt_atom(env, "bad_hash");
    atom_bad_padding = mt_atom(env, "bad_padding");
    atom_rsa_pad = mt_atom(env, "rsa_pad");
    atom_legacy = mt_atom(env, "legacy");
}

/* ---- pq ---- */

/* factorize(PQ :: 0..2^64-1) -> {ok, {P, Q}} | {error, Reason} */
ERL_NIF_TERM nif_factorize(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifUInt64 pq;
    uint64_t p, q;
    if (!enif_get_uint64(env, argv[0], &pq)) return enif_make_badarg(env);
    switch (pq_factorize(pq, &p, &q)) {
    case PQ_OK:
        return mt_ok(env, enif_make_tuple2(env, enif_make_uint64(env, p),
                                           enif_make_uint64(env, q)));
    case PQ_ERR_TOO_SMALL: return mt_error(env, atom_too_small);
    case PQ_ERR_PRIME: return mt_error(env, atom_prime);
    case PQ_ERR_NOT_SEMIPRIME: return mt_error(env, atom_not_semiprime);
    default: return mt_error(env, atom_gave_up);
    }
}

/* ---- DH ---- */

/* dh_check_prime(P, G) -> ok | {error, Reason} */
ERL_NIF_TERM nif_dh_check_prime(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary p;
    int g;
    if (!crypto_arg_bytes(env, argv[0], &p) || !enif_get_int(env, argv[1], &g))
        return enif_make_badarg(env);
    switch (dh_check_prime(p.data, p.size, g, 1)) {
    case DH_OK: return atom_ok;
    case DH_ERR_PRIME_SIZE: return mt_error(env, atom_prime_not_2048_bits);
    case DH_ERR_BAD_G: return mt_error(env, atom_bad_g);
    case DH_ERR_G_NOT_RESIDUE: return mt_error(env, atom_g_not_generator);
    case DH_ERR_NOT_SAFE_PRIME: return mt_error(env, atom_not_safe_prime);
    default: return enif_raise_exception(env, atom_enomem);
    }
}

/* dh_check_range(GX, P) -> ok | {error, g_x_out_of_range} */
ERL_NIF_TERM nif_dh_check_range(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary g_x, p;
    if (!crypto_arg_bytes(env, argv[0], &g_x) || !crypto_arg_bytes(env, argv[1], &p))
        return enif_make_badarg(env);
    switch (dh_check_range(g_x.data, g_x.size, p.data, p.size)) {
    case DH_OK: return atom_ok;
    case DH_ERR_RANGE: return mt_error(env, atom_g_x_out_of_range);
    default: return enif_raise_exception(env, atom_enomem);
    }
}

/* mod_pow(Base, Exp, Mod) -> binary of byte_size(Mod) */
ERL_NIF_TERM nif_mod_pow(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary base, exp, mod;
    unsigned char *out;
    if (!crypto_arg_bytes(env, argv[0], &base) || !crypto_arg_bytes(env, argv[1], &exp) ||
        !crypto_arg_bytes(env, argv[2], &mod) || mod.size == 0 ||
        base.size > DH_MAX_OPERAND_BYTES || exp.size > DH_MAX_OPERAND_BYTES ||
        mod.size > DH_MAX_OPERAND_BYTES)
        return enif_make_badarg(env);
    ERL_NIF_TERM result = mt_new_binary(env, mod.size, &out);
    if (!out) return enif_raise_exception(env, atom_enomem);
    if (dh_mod_pow(base.data, base.size, exp.data, exp.size, mod.data, mod.size, out) != 0)
        return enif_make_badarg(env); /* zero modulus */
    return result;
}

ERL_NIF_TERM nif_dh_prime(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return crypto_make_binary(env, dh_builtin_prime(), DH_PRIME_BYTES);
}

/* ---- RSA ---- */

static EVP_PKEY *arg_key(ErlNifEnv *env, ERL_NIF_TERM term, int private_key) {
    ErlNifBinary pem;
    if (!crypto_arg_bytes(env, term, &pem)) return NULL;
    return private_key ? rsa_private_from_pem(pem.data, pem.size)
                       : rsa_public_from_pem(pem.data, pem.size);
}

static ERL_NIF_TERM pem_term(ErlNifEnv *env, char *pem, size_t len, int secret) {
    ERL_NIF_TERM term = crypto_make_binary(env, pem, len);
    if (secret)
        OPENSSL_clear_free(pem, len);
    else
        OPENSSL_free(pem);
    return term;
}

/* rsa_generate(Bits) -> {PrivatePem, PublicPem} */
ERL_NIF_TERM nif_rsa_generate(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    unsigned bits;
    char *priv, *pub;
    size_t priv_len, pub_len;
    if (!enif_get_uint(env, argv[0], &bits) || bits < 1024 || bits > 4096)
        return enif_make_badarg(env);
    if (rsa_generate(bits, &priv, &priv_len, &pub, &pub_len) != 0)
        return enif_raise_exception(env, atom_enomem);
    return enif_make_tuple2(env, pem_term(env, priv, priv_len, 1), pem_term(env, pub, pub_len, 0));
}

/* rsa_fingerprint(Pem) -> signed 64-bit integer */
ERL_NIF_TERM nif_rsa_fingerprint(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    int64_t fp;
    EVP_PKEY *key = arg_key(env, argv[0], 0);
    if (!key) return enif_make_badarg(env);
    int rc = rsa_fingerprint(key, &fp);
    EVP_PKEY_free(key);
    if (rc != 0) return enif_make_badarg(env);
    return enif_make_int64(env, fp);
}

/* rsa_pad_encrypt(Data, PublicPem, Padding, TempKey) -> Encrypted256 | retry */
ERL_NIF_TERM nif_rsa_pad_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary data, pad, temp_key;
    uint8_t out[RSA_MODULUS_BYTES];
    if (!crypto_arg_bytes(env, argv[0], &data) || data.size > RSA_PAD_MAX_DATA ||
        !crypto_arg_sized(env, argv[2], RSA_PAD_PADDED - data.size, &pad) ||
        !crypto_arg_sized(env, argv[3], 32, &temp_key))
        return enif_make_badarg(env);
    EVP_PKEY *key = arg_key(env, argv[1], 0);
    if (!key) return enif_make_badarg(env);
    mt_rsa_status st = rsa_pad_encrypt(key, data.data, data.size, pad.data, temp_key.data, out);
    EVP_PKEY_free(key);
    if (st == MT_RSA_RETRY) return atom_retry;
    if (st != MT_RSA_OK) return enif_make_badarg(env); /* not a 2048-bit key */
    return crypto_make_binary(env, out, sizeof out);
}

/* rsa_legacy_encrypt(Data, PublicPem, Random) -> Encrypted256 */
ERL_NIF_TERM nif_rsa_legacy_encrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary data, random;
    uint8_t out[RSA_MODULUS_BYTES];
    if (!crypto_arg_bytes(env, argv[0], &data) || data.size > RSA_LEGACY_MAX_DATA ||
        !crypto_arg_sized(env, argv[2], RSA_LEGACY_MAX_DATA - data.size, &random))
        return enif_make_badarg(env);
    EVP_PKEY *key = arg_key(env, argv[1], 0);
    if (!key) return enif_make_badarg(env);
    mt_rsa_status st = rsa_legacy_encrypt(key, data.data, data.size, random.data, out);
    EVP_PKEY_free(key);
    if (st != MT_RSA_OK) return enif_make_badarg(env);
    return crypto_make_binary(env, out, sizeof out);
}

static ERL_NIF_TERM decrypt_result(ErlNifEnv *env, mt_rsa_status st, uint8_t *out, size_t len) {
    ERL_NIF_TERM term;
    switch (st) {
    case MT_RSA_OK: term = mt_ok(env, crypto_make_binary(env, out, len)); break;
    case MT_RSA_ERR_LENGTH: term = mt_error(env, atom_bad_length); break;
    case MT_RSA_ERR_RANGE: term = mt_error(env, atom_out_of_range); break;
    case MT_RSA_ERR_HASH: term = mt_error(env, atom_bad_hash); break;
    case MT_RSA_ERR_PADDING: term = mt_error(env, atom_bad_padding); break;
    case MT_RSA_ERR_KEY: term = enif_make_badarg(env); break;
    default: term = enif_raise_exception(env, atom_enomem); break;
    }
    OPENSSL_cleanse(out, len);
    return term;
}

typedef mt_rsa_status (*decrypt_fn)(EVP_PKEY *, const uint8_t *, size_t, uint8_t *);

static ERL_NIF_TERM rsa_decrypt(ErlNifEnv *env, const ERL_NIF_TERM argv[], decrypt_fn decrypt,
                                size_t out_len) {
    ErlNifBinary enc;
    uint8_t out[RSA_LEGACY_BLOCK];
    if (!crypto_arg_bytes(env, argv[0], &enc)) return enif_make_badarg(env);
    EVP_PKEY *key = arg_key(env, argv[1], 1);
    if (!key) return enif_make_badarg(env);
    mt_rsa_status st = decrypt(key, enc.data, enc.size, out);
    EVP_PKEY_free(key);
    return decrypt_result(env, st, out, out_len);
}

/* rsa_pad_decrypt(Encrypted, PrivatePem) -> {ok, DataWithPadding192} | {error, Reason} */
ERL_NIF_TERM nif_rsa_pad_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return rsa_decrypt(env, argv, rsa_pad_decrypt, RSA_PAD_PADDED);
}

/* rsa_legacy_decrypt(Encrypted, PrivatePem) -> {ok, Sha1DataPadding255} | {error, Reason} */
ERL_NIF_TERM nif_rsa_legacy_decrypt(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    return rsa_decrypt(env, argv, rsa_legacy_decrypt, RSA_LEGACY_BLOCK);
}

/* rsa_decrypt_any(Encrypted, PrivatePem) -> {ok, rsa_pad, DataWithPadding192}
 *   | {ok, legacy, Sha1DataPadding255} | {error, Reason}: one private-key operation. */
ERL_NIF_TERM nif_rsa_decrypt_any(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
    ErlNifBinary enc;
    uint8_t out[RSA_LEGACY_BLOCK];
    mt_rsa_padding padding = MT_RSA_PADDING_LEGACY;
    if (!crypto_arg_bytes(env, argv[0], &enc)) return enif_make_badarg(env);
    EVP_PKEY *key = arg_key(env, argv[1], 1);
    if (!key) return enif_make_badarg(env);
    mt_rsa_status st = rsa_decrypt_any(key, enc.data, enc.size, &padding, out);
    EVP_PKEY_free(key);
    int pad = st == MT_RSA_OK && padding == MT_RSA_PADDING_PAD;
    ERL_NIF_TERM term = decrypt_result(env, st, out, pad ? RSA_PAD_PADDED : RSA_LEGACY_BLOCK);
    const ERL_NIF_TERM *ok;
    int arity;
    if (st != MT_RSA_OK || !enif_get_tuple(env, term, &arity, &ok) || arity != 2) return term;
    return enif_make_tuple3(env, ok[0], pad ? atom_rsa_pad : atom_legacy, ok[1]);
}
