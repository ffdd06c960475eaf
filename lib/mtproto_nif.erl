%% @doc Raw NIF stubs of the C core (priv/mtproto_nif.so), in Erlang so rebar3 users reach it too.
%%
%% Nothing but stubs lives here: each area keeps its stubs in its own include file
%% (mtproto_nif_<area>.hrl), one per entry of <area>_nif.h in c_src/. Elixir callers go through
%% MTProto.Crypto, MTProto.TL and MTProto.Transport, which document and check the arguments.
-module(mtproto_nif).
-compile([export_all, nowarn_export_all]).
-on_load(init/0).

%% Must equal MTPROTO_NIF_ABI in c_src/nif_common.h: a stale .so refuses to load.
-define(ABI, 4).

init() ->
    Priv = priv_dir(),
    erlang:load_nif(filename:join(Priv, "mtproto_nif"),
                    #{abi => ?ABI, priv_dir => unicode:characters_to_binary(Priv)}).

priv_dir() ->
    case code:priv_dir(mtproto) of
        {error, bad_name} ->
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir ->
            Dir
    end.

abi_version() -> erlang:nif_error(not_loaded).

%% The ABI these stubs were written for (abi_version/0 is what the loaded library reports).
expected_abi() -> ?ABI.

-include("mtproto_nif_crypto.hrl").
-include("mtproto_nif_tl.hrl").
-include("mtproto_nif_framing.hrl").
