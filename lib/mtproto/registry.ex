defmodule MTProto.Registry do
  @moduledoc """
  Finds a session's processes by session id: a unique `Registry` keyed by
  `{session_id, :supervisor | :handler | :listener}`.
  """

  @doc false
  def child_spec(_opts), do: Registry.child_spec(keys: :unique, name: __MODULE__)

  @doc "The `:via` name of a session's process."
  @spec via(integer(), atom()) :: {:via, Registry, {module(), {integer(), atom()}}}
  def via(session_id, role), do: {:via, Registry, {__MODULE__, {session_id, role}}}

  @doc "The `:via` name of a session's process, registered with a value (its options)."
  @spec via(integer(), atom(), term()) :: {:via, Registry, {module(), {integer(), atom()}, term()}}
  def via(session_id, role, value), do: {:via, Registry, {__MODULE__, {session_id, role}, value}}

  @doc "The value a session's process registered with (the supervisor: the session's options)."
  @spec value(integer(), atom()) :: {:ok, term()} | :error
  def value(session_id, role) do
    case Registry.lookup(__MODULE__, {session_id, role}) do
      [{_pid, value}] -> {:ok, value}
      [] -> :error
    end
  end

  @doc "The pid of a session's process."
  @spec whereis(integer(), atom()) :: pid() | nil
  def whereis(session_id, role) do
    case Registry.lookup(__MODULE__, {session_id, role}) do
      [{pid, _}] -> pid
      [] -> nil
    end
  end

  @doc "The ids of the sessions open on this node."
  @spec session_ids() :: [integer()]
  def session_ids do
    Registry.select(__MODULE__, [{{{:"$1", :supervisor}, :_, :_}, [], [:"$1"]}])
  end
end
