defmodule MTProto.SessionTest do
  use ExUnit.Case, async: false

  import MTProto.Test.SessionHelpers

  import Bitwise

  alias MTProto.{Event, MessageId, RpcError, Session, TestServer}
  alias MTProto.Session.Seen

  @moduletag timeout: 300_000

  # The test's own handlers: the counting help.getAppConfig, and an RPC error.
  defp counting_server(extra_opts \\ [], id \\ TestServer) do
    table = :ets.new(:runs, [:public, :set])

    handlers =
      Map.put(counting_handlers(table), :"help.getPremiumPromo", fn _req, _ctx ->
        {:error, 420, "FLOOD_WAIT_7"}
      end)

    server =
      start_supervised!({TestServer, Keyword.merge([handlers: handlers], extra_opts)}, id: id)

    {server, table}
  end

  defp attach(events) do
    me = self()
    id = make_ref()
    Event.attach(id, events, fn name, _m, meta, _ -> send(me, {:event, name, meta}) end)
    on_exit(fn -> Event.detach(id) end)
  end

  test "creates a key, says so, and answers ping, help.getConfig and errors" do
    {server, _} = counting_server()
    sid = open(server)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
    assert {:ok, %{_: :pong, ping_id: 77}} = Session.call(sid, %{_: :ping, ping_id: 77})
    assert {:ok, %{_: :config, this_dc: _}} = Session.call(sid, %{_: :"help.getConfig"})

    assert {:error, %RpcError{code: 420, message: "FLOOD_WAIT_7"}} =
             Session.call(sid, %{_: :"help.getPremiumPromo"})

    assert {:ok, info} = Session.info(sid)
    assert info.connected? and info.connection_inited?
    assert info.pending_calls == 0
    assert [info.auth_key_id] == TestServer.auth_key_ids(server)
    assert {:ok, key} = Session.export(sid)
    assert key.id == info.auth_key_id and byte_size(key.key) == 256
    refute inspect(key) =~ Base.encode16(key.key)
  end

  test "10,000 calls through random drops and salt rotations: none lost, none run twice" do
    {server, table} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, -1)
    TestServer.inject(server, {:drop_random, 0.02, 42})
    attach([[:mtproto, :session, :disconnected], [:mtproto, :session, :salt_changed]])

    results =
      1..10_000
      |> Enum.chunk_every(100)
      |> Enum.with_index()
      |> Enum.flat_map(fn {chunk, n} ->
        if rem(n, 10) == 5, do: TestServer.inject(server, :rotate_salt)

        chunk
        |> Task.async_stream(fn i -> {i, app_config(sid, i, 120_000)} end,
          max_concurrency: 100,
          timeout: 130_000
        )
        |> Enum.map(fn {:ok, r} -> r end)
      end)

    TestServer.clear_faults(server)
    lost = for {i, r} <- results, not match?({:ok, %{hash: ^i}}, r), do: {i, r}
    runs = for i <- 1..10_000, do: :ets.lookup(table, i)
    duplicated = Enum.count(runs, &match?([{_, n}] when n > 1, &1))
    never_ran = Enum.count(runs, &(&1 == []))
    drops = count_events([:mtproto, :session, :disconnected])
    salts = count_events([:mtproto, :session, :salt_changed])

    IO.puts(
      "\n10,000 calls: #{drops} connection drops, #{salts} salt changes, " <>
        "#{length(lost)} lost, #{duplicated} duplicated"
    )

    assert lost == []
    assert duplicated == 0
    assert never_ran == 0
    assert drops > 0
    assert salts > 0
  end

  defp count_events(name, n \\ 0) do
    receive do
      {:event, ^name, _} -> count_events(name, n + 1)
    after
      0 -> n
    end
  end

  test "a clock an hour off is corrected through bad_msg_notification 16/17" do
    for skew <- [3600, -3600] do
      {server, _} = counting_server()
      sid = open(server)
      assert {:ok, _} = app_config(sid, 1)
      {:ok, key} = Session.export(sid)
      Session.close(sid)

      TestServer.inject(server, {:clock_skew, skew})
      attach([[:mtproto, :session, :clock_fixed]])
      # A session importing the key has no clock of its own: its first message is an hour off.
      sid2 = open(server, auth_key: key)
      assert {:ok, %{hash: 2}} = app_config(sid2, 2)
      assert_received {:event, [:mtproto, :session, :clock_fixed], _}
      {:ok, info} = Session.info(sid2)
      assert_in_delta info.time_offset, skew, 5

      # The client's clock jumps by an hour under a running session (an NTP step, say):
      # corrected again, this time from a notification outside the receive window.
      :sys.replace_state(MTProto.Registry.whereis(sid2, :handler), fn st ->
        %{st | core: %{st.core | time_offset_ns: st.core.time_offset_ns + skew * 1_000_000_000}}
      end)

      assert {:ok, %{hash: 3}} = app_config(sid2, 3)
      {:ok, info} = Session.info(sid2)
      assert_in_delta info.time_offset, skew, 5
      stop_supervised!(TestServer)
    end
  end

  test "a killed handler or listener is restarted with the same key, no new handshake" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    {:ok, %{auth_key_id: key_id}} = Session.info(sid)

    listener = MTProto.Registry.whereis(sid, :listener)
    handler = MTProto.Registry.whereis(sid, :handler)
    Process.exit(listener, :kill)
    assert {:ok, %{hash: 2}} = app_config(sid, 2)
    assert MTProto.Registry.whereis(sid, :handler) == handler

    Process.exit(handler, :kill)
    wait_until(fn -> MTProto.Registry.whereis(sid, :handler) not in [nil, handler] end)
    assert {:ok, %{hash: 3}} = app_config(sid, 3)
    assert {:ok, %{auth_key_id: ^key_id}} = Session.info(sid)
    assert TestServer.auth_key_ids(server) == [key_id]
    assert_received {:mtproto, ^sid, :auth_key_generated}
    refute_received {:mtproto, ^sid, :auth_key_generated}
  end

  test "a killed handler of a session without storage takes its imported key back from the options" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    {:ok, key} = Session.export(sid)
    sid2 = open(server, auth_key: key, storage: nil)
    assert {:ok, _} = app_config(sid2, 2)
    handler = MTProto.Registry.whereis(sid2, :handler)
    Process.exit(handler, :kill)
    wait_until(fn -> MTProto.Registry.whereis(sid2, :handler) not in [nil, handler] end)
    assert {:ok, %{hash: 3}} = app_config(sid2, 3)

    assert {:ok, ^key} =
             Session.export(sid2)
             |> then(fn {:ok, k} -> {:ok, %{k | server_salt: key.server_salt}} end)

    assert TestServer.auth_key_ids(server) == [key.id]
    refute_received {:mtproto, ^sid2, :auth_key_generated}
  end

  test "export, then a second session imports the key without a handshake" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    {:ok, key} = Session.export(sid)
    sid2 = open(server, auth_key: key)
    assert {:ok, %{hash: 2}} = app_config(sid2, 2)
    refute_received {:mtproto, ^sid2, :auth_key_generated}
    assert TestServer.auth_key_ids(server) == [key.id]

    # import/4 replaces a running session's key (seed API)
    sid3 = open(server)
    assert {:ok, _} = app_config(sid3, 3)
    assert :ok = Session.import(sid3, 99, key.key, key.server_salt)
    assert {:ok, %{hash: 4}} = app_config(sid3, 4)
    assert {:ok, %{auth_key_id: id}} = Session.info(sid3)
    assert id == key.id
    assert {:ok, %{user_id: 99}} = Session.export(sid3)
  end

  test "updates pushed by the server reach the client; new_session_created too" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    assert_received {:mtproto, ^sid, %{_: :new_session_created}}
    {:ok, %{auth_key_id: key_id}} = Session.info(sid)
    update = %{_: :updateShort, update: %{_: :updateConfig}, date: 5}
    TestServer.push_update(server, key_id, update)
    assert_receive {:mtproto, ^sid, ^update}, 5_000
  end

  test "the server forgetting the session: calls still complete" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    TestServer.inject(server, :forget_sessions)
    assert {:ok, %{hash: 2}} = app_config(sid, 2)
    assert_receive {:mtproto, ^sid, %{_: :new_session_created}}, 5_000
  end

  test "dh_gen_retry is followed; dh_gen_fail is a named error and the next try succeeds" do
    {server, _} = counting_server()
    TestServer.inject(server, :dh_gen_retry)
    sid = open(server)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000

    {server2, _} = counting_server([], :second_dc)
    TestServer.inject(server2, :dh_gen_fail)
    sid2 = open(server2)
    assert_receive {:mtproto, ^sid2, {:error, {:handshake, :dh_gen_fail}}}, 10_000
    assert_receive {:mtproto, ^sid2, :auth_key_generated}, 10_000
    assert {:ok, _} = app_config(sid2, 1)
  end

  test "close answers waiting callers; a timed-out call is dropped" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    TestServer.inject(server, {:delay, 2_000})
    assert Session.call(sid, %{_: :"help.getAppConfig", hash: 2}, 100) == {:error, :timeout}
    task = Task.async(fn -> app_config(sid, 3) end)
    Process.sleep(100)
    assert :ok = Session.close(sid)
    assert Task.await(task) == {:error, :closed}
    assert Session.call(sid, %{_: :ping, ping_id: 1}) == {:error, :no_session}
  end

  test "transport error -404 (key unknown to the server): a new key is made, the call completes" do
    {server, _} = counting_server()
    sid = open(server)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
    assert {:ok, _} = app_config(sid, 1)
    {:ok, %{auth_key_id: old}} = Session.info(sid)
    TestServer.inject(server, {:transport_error, -404})
    task = Task.async(fn -> app_config(sid, 2) end)
    Process.sleep(300)
    TestServer.clear_faults(server)
    assert {:ok, %{hash: 2}} = Task.await(task, 20_000)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
    {:ok, %{auth_key_id: new}} = Session.info(sid)
    assert new != old
  end

  test "keepalive pings (ping_delay_disconnect) flow while idle; destroy_session is answered" do
    {server, _} = counting_server()
    attach([[:mtproto, :session, :dropped]])
    sid = open(server, ping_interval: 50)
    assert {:ok, _} = app_config(sid, 1)
    {:ok, %{stats: %{packets_out: before}}} = Session.info(sid)
    Process.sleep(400)
    {:ok, %{stats: %{packets_out: later}, pending_calls: 0}} = Session.info(sid)
    assert later - before >= 4

    assert {:ok, %{_: :destroy_session_none, session_id: 12_345}} =
             Session.call(sid, %{_: :destroy_session, session_id: 12_345})

    refute_received {:event, [:mtproto, :session, :dropped], _}
  end

  test "the keepalive timer forgets received ids past the receive window; they stay refused" do
    {server, _} = counting_server()
    sid = open(server, ping_interval: 50)
    assert {:ok, _} = app_config(sid, 1)
    handler = MTProto.Registry.whereis(sid, :handler)
    # an id the server sent 400 s ago, as if the session had been idle since
    old = MessageId.with_kind((System.os_time(:second) - 400) <<< 32, :server_other)

    :sys.replace_state(handler, fn state ->
      %{state | core: %{state.core | history: Seen.put(state.core.history, old)}}
    end)

    Process.sleep(200)
    %{core: core} = :sys.get_state(handler)
    refute Seen.member?(core.history, old)
    assert Seen.check(core.history, old) == {:error, :too_low}
    assert {:ok, _} = app_config(sid, 2)
  end

  test "a temporary key (p_q_inner_data_temp_dc) works like a permanent one" do
    {server, _} = counting_server()
    sid = open(server, temp_key: 3600)
    assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
    assert {:ok, %{hash: 1}} = app_config(sid, 1)
    assert {:ok, %{kind: :temp, expires_at: at}} = Session.export(sid)
    assert_in_delta at, System.os_time(:second) + 3600, 5
  end

  test "send/3 (seed API): encrypted messages go out and their answers reach the client" do
    {server, _} = counting_server()
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    assert {:ok, msg_id} = Session.send(sid, %{_: :ping, ping_id: 99})
    assert is_integer(msg_id) and rem(msg_id, 4) == 0
    assert_receive {:mtproto, ^sid, %{_: :pong, ping_id: 99, msg_id: ^msg_id}}, 5_000
    assert :ok = Session.set_client(sid, spawn(fn -> :ok end))
  end

  test "lifecycle events across a forced drop, in order" do
    {server, _} = counting_server()
    attach([[:mtproto, :session]])
    sid = open(server)
    assert {:ok, _} = app_config(sid, 1)
    MTProto.Session.Listener.reconnect(MTProto.Registry.whereis(sid, :listener))
    assert {:ok, _} = app_config(sid, 2)
    :ok = Session.close(sid)

    names =
      Stream.repeatedly(fn ->
        receive do
          {:event, [:mtproto, :session, name], %{session_id: ^sid}} -> name
        after
          200 -> nil
        end
      end)
      |> Enum.take_while(& &1)
      |> Enum.filter(
        &(&1 in [
            :connecting,
            :connected,
            :auth_key_generated,
            :disconnected,
            :reconnecting,
            :closed
          ])
      )

    assert names == [
             :connecting,
             :connected,
             :auth_key_generated,
             :disconnected,
             :reconnecting,
             :connecting,
             :connected,
             :closed
           ]
  end
end
