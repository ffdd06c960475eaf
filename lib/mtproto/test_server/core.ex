defmodule MTProto.TestServer.Core do
  @moduledoc """
  The process a test server is: it owns the listening socket and the ETS tables, and links the
  connection and session supervisors and the acceptor pool, so stopping it stops everything.
  """

  use GenServer

  alias MTProto.Crypto
  alias MTProto.TestServer.{Acceptor, Api, Faults, Session, Shared}

  @doc false
  def start_link(opts) do
    opts =
      Keyword.validate!(opts,
        port: 0,
        ip: {127, 0, 0, 1},
        dc_id: 2,
        rsa_key: nil,
        handlers: %{},
        name: nil,
        acceptors: 4,
        salt_period: 3600,
        max_connections: nil,
        max_sessions_per_key: 64,
        session_idle_timeout: 600_000
      )

    check_opts!(opts)
    gen_opts = if opts[:name], do: [name: opts[:name]], else: []
    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

  defp check_opts!(opts) do
    unless is_map(opts[:handlers]) and
             Enum.all?(opts[:handlers], fn {k, v} -> is_atom(k) and is_function(v, 2) end),
           do: raise(ArgumentError, ":handlers must map method atoms to 2-arity functions")

    unless is_integer(opts[:dc_id]), do: raise(ArgumentError, ":dc_id must be an integer")

    unless is_integer(opts[:salt_period]) and opts[:salt_period] > 0,
      do: raise(ArgumentError, ":salt_period must be a positive integer")

    unless is_nil(opts[:max_connections]) or
             (is_integer(opts[:max_connections]) and opts[:max_connections] > 0),
           do: raise(ArgumentError, ":max_connections must be a positive integer or nil")

    unless is_integer(opts[:max_sessions_per_key]) and opts[:max_sessions_per_key] > 0,
      do: raise(ArgumentError, ":max_sessions_per_key must be a positive integer")

    unless opts[:session_idle_timeout] == :infinity or
             (is_integer(opts[:session_idle_timeout]) and opts[:session_idle_timeout] > 0),
           do:
             raise(
               ArgumentError,
               ":session_idle_timeout must be positive milliseconds or :infinity"
             )

    unless is_nil(opts[:rsa_key]) or is_binary(opts[:rsa_key]),
      do: raise(ArgumentError, ":rsa_key must be a private PEM")
  end

  @doc "The server's shared state."
  @spec shared(GenServer.server()) :: Shared.t()
  def shared(server), do: GenServer.call(server, :shared)

  @doc false
  def inject(server, fault), do: GenServer.call(server, {:inject, fault})
  @doc false
  def clear_faults(server), do: GenServer.call(server, :clear_faults)

  @doc false
  def push_update(server, target, update) do
    shared = shared(server)
    body = MTProto.TL.encode!(update)

    if byte_size(body) > Session.max_body(),
      do: raise(ArgumentError, "update of #{byte_size(body)} bytes is above the packet limit")

    target =
      case target do
        <<id::little-signed-64>> -> id
        other -> other
      end

    :ets.tab2list(shared.sessions)
    |> Enum.filter(fn {{key_id, _session_id}, _pid, _used} -> target == :all or key_id == target end)
    |> Enum.count(fn {_, pid, _} -> Session.push(pid, body) == :ok end)
  end

  @doc false
  def auth_key_ids(server) do
    shared = shared(server)
    :ets.select(shared.keys, [{{:"$1", :_, :_, :_}, [], [:"$1"]}])
  end

  @doc false
  def stats(server) do
    shared = shared(server)

    %{
      connections: DynamicSupervisor.count_children(shared.conns_sup).active,
      sessions: DynamicSupervisor.count_children(shared.sessions_sup).active
    }
  end

  @impl true
  def init(opts) do
    rsa_private = opts[:rsa_key] || elem(Crypto.rsa_generate(2048), 0)
    public_pem = public_pem(rsa_private)

    {:ok, listen} =
      :gen_tcp.listen(opts[:port], [
        :binary,
        ip: opts[:ip],
        active: false,
        reuseaddr: true,
        nodelay: true,
        backlog: 1024
      ])

    {:ok, port} = :inet.port(listen)
    config = :ets.new(:test_server_config, [:public, read_concurrency: true])
    Faults.init(config)
    {:ok, sessions_sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    {:ok, conns_sup} = DynamicSupervisor.start_link(strategy: :one_for_one)

    shared = %Shared{
      core: self(),
      config: config,
      keys: :ets.new(:test_server_keys, [:public, read_concurrency: true]),
      # Ordered by {auth_key_id, session_id}: the sessions of one key are a cheap range.
      sessions: :ets.new(:test_server_sessions, [:ordered_set, :public, read_concurrency: true]),
      sessions_sup: sessions_sup,
      conns_sup: conns_sup,
      listen: listen,
      dc_id: opts[:dc_id],
      ip: opts[:ip],
      port: port,
      rsa_private: rsa_private,
      public_pem: public_pem,
      fingerprint: Crypto.rsa_fingerprint(public_pem),
      nearest_dc: Api.nearest_dc(opts[:dc_id]),
      handlers: opts[:handlers],
      salt_period: opts[:salt_period],
      max_connections: opts[:max_connections],
      max_sessions_per_key: opts[:max_sessions_per_key],
      session_idle_timeout: opts[:session_idle_timeout]
    }

    acceptors =
      for i <- 1..opts[:acceptors],
          do: Supervisor.child_spec({Acceptor, shared}, id: {Acceptor, i})

    {:ok, _} = Supervisor.start_link(acceptors, strategy: :one_for_one)
    {:ok, shared}
  end

  # The PKCS#1 public key (`BEGIN RSA PUBLIC KEY`) of a private PEM.
  defp public_pem(private_pem) do
    [entry] = :public_key.pem_decode(private_pem)
    {:RSAPrivateKey, _, n, e, _, _, _, _, _, _, _} = :public_key.pem_entry_decode(entry)
    public = {:RSAPublicKey, n, e}
    :public_key.pem_encode([:public_key.pem_entry_encode(:RSAPublicKey, public)])
  end

  @impl true
  def handle_call(:shared, _from, shared), do: {:reply, shared, shared}

  # The table first: a session started meanwhile is either stopped below or new and registered
  # afterwards; a stale row left behind is replaced at the next lookup.
  def handle_call({:inject, :forget_sessions}, _from, shared) do
    :ets.delete_all_objects(shared.sessions)

    for {_, pid, _, _} <- DynamicSupervisor.which_children(shared.sessions_sup),
        is_pid(pid),
        do: DynamicSupervisor.terminate_child(shared.sessions_sup, pid)

    {:reply, :ok, shared}
  end

  def handle_call({:inject, fault}, _from, shared) do
    case Faults.put(shared, fault) do
      :ok -> {:reply, :ok, shared}
      {:error, _} -> {:reply, {:error, {:unknown_fault, fault}}, shared}
    end
  end

  def handle_call(:clear_faults, _from, shared), do: {:reply, Faults.clear(shared), shared}
end
