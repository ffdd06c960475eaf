defmodule MTProto.TestServerHostileFaultsTest do
  @moduledoc """
  The hostile datacenter's faults (`{:hostile, name}`), seen through the raw client: each one
  misbehaves exactly as named, the real packets still come, and nothing of it is left after
  `clear_faults/1`. (`MTProto.SessionHostileServerTest` runs a real session against them.)
  """
  use MTProto.TestServerCase, async: true

  import Bitwise

  alias MTProto.TL
  alias MTProto.TestServer.Hostile

  setup do
    server = start_server()
    client = keyed(server)
    # The session's first answer also carries new_session_created: one ping first, so that
    # every packet below holds one message.
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 0})
    {%{term: %{_: :pong}}, _, client} = C.answer(client, id)
    %{server: server, client: client}
  end

  defp packet(client) do
    {{:packet, packet}, client} = C.recv_event(client)
    {packet, client}
  end

  defp open(client, packet) do
    {:ok, plaintext} = Crypto.decrypt_message(client.auth_key, :server, packet)
    {:ok, message} = Message.decode_plaintext(plaintext)
    message
  end

  # rpc_drop_answer of an unknown id: an rpc_result (rpc_answer_unknown), answered at once.
  defp drop_answer(client) do
    {_id, client} = C.send_term(client, %{_: :rpc_drop_answer, req_msg_id: 4})
    {copy, client} = packet(client)
    {real, client} = packet(client)
    {copy, real, client}
  end

  test "unknown hostile faults are refused", %{server: server} do
    assert {:error, {:unknown_fault, {:hostile, :nope}}} =
             TestServer.inject(server, {:hostile, :nope})

    assert {:error, {:unknown_fault, {:hostile, "even_msg_id"}}} =
             TestServer.inject(server, {:hostile, "even_msg_id"})
  end

  test "{:hostile, :tampered_msg_key}: a copy with one msg_key bit flipped, then the real one", %{
    server: server,
    client: client
  } do
    :ok = TestServer.inject(server, {:hostile, :tampered_msg_key})
    {copy, real, _} = drop_answer(client)
    assert Crypto.decrypt_message(client.auth_key, :server, copy) == {:error, :msg_key_mismatch}
    <<key_id::binary-8, first, rest::binary>> = copy
    untampered = <<key_id::binary, bxor(first, 1), rest::binary>>
    fixed = open(client, untampered)
    real = open(client, real)
    assert Map.delete(fixed, :body) == Map.delete(real, :body)
    assert {:ok, req, result} = Message.decode_rpc_result(fixed.body)
    assert req == elem(Message.decode_rpc_result(real.body), 1)

    assert TL.decode!(result) == %{
             _: :rpc_error,
             error_code: 500,
             error_message: "HOSTILE_COPY"
           }

    assert {:ok, _, real_result} = Message.decode_rpc_result(real.body)
    assert TL.decode!(real_result) == %{_: :rpc_answer_unknown}
  end

  for {fault, check} <- [
        even_msg_id: quote(do: fn copy, real -> copy.msg_id == (real.msg_id &&& bnot(3)) end),
        wrong_session_id:
          quote(do: fn copy, real -> copy.session_id == bxor(real.session_id, 1) end),
        stale_msg_id: quote(do: fn copy, real -> copy.msg_id == real.msg_id - (3600 <<< 32) end)
      ] do
    test "{:hostile, #{inspect(fault)}}: a copy differing in that header field, then the real one",
         %{server: server, client: client} do
      :ok = TestServer.inject(server, {:hostile, unquote(fault)})
      {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
      {copy, client} = packet(client)
      {real, client} = packet(client)
      copy = open(client, copy)
      real = open(client, real)
      assert unquote(check).(copy, real)
      assert copy.salt == real.salt and copy.seqno == real.seqno and copy.body == real.body
      assert %{_: :pong, msg_id: ^id, ping_id: 1} = TL.decode!(real.body)
      assert real.session_id == client.session_id and (real.msg_id &&& 3) == 1
      assert MessageId.check_window(real.msg_id) == :ok

      # rpc_result: the copy answers HOSTILE_COPY, with the same header changes.
      {copy, real, client} = drop_answer(client)
      copy = open(client, copy)
      real = open(client, real)
      assert unquote(check).(copy, real)
      assert {:ok, _, result} = Message.decode_rpc_result(copy.body)
      assert %{_: :rpc_error, error_message: "HOSTILE_COPY"} = TL.decode!(result)

      :ok = TestServer.clear_faults(server)
      {id, client} = C.send_term(client, %{_: :ping, ping_id: 2})
      assert {[%{term: %{_: :pong, msg_id: ^id}}], client} = C.recv(client)
      assert {:timeout, _} = C.recv_event(client, 200)
    end
  end

  test "{:hostile, :replayed_msg_id}: after the real packets, the previous one byte for byte", %{
    server: server,
    client: client
  } do
    :ok = TestServer.inject(server, {:hostile, :replayed_msg_id})
    # The first send under the fault has nothing to replay.
    {id1, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {first, client} = packet(client)
    assert %{_: :pong, msg_id: ^id1} = TL.decode!(open(client, first).body)
    assert {:timeout, client} = C.recv_event(client, 200)

    {id2, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    {second, client} = packet(client)
    assert %{_: :pong, msg_id: ^id2} = TL.decode!(open(client, second).body)
    assert {{:packet, ^first}, client} = C.recv_event(client)

    :ok = TestServer.clear_faults(server)
    {id3, client} = C.send_term(client, %{_: :ping, ping_id: 3})
    assert {[%{term: %{_: :pong, msg_id: ^id3}}], client} = C.recv(client)
    assert {:timeout, _} = C.recv_event(client, 200)
  end

  test "the handshake faults send what they are named for", %{server: server} do
    :ok = TestServer.inject(server, {:hostile, :wrong_nonce})
    assert {:error, :nonce, _} = C.handshake(connect(server))
    :ok = TestServer.clear_faults(server)
    assert {:ok, _} = C.handshake(connect(server))

    # The bad prime passes the residue test for g = 3 and fails only as not a safe prime; the
    # bad g_a is one below the range.
    assert Crypto.dh_check_prime(Hostile.bad_dh_prime(), 3) == {:error, :not_safe_prime}

    assert Crypto.dh_check_range(Hostile.bad_g_a(), Crypto.dh_prime()) ==
             {:error, :g_x_out_of_range}

    <<low::2048>> = Hostile.bad_g_a()
    assert Crypto.dh_check_range(<<low + 1::2048>>, Crypto.dh_prime()) == :ok
  end
end
