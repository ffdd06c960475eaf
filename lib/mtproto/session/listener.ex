defmodule MTProto.Session.Listener do
  @moduledoc """
  Owns a session's socket: connects (after `init/1` returns), deframes incoming bytes
  (`{active, 8}`) and hands packets to the handler. The handler writes: on each connection it
  gets a writer (`{socket, transport}`, see `MTProto.Session.Writer`) and frames and sends its
  packets itself, so a call's way out crosses no process (the transport's encoding and
  decoding halves may be used by two processes). When the connection drops or cannot be made
  it reconnects with a randomised exponential backoff (`:backoff_min`..`:backoff_max` ms, reset by a connection that
  delivered a packet).

  Messages to the handler: `{:listener, :connecting, pid, info}`,
  `{:listener, :connected, pid, info, writer}`,
  `{:listener, :packets, pid, [packet]}`, `{:listener, :disconnected, pid, reason}`,
  `{:listener, :transport_error, pid, code}`.
  """

  use GenServer, restart: :permanent
  require Logger

  alias MTProto.{Registry, Transport}
  alias MTProto.Session.Info

  @connect_timeout 10_000

  # The socket's receive buffer (`:inet` `buffer`): the driver holds one of this size while
  # the socket waits for data, so a quiet session waits with a smaller one than the default
  # (the packets of a quiet session fit: acks, pongs, salts, small results and updates). A
  # read that fills it switches to the default size until a read leaves nothing behind. (A
  # larger buffer, once used, stays with the socket until its next read, so the busy size
  # is not larger than the default: a quiet session must not keep one.)
  @quiet_buffer 768
  @busy_buffer 1460
  # The socket delivers this many reads before it must be re-armed ({active, N}). Re-arming
  # makes the driver try a read at once, which takes a receive buffer it then holds while
  # the socket waits: with `active: :once` every quiet session held one (0.8 KiB of 10 KiB).
  # With 8, one session in eight does. Larger N was slower on loopback against the test
  # datacenter (sequential calls ~130-200 us instead of ~85 with 16 or 32; 2, 4 and 8 were
  # as fast as :once, in interleaved runs): the cause was not established, the figure was.
  @active_n 8

  # Static settings (address, framing, backoff) are read from the session's options when
  # connecting: an idle listener's hibernated heap is this state only.
  defstruct [
    :session_id,
    :handler,
    :socket,
    :transport,
    attempt: 0,
    buffer: 0,
    got_packet?: false,
    paused?: false,
    info_at: -1_000_000,
    stats: {0, 0, nil}
  ]

  @doc false
  def start_link(session_id),
    do: MTProto.Session.Supervisor.start_child_link(__MODULE__, session_id)

  @doc """
  The handler's write on `socket` failed: drops that connection (if it is still the current
  one) and connects again.
  """
  @spec write_failed(pid(), port(), term()) :: :ok
  def write_failed(listener, socket, reason),
    do: GenServer.cast(listener, {:write_failed, socket, reason})

  @doc "Drops the connection and connects again."
  @spec reconnect(pid()) :: :ok
  def reconnect(listener), do: GenServer.cast(listener, :reconnect)

  @doc """
  Drops the connection and stays disconnected (a temporary disconnect) until `reconnect/1`.
  """
  @spec pause(pid()) :: :ok
  def pause(listener), do: GenServer.cast(listener, :pause)

  @doc """
  Connects now: ends a pause, cuts a backoff wait short, or drops the connection and
  connects again (`MTProto.Session.reconnect/1`).
  """
  @spec connect_now(pid()) :: :ok
  def connect_now(listener), do: GenServer.cast(listener, :connect_now)

  @doc "Socket state for `MTProto.Session.info/1`."
  @spec info(pid()) :: map()
  def info(listener), do: GenServer.call(listener, :info)

  @impl true
  def init(opts) do
    session_id = Keyword.fetch!(opts, :session_id)
    :ok = Registry.register(session_id, :listener)
    MTProto.Session.Supervisor.forget_ancestors()

    # (Updating the default struct keeps its keys in the literal area, off the heap.)
    state = %{
      %__MODULE__{}
      | session_id: session_id,
        handler: Registry.whereis(session_id, :handler)
    }

    {:ok, publish_info(state, true), {:continue, :connect}}
  end

  @impl true
  def handle_continue(:connect, state), do: {:noreply, connect(state)}

  @impl true
  def handle_info(:connect, %{paused?: true} = state), do: {:noreply, state}
  # A backoff timer left from before a reconnect/1 that connected already.
  def handle_info(:connect, %{socket: socket} = state) when socket != nil, do: {:noreply, state}
  def handle_info(:connect, state), do: {:noreply, connect(state)}

  def handle_info({:tcp, socket, data}, %{socket: socket} = state) do
    {connects, bytes_in, _last_chunk_at} = state.stats
    stats = {connects, bytes_in + byte_size(data), System.system_time(:millisecond)}
    state = %{state | stats: stats}

    case Transport.decode(state.transport, data) do
      {:ok, events, transport} ->
        state = %{state | transport: transport}
        packets = for {:packet, p} <- events, do: p
        for {:error, {:transport, code}} <- events, do: notify(state, :transport_error, code)
        if packets != [], do: notify(state, :packets, packets)
        state = rearm(state, byte_size(data))
        {:noreply, publish_info(%{state | got_packet?: state.got_packet? or packets != []})}

      {:error, reason, _transport} ->
        {:noreply, disconnect(state, {:framing, reason})}
    end
  end

  # {active, N} ran out: N more.
  def handle_info({:tcp_passive, socket}, %{socket: socket} = state) do
    :inet.setopts(socket, active: @active_n)
    {:noreply, state}
  end

  def handle_info({:tcp_closed, socket}, %{socket: socket} = state),
    do: {:noreply, disconnect(state, :closed)}

  def handle_info({:tcp_error, socket, reason}, %{socket: socket} = state),
    do: {:noreply, disconnect(state, reason)}

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  def handle_cast({:write_failed, socket, reason}, %{socket: socket} = state) when socket != nil,
    do: {:noreply, disconnect(state, reason)}

  def handle_cast({:write_failed, _old_socket, _reason}, state), do: {:noreply, state}

  # Disconnected (a pause, or waiting between attempts): the session's own reconnects wait;
  # connect_now/1 is the one that does not.
  def handle_cast(:reconnect, %{socket: nil} = state), do: {:noreply, state}
  def handle_cast(:reconnect, state), do: {:noreply, disconnect(state, :reconnect)}

  def handle_cast(:connect_now, %{socket: nil} = state),
    do: {:noreply, connect(%{state | paused?: false, attempt: 0})}

  def handle_cast(:connect_now, state), do: {:noreply, disconnect(state, :reconnect)}

  def handle_cast(:pause, state) do
    if state.socket do
      :gen_tcp.close(state.socket)
      notify(state, :disconnected, :requested)
    end

    {:noreply, publish_info(%{state | socket: nil, transport: nil, paused?: true}, true)}
  end

  @impl true
  def handle_call(:info, _from, state), do: {:reply, socket_info(state), state}

  defp socket_info(state) do
    {connects, bytes_in, last_chunk_at} = state.stats
    settings = current_settings(state)

    %{
      connects: connects,
      bytes_in: bytes_in,
      last_chunk_at: last_chunk_at,
      connected?: state.socket != nil,
      reading?: state.socket != nil,
      paused?: state.paused?,
      send_buffer_bytes: send_buffer(state.socket),
      address: settings.address,
      transport: settings.framing,
      reconnect_attempt: state.attempt
    }
  end

  @doc false
  # The listener's settings from the session's options (`nil` values for a session closing).
  @spec settings(keyword()) :: map()
  def settings(opts) when is_list(opts) do
    %{
      address: Keyword.get(opts, :address),
      framing: Keyword.get(opts, :transport, {:obfuscated, :padded_intermediate}),
      dc_id: Keyword.get(opts, :dc_id),
      backoff_min: Keyword.get(opts, :backoff_min, 200),
      backoff_max: Keyword.get(opts, :backoff_max, 30_000)
    }
  end

  defp current_settings(%__MODULE__{session_id: session_id}) do
    case Registry.options(session_id) do
      {:ok, opts} -> settings(opts)
      {:error, :no_session} -> settings([])
    end
  end

  @doc false
  # Bytes waiting in a socket's send buffer (0 without a socket).
  @spec send_buffer(port() | nil) :: non_neg_integer()
  def send_buffer(nil), do: 0

  def send_buffer(socket) do
    case :inet.getstat(socket, [:send_pend]) do
      {:ok, [send_pend: n]} -> n
      _ -> 0
    end
  end

  # The snapshot MTProto.Session.info/1 reads (see MTProto.Session.Info): the handler writes,
  # so what changes with writing (bytes out, the send buffer) is read when info/1 asks, and
  # the settings come from the options.
  defp publish_info(state, force? \\ false) do
    snapshot = fn ->
      {state.socket != nil, state.paused?, state.stats, state.socket}
    end

    at = Info.publish(state.session_id, :listener, snapshot, state.info_at, force?)
    %{state | info_at: at}
  end

  defp connect(state) do
    settings = current_settings(state)
    {host, port} = settings.address
    notify(state, :connecting, %{address: settings.address, attempt: state.attempt})

    case :gen_tcp.connect(
           host_arg(host),
           port,
           [:binary, active: false, nodelay: true, buffer: @quiet_buffer],
           @connect_timeout
         ) do
      {:ok, socket} ->
        transport = Transport.new(settings.framing, :client, transport_opts(settings))
        {start, transport} = Transport.start(transport)

        case :gen_tcp.send(socket, start) do
          :ok ->
            :inet.setopts(socket, active: @active_n)

            {connects, bytes_in, last_chunk_at} = state.stats

            state = %{
              state
              | socket: socket,
                buffer: @quiet_buffer,
                transport: transport,
                got_packet?: false,
                stats: {connects + 1, bytes_in, last_chunk_at}
            }

            writer = {socket, transport}
            info = %{address: settings.address, transport: settings.framing}
            if state.handler, do: send(state.handler, {:listener, :connected, self(), info, writer})
            publish_info(state, true)

          {:error, reason} ->
            :gen_tcp.close(socket)
            retry(state, reason)
        end

      {:error, reason} ->
        retry(state, reason)
    end
  end

  # The next reads use the small buffer if this read did not fill the one it had (nothing was
  # left waiting) and the large one if it did; the option is set only when that switches.
  defp rearm(state, read) do
    buffer = if read >= state.buffer, do: @busy_buffer, else: @quiet_buffer
    if buffer != state.buffer, do: :inet.setopts(state.socket, buffer: buffer)
    %{state | buffer: buffer}
  end

  defp transport_opts(%{dc_id: nil}), do: []
  defp transport_opts(%{dc_id: dc_id}) when dc_id in -0x8000..0x7FFF, do: [dc_id: dc_id]
  defp transport_opts(_), do: []

  defp host_arg(host) when is_binary(host), do: String.to_charlist(host)
  defp host_arg(host), do: host

  defp disconnect(state, reason) do
    if state.socket, do: :gen_tcp.close(state.socket)
    notify(state, :disconnected, reason)
    attempt = if state.got_packet?, do: 0, else: state.attempt
    retry(%{state | socket: nil, transport: nil, attempt: attempt}, reason)
  end

  # Randomised exponential backoff: a delay drawn from [d/2, d], d = min * 2^attempt <= max.
  # (The random draw does not use :rand, whose seed would stay in the process dictionary of
  # every listener that ever reconnected.)
  defp retry(state, reason) do
    %{backoff_min: backoff_min, backoff_max: backoff_max} = current_settings(state)
    d = min(backoff_max, backoff_min * Integer.pow(2, min(state.attempt, 20)))
    <<draw::32>> = :crypto.strong_rand_bytes(4)
    delay = div(d, 2) + rem(draw, div(d, 2) + 1)
    notify(state, :reconnecting, %{attempt: state.attempt + 1, delay: delay, reason: reason})
    Process.send_after(self(), :connect, delay)
    publish_info(%{state | attempt: state.attempt + 1}, true)
  end

  defp notify(%{handler: nil}, _kind, _data), do: :ok
  defp notify(%{handler: handler}, kind, data), do: send(handler, {:listener, kind, self(), data})
end
