defmodule MTProto.TestServer.Session do
  @moduledoc """
  One MTProto session (an auth key plus the client's session_id), as Telegram runs it: checks
  every message (msg_id parity and time window, salt, duplicates, history, seqno), answers the
  service messages, runs API calls (`MTProto.TestServer.Api`), acknowledges, packs its answers
  into containers and encrypts them. Answers go to the connection the session last heard from;
  what cannot be delivered (the connection is gone) stays unacknowledged and is sent again on
  the session's next connection. Answers are kept by request msg_id, so a duplicate request is
  answered with the stored answer (or, when that is large, `msg_detailed_info` naming it, which
  the client acknowledges or asks for with `msg_resend_req`) and never executed twice.

  Like Telegram, the server forgets sessions: beyond `:max_sessions_per_key` sessions on one
  auth key the least recently used one goes, and a session that heard nothing from its client
  for `:session_idle_timeout` ms (and runs no call) stops. The client's next message on it opens
  a new session (`new_session_created`).
  """

  use GenServer, restart: :temporary

  import Bitwise

  alias MTProto.{Crypto, Event, Message, MessageId, TL}
  alias MTProto.TestServer.{Api, AuthKeys, Faults, History, Hostile, Salts, Shared}

  @history_limit 2048
  @outbox_limit 1024
  @sent_limit 512
  @answers_limit 1024
  @max_container 1024
  # A duplicate request whose stored answer is larger than this gets msg_detailed_info.
  @detailed_info_above 8192
  # The framing's packet limit (16 MiB) less what encryption adds (auth_key_id, msg_key, the
  # 32-byte header, at most 76 bytes of padding) with room to spare.
  @max_body 16 * 1024 * 1024 - 1024
  # Random bytes one encrypted packet takes (MTProto.Crypto's padding), and how many the pool
  # of the session draws at once.
  @padding_random Crypto.padding_random_bytes()
  @random_pool_size 16 * @padding_random
  # An idle session hibernates after this many ms.
  @hibernate_after 1000

  @derive {Inspect, only: [:session_id, :key_id]}
  defstruct [
    :shared,
    :key,
    :key_id,
    :session_id,
    :conn,
    :conn_ref,
    # The :atomics cell holding this session's last use stamp (also in its sessions row).
    :used,
    :last_used,
    # The faults and the server clock (unix seconds) read once per packet or event handled.
    :faults,
    :now,
    announced: false,
    stop: false,
    history: History.new(@history_limit),
    out_last: 0,
    out_count: 0,
    outbox: %{},
    outbox_order: :queue.new(),
    sent: {%{}, :queue.new()},
    answers: {%{}, :queue.new()},
    running: %{},
    dropped: MapSet.new(),
    random_pool: <<>>,
    salt_memo: %{},
    # The packet {:hostile, :replayed_msg_id} sends again (MTProto.TestServer.Hostile).
    replay: nil,
    acks: []
  ]

  ## API

  @doc "The largest message body this server sends: every packet stays within the framing's limit."
  @spec max_body() :: pos_integer()
  def max_body, do: @max_body

  @typedoc """
  The sessions a connection delivered to, each monitored once (not once per message, which
  would also cost the session a demonitor signal to handle per message): a connection keeps
  this between messages and forgets a session at its `:DOWN` (`forget_monitor/2`).
  """
  @type monitors :: %{pid() => reference()}

  @doc """
  Hands a decrypted message to its session (started if new) on behalf of the calling
  connection, waiting for the answer; returns the encrypted packets to write now, or `:close`,
  and the connection's monitors. `faults` is the snapshot the connection read for this packet:
  the session handles the packet under the same one.
  """
  @spec deliver(Shared.t(), AuthKeys.t(), Message.plaintext(), Faults.t(), monitors()) ::
          {{:ok, [binary()]} | :close, monitors()}
  def deliver(shared, key, message, faults, monitors, attempts \\ 2)
  def deliver(_shared, _key, _message, _faults, monitors, 0), do: {:close, monitors}

  def deliver(%Shared{} = shared, key, message, faults, monitors, attempts) do
    pid = lookup_or_start(shared, key, message.session_id)

    {monitor, monitors} =
      case monitors do
        %{^pid => monitor} ->
          {monitor, monitors}

        _ ->
          monitor = Process.monitor(pid)
          {monitor, Map.put(monitors, pid, monitor)}
      end

    ref = make_ref()
    send(pid, {:deliver, self(), ref, message, faults})

    receive do
      {^ref, reply} ->
        {reply, monitors}

      # The session was destroyed or forgotten meanwhile: the message opens a new one.
      {:DOWN, ^monitor, :process, _, _} ->
        deliver(shared, key, message, faults, Map.delete(monitors, pid), attempts - 1)
    end
  end

  @doc "Forgets a monitor of `deliver/6` whose `:DOWN` the connection received later."
  @spec forget_monitor(monitors(), pid()) :: monitors()
  def forget_monitor(monitors, pid), do: Map.delete(monitors, pid)

  @doc "Sends an already encoded update to the session if it has a live connection."
  @spec push(pid(), binary()) :: :ok | {:error, :not_connected}
  def push(pid, body) do
    GenServer.call(pid, {:push, body})
  catch
    :exit, _ -> {:error, :not_connected}
  end

  defp lookup_or_start(shared, key, session_id) do
    row_key = {key.id, session_id}

    case session_pid(shared.sessions, row_key) do
      pid when is_pid(pid) ->
        # A session stopped by its supervisor (destroy_session) does not run terminate/2.
        if Process.alive?(pid) do
          pid
        else
          :ets.match_delete(shared.sessions, {row_key, pid, :_})
          lookup_or_start(shared, key, session_id)
        end

      nil ->
        spec = %{
          id: __MODULE__,
          start: {GenServer, :start_link, [__MODULE__, {shared, key, session_id}]},
          restart: :temporary
        }

        case DynamicSupervisor.start_child(shared.sessions_sup, spec) do
          {:ok, pid} ->
            evict_over_cap(shared, key.id, pid)
            pid

          # Another connection started it first.
          :ignore ->
            lookup_or_start(shared, key, session_id)
        end
    end
  end

  # The pid alone (not the row with its use cell, whose copy would cost a reference count).
  defp session_pid(sessions, row_key) do
    :ets.lookup_element(sessions, row_key, 2)
  catch
    :error, :badarg -> nil
  end

  # Beyond :max_sessions_per_key sessions on one key, the least recently used ones go (never the
  # one just started).
  defp evict_over_cap(shared, key_id, new_pid) do
    rows = :ets.match_object(shared.sessions, {{key_id, :_}, :_, :_})
    excess = length(rows) - shared.max_sessions_per_key

    if excess > 0 do
      rows
      |> Enum.reject(fn {_, pid, _} -> pid == new_pid end)
      |> Enum.sort_by(fn {_, _, used} -> :atomics.get(used, 1) end)
      |> Enum.take(excess)
      |> Enum.each(fn {_, pid, _} = row ->
        :ets.delete_object(shared.sessions, row)
        DynamicSupervisor.terminate_child(shared.sessions_sup, pid)
      end)
    end
  end

  ## GenServer

  @impl true
  def init({shared, key, session_id}) do
    now = now_ms()
    used = :atomics.new(1, signed: true)
    :atomics.put(used, 1, use_stamp())

    if :ets.insert_new(shared.sessions, {{key.id, session_id}, self(), used}) do
      schedule_idle_check(shared.session_idle_timeout)

      {:ok,
       %__MODULE__{
         shared: shared,
         key: key,
         key_id: key.id,
         session_id: session_id,
         used: used,
         last_used: now
       }}
    else
      :ignore
    end
  end

  @impl true
  def terminate(_reason, state) do
    :ets.match_delete(state.shared.sessions, {{state.key_id, state.session_id}, self(), :_})
  end

  @impl true
  def handle_call({:push, body}, _from, state) do
    if state.conn do
      {[], state} = emit(tick(state), [{:new, :other, body, nil}], :send)
      {:reply, :ok, state}
    else
      {:reply, {:error, :not_connected}, state}
    end
  end

  @impl true
  # From deliver/6: the answer goes back to the connection tagged with its ref.
  def handle_info({:deliver, conn, ref, message, faults}, state) do
    state = state |> tick(faults) |> touch()
    {resend, state} = bind(state, conn)
    {items, state} = receive_top(state, message)
    {acks, state} = take_acks(state)
    {packets, state} = emit(state, resend ++ items ++ acks, :reply)
    send(conn, {ref, {:ok, packets}})

    if state.stop,
      do: {:stop, :normal, state},
      else: {:noreply, state, @hibernate_after}
  end

  def handle_info({:rpc_done, pid, outcome}, state) do
    case Enum.find(state.running, fn {_ref, {_req, worker}} -> worker == pid end) do
      {ref, _} ->
        Process.demonitor(ref, [:flush])
        {:noreply, finish_call(tick(state), ref, outcome)}

      nil ->
        {:noreply, state}
    end
  end

  def handle_info({:DOWN, ref, :process, _pid, _reason}, %{conn_ref: ref} = state) do
    {:noreply, %{state | conn: nil, conn_ref: nil}}
  end

  def handle_info({:DOWN, ref, :process, _pid, _reason}, state) do
    {:noreply, finish_call(tick(state), ref, {:error, 500, "INTERNAL"})}
  end

  def handle_info({:emit, items}, state) do
    {[], state} = emit(tick(state), items, :send_now)
    {:noreply, state}
  end

  # Nothing from the client for :session_idle_timeout ms and no call running: forgotten.
  def handle_info(:idle_check, state) do
    timeout = state.shared.session_idle_timeout
    idle = now_ms() - state.last_used

    cond do
      idle < timeout ->
        schedule_idle_check(timeout - idle)
        {:noreply, idle(state), :hibernate}

      map_size(state.running) > 0 ->
        schedule_idle_check(timeout)
        {:noreply, idle(state), :hibernate}

      true ->
        {:stop, :normal, state}
    end
  end

  # Idle for a while: shrink to the minimum until the next message.
  def handle_info(:timeout, state), do: {:noreply, idle(state), :hibernate}
  def handle_info(_other, state), do: {:noreply, state}

  ## use and expiry

  defp now_ms, do: System.monotonic_time(:millisecond)

  defp tick(state, faults \\ nil) do
    faults = faults || Faults.snapshot(state.shared)
    %{state | faults: faults, now: Faults.now(faults)}
  end

  # What an idle session need not keep: the unused random bytes (drawn again when needed).
  defp idle(state), do: %{state | random_pool: <<>>}

  defp schedule_idle_check(:infinity), do: :ok
  defp schedule_idle_check(ms), do: Process.send_after(self(), :idle_check, ms)

  # Orders uses across sessions (strictly increasing, unlike any clock reading).
  defp use_stamp, do: :erlang.unique_integer([:monotonic])

  # A message from the client: the session is the most recently used of its key (its use cell,
  # which its row in the sessions table holds, is written: no table write per message).
  defp touch(state) do
    :atomics.put(state.used, 1, use_stamp())
    %{state | last_used: now_ms()}
  end

  ## connection binding

  # Answers go to the connection the session last heard from. On a change of connection,
  # everything not yet acknowledged is sent again on the new one: what went to the old one may
  # still have been sitting in its mailbox when it closed (the client drops duplicates by msg_id).
  defp bind(%{conn: conn} = state, conn), do: {[], state}

  defp bind(state, conn) do
    if state.conn_ref, do: Process.demonitor(state.conn_ref, [:flush])
    state = %{state | conn: conn, conn_ref: Process.monitor(conn)}
    {outbox_items(state), state}
  end

  defp outbox_items(state) do
    state.outbox
    |> Enum.sort()
    |> Enum.map(fn {id, {seqno, body}} -> {:old, id, seqno, body} end)
  end

  ## receiving

  defp receive_top(state, %{msg_id: id, salt: salt} = m) do
    now = state.now

    cond do
      not MessageId.valid_parity?(id, :client) ->
        {[bad_msg(state, m, 18)], state}

      (window = MessageId.check_window(id, now)) != :ok ->
        {[bad_msg(state, m, if(window == {:error, :too_old}, do: 16, else: 17))], state}

      true ->
        {valid, memo} =
          Salts.valid?(
            state.key,
            salt,
            now,
            state.faults.rotation,
            state.shared.salt_period,
            state.salt_memo
          )

        receive_salted(%{state | salt_memo: memo}, m, valid)
    end
  end

  defp receive_salted(state, m, true = _valid_salt) do
    {announce, state} = announce(state, m)
    {items, state} = receive_message(state, m)
    {announce ++ items, state}
  end

  defp receive_salted(state, %{msg_id: id, seqno: seqno} = m, false) do
    {new_salt, state} = current_salt(state)
    observe_bad_msg(state, m, 48)

    body =
      TL.encode!(%{
        _: :bad_server_salt,
        bad_msg_id: id,
        bad_msg_seqno: seqno,
        error_code: 48,
        new_server_salt: new_salt
      })

    {[{:new, :response, body, nil}], state}
  end

  # new_session_created, before anything else the new session sends.
  defp announce(%{announced: true} = state, _m), do: {[], state}

  defp announce(state, m) do
    <<unique_id::signed-64>> = :crypto.strong_rand_bytes(8)
    {salt, state} = current_salt(state)

    body =
      TL.encode!(%{
        _: :new_session_created,
        first_msg_id: first_msg_id(m),
        unique_id: unique_id,
        server_salt: salt
      })

    {[{:new, :other, body, nil}], %{state | announced: true}}
  end

  # The lowest msg_id in the packet: for a container, its messages (created before it) count,
  # so a client does not take them for lost in the old session and run them again.
  defp first_msg_id(%{msg_id: id, body: body}) do
    case Message.container?(body) and Message.decode_container(body) do
      {:ok, [_ | _] = inner} -> inner |> Enum.map(& &1.msg_id) |> Enum.min() |> min(id)
      _ -> id
    end
  end

  defp receive_message(state, %{msg_id: id, seqno: seqno, body: body} = m) do
    container = Message.container?(body)

    cond do
      not MessageId.valid_parity?(id, :client) ->
        {[bad_msg(state, m, 18)], state}

      (window = MessageId.check_window(id, state.now)) != :ok ->
        {[bad_msg(state, m, if(window == {:error, :too_old}, do: 16, else: 17))], state}

      History.seen?(state.history, id) ->
        if container,
          do: {[bad_msg(state, m, 19)], state},
          else: duplicate(state, m)

      History.forgotten?(state.history, id) ->
        {[bad_msg(state, m, 20)], state}

      not Message.seqno_parity_ok?(seqno, body) ->
        {[bad_msg(state, m, if((seqno &&& 1) == 1, do: 34, else: 35))], state}

      (order = seqno_order(state, id, seqno)) != :ok ->
        {[bad_msg(state, m, order)], state}

      # The container's id (created after the messages in it) is recorded after them, so they
      # arrive in increasing order.
      container ->
        {items, state} = receive_container(state, m)
        {items, record(state, id, seqno)}

      true ->
        state = record(state, id, seqno)
        {items, state} = handle_body(state, m)
        {items, maybe_ack(state, m, items)}
    end
  end

  defp receive_container(state, m) do
    case Message.decode_container(m.body) do
      {:ok, inner} ->
        receive_inner(inner, m.salt, state, [])

      {:error, _} ->
        {[bad_msg(state, m, 64)], state}
    end
  end

  # The container's messages in order, their items in order.
  defp receive_inner([], _salt, state, acc), do: {acc |> Enum.reverse() |> :lists.append(), state}

  defp receive_inner([msg | rest], salt, state, acc) do
    {items, state} = receive_message(state, Map.put(msg, :salt, salt))
    receive_inner(rest, salt, state, [items | acc])
  end

  # 32: a message with a lower msg_id has a higher seqno (or the same odd one);
  # 33: a message with a higher msg_id has a lower seqno (or the same odd one).
  # Only messages inside the server's time window (300 s back, 30 s ahead) are compared, as
  # only those could be accepted now: after the server clock jumps, a client that resynchronised
  # is not held to ids it sent under the old clock.
  defp seqno_order(state, id, seqno) do
    now = state.now
    low = (now - 300) <<< 32
    high = (now + 30) <<< 32
    {below, above} = History.neighbours(state.history, id)

    cond do
      match?({b, s} when b >= low and (s > seqno or (s == seqno and (s &&& 1) == 1)), below) ->
        32

      match?({a, s} when a <= high and (s < seqno or (s == seqno and (s &&& 1) == 1)), above) ->
        33

      true ->
        :ok
    end
  end

  defp record(state, id, seqno), do: %{state | history: History.put(state.history, id, seqno)}

  # A message seen before: its stored answer again, else (a query still running, or something
  # that gets no answer) an acknowledgment again. Never executed twice.
  # A large answer the client can still ask for (msg_resend_req) is announced with
  # msg_detailed_info instead of being sent again, as Telegram does.
  defp duplicate(state, m) do
    case get_answer(state, m.msg_id) do
      {:done, msg_id, seqno, body} ->
        if byte_size(body) > @detailed_info_above and resendable?(state, msg_id) do
          info = %{
            _: :msg_detailed_info,
            msg_id: m.msg_id,
            answer_msg_id: msg_id,
            bytes: byte_size(body),
            status: 0
          }

          {[{:new, :other, TL.encode!(info), nil}], state}
        else
          {[{:old, msg_id, seqno, body}], state}
        end

      _ ->
        {[], maybe_ack(state, m, [])}
    end
  end

  defp resendable?(state, id),
    do: Map.has_key?(elem(state.sent, 0), id) or Map.has_key?(state.outbox, id)

  # A content-related message that got no answer in this pass is acknowledged.
  defp maybe_ack(state, m, items) do
    answered = Enum.any?(items, &match?({:new, _, _, req} when req == m.msg_id, &1))

    if Message.content_related?(m.body) and not answered,
      do: %{state | acks: [m.msg_id | state.acks]},
      else: state
  end

  defp take_acks(%{acks: []} = state), do: {[], state}

  defp take_acks(state) do
    body = TL.encode!(%{_: :msgs_ack, msg_ids: Enum.reverse(state.acks)})
    {[{:new, :other, body, nil}], %{state | acks: []}}
  end

  ## service messages and API calls

  defp handle_body(state, m) do
    case TL.decode(m.body) do
      {:ok, %{_: name} = term} -> service(name, term, m, state)
      _ -> {[rpc_error(m.msg_id, 400, Api.invalid_method_message(m.body))], state}
    end
  end

  defp service(:msgs_ack, %{msg_ids: ids}, _m, state) do
    outbox = Map.drop(state.outbox, ids)
    # Acknowledged ids stay in the order queue: drop them when nothing is left unacknowledged.
    order = if map_size(outbox) == 0, do: :queue.new(), else: state.outbox_order
    {[], %{state | outbox: outbox, outbox_order: order}}
  end

  defp service(:ping, %{ping_id: ping_id}, m, state) do
    {[answer(m, %{_: :pong, msg_id: m.msg_id, ping_id: ping_id})], state}
  end

  defp service(:ping_delay_disconnect, %{ping_id: ping_id, disconnect_delay: delay}, m, state) do
    if state.conn, do: send(state.conn, {:disconnect_after, delay})
    {[answer(m, %{_: :pong, msg_id: m.msg_id, ping_id: ping_id})], state}
  end

  defp service(:get_future_salts, %{num: num}, m, state) do
    now = state.now
    num = num |> max(1) |> min(64)

    salts =
      for {since, until, salt} <-
            Salts.future(state.key, now, state.faults.rotation, state.shared.salt_period, num),
          do: %{_: :future_salt, valid_since: since, valid_until: until, salt: salt}

    {[answer(m, %{_: :future_salts, req_msg_id: m.msg_id, now: now, salts: salts})], state}
  end

  defp service(:msgs_state_req, %{msg_ids: ids}, m, state) do
    info = for id <- ids, into: <<>>, do: <<msg_state(state, id)>>
    {[answer(m, %{_: :msgs_state_info, req_msg_id: m.msg_id, info: info})], state}
  end

  defp service(:msg_resend_req, %{msg_ids: ids}, _m, state) do
    {sent, _} = state.sent

    items =
      for id <- ids,
          {seqno, body} = Map.get(sent, id) || Map.get(state.outbox, id, {nil, nil}),
          body != nil,
          do: {:old, id, seqno, body}

    {items, state}
  end

  defp service(:rpc_drop_answer, %{req_msg_id: req}, m, state) do
    {result, state} =
      case get_answer(state, req) do
        {:running, _ref} ->
          {%{_: :rpc_answer_dropped_running}, %{state | dropped: MapSet.put(state.dropped, req)}}

        {:done, id, seqno, body} when is_map_key(state.outbox, id) ->
          {%{_: :rpc_answer_dropped, msg_id: id, seq_no: seqno, bytes: byte_size(body)},
           %{state | outbox: Map.delete(state.outbox, id)}}

        _ ->
          {%{_: :rpc_answer_unknown}, state}
      end

    {[rpc_result(m.msg_id, TL.encode!(result))], state}
  end

  defp service(:destroy_session, %{session_id: sid}, m, state) do
    destroyed = sid != state.session_id and destroy_session(state, sid)
    name = if destroyed, do: :destroy_session_ok, else: :destroy_session_none
    {[answer(m, %{_: name, session_id: sid})], state}
  end

  defp service(:destroy_auth_key, _term, m, state) do
    AuthKeys.delete(state.shared, state.key_id)
    {[answer(m, %{_: :destroy_auth_key_ok})], %{state | stop: true}}
  end

  # Answers and notices a client may send back: nothing to do.
  defp service(name, _term, _m, state)
       when name in [
              :http_wait,
              :msgs_state_info,
              :msgs_all_info,
              :msg_detailed_info,
              :msg_new_detailed_info,
              :pong,
              :future_salts,
              :msg_copy
            ],
       do: {[], state}

  defp service(_name, term, m, state) do
    ctx = %{
      dc_id: state.shared.dc_id,
      auth_key_id: state.key_id,
      session_id: state.session_id,
      msg_id: m.msg_id,
      server: state.shared.core
    }

    case Api.call(state.shared, term, ctx) do
      {:ok, result} ->
        {[rpc_result(m.msg_id, result)], state}

      {:error, code, message} ->
        {[rpc_error(m.msg_id, code, message)], state}

      {:async, fun} ->
        session = self()
        {pid, ref} = spawn_monitor(fn -> send(session, {:rpc_done, self(), fun.()}) end)
        state = %{state | running: Map.put(state.running, ref, {m.msg_id, pid})}
        {[], put_answer(state, m.msg_id, {:running, ref})}
    end
  end

  # A handler finished (or crashed): its answer goes out now, unless rpc_drop_answer dropped it.
  defp finish_call(state, ref, outcome) do
    case Map.pop(state.running, ref) do
      {nil, _running} ->
        state

      {{req, _pid}, running} ->
        state = %{state | running: running}

        if MapSet.member?(state.dropped, req) do
          put_answer(%{state | dropped: MapSet.delete(state.dropped, req)}, req, :dropped)
        else
          item =
            case outcome do
              {:ok, result} -> rpc_result(req, result)
              {:error, code, message} -> rpc_error(req, code, message)
            end

          {[], state} = emit(state, [item], :send)
          state
        end
    end
  end

  defp destroy_session(state, sid) do
    case :ets.lookup(state.shared.sessions, {state.key_id, sid}) do
      [{_, pid, _}] -> DynamicSupervisor.terminate_child(state.shared.sessions_sup, pid) == :ok
      [] -> false
    end
  end

  # msgs_state_info, per id: 1 unknown (older than the history), 2 not received, 3 not
  # received (id too far in the future), 4 received; +32 query being processed or done,
  # +64 answer generated.
  defp msg_state(state, id) do
    now = state.now

    cond do
      History.seen?(state.history, id) ->
        case get_answer(state, id) do
          {:running, _} -> 4 + 32
          {:done, _, _, _} -> 4 + 32 + 64
          _ -> 4
        end

      History.forgotten?(state.history, id) ->
        1

      MessageId.check_window(id, now) == {:error, :too_new} ->
        3

      true ->
        2
    end
  end

  ## items

  defp answer(m, term), do: {:new, :response, TL.encode!(term), m.msg_id}

  defp rpc_result(req, result),
    do: {:new, :response, Message.encode_rpc_result(req, result), req}

  defp rpc_error(req, code, message),
    do: rpc_result(req, TL.encode!(%{_: :rpc_error, error_code: code, error_message: message}))

  defp bad_msg(state, m, code) do
    observe_bad_msg(state, m, code)

    body =
      TL.encode!(%{
        _: :bad_msg_notification,
        bad_msg_id: m.msg_id,
        bad_msg_seqno: m.seqno,
        error_code: code
      })

    {:new, :response, body, nil}
  end

  # [:mtproto, :test_server, :bad_msg]: a message refused with bad_msg_notification (or 48).
  defp observe_bad_msg(state, m, code) do
    Event.emit([:mtproto, :test_server, :bad_msg], %{}, %{
      server: state.shared.core,
      code: code,
      msg_id: m.msg_id,
      seqno: m.seqno,
      auth_key_id: state.key_id,
      session_id: state.session_id
    })
  end

  ## sending

  # :reply returns the packets (a delivery in progress); :send sends them to the connection;
  # with a {:delay, ms} fault both wait and go to whatever connection is current then.
  defp emit(state, [], _how), do: {[], state}

  defp emit(state, items, how) do
    delay = if how == :send_now, do: nil, else: state.faults.delay

    if is_integer(delay) and delay > 0 do
      Process.send_after(self(), {:emit, items}, delay)
      {[], state}
    else
      {packets, state} = state |> pack(items) |> hostile()

      if how == :reply do
        {packets, state}
      else
        if state.conn, do: send(state.conn, {:session_out, packets})
        {[], state}
      end
    end
  end

  # Hostile faults only: copies to refuse, replays (MTProto.TestServer.Hostile).
  defp hostile({packets, %{faults: %{hostile: []}} = state}), do: {packets, state}

  defp hostile({packets, state}) do
    {packets, replay} = Hostile.packets(packets, state.faults.hostile, state.key.key, state.replay)
    {packets, %{state | replay: replay}}
  end

  defp pack(state, items) do
    {messages, state} = Enum.map_reduce(items, state, &assign/2)

    messages
    |> chunk_containers()
    |> Enum.map_reduce(state, fn
      [one], state ->
        encrypt(state, one)

      many, state ->
        {id, state} = next_id(state, :server_other)
        {seqno, count} = Message.next_seqno(state.out_count, false)
        container = %{msg_id: id, seqno: seqno, body: Message.encode_container(many)}
        encrypt(%{state | out_count: count}, container)
    end)
  end

  # Containers of at most @max_container messages whose body stays within @max_body (8 bytes
  # of header, 16 per message); a message too large to share a packet goes alone.
  defp chunk_containers([_] = one), do: [one]

  defp chunk_containers(messages) do
    Enum.chunk_while(
      messages,
      {[], 0, 8},
      fn m, {acc, count, size} ->
        add = 16 + byte_size(m.body)

        if acc != [] and (count == @max_container or size + add > @max_body),
          do: {:cont, Enum.reverse(acc), {[m], 1, 8 + add}},
          else: {:cont, {[m | acc], count + 1, size + add}}
      end,
      fn
        {[], _, _} -> {:cont, {[], 0, 8}}
        {acc, _, _} -> {:cont, Enum.reverse(acc), {[], 0, 8}}
      end
    )
  end

  defp assign({:old, id, seqno, body}, state), do: {%{msg_id: id, seqno: seqno, body: body}, state}

  defp assign({:new, kind, body, answer_to}, state) do
    {id, state} = next_id(state, if(kind == :response, do: :server_response, else: :server_other))
    content = Message.content_related?(body)
    {seqno, count} = Message.next_seqno(state.out_count, content)
    state = %{state | out_count: count}

    state =
      if content do
        state = outbox_put(state, id, {seqno, body})
        %{state | sent: bounded_put(state.sent, id, {seqno, body}, @sent_limit)}
      else
        state
      end

    state = if answer_to, do: put_answer(state, answer_to, {:done, id, seqno, body}), else: state
    {%{msg_id: id, seqno: seqno, body: body}, state}
  end

  # Server msg_ids increase within a session, except when the server clock is set back (a
  # :clock_skew fault) by more than a second: they follow the clock, as a client syncing its
  # clock from them must be able to.
  defp next_id(state, kind) do
    offset = Faults.skew(state.faults) * 1_000_000_000
    clock = MessageId.next(kind, 0, offset)
    last = if state.out_last > clock + (1 <<< 32), do: 0, else: state.out_last
    # The clock read once, unless it has not moved past the last id.
    id = if clock > last, do: clock, else: MessageId.next(kind, last, offset)
    {id, %{state | out_last: id}}
  end

  defp encrypt(state, %{msg_id: id, seqno: seqno, body: body}) do
    {salt, state} = current_salt(state)
    plaintext = Message.encode_plaintext(salt, state.session_id, id, seqno, body)
    {random, state} = take_random(state)
    {Crypto.encrypt_message(state.key.key, :server, plaintext, fn _ -> random end), state}
  end

  # The padding's random bytes come from a pool refilled a few packets' worth at a time, not
  # from one strong_rand_bytes call per packet.
  defp take_random(%{random_pool: <<random::binary-size(@padding_random), rest::binary>>} = state),
    do: {random, %{state | random_pool: rest}}

  defp take_random(state),
    do: take_random(%{state | random_pool: :crypto.strong_rand_bytes(@random_pool_size)})

  defp current_salt(state) do
    {salt, memo} =
      Salts.current(
        state.key,
        state.now,
        state.faults.rotation,
        state.shared.salt_period,
        state.salt_memo
      )

    {salt, %{state | salt_memo: memo}}
  end

  ## bounded maps

  # The unacknowledged messages, at most @outbox_limit (the oldest goes first). The queue keeps
  # ids in sending order; ids acknowledged meanwhile are skipped, and the queue is rebuilt when
  # they pile up.
  defp outbox_put(state, id, entry) do
    outbox = Map.put(state.outbox, id, entry)
    order = :queue.in(id, state.outbox_order)

    if map_size(outbox) > @outbox_limit do
      {outbox, order} = evict_oldest(outbox, order)

      order =
        if :queue.len(order) > 2 * @outbox_limit,
          do: outbox |> Map.keys() |> Enum.sort() |> :queue.from_list(),
          else: order

      %{state | outbox: outbox, outbox_order: order}
    else
      %{state | outbox: outbox, outbox_order: order}
    end
  end

  defp evict_oldest(outbox, order) do
    {{:value, id}, order} = :queue.out(order)

    if Map.has_key?(outbox, id),
      do: {Map.delete(outbox, id), order},
      else: evict_oldest(outbox, order)
  end

  defp get_answer(%{answers: {map, _}}, req), do: Map.get(map, req)

  defp put_answer(state, req, value),
    do: %{state | answers: bounded_put(state.answers, req, value, @answers_limit)}

  defp bounded_put({old, queue}, key, value, limit) do
    map = Map.put(old, key, value)
    # A new key made the map grow.
    queue = if map_size(map) > map_size(old), do: :queue.in(key, queue), else: queue

    if map_size(map) > limit do
      {{:value, oldest}, queue} = :queue.out(queue)
      {Map.delete(map, oldest), queue}
    else
      {map, queue}
    end
  end
end
