defmodule MTProto.Session.Supervisor do
  @moduledoc """
  One session's processes, `:rest_for_one`: the handler (all state) first, then the listener
  (the socket). A listener crash leaves the handler and its state alone; a handler crash
  restarts both, the handler taking its key back from the storage (or the imported one).

  The session's options are kept once, as the supervisor's registry value; the children are
  started with the session id only and read them from there. Idle, all three processes
  hibernate (`:hibernate_after`, default 200 ms), which is most of the memory of an idle
  session. Hibernating soon also keeps down how many sessions hold their connect-time heaps at
  once while many open, which is what the VM's memory from the OS grows with.
  """

  use Supervisor, restart: :temporary

  alias MTProto.Registry
  alias MTProto.Session.{Handler, Listener}

  @hibernate_after 200

  @doc false
  def start_link(opts) do
    session_id = Keyword.fetch!(opts, :session_id)
    name = Registry.via(session_id, :supervisor, opts)
    # :supervisor.start_link/3 without its gen_server options: this is what it does, plus
    # hibernate_after (a supervisor's heap stays as large as its init needed otherwise). The
    # supervisor knows itself as `self` (as :supervisor.start_link/2 does), not by the via
    # name: that name carries the options, which would stay on its heap for good.
    :gen_server.start_link(name, :supervisor, {:self, __MODULE__, session_id},
      hibernate_after: Keyword.get(opts, :hibernate_after, @hibernate_after)
    )
  end

  @doc false
  # Starts a session's child (handler or listener) with the session's options, registered as
  # `{session_id, role}`, hibernating when idle.
  @spec start_child_link(module(), integer(), atom()) :: GenServer.on_start()
  def start_child_link(module, session_id, role) do
    opts = options(session_id)

    GenServer.start_link(module, opts,
      name: Registry.via(session_id, role),
      hibernate_after: Keyword.get(opts, :hibernate_after, @hibernate_after)
    )
  end

  @doc "The options a session was opened with."
  @spec options(integer()) :: keyword()
  def options(session_id) do
    {:ok, opts} = Registry.value(session_id, :supervisor)
    opts
  end

  @impl true
  def init(session_id) do
    children = [
      Supervisor.child_spec({Handler, session_id}, restart: :permanent),
      Supervisor.child_spec({Listener, session_id}, restart: :permanent)
    ]

    Supervisor.init(children, strategy: :rest_for_one, max_restarts: 10, max_seconds: 10)
  end
end
