defmodule MTProto.Session.Handler do
  @moduledoc """
  Owns all the state of one session: the auth key (or the handshake creating it), and the
  `MTProto.Session.Core` with msg ids, seqno, salts, pending calls and acknowledgments. The
  listener only moves bytes; this process survives its restarts and, on every new connection,
  resends what the server has not answered. It writes to the socket itself
  (`MTProto.Session.Writer`, handed over by the listener with each connection); the listener
  reads.

  Output is flushed when the mailbox is empty (a `0` timeout), so calls arriving together go
  out together in one container; at most #{1024} queued messages wait for that.
  """

  use GenServer
  require Logger

  alias MTProto.{AuthKey, DC, Handshake, Message, MessageId, Storage, TL}

  alias MTProto.Session.{
    Backpressure,
    Control,
    Core,
    Inbound,
    Info,
    Lifecycle,
    Listener,
    Media,
    Salts,
    Writer
  }

  @ack_delay 200
  @handshake_timeout 15_000
  @flush_now 1024
  @deferred {__MODULE__, :deferred_sends}
  @client_events MTProto.Session.Lifecycle.client_events()

  defstruct [
    :id,
    :dc_id,
    :client,
    :storage,
    :auth_key,
    :core,
    :handshake,
    :listener,
    :writer,
    :ping_interval,
    :ack_timer,
    :ping_timer,
    :handshake_timer,
    :connected_at,
    :last_packet_at,
    :control,
    connected?: false,
    held?: false,
    waiting_key: [],
    plain_last_msg_id: 0,
    queued_since_flush: 0,
    reconnects: 0,
    wire_bytes_out: 0,
    handshake_started_at: nil,
    handshake_steps: []
  ]

  @doc false
  def start_link(session_id),
    do: MTProto.Session.Supervisor.start_child_link(__MODULE__, session_id)

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)
    id = Keyword.fetch!(opts, :session_id)
    :ok = MTProto.Registry.register(id, :handler)
    MTProto.Session.Supervisor.forget_ancestors()
    dc_id = Keyword.fetch!(opts, :dc_id)
    storage = Keyword.get(opts, :storage)

    auth_key =
      case Storage.fetch(storage, dc_id) do
        {:ok, key} -> key
        :error -> opts[:auth_key]
      end

    # (Updating the default struct keeps its keys in the literal area, off the heap.)
    state = %{
      %__MODULE__{}
      | id: id,
        dc_id: dc_id,
        client: opts[:client],
        storage: storage,
        ping_interval: Keyword.get(opts, :ping_interval, 60_000),
        control: Control.new(opts)
    }

    state = install_key(state, auth_key, false)

    if auth_key,
      do: emit_imported(state, if(opts[:auth_key] == auth_key, do: :option, else: :storage))

    state = if opts[:parent], do: shared_salts(state, Media.salts(opts[:parent])), else: state
    {:ok, publish_info(state, true)}
  end

  ## Calls from MTProto.Session

  @impl true
  def handle_call({:send, _request, :encrypted}, _from, %{core: nil} = state),
    do: {:reply, {:error, :no_auth_key}, state, timeout(state)}

  def handle_call({:send, _request, :encrypted, _flush?}, _from, %{core: nil} = state),
    do: {:reply, {:error, :no_auth_key}, state, timeout(state)}

  def handle_call({:send, request, :encrypted}, from, state),
    do: handle_call({:send, request, :encrypted, true}, from, state)

  def handle_call({:send, request, :encrypted, flush?}, _from, state) do
    with :ok <- accepting(state, :send),
         {:ok, msg_id, core} <- Core.send_message(state.core, request) do
      state = %{state | core: core, held?: not flush?}
      reply({:ok, msg_id}, queued(admit_sent(state, msg_id)))
    else
      {:error, _} = error -> reply(error, state)
    end
  end

  def handle_call({:send, request, :plain}, _from, state) do
    with {:ok, body} <- TL.encode(request),
         true <- state.connected? || {:error, :not_connected} do
      {msg_id, state} = plain_msg_id(state)
      reply({:ok, msg_id}, write(state, [Message.encode_plain(msg_id, body)]))
    else
      {:error, _} = error -> reply(error, state)
    end
  end

  def handle_call({:set_client, pid}, _from, state), do: reply(:ok, %{state | client: pid})

  def handle_call(:export, _from, %{auth_key: nil} = state),
    do: reply({:error, :no_auth_key}, state)

  def handle_call(:export, _from, state) do
    salt = if state.core, do: state.core.salts.current, else: state.auth_key.server_salt
    reply({:ok, %{state.auth_key | server_salt: salt}}, state)
  end

  def handle_call({:import, %AuthKey{} = key}, _from, state) do
    Storage.put(state.storage, key)
    state = install_key(state, key, true)
    emit_imported(state, :import)
    if state.connected? and state.handshake, do: cancel_handshake(state)
    reply(:ok, state)
  end

  def handle_call(:info, _from, state), do: reply(info(state), publish_info(state, true))

  def handle_call(:calls, _from, state), do: reply(calls_list(state), state)

  def handle_call({:add_media, id}, _from, state),
    do: reply(:ok, %{state | control: %{state.control | media: [id | state.control.media]}})

  def handle_call(:media, _from, state), do: reply(state.control.media, state)

  def handle_call(:salts, _from, %{core: nil} = state), do: reply({:error, :no_auth_key}, state)
  def handle_call(:salts, _from, state), do: reply({:ok, state.core.salts}, state)

  def handle_call(:reset_session, _from, %{core: nil} = state),
    do: reply({:error, :no_auth_key}, state)

  def handle_call(:reset_session, _from, state) do
    core = Core.reset_session(state.core)
    emit(state, :session_reset, %{reason: :requested, mtproto_session_id: core.session_id})
    reply(:ok, flush(%{state | core: core, held?: false}))
  end

  # A second close(:drain) while one is in progress leaves it to the first.
  def handle_call({:drain, _timeout}, _from, %{control: %{drain: drain}} = state)
      when drain != nil,
      do: reply({:error, :closing}, state)

  def handle_call({:drain, timeout}, from, state) do
    timer = Process.send_after(self(), :drain_timeout, timeout)
    control = %{state.control | drain: %{from: from, timer: timer}}
    emit(state, :draining, %{pending: state.control.bp.count, timeout: timeout})
    noreply(maybe_drained(flush(%{state | control: control, held?: false})))
  end

  @impl true
  def handle_cast(_msg, state), do: {:noreply, state, timeout(state)}

  ## Messages

  @impl true
  def handle_info({:call, tag, request, flush?} = call, state) do
    case accepting(state, :call) do
      :ok -> noreply(accept_call(state, tag, request, flush?))
      :park -> noreply(update_bp(state, &Backpressure.park(&1, call)))
      {:error, _} = error -> reply_to(tag, error) && noreply(state)
    end
  end

  def handle_info({:cancel, tag}, %{core: nil} = state) do
    state = cancelled(state, tag)
    noreply(%{state | waiting_key: Enum.reject(state.waiting_key, &(elem(&1, 0) == tag))})
  end

  def handle_info({:cancel, tag}, state) do
    state = cancelled(state, tag)
    noreply(%{state | core: Core.cancel(state.core, tag)})
  end

  def handle_info(:drain_timeout, state), do: noreply(drained(state, {:error, :drain_timeout}))
  def handle_info({:shared_salts, salts}, state), do: noreply(shared_salts(state, salts))

  def handle_info({:listener, :connected, pid, info, writer}, state) do
    state = %{
      state
      | listener: pid,
        writer: writer,
        connected?: true,
        connected_at: System.system_time(:millisecond)
    }

    emit(state, :connected, info)

    state =
      cond do
        state.core == nil ->
          start_handshake(state)

        true ->
          %{state | core: Core.reconnected(state.core), reconnects: state.reconnects + 1}
          |> fetch_salts()
          |> schedule_ping()
      end

    noreply(state)
  end

  def handle_info({:listener, :disconnected, _pid, reason}, state) do
    emit(state, :disconnected, %{reason: reason})
    state = if state.handshake, do: clear_handshake(state), else: state
    noreply(%{state | connected?: false, writer: nil})
  end

  def handle_info({:listener, :connecting, _pid, info}, state) do
    emit(state, :connecting, info)
    noreply(state)
  end

  def handle_info({:listener, :reconnecting, _pid, info}, state) do
    emit(state, :reconnecting, info)
    noreply(state)
  end

  def handle_info({:listener, :transport_error, _pid, code}, state) do
    emit(state, :error, %{reason: {:transport, code}})

    # -404 on an encrypted packet: the server does not know our key. Forget it and make a new
    # one; the calls waiting for answers are queued again for the new key.
    if code == -404 and state.core != nil and state.handshake == nil do
      Logger.warning(
        "MTProto session #{state.id}: the server does not know the auth key; creating a new one"
      )

      Storage.delete(state.storage, state.dc_id)

      waiting =
        for {_id, %{tag: tag, request: req}} <- state.core.calls, not internal?(tag), do: {tag, req}

      state = %{state | core: nil, auth_key: nil, waiting_key: waiting ++ state.waiting_key}
      if state.listener, do: Listener.reconnect(state.listener)
      noreply(state)
    else
      noreply(state)
    end
  end

  def handle_info({:listener, :packets, _pid, packets}, state) do
    state = %{state | last_packet_at: System.system_time(:millisecond)}
    # Answers and updates go out once the snapshot info/1 reads shows them handled.
    Process.put(@deferred, [])
    salts = state.core && state.core.salts
    state = Enum.reduce(packets, state, &handle_packet/2)
    share_salts(state, salts)

    case Process.delete(@deferred) do
      [] ->
        noreply(state)

      sends ->
        # (Going idle, noreply/1 would publish the same snapshot again.)
        state = maybe_ack_timer(state)
        timeout = timeout(state)
        state = publish_info(state, true)
        for {pid, message} <- Enum.reverse(sends), do: send(pid, message)
        {:noreply, state, timeout}
    end
  end

  def handle_info(:timeout, state), do: noreply(flush(state))
  def handle_info(:flush, state), do: noreply(flush(%{state | held?: false}))

  def handle_info(:flush_acks, state), do: noreply(flush(%{state | ack_timer: nil}))

  def handle_info(:ping, %{core: nil} = state), do: noreply(%{state | ping_timer: nil})

  def handle_info(:ping, state) do
    <<ping_id::signed-64>> = :crypto.strong_rand_bytes(8)
    delay = state.ping_interval
    request = %{_: :ping_delay_disconnect, ping_id: ping_id, disconnect_delay: div(delay * 5, 4000)}
    core = state.core |> Core.prune() |> Core.internal_call(request, :keepalive)
    noreply(schedule_ping(%{state | core: core, ping_timer: nil}))
  end

  def handle_info(:handshake_timeout, %{handshake: nil} = state), do: noreply(state)

  def handle_info(:handshake_timeout, state) do
    emit(state, :error, %{reason: :handshake_timeout})
    noreply(cancel_handshake(state))
  end

  def handle_info({:EXIT, _pid, reason}, state), do: {:stop, reason, state}
  def handle_info(_other, state), do: noreply(state)

  @impl true
  def terminate(reason, state) do
    emit(state, :closed, %{reason: reason})
    # Every caller still waiting is told, none is left hanging: also the parked ones and those
    # whose call is still in the mailbox.
    {parked, _} = Backpressure.take_parked(state.control.bp)

    tags =
      Enum.map(parked, &elem(&1, 1)) ++
        mailbox_calls() ++
        Enum.map(state.waiting_key, &elem(&1, 0)) ++
        if(state.core,
          do: for({_, %{tag: t}} <- state.core.calls, not internal?(t), do: t),
          else: []
        )

    for tag <- tags, do: reply_to(tag, {:error, :closed})
    :ok
  end

  ## Handshake

  defp environment(opts), do: Keyword.get(opts, :environment, :production)

  # Test datacenters are numbered from 10,000 in p_q_inner_data_dc.
  defp handshake_dc_id(opts) do
    dc_id = Keyword.fetch!(opts, :dc_id)
    if environment(opts) == :test, do: 10_000 + dc_id, else: dc_id
  end

  defp start_handshake(state) do
    opts = options(state)

    {:send, body, hs} =
      Handshake.start(
        rsa_keys: Keyword.get_lazy(opts, :rsa_keys, fn -> DC.rsa_keys(environment(opts)) end),
        dc_id: Keyword.get_lazy(opts, :handshake_dc_id, fn -> handshake_dc_id(opts) end),
        temp: opts[:temp_key]
      )

    state = %{
      state
      | handshake: hs,
        handshake_started_at: System.monotonic_time(:microsecond),
        handshake_steps: [],
        handshake_timer: Process.send_after(self(), :handshake_timeout, @handshake_timeout)
    }

    step_done(state, :req_pq_multi)
    send_plain(state, body)
  end

  defp handshake_packet(state, packet) do
    with {:ok, _msg_id, body} <- Message.decode_plain(packet),
         {:send, body, hs} <- Handshake.step(state.handshake, body) do
      step_done(
        state,
        if(Handshake.stage(hs) == :server_dh, do: :req_DH_params, else: :set_client_DH_params)
      )

      send_plain(%{state | handshake: hs}, body)
    else
      {:ok, result} ->
        finish_handshake(state, result)

      {:error, reason} ->
        Logger.warning("MTProto session #{state.id}: handshake failed: #{inspect(reason)}")
        emit(state, :error, %{reason: {:handshake, reason}})
        notify_client(state, {:error, {:handshake, reason}})
        cancel_handshake(state)
    end
  end

  defp finish_handshake(state, result) do
    us = System.monotonic_time(:microsecond) - state.handshake_started_at

    key =
      AuthKey.new(result.auth_key, state.dc_id,
        kind: result.kind,
        server_salt: result.server_salt,
        expires_at: result.expires_at
      )

    Storage.put(state.storage, key)
    state = clear_handshake(state)
    state = install_key(state, key, true, result.time_offset)
    emit(state, :auth_key_generated, %{duration_us: us, auth_key_id: key.id})
    notify_client(state, :auth_key_generated)
    state |> fetch_salts() |> schedule_ping()
  end

  defp step_done(state, step), do: emit(state, :handshake_step, %{step: step})

  defp cancel_handshake(state) do
    state = clear_handshake(state)
    if state.listener, do: Listener.reconnect(state.listener)
    state
  end

  defp clear_handshake(state) do
    if state.handshake_timer, do: Process.cancel_timer(state.handshake_timer)
    %{state | handshake: nil, handshake_timer: nil}
  end

  defp send_plain(state, body) do
    {msg_id, state} = plain_msg_id(state)
    write(state, [Message.encode_plain(msg_id, body)])
  end

  # Frames and sends on the current connection; without one the packets are dropped (a new
  # connection resends what is unanswered). A refused write ends the connection.
  defp write(%{writer: nil} = state, _packets), do: state

  defp write(state, packets) do
    case Writer.write(state.writer, packets) do
      {:ok, writer, bytes} ->
        %{state | writer: writer, wire_bytes_out: state.wire_bytes_out + bytes}

      {:error, reason, writer} ->
        if state.listener, do: Listener.write_failed(state.listener, Writer.socket(writer), reason)
        %{state | writer: nil}
    end
  end

  defp plain_msg_id(state) do
    offset = if state.core, do: state.core.time_offset_ns, else: 0
    id = MessageId.next(:client, state.plain_last_msg_id, offset)
    {id, %{state | plain_last_msg_id: id}}
  end

  ## Keys and packets

  # A new key means a new Core (new MTProto session); calls waiting for a key are queued.
  defp install_key(state, key, synced?, offset \\ 0)
  defp install_key(state, nil, _synced?, _offset), do: state

  defp install_key(state, %AuthKey{} = key, synced?, offset) do
    calls =
      if state.core,
        do: for({_, %{tag: t, request: r}} <- state.core.calls, not internal?(t), do: {t, r}),
        else: []

    core =
      Core.new(key.key,
        salt: key.server_salt,
        dc_id: state.dc_id,
        time_offset: offset,
        time_synced?: synced?,
        init: init_fields(options(state))
      )

    pending = Enum.reverse(state.waiting_key) ++ calls

    {core, failed} =
      Enum.reduce(pending, {core, []}, fn {tag, request}, {core, failed} ->
        case Core.call(core, request, tag) do
          {:ok, _id, core} ->
            {core, failed}

          {:error, reason} ->
            reply_to(tag, {:error, reason})
            {core, [tag | failed]}
        end
      end)

    state = %{state | auth_key: key, core: core, waiting_key: []}
    Enum.reduce(failed, state, &finished(&2, &1))
  end

  defp init_fields(opts) do
    %{
      api_id: Keyword.get(opts, :api_id) || Application.get_env(:mtproto, :api_id, 0),
      device_model: Keyword.get(opts, :device_model, "BEAM"),
      app_version: Keyword.get(opts, :app_version, "mtproto 0.1.0"),
      system_lang_code: Keyword.get(opts, :lang_code, "en"),
      lang_code: Keyword.get(opts, :lang_code, "en")
    }
    |> Map.merge(Map.new(Keyword.get(opts, :init_connection, [])))
  end

  defp handle_packet(packet, %{handshake: hs} = state) when hs != nil,
    do: handshake_packet(state, packet)

  defp handle_packet(_packet, %{core: nil} = state), do: state

  defp handle_packet(packet, state) do
    {events, core} = Inbound.handle_packet(state.core, packet)
    Enum.reduce(events, %{state | core: core}, &handle_event/2)
  end

  # Answers to send/3 go to the client: the result itself, or {:error, msg_id-less reason}.
  defp handle_event({:reply, {:client, _} = tag, {:ok, result}}, state) do
    notify_client(state, result)
    finished(state, tag)
  end

  defp handle_event({:reply, {:client, _} = tag, {:error, reason}}, state) do
    notify_client(state, {:error, reason})
    finished(state, tag)
  end

  defp handle_event({:reply, tag, reply}, state) do
    reply_to(tag, reply)
    finished(state, tag)
  end

  defp handle_event({:update, term}, state) do
    notify_client(state, term)
    state
  end

  defp handle_event({:session_created, term}, state) do
    emit(state, :session_created, %{unique_id: term.unique_id})

    emit(state, :session_reset, %{
      reason: :new_session_created,
      mtproto_session_id: state.core.session_id
    })

    notify_client(state, term)
    state
  end

  defp handle_event({:session_reset, reason}, state) do
    emit(state, :session_reset, %{reason: reason, mtproto_session_id: state.core.session_id})
    state
  end

  defp handle_event({:dropped, reason}, state) do
    emit(state, :dropped, %{reason: reason})
    state
  end

  defp handle_event({kind, value}, state) when kind in [:clock_fixed, :salt_changed] do
    emit(state, kind, %{value: value})
    state
  end

  ## Output

  defp queued(state) do
    n = state.queued_since_flush + 1
    state = %{state | queued_since_flush: n}
    if n >= @flush_now, do: flush(%{state | held?: false}), else: state
  end

  defp flush(%{core: nil} = state), do: state
  defp flush(%{connected?: false} = state), do: state
  defp flush(%{handshake: hs} = state) when hs != nil, do: state
  defp flush(%{held?: true} = state), do: state

  defp flush(state) do
    if Core.pending_output?(state.core) do
      {packets, core} = Core.flush(state.core)
      if state.ack_timer, do: Process.cancel_timer(state.ack_timer)
      write(%{state | core: core, queued_since_flush: 0, ack_timer: nil}, packets)
    else
      state
    end
  end

  defp fetch_salts(%{core: nil} = state), do: state
  defp fetch_salts(state), do: %{state | core: Inbound.maybe_fetch_salts(state.core)}

  defp schedule_ping(%{ping_timer: nil} = state) do
    %{
      state
      | ping_timer: Process.send_after(self(), :ping, state.ping_interval)
    }
  end

  defp schedule_ping(state), do: state

  # Flush when the mailbox is empty; acknowledgments alone wait a little for company.
  # A snapshot for info/1 when going idle (not when a flush follows at once).
  defp noreply(state) do
    state = maybe_ack_timer(state)
    timeout = timeout(state)
    {:noreply, if(timeout == 0, do: state, else: publish_info(state)), timeout}
  end

  # Whoever gets a reply sees its effect in info/1.
  defp reply(reply, state) do
    state = maybe_ack_timer(state)
    {:reply, reply, publish_info(state, true), timeout(state)}
  end

  defp timeout(%{held?: true}), do: :infinity

  defp timeout(%{core: core, connected?: true, handshake: nil}) when core != nil do
    if :queue.is_empty(core.outbox), do: :infinity, else: 0
  end

  defp timeout(_state), do: :infinity

  defp maybe_ack_timer(%{core: %{acks: [_ | _]}, ack_timer: nil, connected?: true} = state) do
    delay = if state.core.ack_count >= 8192, do: 0, else: @ack_delay
    %{state | ack_timer: Process.send_after(self(), :flush_acks, delay)}
  end

  defp maybe_ack_timer(state), do: state

  ## Info and notifications

  defp info(state), do: snapshot_map(state.id, static_info(options(state)), snapshot(state))

  @doc false
  # What info/1 shows that does not change, from the session's options (for the reader,
  # MTProto.Session.Info): `{dc_id, kind, parent, queue limits}`.
  @spec static_info(keyword()) :: tuple()
  def static_info(opts) do
    {Keyword.get(opts, :dc_id), Keyword.get(opts, :kind, :main), Keyword.get(opts, :parent),
     Backpressure.limits_of(opts)}
  end

  # What a session without a key shows of its core.
  @no_core %{
    session_id: nil,
    calls: %{},
    sent: %{},
    outbox: {[], []},
    ack_count: 0,
    salts: %MTProto.Session.Salts{},
    time_offset_ns: 0,
    time_synced?: false,
    connection_inited?: false,
    stats: nil
  }

  # What info/1 shows that changes, as one flat tuple: cheap to build and publish on every
  # idle moment, and small in the session's registry row (MTProto.Session.Info; the reader
  # makes the map with snapshot_map/3, the rest coming from the row's key and options).
  defp snapshot(state) do
    bp = state.control.bp
    core = state.core || @no_core

    {state.connected?, state.handshake != nil, state.auth_key && state.auth_key.id,
     state.reconnects, state.last_packet_at, length(state.waiting_key),
     Control.draining?(state.control), bp.count, bp.bytes, bp.parked_count, state.wire_bytes_out,
     core.session_id, map_size(core.calls), map_size(core.sent), :queue.len(core.outbox),
     core.ack_count, core.salts.valid_until, Salts.future_count(core.salts), core.time_offset_ns,
     core.time_synced?, core.connection_inited?, stats_tuple(core.stats)}
  end

  # (The stats map's keys would be copied into the registry row with every publication.)
  defp stats_tuple(%{} = s),
    do: {s.packets_out, s.packets_in, s.bytes_out, s.bytes_in, s.resent, s.dropped}

  defp stats_tuple(nil), do: nil

  defp stats_map({packets_out, packets_in, bytes_out, bytes_in, resent, dropped}) do
    %{
      packets_out: packets_out,
      packets_in: packets_in,
      bytes_out: bytes_out,
      bytes_in: bytes_in,
      resent: resent,
      dropped: dropped
    }
  end

  defp stats_map(nil), do: nil

  @doc false
  # The info map from a published snapshot (called by the reader, MTProto.Session.Info).
  @spec snapshot_map(integer(), tuple(), tuple()) :: map()
  def snapshot_map(
        id,
        {dc_id, kind, parent, limits},
        {connected?, handshaking?, key_id, reconnects, last, waiting, draining?, q_count, q_bytes,
         q_parked, wire_bytes_out, session_id, calls, sent, queued, acks, salt_until, future,
         offset_ns, synced?, inited?, stats}
      ) do
    queue = Backpressure.info(q_count, q_bytes, q_parked, limits)

    # One literal (a flat map of under 33 keys): the cheapest map to build for every read.
    %{
      id: id,
      dc_id: dc_id,
      kind: kind,
      parent: parent,
      connected?: connected?,
      handshaking?: handshaking?,
      auth_key_id: key_id,
      reconnects: reconnects,
      last_packet_at: last,
      pending_calls: calls + waiting,
      queue: queue,
      full?: queue.full?,
      draining?: draining?,
      mtproto_session_id: session_id,
      unacknowledged: sent,
      queued: queued,
      acks_pending: acks,
      salt_valid_until: salt_until,
      future_salts: future,
      time_offset: div(offset_ns, 1_000_000_000),
      time_synced?: synced?,
      connection_inited?: inited?,
      wire_bytes_out: wire_bytes_out,
      stats: stats_map(stats)
    }
  end

  defp notify_client(%{client: pid, id: id}, message) when is_pid(pid),
    do: deliver(pid, {:mtproto, id, message})

  defp notify_client(_state, _message), do: :ok

  defp emit(state, name, meta) do
    ids = %{session_id: state.id, dc_id: state.dc_id, kind: state.control.kind}
    # A client told of an event and reading info/1 then sees the state the event left.
    if name in @client_events, do: publish_info(state, true)
    Lifecycle.emit(ids, state.control.notify? && state.client, name, meta)
  end

  # The session's options live once, in the registry (read when a key or handshake needs them).
  defp options(state), do: MTProto.Session.Supervisor.options(state.id)

  defp internal?({:internal, _, _}), do: true
  defp internal?(_), do: false

  # A caller waits on its alias; send/3's calls ({:client, ref}) and the session's own do not.
  defp reply_to(tag, reply) when is_reference(tag), do: deliver(tag, {tag, reply})
  defp reply_to(_tag, _reply), do: :ok

  # Sends now, or after the packets being handled (see handle_info({:listener, :packets, ...})).
  defp deliver(dest, message) do
    case Process.get(@deferred) do
      nil -> send(dest, message)
      sends -> Process.put(@deferred, [{dest, message} | sends])
    end

    :ok
  end

  ## Control: the queue bound, drain, info snapshots (MTProto.Session.Control)

  # Whether a new request may go: refused while draining; a send is refused and a call parked
  # while the queue is full.
  defp accepting(%{control: control}, kind) do
    cond do
      Control.draining?(control) -> {:error, :closing}
      not Backpressure.full?(control.bp) -> :ok
      kind == :send -> {:error, :queue_full}
      true -> :park
    end
  end

  # Waiting for a key: counted by its encoded size (a request that cannot be encoded is
  # refused now, as it would be once the key is there).
  defp accept_call(%{core: nil} = state, tag, request, _flush?) do
    case TL.encode(request) do
      {:ok, body} ->
        state = update_bp(state, &Backpressure.admit(&1, tag, byte_size(body)))
        %{state | waiting_key: [{tag, request} | state.waiting_key]}

      {:error, reason} ->
        reply_to(tag, {:error, {:encode, reason}})
        state
    end
  end

  defp accept_call(state, tag, request, flush?) do
    case Core.call(state.core, request, tag) do
      {:ok, _msg_id, core} ->
        {:value, %{body: body}} = :queue.peek_r(core.outbox)
        state = update_bp(state, &Backpressure.admit(&1, tag, byte_size(body)))
        queued(%{state | core: core, held?: not flush?})

      {:error, reason} ->
        reply_to(tag, {:error, reason})
        state
    end
  end

  # A method given to send/3 is tracked like a call (its answer goes to the client): count it.
  defp admit_sent(state, msg_id) do
    case state.core.calls do
      %{^msg_id => %{tag: tag}} ->
        {:value, %{body: body}} = :queue.peek_r(state.core.outbox)
        update_bp(state, &Backpressure.admit(&1, tag, byte_size(body)))

      _ ->
        state
    end
  end

  defp update_bp(state, fun), do: %{state | control: %{state.control | bp: fun.(state.control.bp)}}

  # A request finished (answered or failed): its room goes to the parked calls, in order.
  defp finished(state, tag) do
    if Backpressure.admitted?(state.control.bp, tag) do
      state |> update_bp(&Backpressure.release(&1, tag)) |> unpark() |> maybe_drained()
    else
      state
    end
  end

  defp cancelled(state, tag) do
    state
    |> update_bp(&Backpressure.cancel(&1, tag, fn call -> elem(call, 1) end))
    |> update_bp(&Backpressure.release(&1, tag))
    |> unpark()
  end

  defp unpark(state) do
    case Backpressure.unpark(state.control.bp) do
      {:ok, {:call, tag, request, flush?}, bp} ->
        state = %{state | control: %{state.control | bp: bp}}
        unpark(accept_call(state, tag, request, flush?))

      :none ->
        state
    end
  end

  defp maybe_drained(%{control: %{drain: %{from: from}, bp: bp}} = state)
       when from != nil and bp.count == 0 and bp.parked_count == 0,
       do: drained(state, :ok)

  defp maybe_drained(state), do: state

  # The drain is over (the caller, MTProto.Session.close/2, then stops the session); the session
  # keeps refusing new requests until then.
  defp drained(%{control: %{drain: %{from: from, timer: timer}}} = state, result)
       when from != nil do
    Process.cancel_timer(timer)
    GenServer.reply(from, result)
    %{state | control: %{state.control | drain: %{from: nil, timer: nil}}}
  end

  defp drained(state, _result), do: state

  defp publish_info(state, force? \\ false) do
    at = Info.publish(state.id, :handler, fn -> snapshot(state) end, state.control.info_at, force?)
    %{state | control: %{state.control | info_at: at}}
  end

  # Pending calls with their method and age (info(sid, calls: true)).
  defp calls_list(state) do
    now = System.monotonic_time(:millisecond)
    {parked, _} = Backpressure.take_parked(state.control.bp)

    sent =
      if state.core,
        do:
          for(
            {msg_id, %{tag: tag} = call} <- state.core.calls,
            not internal?(tag),
            do: %{
              msg_id: msg_id,
              method: call.method,
              age_ms: now - call.sent_at,
              state: if(Map.has_key?(state.core.sent, msg_id), do: :sent, else: :queued),
              acked?: call.acked?
            }
          ),
        else: []

    waiting =
      for {_tag, %{_: method}} <- state.waiting_key, do: %{method: method, state: :waiting_key}

    parked = for {:call, _tag, %{_: method}, _} <- parked, do: %{method: method, state: :parked}
    Enum.sort_by(sent, & &1.msg_id) ++ Enum.reverse(waiting) ++ parked
  end

  # Calls that reached the mailbox but will not be handled (the session is stopping).
  defp mailbox_calls do
    receive do
      {:call, tag, _request, _flush?} -> [tag | mailbox_calls()]
    after
      0 -> []
    end
  end

  # A main session passes new salts on to its media connections (MTProto.Session.Media).
  defp share_salts(%{core: %{salts: salts}, control: %{media: [_ | _] = media}}, before)
       when salts != before,
       do: Media.share_salts(media, salts)

  defp share_salts(_state, _before), do: :ok

  defp shared_salts(%{core: nil} = state, _salts), do: state
  defp shared_salts(state, nil), do: state
  defp shared_salts(state, salts), do: %{state | core: %{state.core | salts: salts}}

  defp emit_imported(state, source),
    do: emit(state, :auth_key_imported, %{source: source, auth_key_id: state.auth_key.id})
end
