defmodule MTProto.TestServer.Api do
  @moduledoc """
  API calls on a test server: unwraps `invokeWithLayer`, `initConnection` and the other
  `invoke*` wrappers, enforces `CONNECTION_NOT_INITED` on keys that never sent
  `initConnection`, serves `help.getNearestDc` and `help.getConfig` itself, and runs the user's
  handlers. Results are TL-encoded here (gzip_packed when large); a result that cannot be sent
  in one packet becomes 500 `RESULT_TOO_LARGE`, and a handler that raises, throws, exits or
  returns a malformed value gets 500 `INTERNAL`: the call is answered and the connection stays.
  """

  alias MTProto.{Event, TL}
  alias MTProto.TL.Schema
  alias MTProto.TestServer.{AuthKeys, Config, Session, Shared}

  # Results larger than this are sent gzip_packed when that makes them smaller.
  @gzip_above 1024

  # Error messages longer than this are a handler's bug (Telegram's are short identifiers).
  @max_error_message 4096

  # Methods of the MTProto layer a client may wrap before initConnection.
  @service_methods [:ping, :ping_delay_disconnect, :get_future_salts, :rpc_drop_answer]

  @wrappers [
    :invokeWithLayer,
    :initConnection,
    :invokeWithoutUpdates,
    :invokeAfterMsg,
    :invokeAfterMsgs,
    :invokeWithMessagesRange,
    :invokeWithTakeout,
    :invokeWithApnsSecret,
    :invokeWithGooglePlayIntegrity,
    :invokeWithBusinessConnection,
    :invokeWithReCaptcha
  ]

  @type outcome :: {:ok, binary()} | {:error, integer(), String.t()} | {:async, (() -> term())}

  @doc """
  Runs a decoded request. `ctx` is the handler context without `:layer` (added here).
  Built-ins and errors come back at once; a user handler comes back as `{:async, fun}` for the
  session to run in its own process.
  """
  @spec call(Shared.t(), map(), map()) :: outcome()
  def call(%Shared{} = shared, term, ctx) do
    {query, layer, init} = unwrap(term, nil, false)
    key_layer = AuthKeys.layer(shared, ctx.auth_key_id)

    key_layer =
      if init or (layer != nil and key_layer != nil) do
        new_layer = layer || key_layer || Schema.layer()
        AuthKeys.put_layer(shared, ctx.auth_key_id, new_layer)
        new_layer
      else
        key_layer
      end

    name = query._
    ctx = Map.put(ctx, :layer, key_layer || layer || Schema.layer())

    started = System.monotonic_time()

    cond do
      not Schema.method?(name) ->
        {:error, 400, invalid_method_message(Schema.id(name))}
        |> observed(name, ctx, started)

      key_layer == nil and name not in @service_methods ->
        {:error, 400, "CONNECTION_NOT_INITED"} |> observed(name, ctx, started)

      handler = Map.get(shared.handlers, name) ->
        {:async,
         fn ->
           encode_outcome(name, run_handler(handler, query, ctx))
           |> sendable()
           |> observed(name, ctx, started)
         end}

      true ->
        builtin(name, query, ctx, shared) |> sendable() |> observed(name, ctx, started)
    end
  end

  @doc """
  The largest result (as sent, after gzip_packed) that fits one message: the body of an
  `rpc_result` (12 bytes of header) must stay within `MTProto.TestServer.Session.max_body/0`.
  """
  @spec max_result() :: pos_integer()
  def max_result, do: Session.max_body() - 12

  # The result as it goes out (gzip_packed when that helps), or 500 RESULT_TOO_LARGE when it
  # cannot go out in one packet (the framing's limit is 16 MiB).
  defp sendable({:ok, result}) do
    packed = maybe_gzip(result)

    if byte_size(packed) > max_result(),
      do: {:error, 500, "RESULT_TOO_LARGE"},
      else: {:ok, packed}
  end

  defp sendable(error), do: error

  # [:mtproto, :test_server, :rpc]: one per API call answered, with its duration and outcome.
  defp observed(outcome, name, ctx, started) do
    result =
      case outcome do
        {:ok, _} -> :ok
        {:error, code, message} -> {:error, code, message}
      end

    Event.emit(
      [:mtproto, :test_server, :rpc],
      %{duration: System.monotonic_time() - started},
      %{
        server: ctx.server,
        method: name,
        result: result,
        auth_key_id: ctx.auth_key_id,
        session_id: ctx.session_id,
        msg_id: ctx.msg_id,
        layer: ctx.layer
      }
    )

    outcome
  end

  defp unwrap(%{_: :invokeWithLayer, layer: layer, query: query}, _layer, init),
    do: unwrap(query, layer, init)

  defp unwrap(%{_: :initConnection, query: query}, layer, _init), do: unwrap(query, layer, true)

  defp unwrap(%{_: name, query: query}, layer, init) when name in @wrappers,
    do: unwrap(query, layer, init)

  defp unwrap(%{_: _} = query, layer, init), do: {query, layer, init}

  # A handler that raises, throws or exits answers 500 INTERNAL like any other server bug.
  defp run_handler(handler, query, ctx) do
    handler.(query, ctx)
  catch
    _kind, _reason -> {:error, 500, "INTERNAL"}
  end

  defp builtin(:ping, %{ping_id: ping_id}, ctx, _shared),
    do: encode_outcome(:ping, {:ok, %{_: :pong, msg_id: ctx.msg_id, ping_id: ping_id}})

  defp builtin(:"help.getNearestDc", _query, _ctx, shared), do: {:ok, shared.nearest_dc}

  defp builtin(:"help.getConfig", _query, ctx, shared), do: {:ok, Config.encode(shared, ctx.layer)}

  # Any other method of the schema without a handler: nobody ever logs in on this server, so
  # Telegram's answer to an unauthorised key is the honest one.
  defp builtin(_name, _query, _ctx, _shared), do: {:error, 401, "AUTH_KEY_UNREGISTERED"}

  @doc "The encoded answer to help.getNearestDc on datacenter `dc_id` (it is the nearest)."
  @spec nearest_dc(integer()) :: binary()
  def nearest_dc(dc_id) do
    nearest = %{_: :nearestDc, country: "ZZ", this_dc: dc_id, nearest_dc: dc_id}
    {:ok, encoded} = encode_outcome(:"help.getNearestDc", {:ok, nearest})
    encoded
  end

  @doc """
  Turns a handler's return value into the encoded result of `method` (by the method's return
  type, so `true`, lists of longs or objects all work) or an RPC error. A handler returns
  `{:ok, value}`, `{:ok, {:raw, binary}}` (already encoded) or `{:error, code, "MESSAGE"}`;
  anything else, or a value that does not fit the return type, is a 500 `INTERNAL` error.
  """
  @spec encode_outcome(atom(), term()) :: {:ok, binary()} | {:error, integer(), String.t()}
  def encode_outcome(_method, {:ok, {:raw, binary}}) when is_binary(binary), do: {:ok, binary}

  def encode_outcome(_method, {:ok, {:raw, _not_binary}}), do: {:error, 500, "INTERNAL"}

  def encode_outcome(method, {:ok, value}) do
    case TL.encode_result(method, value) do
      {:ok, binary} -> {:ok, binary}
      {:error, _} -> {:error, 500, "INTERNAL"}
    end
  rescue
    _exception -> {:error, 500, "INTERNAL"}
  end

  # error_code is an int; the rpc_error (code, message: 12 bytes, padding 3) must fit a result.
  def encode_outcome(_method, {:error, code, message})
      when is_integer(code) and code in -0x80000000..0x7FFFFFFF and is_binary(message) and
             byte_size(message) <= @max_error_message,
      do: {:error, code, message}

  def encode_outcome(_method, _other), do: {:error, 500, "INTERNAL"}

  @doc """
  A result as sent: gzip_packed when large and smaller that way (never when the packed bytes
  would not be a valid TL `bytes`, above 16 MiB).
  """
  @spec maybe_gzip(binary()) :: binary()
  def maybe_gzip(result) when byte_size(result) > @gzip_above do
    with gzipped when byte_size(gzipped) < byte_size(result) <- :zlib.gzip(result),
         {:ok, packed} when byte_size(packed) < byte_size(result) <-
           TL.encode(%{_: :gzip_packed, packed_data: gzipped}) do
      packed
    else
      _ -> result
    end
  end

  def maybe_gzip(result), do: result

  @doc "Telegram's error for a constructor that is not a method: `INPUT_METHOD_INVALID_<id>_0`."
  @spec invalid_method_message(binary() | integer() | nil) :: String.t()
  def invalid_method_message(<<id::little-32, _::binary>>), do: invalid_method_message(id)

  def invalid_method_message(id) when is_integer(id),
    do: "INPUT_METHOD_INVALID_#{Bitwise.band(id, 0xFFFFFFFF)}_0"

  def invalid_method_message(_), do: "INPUT_METHOD_INVALID_0_0"
end
