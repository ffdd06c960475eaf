%% NIF stubs of the framing area (see c_src/framing_nif.h). One line each:
%%   name(_A, _B) -> erlang:nif_error(not_loaded).
