defmodule MTProto.Event do
  @moduledoc """
  Lifecycle and measurement events, shaped like `:telemetry` (which cannot be fetched here, so
  this is a small one of our own with the same calling convention).

  An event has a name (a list of atoms such as `[:mtproto, :session, :connected]`), a map of
  measurements and a map of metadata. Handlers are attached to name prefixes:

      MTProto.Event.attach("log-connects", [[:mtproto, :session]], fn name, measurements, meta, config ->
        IO.inspect({name, measurements, meta[:session_id]})
      end)

  Handlers run in the process that emits the event, so they must be quick. A handler that
  raises is detached (and the failure logged) so it cannot take sessions down with it.
  Handlers are kept in `:persistent_term`: emitting costs one lookup; attaching is rare.
  """

  require Logger

  @typedoc "An event name."
  @type name :: [atom(), ...]
  @typedoc "A handler: called with the event name, measurements, metadata and its config."
  @type handler_fun :: (name(), map(), map(), term() -> any())
  @type handler_id :: term()

  @key {__MODULE__, :handlers}

  @doc """
  Attaches `fun` under `id` to every event whose name starts with one of `prefixes`.
  Fails with `{:error, :already_exists}` if `id` is taken.
  """
  @spec attach(handler_id(), [name()], handler_fun(), term()) :: :ok | {:error, :already_exists}
  def attach(id, prefixes, fun, config \\ nil)
      when is_list(prefixes) and is_function(fun, 4) do
    locked(fn ->
      handlers = handlers()

      if Enum.any?(handlers, &(elem(&1, 0) == id)) do
        {:error, :already_exists}
      else
        :persistent_term.put(@key, handlers ++ [{id, prefixes, fun, config}])
        :ok
      end
    end)
  end

  # Attach and detach read-modify-write the handler list: serialise them on this node.
  defp locked(fun), do: :global.trans({@key, self()}, fun, [node()])

  @doc "Detaches the handler `id`."
  @spec detach(handler_id()) :: :ok | {:error, :not_found}
  def detach(id) do
    locked(fn ->
      handlers = handlers()

      case Enum.split_with(handlers, &(elem(&1, 0) == id)) do
        {[], _} ->
          {:error, :not_found}

        {_, rest} ->
          :persistent_term.put(@key, rest)
          :ok
      end
    end)
  end

  @doc "The handlers attached now, as `{id, prefixes}` pairs."
  @spec list() :: [{handler_id(), [name()]}]
  def list, do: for({id, prefixes, _, _} <- handlers(), do: {id, prefixes})

  @doc "Emits the event `name` to every handler attached to one of its prefixes."
  @spec emit(name(), map(), map()) :: :ok
  def emit(name, measurements \\ %{}, metadata \\ %{}) do
    for {id, prefixes, fun, config} <- handlers(), Enum.any?(prefixes, &prefix?(&1, name)) do
      try do
        fun.(name, measurements, metadata, config)
      rescue
        error ->
          detach(id)

          Logger.error(
            "MTProto.Event handler #{inspect(id)} raised on #{inspect(name)} and was detached: " <>
              Exception.format(:error, error, __STACKTRACE__)
          )
      end
    end

    :ok
  end

  defp handlers, do: :persistent_term.get(@key, [])

  defp prefix?([], _name), do: true
  defp prefix?([h | prefix], [h | name]), do: prefix?(prefix, name)
  defp prefix?(_, _), do: false
end
