defmodule MTProto.Session do
  @moduledoc """
  MTProto sessions: open one per datacenter connection, then call methods on it.

      {:ok, sid} = MTProto.Session.open(2, client: self())
      {:ok, config} = MTProto.Session.call(sid, %{_: :"help.getConfig"})
      # updates arrive as {:mtproto, sid, update}

  A session is a supervisor with two processes (`MTProto.Session.Handler`, which holds all the
  state, and `MTProto.Session.Listener`, which owns the socket) registered in
  `MTProto.Registry` under the session id, started under `MTProto.SessionSupervisor`. It
  creates an auth key when it has none (the client is sent `{:mtproto, sid,
  :auth_key_generated}`), reconnects by itself, and resends what the server has not answered,
  so a call is never lost and never runs twice.

  The API follows the seed library (`open`, `send`, `set_client`, `close`, `export`,
  `import`) and adds `call/3` and `info/1`.
  """

  import Kernel, except: [send: 2]

  alias MTProto.{AuthKey, DC, Registry, Storage}

  @type session_id :: integer()

  @doc """
  Opens a session to datacenter `dc_id`. Options:

    * `:address` — `{ip_tuple | charlist | string, port}`; default Telegram's published
      address for the dc (`:environment` `:production` (default) or `:test`).
    * `:transport` — a framing of `MTProto.Transport` (default `{:obfuscated, :padded_intermediate}`).
    * `:rsa_keys` — PEMs the handshake trusts (default Telegram's published keys).
    * `:client` — pid receiving `{:mtproto, session_id, update}`.
    * `:auth_key` — an `MTProto.AuthKey` or a 256-byte key to use instead of a handshake.
    * `:storage` — `MTProto.Storage` spec (default `MTProto.Storage.default/0`); `nil` for none.
    * `:api_id`, `:api_hash` — default `Application.get_env(:mtproto, :api_id | :api_hash)`;
      `:device_model`, `:app_version`, `:lang_code`, `:init_connection` (more initConnection
      fields).
    * `:temp_key` — lifetime in seconds to create a temporary key instead of a permanent one.
    * `:ping_interval` (ms, default 60 000), `:backoff_min`, `:backoff_max` (ms).
    * `:max_queue` (requests, default 10 000), `:max_queue_bytes` (default 16 MiB): the
      bounded queue (`MTProto.Session.Backpressure`).
    * `:client_events` — `false` keeps the client out of the lifecycle events
      (`MTProto.Session.Lifecycle`); they are sent as `{:mtproto_event, session_id, name, meta}`.
  """
  @spec open(integer(), keyword()) :: {:ok, session_id()} | {:error, term()}
  def open(dc_id, opts \\ []) when is_integer(dc_id) do
    env = Keyword.get(opts, :environment, :production)
    # The handle is this node's own (the MTProto session id on the wire is another, random
    # one): a small integer, so the copies the session's processes and row keep of it take
    # no heap words.
    session_id = System.unique_integer([:positive, :monotonic])

    with {:ok, address} <- address(dc_id, env, opts) do
      storage =
        opts
        |> Keyword.get(:storage, Storage.default())
        |> Storage.for_network(network(env, opts))

      # Kept once per session (its MTProto.Registry row): defaults that can be worked out
      # again (the published RSA keys, the handshake's dc id) and nil values are left out.
      opts =
        opts
        |> Keyword.merge(session_id: session_id, dc_id: dc_id, address: address, storage: storage)
        |> Keyword.update(:auth_key, nil, &to_auth_key(&1, dc_id))
        |> Enum.reject(fn {_key, value} -> value == nil end)

      if opts[:auth_key], do: Storage.put(storage, opts[:auth_key])

      case DynamicSupervisor.start_child(
             MTProto.SessionSupervisor,
             {MTProto.Session.Supervisor, opts}
           ) do
        {:ok, _pid} -> {:ok, session_id}
        {:error, reason} -> {:error, reason}
      end
    end
  end

  # The network whose dc numbering `dc_id` belongs to: the environment, or the address given.
  defp network(env, opts) do
    case Keyword.fetch(opts, :address) do
      {:ok, {host, port}} -> "#{host_string(host)}:#{port}"
      :error -> Atom.to_string(env)
    end
  end

  defp host_string(host) when is_tuple(host) do
    case :inet.ntoa(host) do
      {:error, _} -> inspect(host)
      text -> to_string(text)
    end
  end

  defp host_string(host), do: to_string(host)

  defp address(dc_id, env, opts) do
    case Keyword.fetch(opts, :address) do
      {:ok, {_host, port} = address} when is_integer(port) -> {:ok, address}
      {:ok, other} -> {:error, {:bad_address, other}}
      :error -> DC.address(dc_id, env)
    end
  end

  defp to_auth_key(nil, _dc_id), do: nil
  defp to_auth_key(%AuthKey{} = key, _dc_id), do: key

  defp to_auth_key(key, dc_id) when is_binary(key) and byte_size(key) == 256,
    do: AuthKey.new(key, dc_id)

  @doc """
  Calls an RPC method and waits for its answer: `{:ok, result}`, `{:error, %MTProto.RpcError{}}`
  or `{:error, reason}` (`:timeout`, `:closed`, `:no_session`, ...). A call that times out is
  cancelled (`rpc_drop_answer`).

  Calls are flushed as soon as the session's mailbox is empty, so concurrent calls share
  containers. With `flush: false` the call waits (with everything queued after it) for
  `flush/1` or for the next call without that option, to put many calls in one container.
  """
  @spec call(session_id(), map(), timeout(), keyword()) :: {:ok, term()} | {:error, term()}
  def call(session_id, %{_: _} = request, timeout \\ 15_000, opts \\ []) do
    flush? = Keyword.get(opts, :flush, true)

    case Registry.whereis(session_id, :handler) do
      nil ->
        {:error, :no_session}

      handler ->
        tag = :erlang.monitor(:process, handler, alias: :demonitor)
        Kernel.send(handler, {:call, tag, request, flush?})

        receive do
          {^tag, reply} ->
            Process.demonitor(tag, [:flush])
            reply

          # The registry still named a handler that had just been closed.
          {:DOWN, ^tag, :process, _, :noproc} ->
            {:error, :no_session}

          # Closed (close/1) with this call still on its way to the handler.
          {:DOWN, ^tag, :process, _, :shutdown} ->
            {:error, :closed}

          {:DOWN, ^tag, :process, _, reason} ->
            {:error, {:session_down, reason}}
        after
          timeout ->
            Kernel.send(handler, {:cancel, tag})
            Process.demonitor(tag, [:flush])

            # An answer may have crossed the cancellation.
            receive do
              {^tag, reply} -> reply
            after
              0 -> {:error, :timeout}
            end
        end
    end
  end

  @doc """
  Sends a message without waiting for an answer (answers and updates go to the client):
  `:encrypted` (default) or `:plain` (an unencrypted message, as the handshake uses).

  Options (also accepted in place of the type): `flush: false` keeps the message queued, with
  what follows, until `flush/1` or the next message without it, to batch many into one
  container. `{:error, :queue_full}` when the session's queue is at its bound (see
  `MTProto.Session.Backpressure`), `{:error, :closing}` while it drains.
  """
  @spec send(session_id(), map(), :encrypted | :plain | keyword(), keyword()) ::
          {:ok, integer()} | {:error, term()}
  def send(session_id, request, type \\ :encrypted, opts \\ [])

  def send(session_id, request, opts, []) when is_list(opts),
    do: send(session_id, request, :encrypted, opts)

  def send(session_id, request, :encrypted, opts),
    do: handler_call(session_id, {:send, request, :encrypted, Keyword.get(opts, :flush, true)})

  def send(session_id, request, :plain, _opts),
    do: handler_call(session_id, {:send, request, :plain})

  @doc "Sends everything queued now (after calls made with `flush: false`)."
  @spec flush(session_id()) :: :ok | {:error, :no_session}
  def flush(session_id) do
    case Registry.whereis(session_id, :handler) do
      nil -> {:error, :no_session}
      pid -> Kernel.send(pid, :flush) && :ok
    end
  end

  @doc "Sets the pid notified of updates (`{:mtproto, session_id, update}`)."
  @spec set_client(session_id(), pid()) :: :ok | {:error, term()}
  def set_client(session_id, client) when is_pid(client),
    do: handler_call(session_id, {:set_client, client})

  @doc """
  Closes the session (and its media connections).

    * `:now` (`close/1`): stops its processes at once; every waiting caller gets
      `{:error, :closed}`.
    * `:drain` or `{:drain, timeout_ms}` (default 15 000): refuses new requests
      (`{:error, :closing}`), sends what is queued and waits for every pending call to be
      answered, then stops. `:ok` when all were answered; `{:error, :drain_timeout}` when the
      timeout came first (the calls still pending then got `{:error, :closed}`);
      `{:error, :closing}` if another drain is already in progress (it closes the session).
  """
  @spec close(session_id(), :now | :drain | {:drain, timeout()}) ::
          :ok | {:error, :no_session | :drain_timeout | :closing}
  def close(session_id, mode \\ :now)

  def close(session_id, :now) do
    for media <- MTProto.Session.Media.list(session_id), do: close(media, :now)

    case Registry.whereis(session_id, :supervisor) do
      nil -> {:error, :no_session}
      pid -> DynamicSupervisor.terminate_child(MTProto.SessionSupervisor, pid)
    end
  end

  def close(session_id, :drain), do: close(session_id, {:drain, 15_000})

  def close(session_id, {:drain, timeout}) when is_integer(timeout) and timeout >= 0 do
    case Registry.whereis(session_id, :handler) do
      nil ->
        {:error, :no_session}

      pid ->
        case safe(fn -> GenServer.call(pid, {:drain, timeout}, :infinity) end, :ok) do
          {:error, :closing} = error -> error
          drained -> with :ok <- close(session_id, :now), do: drained
        end
    end
  end

  @doc """
  Drops the connection and connects again now (also ends a temporary `disconnect/2` or a
  wait between attempts).
  Nothing is lost: what the server has not answered is sent again.
  """
  @spec reconnect(session_id()) :: :ok | {:error, :no_session}
  def reconnect(session_id),
    do: listener_cast(session_id, &MTProto.Session.Listener.connect_now/1)

  @doc """
  `temporary: true`: drops the connection and stays disconnected until `reconnect/1` (or for
  `for: ms`). Calls made meanwhile are queued (up to the queue's bound), pending ones are kept,
  and all are sent on the new connection. Without `temporary: true` this is `close(id, :now)`.
  """
  @spec disconnect(session_id(), keyword()) :: :ok | {:error, :no_session}
  def disconnect(session_id, opts \\ []) do
    if Keyword.get(opts, :temporary, false) do
      with :ok <- listener_cast(session_id, &MTProto.Session.Listener.pause/1) do
        if ms = opts[:for], do: :timer.apply_after(ms, __MODULE__, :reconnect, [session_id])
        :ok
      end
    else
      close(session_id, :now)
    end
  end

  @doc """
  Starts a new MTProto session id on the same key and connection (as MadelineProto's
  resetSession): every message not yet answered is sent again under it.
  """
  @spec reset_session(session_id()) :: :ok | {:error, term()}
  def reset_session(session_id), do: handler_call(session_id, :reset_session)

  @doc """
  Opens an extra media connection to the session's datacenter, sharing its auth key and salt
  with its own MTProto session id (see `MTProto.Session.Media`). Returns its session id, used
  like any other.
  """
  @spec open_media(session_id(), keyword()) :: {:ok, session_id()} | {:error, term()}
  def open_media(session_id, opts \\ []), do: MTProto.Session.Media.open(session_id, opts)

  defp listener_cast(session_id, fun) do
    case Registry.whereis(session_id, :listener) do
      nil -> {:error, :no_session}
      pid -> fun.(pid)
    end
  end

  @doc """
  The session's key with its dc id, current server salt and user id, as an
  `MTProto.AuthKey` (`inspect` hides the key).
  """
  @spec export(session_id()) :: {:ok, AuthKey.t()} | {:error, term()}
  def export(session_id), do: handler_call(session_id, :export)

  @doc "Replaces the session's key (a 256-byte key or an `MTProto.AuthKey`), as the seed's import."
  @spec import(session_id(), integer() | nil, binary() | AuthKey.t(), integer()) ::
          :ok | {:error, term()}
  def import(session_id, user_id, auth_key, server_salt) do
    with {:ok, opts} <- Registry.options(session_id) do
      dc_id = Keyword.fetch!(opts, :dc_id)

      key =
        case auth_key do
          %AuthKey{} = k -> %{k | user_id: user_id, server_salt: server_salt}
          k -> AuthKey.new(k, dc_id, user_id: user_id, server_salt: server_salt)
        end

      handler_call(session_id, {:import, key})
    end
  end

  @doc """
  A snapshot of the session, as one map: `id`, `dc_id`, `kind` (`:main` or `:media`, with
  `parent`), `connected?`, `reading?`, `writing?`, `paused?` (temporarily disconnected),
  `address`, `transport`, `socket` (`bytes_in`/`bytes_out` on the wire, `last_chunk_at` in ms
  of system time, `connects`, `send_buffer_bytes` waiting in the socket), `stats` (packets and
  message bytes in/out, resent, dropped), `pending_calls`, `unacknowledged`, `queued` (not
  yet written),
  `queue` (the bound: `messages`, `bytes`, their maxima, `waiting` calls, `full?`), `full?`,
  `draining?`, `reconnects`, `connects`, `salt_valid_until`, `time_offset` (s),
  `mtproto_session_id`, `auth_key_id`.

  Read from snapshots the session's processes publish (`MTProto.Session.Info`), so it costs
  them nothing and is cheap to poll for many sessions. With `calls: true` the map also has
  `calls`, the pending calls with method and age (this one asks the handler).
  """
  @spec info(session_id(), keyword()) :: {:ok, map()} | {:error, term()}
  def info(session_id, opts \\ []) do
    with {:ok, info} <- MTProto.Session.Info.read(session_id) do
      if opts[:calls] do
        case handler_call(session_id, :calls) do
          calls when is_list(calls) -> {:ok, Map.put(info, :calls, calls)}
          error -> error
        end
      else
        {:ok, info}
      end
    end
  end

  defp handler_call(session_id, message) do
    case Registry.whereis(session_id, :handler) do
      nil -> {:error, :no_session}
      pid -> safe(fn -> GenServer.call(pid, message) end, {:error, :no_session})
    end
  end

  defp safe(fun, default) do
    fun.()
  catch
    :exit, _ -> default
  end
end
