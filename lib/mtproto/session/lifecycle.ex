defmodule MTProto.Session.Lifecycle do
  @moduledoc """
  A session's lifecycle events, told two ways at once:

    * as `MTProto.Event`s named `[:mtproto, :session, name]`, whose metadata carries
      `:session_id`, `:dc_id` and `:kind` (`:main` or `:media`) besides the event's own fields;
    * to the session's client pid as `{:mtproto_event, session_id, name, metadata}` (the same
      metadata), unless the session was opened with `client_events: false`. The seed's
      `{:mtproto, session_id, :auth_key_generated}` is sent as well, unchanged.

  The lifecycle events, in the order a session lives them:

  | name | metadata |
  |---|---|
  | `:auth_key_imported` | `source` (`:storage`, `:option`, `:import`), `auth_key_id` |
  | `:connecting` | `address`, `attempt` |
  | `:connected` | `address`, `transport` |
  | `:auth_key_generated` | `auth_key_id`, `duration_us` |
  | `:session_reset` | `reason` (`:new_session_created`, `:requested`, `{:bad_msg, 32 \\| 33}`), `mtproto_session_id` |
  | `:disconnected` | `reason` (`:requested` for `MTProto.Session.disconnect/2`) |
  | `:reconnecting` | `attempt`, `delay` (ms), `reason` |
  | `:error` | `reason` (a clear term: `{:handshake, r}`, `{:transport, code}`, ...) |
  | `:draining` | `pending` (calls still waiting), `timeout` |
  | `:closed` | `reason` |

  Other `[:mtproto, :session, _]` events (`:handshake_step`, `:salt_changed`, `:clock_fixed`,
  `:dropped`, `:session_created`) are measurements for handlers and are not sent to the client.
  """

  alias MTProto.Event

  @client_events ~w(auth_key_imported connecting connected auth_key_generated session_reset
                    disconnected reconnecting error draining closed)a

  @doc "The events sent to the client pid, in lifecycle order."
  @spec client_events() :: [atom()]
  def client_events, do: @client_events

  @doc """
  Emits `name` for a session (`ids`: `:session_id`, `:dc_id`, `:kind`) and, for lifecycle
  events, tells `client` (a pid, or nil for nobody).
  """
  @spec emit(map(), pid() | nil, atom(), map()) :: :ok
  def emit(%{session_id: id} = ids, client, name, meta) do
    meta = Map.merge(meta, ids)
    Event.emit([:mtproto, :session, name], %{}, meta)
    if is_pid(client) and name in @client_events, do: send(client, {:mtproto_event, id, name, meta})
    :ok
  end
end
