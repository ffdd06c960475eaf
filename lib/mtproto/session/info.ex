defmodule MTProto.Session.Info do
  @moduledoc """
  Session snapshots that `MTProto.Session.info/1` reads without waking any process.

  The handler and the listener each publish a snapshot of their state into the session's
  `MTProto.Registry` row (the handler's carries the bytes it wrote, since it writes; the
  listener's carries its socket, whose send buffer is read at `info/1` time). They publish
  when they go idle (their mailbox is empty), and at least every #{100} ms while busy, so a
  snapshot is current whenever the session is quiet and at most that old under load. Reading one is one table lookup and a map merge, so polling
  10,000 sessions every second costs no scheduling of theirs and no wake-up from hibernation
  (`bench/session_info_bench.exs` measures it). The snapshot of a process that has exited is
  not read, and the row goes with the session.
  """

  @max_age_ms 100

  @doc """
  Publishes `snapshot` as the calling process's (`role`'s) snapshot in the session's row
  when its mailbox is empty or the last one is older than #{@max_age_ms} ms (`force?`
  publishes anyway). Returns the time of the last publication, to pass back next time.
  """
  @spec publish(integer(), :handler | :listener, (() -> term()), integer(), boolean()) :: integer()
  def publish(session_id, role, snapshot_fun, last_at, force? \\ false) do
    now = System.monotonic_time(:millisecond)

    if force? or now - last_at >= @max_age_ms or
         Process.info(self(), :message_queue_len) == {:message_queue_len, 0} do
      MTProto.Registry.publish(session_id, role, snapshot_fun.())

      now
    else
      last_at
    end
  end

  @doc """
  The session's snapshot: the handler's map with the listener's `address`, `transport`,
  `reading?`, `paused?` and `socket` (`bytes_in`, `bytes_out` (the handler's count),
  `last_chunk_at`, `connects`, `send_buffer_bytes`), and `writing?` (output queued in the session or in the socket's send
  buffer). `:no_session` if there is no such session. (The map stays under 33 keys, a flat
  map, so building it is a cheap merge.)
  """
  @spec read(integer()) :: {:ok, map()} | {:error, :no_session}
  def read(session_id, ask? \\ true) do
    case MTProto.Registry.lookup(session_id) do
      # (The row names a handler that may have just exited.)
      {:ok, %{handler: pid, handler_snapshot: handler} = row} when is_tuple(handler) ->
        if Process.alive?(pid),
          do: {:ok, merge(session_id, row, handler)},
          else: {:error, :no_session}

      # A handler (re)starting has not published yet: ask it (it answers once its init is done).
      {:ok, %{handler: pid}} when is_pid(pid) and ask? ->
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

  # The listener's part: its snapshot, its settings from the options, the bytes the handler
  # wrote (it writes) and the socket's send buffer, read now.
  defp listener_part(
         options,
         {reading?, paused?, {connects, bytes_in, last_chunk_at}, socket},
         bytes_out
       ) do
    settings = MTProto.Session.Listener.settings(options)

    %{
      address: settings.address,
      transport: settings.framing,
      reading?: reading?,
      paused?: paused?,
      socket: %{
        connects: connects,
        bytes_in: bytes_in,
        last_chunk_at: last_chunk_at,
        bytes_out: bytes_out,
        send_buffer_bytes: MTProto.Session.Listener.send_buffer(socket)
      }
    }
  end

  @no_listener %{reading?: false, socket: %{send_buffer_bytes: 0}}

  defp merge(session_id, row, handler) do
    static = MTProto.Session.Handler.static_info(row.options)

    {bytes_out, handler} =
      session_id
      |> MTProto.Session.Handler.snapshot_map(static, handler)
      |> Map.pop(:wire_bytes_out)

    listener =
      case row do
        %{listener: pid, listener_snapshot: {_, _, _, _} = snapshot} when is_pid(pid) ->
          if Process.alive?(pid),
            do: listener_part(row.options, snapshot, bytes_out),
            else: @no_listener

        _ ->
          @no_listener
      end

    writing? = Map.get(handler, :queued, 0) > 0 or listener.socket.send_buffer_bytes > 0
    handler |> Map.merge(listener) |> Map.put(:writing?, writing?)
  end
end
