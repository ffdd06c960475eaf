defmodule MTProto.Session.Media do
  @moduledoc """
  Extra connections to a session's datacenter for large transfers, as Telegram clients open
  for uploads and downloads. A media connection is a session of its own (handler, listener,
  its own MTProto session id, seqno and msg_ids, its own `initConnection`) that shares the
  main session's auth key and starts from its current server salt; `info/1` shows it as
  `kind: :media` with `parent:` the main session's id. It is closed with its main session.

  Each media session registers `{main_session_id, {:media, media_session_id}}` in
  `MTProto.Registry` from its handler, so the main session finds its media connections
  without keeping a list (the entry goes when the handler does).
  """

  alias MTProto.Session

  @doc """
  Opens a media connection for `session_id` (options as `MTProto.Session.open/2`, over the
  main session's own).
  """
  @spec open(Session.session_id(), keyword()) :: {:ok, Session.session_id()} | {:error, term()}
  def open(session_id, opts \\ []) do
    with {:ok, main_opts} <- options(session_id),
         {:ok, key} <- Session.export(session_id) do
      opts =
        main_opts
        |> Keyword.drop([:session_id, :address, :auth_key, :storage, :kind, :parent])
        |> Keyword.merge(opts)
        |> Keyword.merge(
          address: Keyword.get(opts, :address, main_opts[:address]),
          auth_key: key,
          storage: nil,
          kind: :media,
          parent: session_id
        )

      Session.open(main_opts[:dc_id], opts)
    end
  end

  defp options(session_id) do
    case MTProto.Registry.value(session_id, :supervisor) do
      {:ok, opts} -> {:ok, opts}
      :error -> {:error, :no_session}
    end
  end

  @doc "The ids of `session_id`'s open media connections."
  @spec list(Session.session_id()) :: [Session.session_id()]
  def list(session_id) do
    Registry.select(MTProto.Registry, [
      {{{session_id, {:media, :"$1"}}, :_, :_}, [], [:"$1"]}
    ])
  end

  @doc false
  # Called by a media session's handler at start.
  @spec register(keyword()) :: :ok
  def register(opts) do
    case {opts[:kind], opts[:parent]} do
      {:media, parent} when is_integer(parent) ->
        {:ok, _} = Registry.register(MTProto.Registry, {parent, {:media, opts[:session_id]}}, nil)
        :ok

      _ ->
        :ok
    end
  end
end
