# Issue 7 against the test datacenter: lifecycle events, info, flush/drain/close, backpressure,
# temporary disconnects, reset_session, media connections.
defmodule MTProto.SessionControlTest do
  use ExUnit.Case, async: false

  import MTProto.Test.SessionHelpers

  alias MTProto.{Event, Session, TestServer}

  @moduletag timeout: 120_000

  # help.getAppConfig(hash) answers with the same hash; the table counts runs per hash.
  setup do
    table = :ets.new(:runs, [:public, :set])

    server = start_supervised!({TestServer, handlers: counting_handlers(table)})
    %{server: server, runs: table}
  end

  defp async_calls(sid, range, timeout \\ 30_000),
    do: for(i <- range, do: Task.async(fn -> {i, app_config(sid, i, timeout)} end))

  defp wait_info(sid, fun, tries \\ 500) do
    {:ok, info} = Session.info(sid)

    cond do
      fun.(info) -> info
      tries == 0 -> flunk("info never matched: #{inspect(info)}")
      true -> Process.sleep(10) && wait_info(sid, fun, tries - 1)
    end
  end

  # The lifecycle events the client got so far, in order.
  defp client_events(sid, acc \\ []) do
    receive do
      {:mtproto_event, ^sid, name, _meta} -> client_events(sid, [name | acc])
    after
      0 -> Enum.reverse(acc)
    end
  end

  defp await_event(sid, name) do
    assert_receive {:mtproto_event, ^sid, ^name, meta}, 10_000
    meta
  end

  test "every lifecycle event, in order, to the client and as events, across a forced drop",
       %{server: server} do
    me = self()
    id = make_ref()

    Event.attach(id, [[:mtproto, :session]], fn [_, _, name], _, meta, _ ->
      if name in MTProto.Session.Lifecycle.client_events(), do: send(me, {:ev, name, meta})
    end)

    on_exit(fn -> Event.detach(id) end)

    # a slow backoff, so the fault is cleared before the session connects again
    sid = open(server, backoff_min: 400, backoff_max: 800)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
    assert {:ok, %{hash: 1}} = app_config(sid, 1)
    assert client_events(sid) == [:connecting, :connected, :auth_key_generated, :session_reset]

    TestServer.inject(server, {:drop_after, 1})
    task = Task.async(fn -> app_config(sid, 2) end)
    %{reason: reason} = await_event(sid, :disconnected)
    TestServer.clear_faults(server)
    assert reason != :requested
    assert {:ok, %{hash: 2}} = Task.await(task, 15_000)
    assert %{attempt: 1, delay: delay} = await_event(sid, :reconnecting)
    assert delay in 200..800
    await_event(sid, :connecting)
    assert %{transport: _, address: _} = await_event(sid, :connected)

    {:ok, %{id: main}} = Session.info(sid)
    assert :ok = Session.close(sid)
    assert %{reason: :shutdown, kind: :main} = await_event(sid, :closed)

    seen = for {name, meta} <- receive_all(:ev), meta.session_id == main, do: name

    assert seen == [
             :connecting,
             :connected,
             :auth_key_generated,
             :session_reset,
             :disconnected,
             :reconnecting,
             :connecting,
             :connected,
             :closed
           ]
  end

  defp receive_all(tag, acc \\ []) do
    receive do
      {^tag, name, meta} -> receive_all(tag, [{name, meta} | acc])
    after
      0 -> Enum.reverse(acc)
    end
  end

  test "an imported key is an event; client_events: false keeps the client out of it",
       %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    {:ok, key} = Session.export(sid)

    sid2 = open(server, auth_key: key, storage: nil)
    assert %{source: :option, auth_key_id: id} = await_event(sid2, :auth_key_imported)
    assert id == key.id
    await_event(sid2, :connected)

    sid3 = open(server, auth_key: key, storage: nil, client_events: false)
    assert {:ok, _} = app_config(sid3, 2)
    refute_received {:mtproto_event, ^sid3, _, _}
  end

  test "info: one map with the connection, queue and session fields; calls: true lists them",
       %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    info = wait_info(sid, &(&1.stats.packets_in > 0 and &1.queued == 0))

    for key <-
          [:id, :dc_id, :kind, :connected?, :reading?, :writing?, :address, :transport] ++
            [:socket, :stats, :pending_calls, :unacknowledged] ++
            [:queued, :queue, :full?, :draining?, :reconnects] ++
            [:salt_valid_until, :time_offset, :mtproto_session_id, :paused?],
        do: assert(Map.has_key?(info, key), "info has no #{key}")

    assert %{id: ^sid, dc_id: 2, kind: :main, connected?: true, reading?: true} = info
    assert %{full?: false, draining?: false, paused?: false, pending_calls: 0} = info

    assert %{bytes_in: bytes_in, bytes_out: bytes_out, last_chunk_at: at, connects: 1} = info.socket

    assert bytes_in > 0 and bytes_out > 0 and is_integer(at) and
             info.socket.send_buffer_bytes >= 0

    assert map_size(info) <= 32
    assert info.salt_valid_until > System.os_time(:second)

    TestServer.inject(server, {:delay, 300})
    tasks = async_calls(sid, 10..12)
    info = wait_info(sid, &(&1.queue.messages == 3))
    assert info.pending_calls >= 3
    assert {:ok, %{calls: calls}} = Session.info(sid, calls: true)
    calls = Enum.filter(calls, &(&1.method == :"help.getAppConfig"))
    assert length(calls) == 3
    assert Enum.all?(calls, &(is_integer(&1.age_ms) and &1.age_ms >= 0 and &1.state == :sent))
    for t <- tasks, do: assert({_, {:ok, _}} = Task.await(t))

    Session.close(sid)
    assert Session.info(sid) == {:error, :no_session}
  end

  test "close(:drain) refuses new calls and completes every pending one",
       %{server: server, runs: runs} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 300})
    tasks = async_calls(sid, 1..20)
    wait_info(sid, &(&1.queue.messages == 20))

    closer = Task.async(fn -> Session.close(sid, :drain) end)
    wait_info(sid, & &1.draining?)
    assert Session.close(sid, :drain) == {:error, :closing}
    assert app_config(sid, 99) == {:error, :closing}
    assert Session.send(sid, %{_: :ping, ping_id: 1}) == {:error, :closing}

    assert Task.await(closer, 10_000) == :ok
    results = Task.await_many(tasks, 10_000)
    assert for({i, {:ok, %{hash: h}}} <- results, h == i, do: i) == Enum.to_list(1..20)
    assert Enum.all?(1..20, &(runs(runs, &1) == 1))
    assert runs(runs, 99) == 0
    assert Session.info(sid) == {:error, :no_session}
  end

  test "a drain that times out closes anyway, and the rest are told :closed",
       %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 5_000})
    tasks = async_calls(sid, 1..5)
    wait_info(sid, &(&1.queue.messages == 5))
    assert Session.close(sid, {:drain, 100}) == {:error, :drain_timeout}
    assert Enum.all?(Task.await_many(tasks, 2_000), &match?({_, {:error, :closed}}, &1))
  end

  test "close(:now) answers every caller at once, none is left hanging", %{server: server} do
    sid = open(server, max_queue: 30)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 10_000})
    # 30 in flight, 10 parked behind the full queue
    tasks = async_calls(sid, 1..40, 60_000)
    wait_info(sid, &(&1.queue.messages == 30 and &1.queue.waiting == 10))
    t = System.monotonic_time(:millisecond)
    assert Session.close(sid, :now) == :ok
    results = Task.await_many(tasks, 5_000)
    assert System.monotonic_time(:millisecond) - t < 5_000
    assert length(results) == 40
    assert Enum.all?(results, &match?({_, {:error, :closed}}, &1))
  end

  test "the queue fills (messages), refuses send, parks calls, and recovers",
       %{server: server, runs: runs} do
    sid = open(server, max_queue: 5)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 400})
    tasks = async_calls(sid, 1..5)
    info = wait_info(sid, &(&1.queue.messages == 5))
    assert info.full? and info.queue.full?

    assert Session.send(sid, %{_: :ping, ping_id: 5}) == {:error, :queue_full}
    parked = Task.async(fn -> app_config(sid, 6, 10_000) end)
    wait_info(sid, &(&1.queue.waiting == 1))
    # a parked call whose caller gives up leaves the park
    assert app_config(sid, 7, 50) == {:error, :timeout}
    wait_info(sid, &(&1.queue.waiting == 1))

    assert {:ok, %{hash: 6}} = Task.await(parked, 10_000)
    assert Enum.all?(Task.await_many(tasks, 10_000), &match?({i, {:ok, %{hash: i}}}, &1))
    TestServer.clear_faults(server)

    info = wait_info(sid, &(&1.queue.messages == 0))
    assert %{full?: false, queue: %{waiting: 0, bytes: 0}} = info
    assert {:ok, _} = Session.send(sid, %{_: :ping, ping_id: 8})
    assert_receive {:mtproto, ^sid, %{_: :pong, ping_id: 8}}, 5_000
    assert runs(runs, 7) == 0
    assert Enum.all?(1..6, &(runs(runs, &1) == 1))
  end

  test "the queue is bounded in bytes too", %{server: server} do
    # help.getAppConfig(hash) is 8 bytes: five fill 40
    sid = open(server, max_queue_bytes: 40)
    # the first call (wrapped in initConnection) is larger than the bound: alone, it goes
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 300})
    tasks = async_calls(sid, 1..5)
    info = wait_info(sid, &(&1.queue.messages == 5))
    assert %{full?: true, queue: %{bytes: 40, max_bytes: 40}} = info
    assert Session.send(sid, %{_: :ping, ping_id: 1}) == {:error, :queue_full}
    assert Enum.all?(Task.await_many(tasks, 10_000), &match?({i, {:ok, %{hash: i}}}, &1))
    assert %{queue: %{bytes: 0}, full?: false} = wait_info(sid, &(&1.queue.messages == 0))
  end

  test "a temporary disconnect loses nothing; reconnect/1 ends it",
       %{server: server, runs: runs} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:delay, 200})
    before = async_calls(sid, 1..10)
    wait_info(sid, &(&1.queue.messages == 10 and &1.unacknowledged >= 10))
    assert :connected in client_events(sid)

    assert :ok = Session.disconnect(sid, temporary: true)
    assert %{reason: :requested} = await_event(sid, :disconnected)
    TestServer.clear_faults(server)
    during = async_calls(sid, 11..20)
    info = wait_info(sid, &(&1.queue.messages == 20))
    assert %{connected?: false, paused?: true, reading?: false} = info
    Process.sleep(300)
    assert {:ok, %{connected?: false}} = Session.info(sid)
    refute_received {:mtproto_event, ^sid, :connected, _}

    assert :ok = Session.reconnect(sid)
    await_event(sid, :connected)
    results = Task.await_many(before ++ during, 15_000)
    assert Enum.all?(results, &match?({i, {:ok, %{hash: i}}}, &1))
    assert Enum.all?(1..20, &(runs(runs, &1) == 1))
    assert {:ok, %{paused?: false, connected?: true}} = Session.info(sid)
  end

  test "reconnect/1 cuts a wait between attempts short", %{server: server} do
    sid = open(server, backoff_min: 10_000, backoff_max: 20_000)
    assert {:ok, _} = app_config(sid, 0)
    TestServer.inject(server, {:drop_after, 1})
    task = Task.async(fn -> app_config(sid, 1) end)
    await_event(sid, :disconnected)
    TestServer.clear_faults(server)
    assert %{delay: delay} = await_event(sid, :reconnecting)
    assert delay >= 5_000
    t = System.monotonic_time(:millisecond)
    assert :ok = Session.reconnect(sid)
    await_event(sid, :connected)
    assert {:ok, %{hash: 1}} = Task.await(task, 5_000)
    assert System.monotonic_time(:millisecond) - t < 5_000
  end

  test "disconnect(temporary: true, for: ms) comes back by itself", %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    assert :ok = Session.disconnect(sid, temporary: true, for: 100)
    await_event(sid, :disconnected)
    assert {:ok, %{hash: 1}} = app_config(sid, 1, 5_000)
    assert {:ok, %{connected?: true}} = Session.info(sid)
  end

  test "reset_session: a new MTProto session id, every pending call answered",
       %{server: server, runs: runs} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    {:ok, %{mtproto_session_id: old}} = Session.info(sid)
    TestServer.inject(server, {:delay, 200})
    tasks = async_calls(sid, 1..5)
    wait_info(sid, &(&1.queue.messages == 5))
    assert :session_reset in client_events(sid)
    assert :ok = Session.reset_session(sid)
    assert %{reason: :requested, mtproto_session_id: new} = await_event(sid, :session_reset)
    assert new != old
    assert Enum.all?(Task.await_many(tasks, 10_000), &match?({i, {:ok, %{hash: i}}}, &1))
    assert {:ok, %{mtproto_session_id: ^new}} = Session.info(sid)
    # Each caller got its one answer. A call the server had already run in the old session
    # runs again in the new one (a reset session resends what was not answered, as
    # MadelineProto's resetSession does), but no more than that.
    assert Enum.all?(1..5, &(runs(runs, &1) in 1..2)), inspect(for i <- 1..5, do: runs(runs, i))
  end

  test "send(..., flush: false) batches into one container; flush/1 sends it",
       %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    {:ok, %{stats: %{packets_out: p0}}} = Session.info(sid)

    for i <- 1..5, do: {:ok, _} = Session.send(sid, %{_: :ping, ping_id: i}, flush: false)
    assert {:ok, %{queued: 5, writing?: true}} = Session.info(sid)
    refute_receive {:mtproto, ^sid, %{_: :pong}}, 100
    assert :ok = Session.flush(sid)
    for i <- 1..5, do: assert_receive({:mtproto, ^sid, %{_: :pong, ping_id: ^i}}, 5_000)
    {:ok, %{stats: %{packets_out: p1}}} = Session.info(sid)
    assert p1 - p0 <= 2
  end

  test "media connections share the key and salt, have their own session id, close with main",
       %{server: server} do
    sid = open(server)
    assert {:ok, _} = app_config(sid, 0)
    {:ok, main} = wait_info(sid, &(&1.queued == 0)) |> then(&{:ok, &1})
    {:ok, key} = Session.export(sid)

    assert {:ok, media} = Session.open_media(sid)
    assert %{source: :option} = await_event(media, :auth_key_imported)
    assert {:ok, %{hash: 1}} = app_config(media, 1)
    {:ok, info} = Session.info(media)
    assert %{kind: :media, parent: ^sid, auth_key_id: key_id, dc_id: 2} = info
    assert key_id == key.id and info.mtproto_session_id != main.mtproto_session_id
    assert info.address == main.address
    refute_received {:mtproto_event, ^media, :auth_key_generated, _}
    assert TestServer.auth_key_ids(server) == [key.id]
    assert MTProto.Session.Media.list(sid) == [media]
    media_info = wait_info(media, &(&1.future_salts > 0))
    assert media_info.salt_valid_until == main.salt_valid_until

    # a salt the main session learns is passed on: the media connection is not refused for it
    me = self()
    id = make_ref()

    Event.attach(id, [[:mtproto, :session, :salt_changed]], fn _, _, meta, _ ->
      send(me, {:salt_changed, meta.session_id})
    end)

    on_exit(fn -> Event.detach(id) end)
    TestServer.inject(server, :rotate_salt)
    assert {:ok, %{hash: 2}} = app_config(sid, 2)
    assert_received {:salt_changed, ^sid}
    assert {:ok, %{hash: 3}} = app_config(media, 3)
    refute_received {:salt_changed, ^media}

    assert :ok = Session.close(sid)
    assert Session.info(media) == {:error, :no_session}
  end
end
