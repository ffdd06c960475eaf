defmodule MTProto.TestServer do
  @moduledoc """
  A local Telegram datacenter: real MTProto 2.0 over TCP on loopback, strict like Telegram, for
  tests, demos and any client pointed at it (`mix mtproto.server`).

      {:ok, server} = MTProto.TestServer.start_link(handlers: %{
        "messages.sendMessage": fn request, _ctx -> {:error, 420, "FLOOD_WAIT_5"} end
      })
      {ip, port} = MTProto.TestServer.address(server)
      pem = MTProto.TestServer.public_key(server)

  What it serves:

    * every framing of `MTProto.Transport`, detected per connection (obfuscated2 included);
    * auth key creation (`req_pq`/`req_pq_multi`, all four `p_q_inner_data` constructors in
      RSA_PAD or the legacy RSA padding, `server_DH_params_ok`, `dh_gen_ok`/`retry`/`fail`);
    * encrypted sessions: salts with validity periods, msg_id and seqno checks with the
      `bad_msg_notification` codes, `new_session_created`, acks, containers both ways,
      `rpc_result`/`rpc_error`, gzip for large results, and the service messages (`ping`,
      `ping_delay_disconnect`, `get_future_salts`, `msgs_state_req`, `msg_resend_req`,
      `rpc_drop_answer`, `destroy_session`, `destroy_auth_key`). A duplicate msg_id is never
      executed twice: the stored answer is sent again;
    * quick acks on the framings that have them;
    * the API: `invokeWithLayer`/`initConnection` (other API methods on a key that has not
      sent `initConnection` get 400 `CONNECTION_NOT_INITED`), `help.getNearestDc`,
      `help.getConfig` (in the client's layer; its DC list points at this server) and a handler
      per method: `fn request_term, ctx -> {:ok, result} | {:error, code, message} end`, with
      `ctx = %{dc_id, auth_key_id, session_id, msg_id, layer, server}`; the result is encoded by
      the method's return type (`{:ok, {:raw, binary}}` passes bytes through), a handler that
      raises or returns anything else gives 500 `INTERNAL`. Methods nobody handles get 401
      `AUTH_KEY_UNREGISTERED` (nobody ever logs in here); constructors that are not methods,
      400 `INPUT_METHOD_INVALID_<id>_0`.

  Faults for tests (`inject/2`, until `clear_faults/1`): `{:drop_after, n}` (every connection
  closes once it has received and answered its n-th packet), `{:drop_random, probability,
  seed}` (a received packet is dropped, unanswered, together with its connection),
  `{:delay, ms}` (answers wait), `{:clock_skew, seconds}`, `:rotate_salt` (one-shot: every key
  gets new salts), `:forget_sessions` (one-shot), `{:transport_error, code}` (every packet is
  answered with that transport error and the connection closed), and the one-shot handshake
  faults `:dh_gen_retry` and `:dh_gen_fail`. `{:hostile, name}` makes a hostile datacenter for
  client tests (bad dh_prime or g_a, wrong nonces or new_nonce_hash1 in the handshake; packets
  with a tampered msg_key, an even, stale or replayed msg_id, or a wrong session_id: see
  `MTProto.TestServer.Hostile`). Answers that cannot be delivered because their
  connection is gone go out on the session's next connection.

  Events (`MTProto.Event`, every one with the server's pid as `:server` in the metadata):
  `[:mtproto, :test_server, :connection, :opened]` (`:peer`), `[..., :connection, :closed]`
  (`:framing`, `:packets`), `[..., :auth_key, :created]` (`:auth_key_id`, `:temp`),
  `[..., :rpc]` (measurement `:duration` in native units; `:method`, `:result` (`:ok` or
  `{:error, code, message}`), `:auth_key_id`, `:session_id`, `:msg_id`, `:layer`),
  `[..., :bad_msg]` (`:code`, `:msg_id`, `:seqno`, `:auth_key_id`, `:session_id`; 48 for a bad
  salt) and `[..., :transport_error]` (`:code`, `:reason`).
  """

  alias MTProto.TestServer.{Core, Shared}

  @typedoc "A running server: the pid `start_link/1` returned, or its `:name`."
  @type server :: GenServer.server()

  @typedoc "A handler for an API method."
  @type handler ::
          (request :: map(), ctx :: map() ->
             {:ok, result :: term()} | {:error, code :: integer(), message :: String.t()})

  @type fault ::
          {:drop_after, pos_integer()}
          | {:drop_random, float(), integer()}
          | {:delay, non_neg_integer()}
          | {:clock_skew, integer()}
          | :rotate_salt
          | :forget_sessions
          | {:transport_error, integer()}
          | :dh_gen_retry
          | :dh_gen_fail
          | {:hostile, MTProto.TestServer.Hostile.name()}

  @doc """
  Starts a server. Options: `port: 0` (ephemeral), `ip: {127, 0, 0, 1}`, `dc_id: 2`,
  `rsa_key:` a private PEM (a 2048-bit key is generated when absent), `handlers: %{}`,
  `name:`, `acceptors: 4`, `salt_period: 3600` (seconds a server salt is valid),
  `max_connections: nil` (beyond it a new connection's first packet gets transport error -429,
  too many connections), `max_sessions_per_key: 64` (beyond it the key's least recently used
  session is forgotten), `session_idle_timeout: 600_000` (ms without a message from the client
  after which a session is forgotten, or `:infinity`).
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts \\ []), do: Core.start_link(opts)

  @doc "For supervisors: `start_supervised!({MTProto.TestServer, opts})`."
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :name, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @doc "The address clients connect to."
  @spec address(server()) :: {:inet.ip_address(), :inet.port_number()}
  def address(server) do
    %Shared{ip: ip, port: port} = Core.shared(server)
    {ip, port}
  end

  @doc "The TCP port the server listens on."
  @spec port(server()) :: :inet.port_number()
  def port(server), do: Core.shared(server).port

  @doc "The server's public RSA key, PKCS#1 (`BEGIN RSA PUBLIC KEY`), as Telegram publishes its keys."
  @spec public_key(server()) :: binary()
  def public_key(server), do: Core.shared(server).public_pem

  @doc "The fingerprint of the server's RSA key, as `resPQ` lists it (a signed 64-bit integer)."
  @spec fingerprint(server()) :: integer()
  def fingerprint(server), do: Core.shared(server).fingerprint

  @doc "The DC id the server announces."
  @spec dc_id(server()) :: integer()
  def dc_id(server), do: Core.shared(server).dc_id

  @doc "Injects a fault (see the moduledoc); faults with a state stay until `clear_faults/1`."
  @spec inject(server(), fault()) :: :ok | {:error, {:unknown_fault, term()}}
  def inject(server, fault), do: Core.inject(server, fault)

  @doc "Removes every standing fault."
  @spec clear_faults(server()) :: :ok
  def clear_faults(server), do: Core.clear_faults(server)

  @doc """
  Sends an `Updates` term (e.g. `%{_: :updateShort, update: ..., date: ...}`) to every session
  with a live connection, or only to those of one auth key (`auth_key_id` as the signed 64-bit
  integer, or its 8 wire bytes). Returns how many sessions it was sent to; raises `ArgumentError` for an update above the
  16 MiB packet limit.
  """
  @spec push_update(server(), :all | integer() | <<_::64>>, map()) :: non_neg_integer()
  def push_update(server, target, update), do: Core.push_update(server, target, update)

  @doc "The auth_key_ids (signed 64-bit integers) of the keys the server knows."
  @spec auth_key_ids(server()) :: [integer()]
  def auth_key_ids(server), do: Core.auth_key_ids(server)

  @doc "How many connections and sessions are open now."
  @spec stats(server()) :: %{connections: non_neg_integer(), sessions: non_neg_integer()}
  def stats(server), do: Core.stats(server)

  @doc "Stops the server and closes every connection."
  @spec stop(server()) :: :ok
  def stop(server), do: GenServer.stop(server)
end
