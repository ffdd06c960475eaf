defmodule MTProto.Session.Supervisor do
  @moduledoc """
  One session's processes, `:rest_for_one`: the handler (all state) first, then the listener
  (the socket). A listener crash leaves the handler and its state alone; a handler crash
  restarts both, the handler taking its key back from the storage (or the imported one).
  """

  use Supervisor, restart: :temporary

  alias MTProto.Registry
  alias MTProto.Session.{Handler, Listener}

  @doc false
  def start_link(opts) do
    Supervisor.start_link(__MODULE__, opts, name: Registry.via(opts[:session_id], :supervisor))
  end

  @impl true
  def init(opts) do
    children = [
      Supervisor.child_spec({Handler, opts}, restart: :permanent),
      Supervisor.child_spec({Listener, opts}, restart: :permanent)
    ]

    Supervisor.init(children, strategy: :rest_for_one, max_restarts: 10, max_seconds: 10)
  end
end
