defmodule MTProto.Session.Info do
  @moduledoc """
  Session snapshots that `MTProto.Session.info/1` reads without waking any process.

  The handler and the listener each publish a snapshot of their state as their
  `MTProto.Registry` value (the listener's comes with its socket and bytes-out counter: the
  handler writes, so bytes out and the send buffer are read at `info/1` time). They publish when they go idle (their mailbox is empty), and at least every
  #{100} ms while busy, so a snapshot is current whenever the session is quiet and at most
  that old under load. Reading one is two registry lookups and a map merge, so polling
  10,000 sessions every second costs no scheduling of theirs and no wake-up from hibernation
  (`bench/session_info_bench.exs` measures it). A process's entry goes with it, so a closed
  session has no stale snapshot.
  """

  @max_age_ms 100

  @doc """
  Publishes `snapshot` as the calling process's registry value under `{session_id, role}`
  when its mailbox is empty or the last one is older than #{@max_age_ms} ms (`force?`
  publishes anyway). Returns the time of the last publication, to pass back next time.
  """
  @spec publish(integer(), :handler | :listener, (() -> term()), integer(), boolean()) :: integer()
  def publish(session_id, role, snapshot_fun, last_at, force? \\ false) do
    now = System.monotonic_time(:millisecond)

    if force? or now - last_at >= @max_age_ms or
         Process.info(self(), :message_queue_len) == {:message_queue_len, 0} do
      Elixir.Registry.update_value(MTProto.Registry, {session_id, role}, fn _ -> snapshot_fun.() end)

      now
    else
      last_at
    end
  end

  @doc """
  The session's snapshot: the handler's map with the listener's `address`, `transport`,
  `reading?`, `paused?` and `socket` (`bytes_in`, `bytes_out`, `last_chunk_at`, `connects`,
  `send_buffer_bytes`), and `writing?` (output queued in the session or in the socket's send
  buffer). `:no_session` if there is no such session. (The map stays under 33 keys, a flat
  map, so building it is a cheap merge.)
  """
  @spec read(integer()) :: {:ok, map()} | {:error, :no_session}
  def read(session_id, ask? \\ true) do
    case Elixir.Registry.lookup(MTProto.Registry, {session_id, :handler}) do
      # (Registry drops a dead process's entry a moment after it died.)
      [{pid, handler}] when is_tuple(handler) ->
        if Process.alive?(pid), do: {:ok, merge(session_id, handler)}, else: {:error, :no_session}

      # A handler (re)starting has not published yet: ask it (it answers once its init is done).
      [{pid, nil}] when ask? ->
        try do
          GenServer.call(pid, :info)
          read(session_id, false)
        catch
          :exit, _ -> {:error, :no_session}
        end

      _ ->
        {:error, :no_session}
    end
  end

  # The handler writes to the socket: what writing changes is read now, not published.
  defp with_output(listener, socket, bytes_out) do
    %{
      listener
      | socket:
          Map.merge(listener.socket, %{
            bytes_out: :counters.get(bytes_out, 1),
            send_buffer_bytes: MTProto.Session.Listener.send_buffer(socket)
          })
    }
  end

  @no_listener %{reading?: false, socket: %{send_buffer_bytes: 0}}

  defp merge(session_id, handler) do
    listener =
      case Elixir.Registry.lookup(MTProto.Registry, {session_id, :listener}) do
        [{pid, {%{} = l, socket, bytes_out}}] ->
          if Process.alive?(pid), do: with_output(l, socket, bytes_out), else: @no_listener

        _ ->
          @no_listener
      end

    handler = MTProto.Session.Handler.snapshot_map(handler)
    writing? = Map.get(handler, :queued, 0) > 0 or listener.socket.send_buffer_bytes > 0
    handler |> Map.merge(listener) |> Map.put(:writing?, writing?)
  end
end
