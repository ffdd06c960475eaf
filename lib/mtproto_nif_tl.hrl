%% NIF stubs of the tl area (see c_src/tl_nif.h). One line each:
%%   name(_A, _B) -> erlang:nif_error(not_loaded).
