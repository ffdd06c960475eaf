defmodule MTProto.TestServerHandshakeTest do
  use MTProto.TestServerCase, async: true

  import Bitwise

  alias MTProto.TL

  setup do
    %{server: start_server()}
  end

  # req_pq_multi, then a req_DH_params with the right fields and the encoded p_q_inner_data
  # for the test to encrypt (or not) as it likes.
  defp req_dh_params(server, client) do
    nonce = :crypto.strong_rand_bytes(16)
    client = C.plain(client, %{_: :req_pq_multi, nonce: nonce})
    {{:ok, res_pq}, client} = C.recv_plain(client)
    {:ok, {p, q}} = Crypto.factorize(:binary.decode_unsigned(res_pq.pq))
    {p, q} = {:binary.encode_unsigned(p), :binary.encode_unsigned(q)}
    common = %{nonce: nonce, server_nonce: res_pq.server_nonce, p: p, q: q}

    inner =
      TL.encode!(
        Map.merge(common, %{
          _: :p_q_inner_data,
          pq: res_pq.pq,
          new_nonce: :crypto.strong_rand_bytes(32)
        })
      )

    request =
      Map.merge(common, %{
        _: :req_DH_params,
        public_key_fingerprint: TestServer.fingerprint(server),
        encrypted_data: <<>>
      })

    {request, inner, client}
  end

  test "resPQ echoes the nonce and lists the server key's fingerprint; pq is two 31-bit primes", %{
    server: server
  } do
    nonce = :crypto.strong_rand_bytes(16)
    client = C.plain(connect(server), %{_: :req_pq_multi, nonce: nonce})
    {{:ok, res_pq}, _} = C.recv_plain(client)

    assert %{_: :resPQ, nonce: ^nonce, server_nonce: server_nonce, pq: pq} = res_pq
    assert byte_size(server_nonce) == 16 and server_nonce != nonce
    assert res_pq.server_public_key_fingerprints == [TestServer.fingerprint(server)]
    assert TestServer.fingerprint(server) == Crypto.rsa_fingerprint(TestServer.public_key(server))
    assert TestServer.public_key(server) =~ "BEGIN RSA PUBLIC KEY"
    assert byte_size(pq) == 8
    {:ok, {p, q}} = Crypto.factorize(:binary.decode_unsigned(pq))
    assert p < q and p >= 1 <<< 30 and q < 1 <<< 31
  end

  for padding <- [:rsa_pad, :legacy],
      inner <- [:p_q_inner_data, :p_q_inner_data_dc, :p_q_inner_data_temp, :p_q_inner_data_temp_dc] do
    test "an auth key from #{inner} with #{padding} padding works on both sides", %{server: server} do
      {:ok, client} = C.handshake(connect(server), padding: unquote(padding), inner: unquote(inner))

      <<id::little-signed-64>> = Crypto.auth_key_id(client.auth_key)
      assert id in TestServer.auth_key_ids(server)
      # The server decrypts what the client encrypts with the key and answers with it.
      {ping, client} = C.send_term(client, %{_: :ping, ping_id: 77})
      assert {%{term: %{_: :pong, msg_id: ^ping, ping_id: 77}}, _, _} = C.answer(client, ping)
    end
  end

  for framing <- MTProto.Transport.framings() do
    test "every framing is detected: a key and a ping over #{inspect(framing)}", %{server: server} do
      client = keyed(server, framing: unquote(Macro.escape(framing)))
      {ping, client} = C.send_term(client, %{_: :ping, ping_id: 3})
      assert {%{term: %{_: :pong, msg_id: ^ping}}, _, _} = C.answer(client, ping)
    end
  end

  test "the old req_pq is served too", %{server: server} do
    assert {:ok, _} = C.handshake(connect(server), req_pq: :req_pq)
  end

  test "the first salt is new_nonce[0..8] xor server_nonce[0..8] and is accepted", %{
    server: server
  } do
    client = keyed(server)
    {ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {_, seen, _} = C.answer(client, ping)
    assert [%{term: %{_: :new_session_created, server_salt: salt}} | _] = seen
    assert salt == client.salt
    refute Enum.any?(seen, &match?(%{term: %{_: :bad_server_salt}}, &1))
  end

  test "a key in the test DC numbering (10000 + dc) is accepted in p_q_inner_data_dc", %{
    server: server
  } do
    assert {:ok, _} = C.handshake(connect(server), inner: :p_q_inner_data_dc, dc: 10_002)
  end

  test "p_q_inner_data_dc naming another DC gets server_DH_params_fail with the nonce hash", %{
    server: server
  } do
    assert {:error, {:unexpected, %{_: :server_DH_params_fail} = fail}, _} =
             C.handshake(connect(server), inner: :p_q_inner_data_dc, dc: 5)

    assert byte_size(fail.new_nonce_hash) == 16
  end

  test "dh_gen_retry: the client retries with retry_id = auth_key_aux_hash and gets a key", %{
    server: server
  } do
    :ok = TestServer.inject(server, :dh_gen_retry)
    assert {:ok, client} = C.handshake(connect(server))
    assert client.dh_retries == 1
    <<id::little-signed-64>> = Crypto.auth_key_id(client.auth_key)
    assert TestServer.auth_key_ids(server) == [id]
  end

  test "dh_gen_fail carries new_nonce_hash3 and stores no key", %{server: server} do
    :ok = TestServer.inject(server, :dh_gen_fail)
    assert {:error, {:dh_gen_fail, true}, _} = C.handshake(connect(server))
    assert TestServer.auth_key_ids(server) == []
  end

  test "a temporary key expires after expires_in", %{server: server} do
    client = keyed(server, inner: :p_q_inner_data_temp, expires_in: 60)
    {_ping, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {[_ | _], client} = C.recv(client)
    :ok = TestServer.inject(server, {:clock_skew, 120})
    {_ping, client} = C.send_term(client, %{_: :ping, ping_id: 2})
    assert {{:transport_error, -404}, _} = C.recv(client)
  end

  test "a wrong fingerprint, wrong p/q or wrong nonce in req_DH_params is -404", %{
    server: server
  } do
    for {field, value} <- [public_key_fingerprint: 1, p: <<1, 2, 3>>, nonce: <<0::128>>] do
      {request, _inner, client} = req_dh_params(server, connect(server))
      request = Map.put(%{request | encrypted_data: :crypto.strong_rand_bytes(256)}, field, value)
      client = C.plain(client, request)
      assert {{:transport_error, -404}, client} = C.recv_event(client)
      assert {:closed, _} = C.recv_event(client)
    end
  end

  test "set_client_DH_params before req_DH_params, or garbage bodies, are -404", %{
    server: server
  } do
    body =
      TL.encode!(%{
        _: :set_client_DH_params,
        nonce: <<0::128>>,
        server_nonce: <<0::128>>,
        encrypted_data: <<0::256>>
      })

    for bad <- [body, <<1, 2, 3, 4>>, :crypto.strong_rand_bytes(40)] do
      client = C.plain(connect(server), bad)
      assert {{:transport_error, -404}, _} = C.recv_event(client)
    end
  end

  test "RSA data encrypted for another key is -404", %{server: server} do
    {_other_private, other_public} = Crypto.rsa_generate(2048)
    client = %{connect(server) | public_pem: other_public}
    # The client refuses a resPQ without its key's fingerprint: send the request by hand.
    {request, inner, client} = req_dh_params(server, client)

    client =
      C.plain(client, %{request | encrypted_data: Crypto.rsa_pad_encrypt(inner, other_public)})

    assert {{:transport_error, -404}, _} = C.recv_event(client)
  end

  test "several keys in parallel are all distinct and all known", %{server: server} do
    ids =
      1..6
      |> Task.async_stream(fn _ -> keyed(server).auth_key end, timeout: 30_000)
      |> Enum.map(fn {:ok, key} -> Crypto.auth_key_id(key) end)

    assert length(Enum.uniq(ids)) == 6
    assert length(TestServer.auth_key_ids(server)) == 6
  end
end
