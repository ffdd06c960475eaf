%% NIF stubs of the crypto area (see c_src/crypto_nif.h and c_src/crypto_handshake_nif.h).
%% MTProto.Crypto documents them; Erlang callers may use them directly.
aes_ige_encrypt(_Data, _Key, _Iv) -> erlang:nif_error(not_loaded).
aes_ige_decrypt(_Data, _Key, _Iv) -> erlang:nif_error(not_loaded).
aes_ige_with(_Impl, _Encrypt, _Data, _Key, _Iv) -> erlang:nif_error(not_loaded).
aes_ige_impls() -> erlang:nif_error(not_loaded).
aes_ige_default_impl() -> erlang:nif_error(not_loaded).
aes_ctr_init(_Key, _Iv) -> erlang:nif_error(not_loaded).
aes_ctr_apply(_Ctr, _Data) -> erlang:nif_error(not_loaded).
auth_key_id(_AuthKey) -> erlang:nif_error(not_loaded).
auth_key_aux_hash(_AuthKey) -> erlang:nif_error(not_loaded).
new_nonce_hash(_NewNonce, _AuthKey, _N) -> erlang:nif_error(not_loaded).
tmp_aes_key_iv(_NewNonce, _ServerNonce) -> erlang:nif_error(not_loaded).
encrypt_message(_AuthKey, _Sender, _Plaintext, _Random) -> erlang:nif_error(not_loaded).
decrypt_message(_AuthKey, _Sender, _Packet) -> erlang:nif_error(not_loaded).
encrypt_message_quick_ack(_AuthKey, _Sender, _Plaintext, _Random) -> erlang:nif_error(not_loaded).
decrypt_message_quick_ack(_AuthKey, _Sender, _Packet) -> erlang:nif_error(not_loaded).
factorize(_PQ) -> erlang:nif_error(not_loaded).
dh_check_prime(_P, _G) -> erlang:nif_error(not_loaded).
dh_check_range(_GX, _P) -> erlang:nif_error(not_loaded).
mod_pow(_Base, _Exp, _Mod) -> erlang:nif_error(not_loaded).
dh_prime() -> erlang:nif_error(not_loaded).
rsa_generate(_Bits) -> erlang:nif_error(not_loaded).
rsa_fingerprint(_Pem) -> erlang:nif_error(not_loaded).
rsa_pad_encrypt(_Data, _PublicPem, _Padding, _TempKey) -> erlang:nif_error(not_loaded).
rsa_legacy_encrypt(_Data, _PublicPem, _Random) -> erlang:nif_error(not_loaded).
rsa_pad_decrypt(_Encrypted, _PrivatePem) -> erlang:nif_error(not_loaded).
rsa_legacy_decrypt(_Encrypted, _PrivatePem) -> erlang:nif_error(not_loaded).
rsa_decrypt_any(_Encrypted, _PrivatePem) -> erlang:nif_error(not_loaded).
