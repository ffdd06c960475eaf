%% NIF stubs of the framing area (see c_src/framing_nif.h); MTProto.Transport wraps them.
framing_new(_Kind, _Role, _Obfuscated, _Secret, _DcId, _MaxPacket, _MaxPadding, _InitRandom) -> erlang:nif_error(not_loaded).
framing_start(_Ref) -> erlang:nif_error(not_loaded).
framing_info(_Ref) -> erlang:nif_error(not_loaded).
framing_encode(_Ref, _Payload, _QuickAck, _Random) -> erlang:nif_error(not_loaded).
framing_encode_quick_ack(_Ref, _Token) -> erlang:nif_error(not_loaded).
framing_decode(_Ref, _Chunk) -> erlang:nif_error(not_loaded).
