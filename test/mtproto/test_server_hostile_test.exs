defmodule MTProto.TestServerHostileTest do
  @moduledoc "Hostile clients: the server answers as the spec says or closes that connection only."
  use MTProto.TestServerCase, async: true

  import Bitwise

  setup do
    server = start_server()
    # A well-behaved client, keyed before the hostile ones start, must keep working.
    %{server: server, good: keyed(server)}
  end

  defp still_serves(server, good) do
    {id, good} = C.send_term(good, %{_: :ping, ping_id: System.unique_integer([:positive])})
    assert {%{term: %{_: :pong}}, _, good} = C.answer(good, id)
    assert {:ok, _} = C.handshake(connect(server))
    assert Process.alive?(server)
    good
  end

  defp raw_socket(server) do
    {ip, port} = TestServer.address(server)
    {:ok, socket} = :gen_tcp.connect(ip, port, [:binary, active: false])
    socket
  end

  defp closed?(socket) do
    case :gen_tcp.recv(socket, 0, 3000) do
      {:error, :closed} -> true
      # A transport error frame may come first.
      {:ok, _} -> closed?(socket)
      {:error, :timeout} -> false
    end
  end

  test "garbage, HTTP and TLS bytes close the connection", %{server: server, good: good} do
    for bytes <- [
          :crypto.strong_rand_bytes(1000),
          "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
          <<0x16, 0x03, 0x01, 0x02, 0x00>> <> :crypto.strong_rand_bytes(200)
        ] do
      socket = raw_socket(server)
      :ok = :gen_tcp.send(socket, bytes)
      assert closed?(socket)
    end

    still_serves(server, good)
  end

  test "an oversized length closes the connection", %{server: server, good: good} do
    socket = raw_socket(server)
    :ok = :gen_tcp.send(socket, <<0xEEEEEEEE::32, 0x7FFFFFF0::little-32>>)
    assert closed?(socket)
    socket = raw_socket(server)
    :ok = :gen_tcp.send(socket, <<0xEF, 0x7F, 0xFF, 0xFF, 0xFF>>)
    assert closed?(socket)
    still_serves(server, good)
  end

  test "a truncated packet is waited for and never answered; others are unaffected", %{
    server: server,
    good: good
  } do
    socket = raw_socket(server)
    :ok = :gen_tcp.send(socket, <<0xEEEEEEEE::32, 100::little-32>> <> :binary.copy(<<0>>, 50))
    assert {:error, :timeout} = :gen_tcp.recv(socket, 0, 300)
    good = still_serves(server, good)
    :gen_tcp.close(socket)
    still_serves(server, good)
  end

  test "packets too short, or plain with a wrong length, get -404", %{server: server, good: good} do
    for packet <- [<<1, 2, 3, 4>>, <<0::64, 4::64, 100::little-32, 0::32>>, <<0::64>>] do
      client = C.send_packet(connect(server), packet)
      assert {{:transport_error, -404}, client} = C.recv_event(client)
      assert {:closed, _} = C.recv_event(client)
    end

    still_serves(server, good)
  end

  test "an unknown auth_key_id gets -404", %{server: server, good: good} do
    client = C.send_packet(connect(server), :crypto.strong_rand_bytes(8) <> :binary.copy(<<0>>, 72))
    assert {{:transport_error, -404}, _} = C.recv_event(client)
    still_serves(server, good)
  end

  test "a bad msg_key, or a packet encrypted with another key under this key's id, gets -404",
       %{server: server, good: good} do
    {msg, good} = C.message(good, %{_: :ping, ping_id: 1})

    plaintext =
      Message.encode_plaintext(good.salt, good.session_id, msg.msg_id, msg.seqno, msg.body)

    <<key_id::binary-8, msg_key::binary-16, rest::binary>> =
      Crypto.encrypt_message(good.auth_key, :client, plaintext)

    <<first, msg_key_rest::binary>> = msg_key
    tampered = key_id <> <<Bitwise.bxor(first, 1)>> <> msg_key_rest <> rest
    other_key = :crypto.strong_rand_bytes(256)
    <<_::binary-8, foreign::binary>> = Crypto.encrypt_message(other_key, :client, plaintext)

    for packet <- [tampered, key_id <> foreign, key_id <> msg_key <> binary_part(rest, 0, 16)] do
      client = C.send_packet(connect(server), packet)
      assert {{:transport_error, -404}, _} = C.recv_event(client)
    end

    still_serves(server, good)
  end

  test "a replayed packet, on the same or another connection, is not executed again", %{
    server: server,
    good: good
  } do
    counter = :counters.new(1, [])
    _ = counter
    {msg, good} = C.message(good, %{_: :ping, ping_id: 99})

    plaintext =
      Message.encode_plaintext(good.salt, good.session_id, msg.msg_id, msg.seqno, msg.body)

    packet = Crypto.encrypt_message(good.auth_key, :client, plaintext)
    good = C.send_packet(good, packet)
    {pong, _, good} = C.answer(good, msg.msg_id)
    good = C.send_packet(good, packet)
    {again, _, good} = C.answer(good, msg.msg_id)
    assert again.msg_id == pong.msg_id

    attacker =
      C.send_packet(
        %{connect(server) | auth_key: good.auth_key, session_id: good.session_id},
        packet
      )

    {copy, _, _} = C.answer(attacker, msg.msg_id)
    assert copy.msg_id == pong.msg_id and copy.body == pong.body
    still_serves(server, good)
  end

  test "undecodable bodies inside valid encryption are answered or ignored, never fatal", %{
    server: server,
    good: good
  } do
    good =
      Enum.reduce(1..20, good, fn _, good ->
        body =
          <<:rand.uniform(0xFFFFFFFF)::little-32>> <>
            :crypto.strong_rand_bytes(4 * :rand.uniform(30))

        {_, good} = C.send_term(good, body)
        good
      end)

    still_serves(server, good)
  end

  test "random packets on many connections never take the server down", %{
    server: server,
    good: good
  } do
    1..60
    |> Task.async_stream(
      fn i ->
        client =
          connect(
            server,
            Enum.at([:abridged, :intermediate, :full, {:obfuscated, :intermediate}], rem(i, 4))
          )

        size = 4 * :rand.uniform(100)
        prefix = Enum.at([<<0::64>>, <<>>, :crypto.strong_rand_bytes(8)], rem(i, 3))
        client = C.send_packet(client, prefix <> :crypto.strong_rand_bytes(size))
        C.recv_event(client, 2000)
        C.close(client)
      end,
      max_concurrency: 20,
      timeout: 10_000
    )
    |> Stream.run()

    good = still_serves(server, good)
    assert TestServer.stats(server).connections >= 1
    C.close(good)
  end

  # Seeded from ExUnit's seed: each run tries other storms, `mix test --seed N` repeats one.
  test "seeded storms of wrong ids, seqnos, salts, containers and service messages on one key",
       %{server: server, good: good} do
    hostile = keyed(server)

    for storm <- 1..3 do
      :rand.seed(:exsss, {ExUnit.configuration()[:seed], storm, 9})
      hostile = C.reconnect(hostile, TestServer.address(server))
      hostile = %{hostile | session_id: hostile.session_id + storm, seq_count: 0}

      log =
        ExUnit.CaptureLog.capture_log(fn ->
          hostile = Enum.reduce(1..200, hostile, fn _, c -> send_random(c) end)
          # Whatever came back, the key still works on a new session.
          # (A connection of its own: the storm's may rightly have been closed.)
          fresh = %{connect(server) | auth_key: hostile.auth_key, salt: hostile.salt}
          fresh = %{fresh | session_id: hostile.session_id + 100}
          {id, fresh} = C.send_term(fresh, %{_: :ping, ping_id: 1})
          assert {%{term: %{_: :pong}}, _, _} = C.answer(fresh, id)
          C.close(fresh)
        end)

      refute log =~ "[error]", "storm #{storm}: #{log}"
    end

    still_serves(server, good)
  end

  defp send_random(client) do
    {term, opts} = random_message(client)
    {msg, client} = C.message(client, term, opts)

    send_opts =
      case :rand.uniform(10) do
        1 -> [salt: :rand.uniform(1 <<< 62)]
        _ -> []
      end

    client =
      if :rand.uniform(5) == 1 do
        {inner, client} = C.message(client, %{_: :ping, ping_id: 2})
        {_, client} = C.send_container(client, Enum.shuffle([msg, inner]), send_opts)
        client
      else
        C.send_message(client, msg, send_opts)
      end

    # Read whatever is there without waiting long.
    case C.recv(client, 5) do
      {_, client} -> client
    end
  end

  defp random_message(client) do
    id_opts =
      case :rand.uniform(8) do
        1 -> [msg_id: client.last_msg_id + 2]
        2 -> [msg_id: client.last_msg_id - 4 * :rand.uniform(1000)]
        3 -> [msg_id: client.last_msg_id + (:rand.uniform(100) <<< 32)]
        4 -> [seqno: :rand.uniform(50)]
        _ -> []
      end

    ids = for _ <- 1..:rand.uniform(5), do: client.last_msg_id - 4 * :rand.uniform(50)

    term =
      Enum.random([
        %{_: :ping, ping_id: :rand.uniform(1000)},
        %{_: :ping_delay_disconnect, ping_id: 1, disconnect_delay: 1000},
        %{_: :get_future_salts, num: :rand.uniform(200) - 50},
        %{_: :msgs_ack, msg_ids: ids},
        %{_: :msgs_state_req, msg_ids: ids},
        %{_: :msg_resend_req, msg_ids: ids},
        %{_: :rpc_drop_answer, req_msg_id: hd(ids)},
        %{_: :destroy_session, session_id: :rand.uniform(1000)},
        %{_: :"help.getNearestDc"},
        C.init_connection(%{_: :"help.getConfig"}, Enum.random([1, 144, 198, 100_000])),
        %{_: :invokeWithoutUpdates, query: %{_: :ping, ping_id: 5}},
        <<:rand.uniform(0xFFFFFFFF)::little-32>> <> :crypto.strong_rand_bytes(4 * :rand.uniform(8))
      ])

    {term, id_opts}
  end
end
