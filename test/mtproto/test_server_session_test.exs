defmodule MTProto.TestServerSessionTest do
  use MTProto.TestServerCase, async: true

  import Bitwise

  alias MTProto.Test.CryptoReference
  alias MTProto.TL

  setup do
    %{server: start_server(salt_period: 600)}
  end

  defp bad_msg_code(client, term, opts) do
    {id, client} = C.send_term(client, term, opts)
    {found, _, client} = C.answer(client, id)
    assert %{term: %{_: :bad_msg_notification, bad_msg_id: ^id, error_code: code}} = found
    {code, client}
  end

  defp now_id(offset_s),
    do: MessageId.with_kind((System.os_time(:second) + offset_s) <<< 32, :client)

  test "new_session_created, then a bare pong; server msg_ids and seqnos follow the rules", %{
    server: server
  } do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 5})
    {_, seen, _} = C.answer(client, ping)

    assert [created, pong] = seen
    assert %{_: :new_session_created, first_msg_id: ^ping} = created.term
    assert (created.msg_id &&& 3) == 3 and (created.seqno &&& 1) == 1
    assert %{_: :pong, msg_id: ^ping, ping_id: 5} = pong.term
    assert (pong.msg_id &&& 3) == 1 and (pong.seqno &&& 1) == 0
    assert pong.msg_id > created.msg_id
    assert abs((pong.msg_id >>> 32) - System.os_time(:second)) <= 2
  end

  test "new_session_created names the lowest msg_id of a first container", %{server: server} do
    client = keyed(server)
    {m1, client} = C.message(client, %{_: :ping, ping_id: 1})
    {m2, client} = C.message(client, %{_: :ping, ping_id: 2})
    {_container, client} = C.send_container(client, [m1, m2])
    {created, _, _} = C.recv_until(client, &match?(%{term: %{_: :new_session_created}}, &1))
    assert created.term.first_msg_id == m1.msg_id
  end

  test "a wrong salt gets bad_server_salt with the right one, which then works", %{
    server: server
  } do
    client = keyed(server)
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1}, salt: 12_345)
    {found, seen, client} = C.answer(client, id)
    assert %{term: %{_: :bad_server_salt, error_code: 48, new_server_salt: salt}} = found
    assert salt == client.salt
    refute Enum.any?(seen, &match?(%{term: %{_: :new_session_created}}, &1))
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test "bad_msg_notification 16, 17 and 18 for msg_ids too old, too new or not divisible by 4",
       %{server: server} do
    client = keyed(server)
    ping = %{_: :ping, ping_id: 1}
    {16, client} = bad_msg_code(client, ping, msg_id: now_id(-301))
    {17, client} = bad_msg_code(client, ping, msg_id: now_id(31))
    {18, _} = bad_msg_code(client, ping, msg_id: now_id(0) + 2)
  end

  test "bad_msg_notification 34 and 35 for seqnos of the wrong parity", %{server: server} do
    client = keyed(server)
    {35, client} = bad_msg_code(client, %{_: :ping, ping_id: 1}, seqno: 2)
    {34, _} = bad_msg_code(client, %{_: :msgs_ack, msg_ids: [1]}, seqno: 3)
  end

  test "bad_msg_notification 32 and 33 for seqnos out of order with msg_ids", %{server: server} do
    client = keyed(server)
    {first, client} = C.send_term(client, %{_: :ping, ping_id: 1}, seqno: 11)
    {_, _, client} = C.answer(client, first)
    # Higher msg_id, lower seqno: too low.
    {32, client} = bad_msg_code(client, %{_: :ping, ping_id: 2}, seqno: 9)
    # Lower msg_id, higher seqno: too high.
    {33, client} = bad_msg_code(client, %{_: :ping, ping_id: 3}, msg_id: first - 4, seqno: 13)
    # The same odd seqno twice: too low.
    {32, _} = bad_msg_code(client, %{_: :ping, ping_id: 4}, seqno: 11)
  end

  test "a duplicate msg_id gets the stored answer again, the query is not run twice", %{} do
    counter = :counters.new(1, [])

    server =
      start_server(
        handlers: %{
          "account.updateStatus": fn _req, _ctx ->
            :counters.add(counter, 1, 1)
            {:ok, true}
          end
        }
      )

    client = inited(server)
    {msg, client} = C.message(client, %{_: :"account.updateStatus", offline: false})
    client = C.send_message(client, msg)
    {first, _, client} = C.answer(client, msg.msg_id)
    client = C.send_message(client, msg)
    {again, _, client} = C.answer(client, msg.msg_id)
    assert first.term.result == true
    assert again.msg_id == first.msg_id and again.body == first.body

    # A resent ping is answered again with its pong.
    {ping, client} = C.message(client, %{_: :ping, ping_id: 9})
    client = C.send_message(client, ping)
    {pong, _, client} = C.answer(client, ping.msg_id)
    client = C.send_message(client, ping)
    {pong_again, _, _} = C.answer(client, ping.msg_id)
    assert pong_again.msg_id == pong.msg_id
    assert :counters.get(counter, 1) == 1
  end

  test "containers both ways: a container of queries is answered in a container", %{
    server: server
  } do
    client = inited(server)
    {m1, client} = C.message(client, %{_: :ping, ping_id: 1})
    {m2, client} = C.message(client, %{_: :"help.getNearestDc"})
    {m3, client} = C.message(client, %{_: :msgs_ack, msg_ids: [1]})
    {_container, client} = C.send_container(client, [m1, m2, m3])
    {:ok, events} = recv_packet_bodies(client)
    assert [body] = events
    assert Message.container?(body)
    {:ok, inner} = Message.decode_container(body)
    assert Enum.any?(inner, &(Message.decode_rpc_result(&1.body) |> elem(1) == m2.msg_id))
    assert %{_: :pong} = Enum.find_value(inner, &match_pong(&1.body, m1.msg_id))
  end

  defp match_pong(body, ping) do
    case TL.decode(body) do
      {:ok, %{_: :pong, msg_id: ^ping} = pong} -> pong
      _ -> nil
    end
  end

  defp recv_packet_bodies(client) do
    {{:packet, packet}, _} = C.recv_event(client)
    {:ok, plaintext} = Crypto.decrypt_message(client.auth_key, :server, packet)
    {:ok, %{body: body}} = Message.decode_plaintext(plaintext)
    {:ok, [body]}
  end

  test "bad_msg_notification 19 for a container reusing a msg_id, 64 for a broken one", %{
    server: server
  } do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, ping)
    {m, client} = C.message(client, %{_: :ping, ping_id: 2})
    container = %{msg_id: ping, seqno: 4, body: Message.encode_container([m])}
    client = C.send_message(client, container)
    {found, _, client} = C.answer(client, ping)
    assert %{term: %{_: :bad_msg_notification, error_code: 19}} = found

    broken = <<0x73F1F8DC::little-32, 2::little-32, 1::64, 1::32, 100::little-32>>
    {64, _} = bad_msg_code(client, broken, [])
  end

  test "bad_msg_notification 20 for a msg_id below everything the history remembers", %{
    server: server
  } do
    client = keyed(server)
    {oldest, client} = C.next_msg_id(client)

    client =
      Enum.reduce(1..3, client, fn _, client ->
        {msgs, client} =
          Enum.map_reduce(1..700, client, fn _, c -> C.message(c, %{_: :msgs_ack, msg_ids: []}) end)

        {_, client} = C.send_container(client, msgs)
        client
      end)

    {20, _} = bad_msg_code(client, %{_: :ping, ping_id: 1}, msg_id: oldest)
  end

  test "get_future_salts: consecutive periods from the current salt; a future salt works later",
       %{server: server} do
    client = keyed(server)
    {id, client} = C.send_term(client, %{_: :get_future_salts, num: 3})
    {%{term: salts}, _, client} = C.answer(client, id)
    assert %{_: :future_salts, req_msg_id: ^id, salts: [s1, s2, s3]} = salts
    assert abs(salts.now - System.os_time(:second)) <= 2
    assert s1.salt == client.salt
    assert s1.valid_until == s2.valid_since and s2.valid_until == s3.valid_since
    assert s2.valid_until - s2.valid_since == 600

    # Move the server clock into the third period: the old salt is refused, the third works.
    :ok = TestServer.inject(server, {:clock_skew, s3.valid_since - System.os_time(:second) + 1})
    client = %{client | time_offset: s3.valid_since - System.os_time(:second) + 1}
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {%{term: %{_: :bad_server_salt, new_server_salt: new}}, _, client} = C.answer(client, id)
    assert new == s3.salt
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1}, salt: s3.salt)
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test ":rotate_salt invalidates the current salt", %{server: server} do
    client = keyed(server)
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, id)
    :ok = TestServer.inject(server, :rotate_salt)
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    assert {%{term: %{_: :bad_server_salt, new_server_salt: new}}, _, client} = C.answer(client, id)
    assert new != client.salt
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 3}, salt: new)
    assert {%{term: %{_: :pong}}, _, _} = C.answer(client, id)
  end

  test "msgs_state_req reports received, unknown and future msg_ids", %{server: server} do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, ping)
    {unknown, client} = C.next_msg_id(client)
    ids = [ping, unknown, now_id(120)]
    {id, client} = C.send_term(client, %{_: :msgs_state_req, msg_ids: ids})
    {%{term: info}, _, _} = C.answer(client, id)
    assert %{_: :msgs_state_info, req_msg_id: ^id, info: <<received, 2, 3>>} = info
    assert (received &&& 7) == 4 and (received &&& 64) == 64
  end

  test "msg_resend_req sends the asked message again, same msg_id", %{server: server} do
    client = inited(server)
    {call, client} = C.send_term(client, %{_: :"help.getNearestDc"})
    {answer, _, client} = C.answer(client, call)
    {_, client} = C.send_term(client, %{_: :msg_resend_req, msg_ids: [answer.msg_id]})
    {again, _, _} = C.recv_until(client, &(&1.msg_id == answer.msg_id))
    assert again.body == answer.body
  end

  test "acks: a slow query is acknowledged before its answer; acked answers are not resent",
       %{} do
    server = slow_server(200)

    client = inited(server)
    {call, client} = C.send_term(client, %{_: :"account.updateStatus", offline: true})
    {first, client} = C.recv(client)
    assert [%{term: %{_: :msgs_ack, msg_ids: ids}}] = first
    assert call in ids
    {answer, _, client} = C.answer(client, call)
    assert answer.term.result == true
    {_, client} = C.send_term(client, %{_: :msgs_ack, msg_ids: [answer.msg_id]})
    # A ping on the same connection: once it is answered, the ack was processed too.
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 0})
    {_, _, client} = C.answer(client, ping)
    # A new connection to the same session gets nothing old back.
    client = C.reconnect(client, TestServer.address(server))
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, seen, _} = C.answer(client, ping)
    refute Enum.any?(seen, &(&1.msg_id == answer.msg_id))
  end

  test "rpc_drop_answer: running, finished but unacknowledged, unknown", %{} do
    server =
      start_server(
        handlers: %{
          "account.updateStatus": fn req, _ctx ->
            if req.offline, do: Process.sleep(300)
            {:ok, true}
          end
        }
      )

    client = inited(server)
    {slow, client} = C.send_term(client, %{_: :"account.updateStatus", offline: true})
    {drop, client} = C.send_term(client, %{_: :rpc_drop_answer, req_msg_id: slow})
    {%{term: %{result: result}}, _, client} = C.answer(client, drop)
    assert result == %{_: :rpc_answer_dropped_running}

    {fast, client} = C.send_term(client, %{_: :"account.updateStatus", offline: false})
    {answer, _, client} = C.answer(client, fast)
    {drop, client} = C.send_term(client, %{_: :rpc_drop_answer, req_msg_id: fast})
    {%{term: %{result: result}}, _, client} = C.answer(client, drop)
    assert %{_: :rpc_answer_dropped, msg_id: msg_id, seq_no: seqno, bytes: bytes} = result
    assert {msg_id, seqno, bytes} == {answer.msg_id, answer.seqno, byte_size(answer.body)}

    {drop, client} = C.send_term(client, %{_: :rpc_drop_answer, req_msg_id: 4})
    {%{term: %{result: result}}, _, client} = C.answer(client, drop)
    assert result == %{_: :rpc_answer_unknown}

    # The dropped slow answer never comes.
    {messages, _} = C.recv(client, 500)

    assert messages == :timeout or
             not Enum.any?(messages, &match?(%{term: %{req_msg_id: ^slow}}, &1))
  end

  test "destroy_session ends another session of the key; destroy_auth_key forgets the key", %{
    server: server
  } do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, ping)
    other_session = client.session_id + 1
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 2}, session_id: other_session)
    {{:packet, _}, client} = C.recv_event(client)
    _ = ping
    assert TestServer.stats(server).sessions == 2

    destroy = %{_: :destroy_session, session_id: other_session}
    {_, client} = C.send_term(client, destroy)
    {found, _, client} = C.recv_until(client, &match?(%{term: %{session_id: _}}, &1))
    assert found.term == %{_: :destroy_session_ok, session_id: other_session}
    {_, client} = C.send_term(client, destroy)
    {found, _, client} = C.recv_until(client, &match?(%{term: %{session_id: _}}, &1))
    assert found.term == %{_: :destroy_session_none, session_id: other_session}
    assert TestServer.stats(server).sessions == 1

    # The destroyed session id opens a new session when used again.
    {_id, client} = C.send_term(client, %{_: :ping, ping_id: 9}, session_id: other_session)
    {{:packet, _}, client} = C.recv_event(client)
    assert TestServer.stats(server).sessions == 2

    {_, client} = C.send_term(client, %{_: :destroy_auth_key})
    {_, _, client} = C.recv_until(client, &match?(%{term: %{_: :destroy_auth_key_ok}}, &1))
    assert TestServer.auth_key_ids(server) == []
    {_, client} = C.send_term(client, %{_: :ping, ping_id: 3})
    assert {{:transport_error, -404}, _} = C.recv(client)
  end

  test "ping_delay_disconnect closes the connection when the delay passes", %{server: server} do
    client = keyed(server)

    {id, client} =
      C.send_term(client, %{_: :ping_delay_disconnect, ping_id: 3, disconnect_delay: 1})

    {%{term: %{_: :pong, ping_id: 3}}, _, client} = C.answer(client, id)
    assert {:closed, _} = C.recv(client, 3000)
  end

  for framing <- [:abridged, :intermediate, {:obfuscated, :padded_intermediate}] do
    test "a quick-ack request is answered with the message's token first (#{inspect(framing)})",
         %{server: server} do
      client = keyed(server, framing: unquote(Macro.escape(framing)))
      {msg, client} = C.message(client, %{_: :ping, ping_id: 8})
      {token, client} = C.send_message_quick_ack(client, msg)
      assert token >= 0x80000000
      assert {{:quick_ack, ^token}, client} = C.recv_event(client)
      assert {%{term: %{_: :pong}}, _, client} = C.answer(client, msg.msg_id)

      # The token as the transports page defines it, from the spec's own restatement, with a
      # padding of the test's choosing: SHA256(auth_key[88, 32] <> plaintext <> padding)[0, 4].
      {msg, client} = C.message(client, %{_: :ping, ping_id: 9})

      plaintext =
        Message.encode_plaintext(client.salt, client.session_id, msg.msg_id, msg.seqno, msg.body)

      padding = :crypto.strong_rand_bytes(12 + rem(16 - rem(byte_size(plaintext) + 12, 16), 16))
      packet = CryptoReference.encrypt_message(client.auth_key, :client, plaintext, padding)
      expected = CryptoReference.quick_ack_token(client.auth_key, 0, plaintext <> padding)
      client = C.send_packet(client, packet, quick_ack: true)
      assert {{:quick_ack, ^expected}, client} = C.recv_event(client)
      assert {%{term: %{_: :pong, ping_id: 9}}, _, _} = C.answer(client, msg.msg_id)
    end
  end

  test "push_update reaches connected sessions as a content-related server message", %{
    server: server
  } do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, _, client} = C.answer(client, ping)
    update = %{_: :updateShort, update: %{_: :updateConfig}, date: 1_700_000_000}
    assert TestServer.push_update(server, :all, update) == 1
    {[message], client} = C.recv(client)
    assert message.term == update
    assert (message.msg_id &&& 3) == 3 and (message.seqno &&& 1) == 1
    <<key_id::little-signed-64>> = Crypto.auth_key_id(client.auth_key)
    assert TestServer.push_update(server, key_id, update) == 1
    assert TestServer.push_update(server, key_id + 1, update) == 0
  end
end
