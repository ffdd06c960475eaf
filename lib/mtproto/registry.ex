defmodule MTProto.Registry do
  @moduledoc """
  Finds a session's processes, its options and the snapshots `MTProto.Session.Info` reads, by
  session id: one row per session in a public ETS table,

      {session_id, supervisor, handler, listener, options, handler_snapshot, listener_snapshot}

  The session's supervisor creates the row (`put_session/2` before it starts, `register/2` as
  it starts), its handler and listener put their pids in it as they (re)start, and this
  process deletes it when the supervisor goes (it monitors each, with the session id as the
  monitor's tag, so it keeps no state of its own). One row and one monitor per session: an
  idle session's registration costs a few hundred bytes (the `Registry` of Elixir, one entry
  per process with a link each, cost about 1.5 KiB more).

  A pid read from the table may be of a process that has just exited (a handler restarting,
  a session closing): `whereis/2` answers only live ones.
  """

  use GenServer

  @table __MODULE__
  @type role :: :supervisor | :handler | :listener

  @doc false
  def start_link(_opts), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @doc false
  def child_spec(opts),
    do: %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}, type: :worker}

  @doc """
  Creates a session's row with its options, before its supervisor starts; `false` if the id is
  taken.
  """
  @spec put_session(integer(), keyword()) :: boolean()
  def put_session(session_id, options) do
    :ets.insert_new(@table, {session_id, nil, nil, nil, pack_options(options), nil, nil})
  end

  @doc "Deletes a session's row (its supervisor could not start)."
  @spec delete_session(integer()) :: :ok
  def delete_session(session_id) do
    :ets.delete(@table, session_id)
    :ok
  end

  @doc """
  Puts the calling process in its session's row as `role`. The supervisor's registration also
  has the row deleted when it exits. `:error` when the session has no row.
  """
  @spec register(integer(), role()) :: :ok | :error
  def register(session_id, :supervisor) do
    with :ok <- put(session_id, [{2, self()}]) do
      GenServer.cast(__MODULE__, {:watch, self(), session_id})
    end
  end

  def register(session_id, role),
    do: put(session_id, [{position(role), self()}, {snapshot_position(role), nil}])

  @doc "Stores the calling process's snapshot (`role` `:handler` or `:listener`)."
  @spec publish(integer(), :handler | :listener, term()) :: :ok | :error
  def publish(session_id, role, snapshot),
    do: put(session_id, [{snapshot_position(role), snapshot}])

  @doc "The live pid of a session's process, or nil."
  @spec whereis(integer(), role()) :: pid() | nil
  def whereis(session_id, role) do
    # (One element copied out, not the row.)
    alive(:ets.lookup_element(@table, session_id, position(role)))
  rescue
    ArgumentError -> nil
  end

  @doc "The options a session was opened with."
  @spec options(integer()) :: {:ok, keyword()} | {:error, :no_session}
  def options(session_id) do
    {:ok, unpack_options(:ets.lookup_element(@table, session_id, 5))}
  rescue
    ArgumentError -> {:error, :no_session}
  end

  @doc """
  A session's row as a map: the pids (possibly of exited processes), options and snapshots.
  """
  @spec lookup(integer()) :: {:ok, map()} | :error
  def lookup(session_id) do
    case :ets.lookup(@table, session_id) do
      [{_, supervisor, handler, listener, options, handler_snap, listener_snap}] ->
        {:ok,
         %{
           supervisor: supervisor,
           handler: handler,
           listener: listener,
           options: unpack_options(options),
           handler_snapshot: handler_snap,
           listener_snapshot: listener_snap
         }}

      [] ->
        :error
    end
  end

  @doc "The ids of the sessions open on this node."
  @spec session_ids() :: [integer()]
  def session_ids,
    do: :ets.select(@table, [{{:"$1", :"$2", :_, :_, :_, :_, :_}, [{:is_pid, :"$2"}], [:"$1"]}])

  # Options as kept in the row: a map (half the words of a keyword list; the first of repeated
  # keys wins, as with Keyword.get/2), an auth key as a plain tuple (ETS keeps a struct's keys
  # with every copy).
  defp pack_options(options) do
    options
    |> Enum.reverse()
    |> Map.new(fn
      {:auth_key, %MTProto.AuthKey{} = k} ->
        {:auth_key, {k.key, k.id, k.dc_id, k.kind, k.server_salt, k.user_id, k.expires_at}}

      pair ->
        pair
    end)
  end

  defp unpack_options(options) do
    Enum.map(options, fn
      {:auth_key, {key, id, dc_id, kind, salt, user_id, expires_at}} ->
        {:auth_key,
         %{
           MTProto.AuthKey.__struct__()
           | key: key,
             id: id,
             dc_id: dc_id,
             kind: kind,
             server_salt: salt,
             user_id: user_id,
             expires_at: expires_at
         }}

      pair ->
        pair
    end)
  end

  defp alive(pid) when is_pid(pid), do: if(Process.alive?(pid), do: pid)
  defp alive(nil), do: nil

  defp put(session_id, elements) do
    if :ets.update_element(@table, session_id, elements), do: :ok, else: :error
  end

  defp position(:supervisor), do: 2
  defp position(:handler), do: 3
  defp position(:listener), do: 4

  defp snapshot_position(:handler), do: 6
  defp snapshot_position(:listener), do: 7

  @impl true
  def init(nil) do
    :ets.new(@table, [:named_table, :public, :set, read_concurrency: true, write_concurrency: true])
    {:ok, nil}
  end

  @impl true
  def handle_cast({:watch, supervisor, session_id}, state) do
    :erlang.monitor(:process, supervisor, tag: {:session_down, session_id})
    {:noreply, state}
  end

  @impl true
  # The row goes only if it is still this supervisor's.
  def handle_info({{:session_down, session_id}, _ref, :process, supervisor, _reason}, state) do
    :ets.select_delete(@table, [{{session_id, supervisor, :_, :_, :_, :_, :_}, [], [true]}])
    {:noreply, state}
  end

  def handle_info(_other, state), do: {:noreply, state}
end
