%% NIF stubs of the tl area (see c_src/tl_nif.h). MTProto.TL and MTProto.TL.Schema wrap them.
tl_decode(_Bin, _ResultOfMethod, _GzipLimit, _SliceWork) -> erlang:nif_error(not_loaded).
tl_encode(_Term, _ResultOfMethod, _SliceWork) -> erlang:nif_error(not_loaded).
tl_schema_layer() -> erlang:nif_error(not_loaded).
tl_schema_entries() -> erlang:nif_error(not_loaded).
