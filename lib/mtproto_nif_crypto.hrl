%% NIF stubs of the crypto area (see c_src/crypto_nif.h). One line each:
%%   name(_A, _B) -> erlang:nif_error(not_loaded).
