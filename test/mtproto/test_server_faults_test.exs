defmodule MTProto.TestServerFaultsTest do
  use MTProto.TestServerCase, async: true

  import Bitwise

  setup do
    %{server: start_server()}
  end

  test "{:drop_after, n}: the n-th packet is answered, then the connection closes", %{
    server: server
  } do
    # Injected before the handshake (whose three packets count), so that no packet of it can
    # still be in flight when the fault appears.
    :ok = TestServer.inject(server, {:drop_after, 4})
    client = keyed(server)
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {%{term: %{_: :pong}}, _, client} = C.answer(client, id)
    assert {:closed, client} = C.recv(client)

    client = C.reconnect(client, TestServer.address(server))

    client =
      Enum.reduce(1..4, client, fn n, client ->
        {id, client} = C.send_term(client, %{_: :ping, ping_id: 10 + n})
        {%{term: %{_: :pong}}, _, client} = C.answer(client, id)
        client
      end)

    assert {:closed, client} = C.recv(client)

    :ok = TestServer.clear_faults(server)
    client = C.reconnect(client, TestServer.address(server))

    client =
      Enum.reduce(4..6, client, fn n, client ->
        {id, client} = C.send_term(client, %{_: :ping, ping_id: n})
        {%{term: %{_: :pong}}, _, client} = C.answer(client, id)
        client
      end)

    C.close(client)
  end

  test "answers pending when a connection drops go out on the session's next connection" do
    server = slow_server(200)

    client = inited(server)
    {call, client} = C.send_term(client, %{_: :"account.updateStatus", offline: true})
    C.close(client)
    Process.sleep(400)
    client = C.reconnect(client, TestServer.address(server))
    {_ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {%{term: %{_: :rpc_result, result: true}}, _, _} = C.answer(client, call)
  end

  test "{:delay, ms} holds answers back", %{server: server} do
    client = keyed(server)
    :ok = TestServer.inject(server, {:delay, 300})
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {:timeout, client} = C.recv(client, 150)
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test "{:clock_skew, s}: the client learns the server time from bad_msg_notification 16" do
    # Salt periods far longer than the skew, so the skew never moves into the next one (which
    # would rightly answer bad_server_salt first).
    server = start_server(salt_period: 1 <<< 40)
    client = keyed(server)
    :ok = TestServer.inject(server, {:clock_skew, 1000})
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {found, _, client} = C.answer(client, id)
    assert %{term: %{_: :bad_msg_notification, error_code: 16}, msg_id: server_msg_id} = found
    assert_in_delta server_msg_id >>> 32, System.os_time(:second) + 1000, 2
    client = %{client | time_offset: (server_msg_id >>> 32) - System.os_time(:second)}
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test ":forget_sessions: the next message opens a new session", %{server: server} do
    client = keyed(server)
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, id)
    :ok = TestServer.inject(server, :forget_sessions)
    assert TestServer.stats(server).sessions == 0
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    {_, seen, _} = C.answer(client, id)
    assert Enum.any?(seen, &match?(%{term: %{_: :new_session_created, first_msg_id: ^id}}, &1))
  end

  test "{:transport_error, code} answers the next packet with it and closes", %{server: server} do
    client = keyed(server)
    :ok = TestServer.inject(server, {:transport_error, -429})
    {_id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {{:transport_error, -429}, client} = C.recv(client)
    assert {:closed, _} = C.recv(client)
  end

  test "{:drop_random, 1.0, seed} drops the packet with its connection; 0.0 drops nothing", %{
    server: server
  } do
    client = keyed(server)
    :ok = TestServer.inject(server, {:drop_random, 1.0, 42})
    {_id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {:closed, client} = C.recv(client)
    :ok = TestServer.inject(server, {:drop_random, 0.0, 42})
    client = C.reconnect(client, TestServer.address(server))
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test "max_connections: one more connection gets -429 at its first packet" do
    server = start_server(max_connections: 1)
    first = keyed(server)
    second = C.plain(connect(server), %{_: :req_pq_multi, nonce: <<1::128>>})
    assert {{:transport_error, -429}, _} = C.recv_event(second)
    {id, first} = C.send_term(first, %{_: :ping, ping_id: 1})
    assert {%{term: %{_: :pong}}, _, _} = C.answer(first, id)
  end

  test "an unknown fault is refused", %{server: server} do
    assert {:error, {:unknown_fault, :nonsense}} = TestServer.inject(server, :nonsense)
  end
end
