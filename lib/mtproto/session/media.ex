defmodule MTProto.Session.Media do
  @moduledoc """
  Extra connections to a session's datacenter for large transfers, as Telegram clients open
  for uploads and downloads. A media connection is a session of its own (handler, listener,
  its own MTProto session id, seqno and msg_ids, its own `initConnection`) on the main
  session's auth key and server salts: it starts from the main session's salts, and whenever
  the main session's salts change (a new salt, future salts fetched, a rotation) it passes
  them on, so a media connection does not learn them through refused messages.
  `MTProto.Session.info/1` shows it as `kind: :media` with `parent:` the main session's id.
  It is closed with its main session.

  The main session's handler keeps the ids of its media connections (no registry scans).
  """

  alias MTProto.{Registry, Session}

  @doc """
  Opens a media connection for `session_id` (options as `MTProto.Session.open/2`, over the
  main session's own).
  """
  @spec open(Session.session_id(), keyword()) :: {:ok, Session.session_id()} | {:error, term()}
  def open(session_id, opts \\ []) do
    with {:ok, main_opts} <- Registry.options(session_id),
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

      with {:ok, media} <- Session.open(main_opts[:dc_id], opts) do
        case call_handler(session_id, {:add_media, media}) do
          :ok ->
            {:ok, media}

          error ->
            Session.close(media)
            error
        end
      end
    end
  end

  @doc "The ids of `session_id`'s open media connections."
  @spec list(Session.session_id()) :: [Session.session_id()]
  def list(session_id) do
    case call_handler(session_id, :media) do
      ids when is_list(ids) -> Enum.filter(ids, &Registry.whereis(&1, :handler))
      _ -> []
    end
  end

  @doc false
  # The main session's salts, for a media connection starting (nil if it has none).
  @spec salts(Session.session_id()) :: MTProto.Session.Salts.t() | nil
  def salts(parent) do
    case call_handler(parent, :salts) do
      {:ok, salts} -> salts
      _ -> nil
    end
  end

  @doc false
  # Passes the main session's salts on to its media connections.
  @spec share_salts([Session.session_id()], MTProto.Session.Salts.t()) :: :ok
  def share_salts(media_ids, salts) do
    for id <- media_ids, pid = Registry.whereis(id, :handler), do: send(pid, {:shared_salts, salts})
    :ok
  end

  defp call_handler(session_id, message) do
    case Registry.whereis(session_id, :handler) do
      nil -> {:error, :no_session}
      pid -> GenServer.call(pid, message)
    end
  catch
    :exit, _ -> {:error, :no_session}
  end
end
