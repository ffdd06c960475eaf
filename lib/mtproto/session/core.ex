defmodule MTProto.Session.Core do
  @moduledoc """
  The state of one MTProto session and its outgoing side, as plain functions (no processes,
  no I/O): what `MTProto.Session.Handler` holds. Incoming packets are handled by
  `MTProto.Session.Inbound` on the same struct.

    * msg_ids strictly increasing, divisible by 4, from the system clock plus the server offset;
      seqno `2n+1` for content-related messages, `2n` for the others.
    * Calls are queued and packed by `flush/1`: acknowledgments (`msgs_ack`, at most 8192 ids
      each) travel with them, several messages go in one `msg_container` (at most 1024
      messages and 1 MiB), large queries are gzipped when that makes them smaller.
    * Every content-related message sent is kept until the server answers (calls) or
      acknowledges it (the rest), so that `reconnected/1` sends it again with the same msg_id:
      the server runs a msg_id once and answers a repeat from its cache.
    * The first API call of a session is wrapped in `invokeWithLayer(initConnection(...))`.

  An idle session's handler keeps this struct for as long as the session lives, so it holds
  no defaults it can do without: the `initConnection` fields that differ from the defaults
  only, `rand: nil` for the default randomness. It is made by updating the default struct, a
  literal, so its keys (and its defaults, until they change) stay in the module's literal area
  rather than on every session's heap.
  """

  alias MTProto.{Crypto, Message, MessageId, TL}
  alias MTProto.Session.{Salts, Seen}

  @max_container_messages 1024
  @max_container_bytes 1024 * 1024
  @max_ack_ids 8192
  @gzip_threshold 512

  # MTProto-level functions: never wrapped in invokeWithLayer/initConnection.
  @service_methods ~w(ping ping_delay_disconnect get_future_salts rpc_drop_answer destroy_session
                      destroy_auth_key msgs_state_req msg_resend_req msgs_ack http_wait
                      invokeWithLayer initConnection)a

  @wrappers ~w(invokeWithLayer initConnection invokeWithoutUpdates invokeWithMessagesRange
               invokeWithTakeout invokeAfterMsg invokeAfterMsgs invokeWithBusinessConnection
               invokeWithGooglePlayIntegrity invokeWithApnsSecret invokeWithReCaptcha)a

  # The initConnection fields a session does not give (and need not keep when it gives them).
  @init_defaults %{
    api_id: 0,
    device_model: "BEAM",
    app_version: "mtproto 0.1.0",
    system_lang_code: "en",
    lang_pack: "",
    lang_code: "en"
  }

  defstruct [
    :auth_key,
    :session_id,
    :salts,
    :history,
    :init,
    :rand,
    time_offset_ns: 0,
    time_synced?: false,
    window_misses: [],
    connection_inited?: false,
    last_msg_id: 0,
    content_count: 0,
    outbox: :queue.new(),
    sent: %{},
    calls: %{},
    tags: %{},
    containers: %{},
    acks: [],
    ack_count: 0,
    stats: %{packets_out: 0, packets_in: 0, bytes_out: 0, bytes_in: 0, resent: 0, dropped: 0}
  ]

  @typedoc "An outgoing message: its id, seqno and body, and whether it needs an answer."
  @type out :: %{
          msg_id: integer(),
          seqno: non_neg_integer(),
          body: binary(),
          content?: boolean()
        }

  @typedoc """
  A call waiting for its answer: `tag` identifies it to the caller (`{:internal, kind}` for the
  session's own), `method` decodes the result, `sent_at` is a monotonic millisecond time.
  """
  @type call :: %{
          tag: term(),
          method: atom(),
          wrapped?: boolean(),
          sent_at: integer(),
          acked?: boolean()
        }

  @type t :: %__MODULE__{}

  @doc """
  A new session on `auth_key`. Options: `:session_id` (random by default), `:salt`,
  `:time_offset` (seconds, server minus local; `:time_synced?` says whether it is known),
  `:init` (the `initConnection` fields: `api_id`, `device_model`, ...), `:rand` (a function
  from a byte count to that many random bytes; `:crypto.strong_rand_bytes/1` by default).
  """
  @spec new(<<_::2048>>, keyword()) :: t()
  def new(auth_key, opts \\ []) when byte_size(auth_key) == 256 do
    core = %{
      %__MODULE__{}
      | auth_key: auth_key,
        salts: Salts.new(Keyword.get(opts, :salt, 0)),
        history: Seen.new(),
        init: Map.reject(Keyword.get(opts, :init, %{}), fn {k, v} -> @init_defaults[k] == v end),
        time_offset_ns: Keyword.get(opts, :time_offset, 0) * 1_000_000_000,
        time_synced?: Keyword.get(opts, :time_synced?, false),
        rand: Keyword.get(opts, :rand)
    }

    <<random_id::signed-64>> = rand(core).(8)
    %{core | session_id: Keyword.get(opts, :session_id, random_id)}
  end

  defp rand(%{rand: nil}), do: &:crypto.strong_rand_bytes/1
  defp rand(%{rand: rand}), do: rand

  ## Clock

  @doc "Server time in unix seconds by the local clock and the known offset."
  @spec server_now(t()) :: integer()
  def server_now(core), do: div(System.os_time(:nanosecond) + core.time_offset_ns, 1_000_000_000)

  @doc """
  Sets the clock offset from a server msg_id (bad_msg_notification 16/17, first message). New
  msg_ids follow the corrected clock, even when it went back (17: the ids were too high).
  """
  @spec sync_clock(t(), integer()) :: t()
  def sync_clock(core, server_msg_id) do
    %{
      core
      | time_offset_ns: MessageId.offset_from(server_msg_id),
        time_synced?: true,
        last_msg_id: 0
    }
  end

  ## Queueing

  @doc """
  Queues an RPC call (a TL term). `tag` comes back with the answer. API methods are wrapped
  in `invokeWithLayer(initConnection(...))` until the server has seen one.
  Returns the msg_id the call goes out with.
  """
  @spec call(t(), map(), term()) :: {:ok, integer(), t()} | {:error, term()}
  def call(core, %{_: method} = request, tag) do
    wrap? = not core.connection_inited? and wrappable?(method)
    term = if wrap?, do: wrap(core, request), else: request

    case TL.encode(term) do
      {:ok, body} ->
        body = maybe_gzip(body)
        {msg_id, core} = enqueue(core, body, true)
        result_method = result_method(request)

        call = %{
          tag: tag,
          method: result_method,
          request: request,
          wrapped?: wrap? or method == :invokeWithLayer,
          sent_at: System.monotonic_time(:millisecond),
          acked?: false
        }

        {:ok, msg_id,
         %{core | calls: Map.put(core.calls, msg_id, call), tags: Map.put(core.tags, tag, msg_id)}}

      {:error, reason} ->
        {:error, {:encode, reason}}
    end
  end

  @doc """
  Queues a message without a waiting caller (`send/3` of the seed API). A method call is
  tracked like `call/3` under the tag `{:client, ref}`, so its answer goes to the session's
  client; anything else is resent until acknowledged.
  """
  @spec send_message(t(), map()) :: {:ok, integer(), t()} | {:error, term()}
  def send_message(core, %{_: name} = term) when is_atom(name) do
    if MTProto.TL.Schema.method?(name),
      do: call(core, term, {:client, make_ref()}),
      else: send_object(core, term)
  end

  defp send_object(core, term) do
    case TL.encode(term) do
      {:ok, body} ->
        {msg_id, core} = enqueue(core, body, Message.content_related?(body))
        {:ok, msg_id, core}

      {:error, reason} ->
        {:error, {:encode, reason}}
    end
  end

  @doc "Queues one of the session's own service queries (`{:internal, kind}` tag)."
  @spec internal_call(t(), map(), atom()) :: t()
  def internal_call(core, request, kind) do
    {:ok, _msg_id, core} = call(core, request, {:internal, kind, make_ref()})
    core
  end

  @doc """
  Forgets the call tagged `tag` (the caller gave up): if it already went out, an
  `rpc_drop_answer` asks the server not to send the answer.
  """
  @spec cancel(t(), term()) :: t()
  def cancel(core, tag) do
    case Map.pop(core.tags, tag) do
      {nil, _} ->
        core

      {msg_id, tags} ->
        core = %{core | tags: tags, calls: Map.delete(core.calls, msg_id)}

        if Map.has_key?(core.sent, msg_id) do
          core = %{core | sent: Map.delete(core.sent, msg_id)}
          internal_call(core, %{_: :rpc_drop_answer, req_msg_id: msg_id}, :drop_answer)
        else
          %{core | outbox: :queue.filter(&(&1.msg_id != msg_id), core.outbox)}
        end
    end
  end

  @doc "Queues an acknowledgment of a server message."
  @spec ack(t(), integer()) :: t()
  def ack(core, msg_id), do: %{core | acks: [msg_id | core.acks], ack_count: core.ack_count + 1}

  @doc "Queues a body built by the session itself (answers to the server's service messages)."
  @spec enqueue(t(), binary(), boolean()) :: {integer(), t()}
  def enqueue(core, body, content?) do
    {msg_id, core} = next_msg_id(core)
    {seqno, count} = Message.next_seqno(core.content_count, content?)
    out = %{msg_id: msg_id, seqno: seqno, body: body, content?: content?}
    {msg_id, %{core | content_count: count, outbox: :queue.in(out, core.outbox)}}
  end

  defp next_msg_id(core) do
    id = MessageId.next(:client, core.last_msg_id, core.time_offset_ns)
    {id, %{core | last_msg_id: id}}
  end

  ## Flushing

  @doc "Whether anything waits to be sent (queued messages or acknowledgments)."
  @spec pending_output?(t()) :: boolean()
  def pending_output?(core), do: not :queue.is_empty(core.outbox) or core.acks != []

  @doc """
  Packs everything queued (and the pending acknowledgments) into encrypted packets, ready for
  the transport: one message alone, or containers of at most 1024 messages / 1 MiB.
  """
  @spec flush(t()) :: {[binary()], t()}
  def flush(core) do
    core = %{core | salts: Salts.rotate(core.salts, server_now(core))}
    {ack_msgs, core} = ack_messages(core)
    messages = ack_msgs ++ :queue.to_list(core.outbox)
    core = %{core | outbox: :queue.new()}

    sent =
      Enum.reduce(messages, core.sent, fn
        %{content?: true, msg_id: id} = out, acc -> Map.put(acc, id, out)
        _, acc -> acc
      end)

    core = %{core | sent: sent}
    {plaintexts, core} = pack(chunk(messages), core, [])
    rand = rand(core)
    packets = Enum.map(plaintexts, &Crypto.encrypt_message(core.auth_key, :client, &1, rand))

    stats = %{
      core.stats
      | packets_out: core.stats.packets_out + length(packets),
        bytes_out: core.stats.bytes_out + Enum.reduce(packets, 0, &(byte_size(&1) + &2))
    }

    {packets, %{core | stats: stats}}
  end

  defp ack_messages(%{acks: []} = core), do: {[], core}

  defp ack_messages(core) do
    {msgs, core} =
      core.acks
      |> Enum.reverse()
      |> Enum.chunk_every(@max_ack_ids)
      |> Enum.map_reduce(core, fn ids, core ->
        body = TL.encode!(%{_: :msgs_ack, msg_ids: ids})
        {msg_id, core} = next_msg_id(core)
        {seqno, _} = Message.next_seqno(core.content_count, false)
        {%{msg_id: msg_id, seqno: seqno, body: body, content?: false}, core}
      end)

    {msgs, %{core | acks: [], ack_count: 0}}
  end

  # Groups messages for containers: at most 1024 and 1 MiB each (a larger message goes alone).
  defp chunk(messages) do
    messages
    |> Enum.chunk_while(
      {[], 0, 0},
      fn m, {acc, n, bytes} ->
        size = byte_size(m.body) + 16

        if acc != [] and
             (n + 1 > @max_container_messages or bytes + size > @max_container_bytes - 8),
           do: {:cont, Enum.reverse(acc), {[m], 1, size}},
           else: {:cont, {[m | acc], n + 1, bytes + size}}
      end,
      fn
        {[], _, _} -> {:cont, {[], 0, 0}}
        {acc, _, _} -> {:cont, Enum.reverse(acc), {[], 0, 0}}
      end
    )
  end

  defp pack([], core, acc), do: {Enum.reverse(acc), core}

  defp pack([[single] | rest], core, acc) do
    pack(rest, core, [plaintext(core, single) | acc])
  end

  defp pack([group | rest], core, acc) do
    {container_id, core} = next_msg_id(core)
    {seqno, _} = Message.next_seqno(core.content_count, false)
    body = Message.encode_container(group)
    ids = for m <- group, m.content?, do: m.msg_id
    core = %{core | containers: prune_containers(Map.put(core.containers, container_id, ids))}
    out = %{msg_id: container_id, seqno: seqno, body: body}
    pack(rest, core, [plaintext(core, out) | acc])
  end

  defp plaintext(core, %{msg_id: id, seqno: seqno, body: body}),
    do: Message.encode_plaintext(core.salts.current, core.session_id, id, seqno, body)

  # Containers are remembered only to resolve a bad_msg_notification about one: keep the last 256.
  defp prune_containers(containers) when map_size(containers) <= 256, do: containers

  defp prune_containers(containers) do
    containers |> Enum.sort_by(&elem(&1, 0), :desc) |> Enum.take(128) |> Map.new()
  end

  ## Resending

  @doc """
  After a new connection: every message sent but not answered (calls) or not acknowledged
  (other content) is queued again with its msg_id, so the server runs each once.
  """
  @spec reconnected(t()) :: t()
  def reconnected(core) do
    queued = MapSet.new(:queue.to_list(core.outbox), & &1.msg_id)

    resend =
      core.sent
      |> Map.values()
      |> Enum.reject(&MapSet.member?(queued, &1.msg_id))
      |> Enum.sort_by(& &1.msg_id)

    outbox = :queue.join(:queue.from_list(resend), core.outbox)
    %{core | outbox: outbox, stats: Map.update!(core.stats, :resent, &(&1 + length(resend)))}
  end

  @doc """
  The server refused `msg_id` without running it (bad salt, bad time, ...): the message (or
  every message of the container it names) goes out again under a new msg_id and seqno.
  """
  @spec reissue(t(), integer()) :: t()
  def reissue(core, msg_id) do
    case Map.pop(core.containers, msg_id) do
      {nil, _} -> reissue_one(core, msg_id)
      {ids, containers} -> Enum.reduce(ids, %{core | containers: containers}, &reissue_one(&2, &1))
    end
  end

  defp reissue_one(core, msg_id) do
    {out, core} = take_out(core, msg_id)

    case out do
      nil ->
        core

      out ->
        {new_id, core} = enqueue(core, out.body, out.content?)
        core = %{core | stats: Map.update!(core.stats, :resent, &(&1 + 1))}

        case Map.pop(core.calls, msg_id) do
          {nil, _} ->
            core

          {call, calls} ->
            %{
              core
              | calls: Map.put(calls, new_id, call),
                tags: Map.put(core.tags, call.tag, new_id)
            }
        end
    end
  end

  # Removes a message from the sent set and the outbox (after a reconnect it can be in both),
  # returning it.
  defp take_out(core, msg_id) do
    {sent, rest} = Map.pop(core.sent, msg_id)
    {queued, outbox} = :queue.to_list(core.outbox) |> Enum.split_with(&(&1.msg_id == msg_id))
    core = %{core | sent: rest, outbox: :queue.from_list(outbox)}
    {sent || List.first(queued), core}
  end

  @doc """
  Starts a new MTProto session id (seqno from 0, a fresh received-id history) and reissues
  every unanswered message: used after bad_msg_notification 32/33.
  """
  @spec reset_session(t()) :: t()
  def reset_session(core) do
    <<session_id::signed-64>> = rand(core).(8)
    ids = Map.keys(core.sent) ++ Enum.map(:queue.to_list(core.outbox), & &1.msg_id)

    core = %{
      core
      | session_id: session_id,
        content_count: 0,
        history: Seen.new(),
        connection_inited?: false,
        containers: %{}
    }

    ids |> Enum.uniq() |> Enum.sort() |> Enum.reduce(core, &reissue_one(&2, &1))
  end

  ## Idle

  @doc "`prune/2` at the session's server time."
  @spec prune(t()) :: t()
  def prune(core), do: prune(core, server_now(core))

  @doc """
  Drops what an idle session need not keep (the handler calls this on its keepalive timer):
  the received msg_ids the receive window refuses anyway, more than 300 s older than `now`
  (server unix seconds; they stay refused as too low, see
  `MTProto.Session.Seen.forget_before/2`; only once the clock is synchronised, before that
  the window is not checked), and the containers whose messages are all answered or
  acknowledged (the server took them: no notification about them can come), or, for those
  without content (acknowledgments and the like), that were sent before the window.
  """
  @spec prune(t(), integer()) :: t()
  def prune(core, now) do
    oldest = MessageId.window_start(now)

    history = if core.time_synced?, do: Seen.forget_before(core.history, oldest), else: core.history

    containers =
      core.containers
      |> Map.filter(fn
        {container_id, []} -> container_id >= oldest
        {_container_id, ids} -> Enum.any?(ids, &unresolved?(core, &1))
      end)
      |> literal_if_empty()

    %{core | history: history, containers: containers}
  end

  defp unresolved?(core, msg_id),
    do: is_map_key(core.sent, msg_id) or is_map_key(core.calls, msg_id)

  @doc "Marks our messages as acknowledged by the server: non-call messages need no resend."
  @spec acked(t(), [integer()]) :: t()
  def acked(core, ids) do
    Enum.reduce(ids, core, fn id, core ->
      case core.calls do
        %{^id => call} ->
          %{core | calls: Map.put(core.calls, id, %{call | acked?: true})}

        _ ->
          %{core | sent: forget(core.sent, id)}
      end
    end)
  end

  @doc "Removes an answered call; returns it (or nil if unknown)."
  @spec take_call(t(), integer()) :: {call() | nil, t()}
  def take_call(core, msg_id) do
    case core.calls do
      %{^msg_id => call} ->
        {call,
         %{
           core
           | calls: forget(core.calls, msg_id),
             tags: forget(core.tags, call.tag),
             sent: forget(core.sent, msg_id)
         }}

      _ ->
        {nil, %{core | sent: forget(core.sent, msg_id)}}
    end
  end

  # Map.delete/2, but a map left empty is the empty literal (see literal_if_empty/1).
  defp forget(map, key), do: map |> Map.delete(key) |> literal_if_empty()

  # An empty map as the empty literal, which takes no room on the heap (a session going idle
  # empties its calls, tags, sent messages and containers).
  defp literal_if_empty(map) when map_size(map) == 0, do: %{}
  defp literal_if_empty(map), do: map

  ## initConnection

  defp wrappable?(method), do: method not in @service_methods

  defp wrap(core, request) do
    init = core.init

    %{
      _: :invokeWithLayer,
      layer: Map.get(init, :layer, MTProto.TL.Schema.layer()),
      query:
        %{
          _: :initConnection,
          api_id: Map.get(init, :api_id, @init_defaults.api_id),
          device_model: Map.get(init, :device_model, @init_defaults.device_model),
          system_version: Map.get(init, :system_version, system_version()),
          app_version: Map.get(init, :app_version, @init_defaults.app_version),
          system_lang_code: Map.get(init, :system_lang_code, @init_defaults.system_lang_code),
          lang_pack: Map.get(init, :lang_pack, @init_defaults.lang_pack),
          lang_code: Map.get(init, :lang_code, @init_defaults.lang_code),
          query: request
        }
        |> maybe_put(:proxy, Map.get(init, :proxy))
        |> maybe_put(:params, Map.get(init, :params))
    }
  end

  defp maybe_put(map, _key, nil), do: map
  defp maybe_put(map, key, value), do: Map.put(map, key, value)

  defp system_version do
    {family, name} = :os.type()
    "#{family}/#{name} OTP #{System.otp_release()}"
  end

  # The method whose return type decodes the answer: the innermost query of the generic
  # wrappers (invokeWithLayer, initConnection, invokeWithoutUpdates, ...).
  defp result_method(%{_: name, query: %{_: _} = inner}) when name in @wrappers,
    do: result_method(inner)

  defp result_method(%{_: name}), do: name

  defp maybe_gzip(body) when byte_size(body) > @gzip_threshold do
    packed = TL.gzip(body)
    if byte_size(packed) < byte_size(body), do: packed, else: body
  end

  defp maybe_gzip(body), do: body
end
