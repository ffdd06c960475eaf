defmodule MTProto.TestServer.Connection do
  @moduledoc """
  One client connection: owns the socket and its transport (framing detected from the first
  bytes), runs the handshake on unencrypted packets, decrypts the others with their auth key
  and hands them to the `MTProto.TestServer.Session` they name, then frames and writes what
  comes back. Anything this connection cannot make sense of closes it (after transport error
  -404 where the spec asks for one); no other connection notices.
  """

  use GenServer, restart: :temporary

  alias MTProto.{Crypto, Event, Message, MessageId, Transport}
  alias MTProto.TestServer.{AuthKeys, Faults, Handshake, Session, Shared}

  # An idle connection hibernates after this many ms.
  @hibernate_after 1000
  # The socket delivers this many chunks before it waits to be re-armed ({:tcp_passive, _}):
  # no socket option call per packet, and at most this many chunks queued unread.
  @active_chunks 16
  # ping_delay_disconnect delays are capped (Process.send_after takes at most 2^32 - 1 ms).
  @max_disconnect_delay 86_400

  @derive {Inspect, only: [:packets]}
  defstruct [
    :shared,
    :socket,
    :transport,
    :rng,
    :disconnect_timer,
    :number,
    # The auth key of the last encrypted packet (MTProto.TestServer.AuthKeys.fetch/3).
    :key_cache,
    # The sessions delivered to, monitored (MTProto.TestServer.Session.deliver/6).
    sessions: %{},
    over_limit: false,
    handshake: nil,
    packets: 0,
    last_plain_id: 0
  ]

  @doc false
  def start_link(%Shared{} = shared, socket), do: GenServer.start_link(__MODULE__, {shared, socket})

  @impl true
  def init({shared, socket}) do
    {:ok,
     %__MODULE__{
       shared: shared,
       socket: socket,
       transport: Transport.new(:detect, :server),
       number: :ets.update_counter(shared.config, :connections, 1, {:connections, 0}),
       handshake: Handshake.new()
     }}
  end

  # Closing: what was written (an answer, a transport error) must reach the client first. A
  # port closed by its owner's exit may drop data still queued in the driver; shutdown(write)
  # sends it, then the FIN.
  @impl true
  def terminate(_reason, %{socket: socket} = state) do
    :gen_tcp.shutdown(socket, :write)
    :gen_tcp.close(socket)
    framing = Transport.framing(state.transport)
    emit(state, [:connection, :closed], %{framing: framing, packets: state.packets})
  end

  @impl true
  def handle_info(:socket_ready, state) do
    :ok = :inet.setopts(state.socket, active: @active_chunks)

    peer =
      case :inet.peername(state.socket) do
        {:ok, peer} -> peer
        {:error, _} -> nil
      end

    emit(state, [:connection, :opened], %{peer: peer})
    {:noreply, %{state | over_limit: over_limit?(state.shared)}}
  end

  def handle_info({:tcp, socket, data}, %{socket: socket} = state) do
    case Transport.decode(state.transport, data) do
      {:ok, events, transport} ->
        state = %{state | transport: transport}

        case handle_events(events, state) do
          {:ok, state} ->
            {:noreply, state, @hibernate_after}

          {:close, state} ->
            {:stop, :normal, state}
        end

      {:error, _reason, transport} ->
        {:stop, :normal, %{state | transport: transport}}
    end
  end

  def handle_info({:tcp_passive, socket}, %{socket: socket} = state) do
    :inet.setopts(socket, active: @active_chunks)
    {:noreply, state, @hibernate_after}
  end

  def handle_info({:tcp_closed, socket}, %{socket: socket} = state), do: {:stop, :normal, state}
  def handle_info({:tcp_error, socket, _}, %{socket: socket} = state), do: {:stop, :normal, state}

  def handle_info({:session_out, packets}, state) do
    case write(state, packets) do
      {:ok, state} -> {:noreply, state}
      {:close, state} -> {:stop, :normal, state}
    end
  end

  # ping_delay_disconnect: close unless another one comes within the delay.
  def handle_info({:disconnect_after, seconds}, state) do
    if state.disconnect_timer, do: Process.cancel_timer(state.disconnect_timer)
    seconds = seconds |> max(0) |> min(@max_disconnect_delay)
    timer = Process.send_after(self(), :ping_delay_disconnect, seconds * 1000)
    {:noreply, %{state | disconnect_timer: timer}}
  end

  def handle_info(:ping_delay_disconnect, state), do: {:stop, :normal, state}

  # A session delivered to earlier is gone.
  def handle_info({:DOWN, _ref, :process, pid, _reason}, state),
    do: {:noreply, %{state | sessions: Session.forget_monitor(state.sessions, pid)}}

  # Idle for a while: shrink to the minimum until the next packet.
  def handle_info(:timeout, state), do: {:noreply, state, :hibernate}
  def handle_info(_other, state), do: {:noreply, state}

  ## packets

  defp handle_events([], state), do: {:ok, state}

  defp handle_events([event | rest], state) do
    case event do
      {:packet, packet} -> on_packet(packet, false, state)
      {:packet, packet, :quick_ack} -> on_packet(packet, true, state)
      _ -> {:close, state}
    end
    |> case do
      {:ok, state} -> handle_events(rest, state)
      {:close, state} -> {:close, state}
    end
  end

  # The faults are read once per packet.
  defp on_packet(packet, quick_ack, state) do
    state = %{state | packets: state.packets + 1}
    faults = Faults.snapshot(state.shared)

    cond do
      state.over_limit ->
        transport_error(state, -429, :too_many_connections)

      code = faults.transport_error ->
        transport_error(state, code, :fault)

      true ->
        case drop_randomly(state, faults) do
          {true, state} ->
            {:close, state}

          {false, state} ->
            with {:ok, state} <- dispatch(packet, quick_ack, faults, state),
                 do: maybe_drop_after(state, faults)
        end
    end
  end

  # Beyond :max_connections (this one counted), the first packet gets -429 (the framing must be
  # known to send it).
  defp over_limit?(%Shared{max_connections: nil}), do: false

  defp over_limit?(%Shared{max_connections: max, conns_sup: sup}),
    do: DynamicSupervisor.count_children(sup).active > max

  defp maybe_drop_after(state, faults) do
    case faults.drop_after do
      n when is_integer(n) and state.packets >= n -> {:close, state}
      _ -> {:ok, state}
    end
  end

  # Each connection draws from its own generator, seeded from the fault's seed and the
  # connection's number, so a run is reproducible when clients connect in the same order.
  defp drop_randomly(state, faults) do
    case faults.drop_random do
      {p, seed} ->
        rng = state.rng || :rand.seed_s(:exsss, {seed, state.number, 0})
        {x, rng} = :rand.uniform_s(rng)
        {x < p, %{state | rng: rng}}

      nil ->
        {false, state}
    end
  end

  # Handshake messages are unencrypted: a quick-ack request on them has no token to answer with.
  defp dispatch(<<0::64, _::binary>> = packet, _quick_ack, faults, state) do
    with {:ok, msg_id, body} <- Message.decode_plain(packet),
         true <- MessageId.valid_parity?(msg_id, :client) || {:error, :bad_msg_id},
         {:reply, answer, hs} <- handshake_step(state, body) do
      state = %{state | handshake: hs}

      id =
        MessageId.next(
          :server_response,
          state.last_plain_id,
          Faults.skew(faults) * 1_000_000_000
        )

      write(%{state | last_plain_id: id}, [Message.encode_plain(id, answer)])
    else
      {:error, reason} -> transport_error(state, -404, reason)
    end
  end

  defp dispatch(<<key_id::little-signed-64, _::binary>> = packet, quick_ack, faults, state) do
    with {:ok, key, cache} <-
           AuthKeys.fetch(state.shared, key_id, state.key_cache) |> or_error(:unknown_auth_key),
         state = %{state | key_cache: cache},
         {:ok, plaintext, token} <- Crypto.decrypt_message_quick_ack(key.key, :client, packet),
         {:ok, message} <- Message.decode_plaintext(plaintext),
         {:ok, state} <- maybe_quick_ack(state, quick_ack, token) do
      case Session.deliver(state.shared, key, message, faults, state.sessions) do
        {{:ok, packets}, sessions} -> write(%{state | sessions: sessions}, packets)
        {:close, sessions} -> {:close, %{state | sessions: sessions}}
      end
    else
      {:close, state} -> {:close, state}
      {:error, reason} -> transport_error(state, -404, reason)
    end
  end

  defp dispatch(_short, _quick_ack, _faults, state),
    do: transport_error(state, -404, :short_packet)

  defp or_error(:error, reason), do: {:error, reason}
  defp or_error(ok, _reason), do: ok

  # The quick ack goes out as soon as the packet is known good, before any answer.
  defp maybe_quick_ack(state, false, _token), do: {:ok, state}

  defp maybe_quick_ack(state, true, token) do
    {frame, transport} = Transport.encode_quick_ack(state.transport, token)

    case :gen_tcp.send(state.socket, frame) do
      :ok -> {:ok, %{state | transport: transport}}
      {:error, _} -> {:close, state}
    end
  end

  defp handshake_step(state, body) do
    case Handshake.step(state.handshake, body, state.shared) do
      {:done, answer, key, hs} ->
        emit(state, [:auth_key, :created], %{auth_key_id: key.id, temp: key.expires_at != nil})
        {:reply, answer, hs}

      other ->
        other
    end
  end

  # [:mtproto, :test_server | name] with the server (its pid) in the metadata.
  defp emit(state, name, meta),
    do: Event.emit([:mtproto, :test_server | name], %{}, Map.put(meta, :server, state.shared.core))

  defp transport_error(state, code, reason) do
    emit(state, [:transport_error], %{code: code, reason: reason})
    {frame, transport} = Transport.encode_transport_error(state.transport, code)
    :gen_tcp.send(state.socket, frame)
    {:close, %{state | transport: transport}}
  end

  defp write(state, []), do: {:ok, state}

  defp write(state, packets) do
    {frames, transport} =
      Enum.map_reduce(packets, state.transport, fn packet, t -> Transport.encode(t, packet) end)

    state = %{state | transport: transport}

    case :gen_tcp.send(state.socket, frames) do
      :ok -> {:ok, state}
      {:error, _} -> {:close, state}
    end
  end
end
