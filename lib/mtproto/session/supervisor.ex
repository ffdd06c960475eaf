defmodule MTProto.Session.Supervisor do
  @moduledoc """
  One session's processes, `:rest_for_one`: the handler (all state) first, then the listener
  (the socket). A listener crash leaves the handler and its state alone; a handler crash
  restarts both, the handler taking its key back from the storage (or the imported one).

  The session's options are kept once, in its `MTProto.Registry` row; the supervisor and its
  children are started with the session id only and read them from there. Idle, all three
  processes hibernate (`:hibernate_after`, default 50 ms), which is most of the memory of an
  idle session. Hibernating soon also keeps down how many sessions hold their connect-time
  heaps at once while many open, which is what the VM's memory from the OS grows with.
  """

  use Supervisor, restart: :temporary

  alias MTProto.Registry
  alias MTProto.Session.{Handler, Listener}

  @hibernate_after 50

  @doc false
  def start_link(opts) do
    session_id = Keyword.fetch!(opts, :session_id)

    # (The id is the row's key.)
    if Registry.put_session(session_id, Keyword.delete(opts, :session_id)) do
      # :supervisor.start_link/2 without its gen_server options: this is what it does, plus
      # hibernate_after (a supervisor's heap stays as large as its init needed otherwise).
      # Its argument (kept in its state) is the session id only.
      result =
        :gen_server.start_link(:supervisor, {:self, __MODULE__, session_id}, process_opts(opts))

      with {:error, _} <- result, do: Registry.delete_session(session_id)
      result
    else
      {:error, {:already_started, Registry.whereis(session_id, :supervisor)}}
    end
  end

  @doc false
  # Starts a session's child (handler or listener) with the session's options, hibernating
  # when idle. The child puts itself in the session's row (`MTProto.Registry.register/2`).
  @spec start_child_link(module(), integer()) :: GenServer.on_start()
  def start_child_link(module, session_id) do
    opts = options(session_id)
    GenServer.start_link(module, opts, process_opts(opts))
  end

  @doc "The options a session was opened with."
  @spec options(integer()) :: keyword()
  def options(session_id) do
    {:ok, opts} = Registry.options(session_id)
    [{:session_id, session_id} | opts]
  end

  # Every garbage collection of a session's process is a full sweep (no old generation):
  # their live data is small, and an old heap sized for the connect phase's promoted garbage,
  # thrown away at hibernation, is what leaves the VM's heap carriers fragmented when
  # thousands of sessions connect at once (with 10,000 sessions, ~25% less memory from the
  # OS; bench/session_bench.exs).
  defp process_opts(opts) do
    [
      hibernate_after: Keyword.get(opts, :hibernate_after, @hibernate_after),
      spawn_opt: [fullsweep_after: 0]
    ]
  end

  @doc false
  # Called by each of a session's processes as it starts. proc_lib keeps in every process's
  # dictionary the list of its supervisors (`$ancestors`), read only by SASL crash reports;
  # for a session it is always this supervisor, `MTProto.SessionSupervisor` and
  # `MTProto.Supervisor`, and it took about 90 bytes of each of the three processes of every
  # idle session. `$initial_call` stays.
  @spec forget_ancestors() :: :ok
  def forget_ancestors do
    Process.delete(:"$ancestors")
    :ok
  end

  @impl true
  def init(session_id) do
    :ok = Registry.register(session_id, :supervisor)
    forget_ancestors()

    children = [
      Supervisor.child_spec({Handler, session_id}, restart: :permanent),
      Supervisor.child_spec({Listener, session_id}, restart: :permanent)
    ]

    Supervisor.init(children, strategy: :rest_for_one, max_restarts: 10, max_seconds: 10)
  end
end
