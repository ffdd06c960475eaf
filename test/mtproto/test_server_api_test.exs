defmodule MTProto.TestServerApiTest do
  use MTProto.TestServerCase, async: true

  alias MTProto.TL

  test "API methods before initConnection get 400 CONNECTION_NOT_INITED; ping does not" do
    server = start_server()
    client = keyed(server)
    {result, client} = C.call(client, %{_: :"help.getNearestDc"})
    assert result == %{_: :rpc_error, error_code: 400, error_message: "CONNECTION_NOT_INITED"}
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    assert {%{term: %{_: :pong}}, _, client} = C.answer(client, id)
    # A ping inside an API wrapper is an ordinary query: rpc_result(pong).
    {id, client} = C.send_term(client, %{_: :invokeWithoutUpdates, query: %{_: :ping, ping_id: 2}})

    assert {%{term: %{_: :rpc_result, result: %{_: :pong, ping_id: 2}}}, _, client} =
             C.answer(client, id)

    {result, client} = C.call(client, C.init_connection(%{_: :"help.getNearestDc"}))
    assert result == %{_: :nearestDc, country: "ZZ", this_dc: 2, nearest_dc: 2}
    # The key stays initialised, in this session and in a new one.
    {%{_: :nearestDc}, client} = C.call(client, %{_: :"help.getNearestDc"})
    client = %{client | session_id: client.session_id + 1, seq_count: 0}
    assert {%{_: :nearestDc}, _} = C.call(client, %{_: :"help.getNearestDc"})
  end

  test "help.getConfig in layer 198 lists this server's own address" do
    server = start_server(dc_id: 4)
    {_ip, port} = TestServer.address(server)
    client = keyed(server)
    {config, _} = C.call(client, C.init_connection(%{_: :"help.getConfig"}))
    assert %{_: :config, this_dc: 4, dc_options: [option]} = config
    assert %{_: :dcOption, id: 4, ip_address: "127.0.0.1", port: ^port} = option
  end

  test "help.getConfig in layer 144 is config#330b4067 with the fields of that layer" do
    server = start_server(dc_id: 3)
    {_ip, port} = TestServer.address(server)
    client = keyed(server)
    {id, client} = C.send_term(client, C.init_connection(%{_: :"help.getConfig"}, 144))
    {%{term: %{raw: raw}}, _, _} = C.answer(client, id)

    assert <<0x330B4067::little-32, flags::little-32, date::little-32, expires::little-32,
             0x997275B5::little-32, 3::little-32, 0x1CB5C415::little-32, 1::little-32,
             rest::binary>> = raw

    assert flags == 1 and expires > date
    {:ok, option} = TL.encode(%{_: :dcOption, id: 3, ip_address: "127.0.0.1", port: port})
    assert binary_part(rest, 0, byte_size(option)) == option
  end

  test "handlers answer with results or RPC errors and see the context" do
    test_pid = self()

    server =
      start_server(
        dc_id: 5,
        handlers: %{
          "messages.sendMessage": fn request, ctx ->
            send(test_pid, {:ctx, request, ctx})
            {:error, 420, "FLOOD_WAIT_5"}
          end,
          "users.getUsers": fn _request, _ctx -> {:error, 303, "USER_MIGRATE_2"} end,
          "contacts.getContacts": fn _req, _ctx -> raise "boom" end
        }
      )

    client = inited(server)

    send_message = %{
      _: :"messages.sendMessage",
      peer: %{_: :inputPeerSelf},
      message: "hi",
      random_id: 7
    }

    {id, client} = C.send_term(client, send_message)
    {%{term: %{result: result}}, _, client} = C.answer(client, id)
    assert result == %{_: :rpc_error, error_code: 420, error_message: "FLOOD_WAIT_5"}
    assert_receive {:ctx, %{_: :"messages.sendMessage", message: "hi", random_id: 7}, ctx}
    <<key_id::little-signed-64>> = Crypto.auth_key_id(client.auth_key)

    assert %{dc_id: 5, auth_key_id: ^key_id, msg_id: ^id, layer: 198, server: srv} = ctx
    assert ctx.session_id == client.session_id and srv == server

    {result, client} = C.call(client, %{_: :"users.getUsers", id: [%{_: :inputUserSelf}]})
    assert result.error_message == "USER_MIGRATE_2"
    {result, client} = C.call(client, %{_: :"contacts.getContacts", hash: 0})
    assert result == %{_: :rpc_error, error_code: 500, error_message: "INTERNAL"}
    # A method nobody handles: no one is ever logged in here.
    {result, _} = C.call(client, %{_: :"updates.getState"})
    assert result == %{_: :rpc_error, error_code: 401, error_message: "AUTH_KEY_UNREGISTERED"}
  end

  test "handler results are encoded by the method's return type" do
    server =
      start_server(
        handlers: %{
          "contacts.getContactIDs": fn _req, _ctx -> {:ok, [3, -1, 7]} end,
          "account.updateStatus": fn _req, _ctx -> {:ok, false} end,
          "help.getCdnConfig": fn _req, _ctx -> {:ok, :not_a_cdn_config} end
        }
      )

    client = inited(server)
    {id, client} = C.send_term(client, %{_: :"contacts.getContactIDs", hash: 0})
    {%{term: %{raw: raw}}, _, client} = C.answer(client, id)
    assert TL.decode_result(:"contacts.getContactIDs", raw) == {:ok, [3, -1, 7]}
    assert {false, client} = C.call(client, %{_: :"account.updateStatus", offline: true})
    {result, _} = C.call(client, %{_: :"help.getCdnConfig"})
    assert result == %{_: :rpc_error, error_code: 500, error_message: "INTERNAL"}
  end

  test "constructors that are not methods get INPUT_METHOD_INVALID_<id>_0" do
    server = start_server()
    client = inited(server)
    {result, client} = C.call(client, <<0xDEADBEEF::little-32, 0::32>>)
    assert result.error_message == "INPUT_METHOD_INVALID_3735928559_0"
    {result, _} = C.call(client, %{_: :inputUserSelf})
    assert result.error_message == "INPUT_METHOD_INVALID_#{0xF7C1B13F}_0"
  end

  test "large results are sent gzip_packed" do
    server =
      start_server(
        handlers: %{
          "help.getCdnConfig": fn _req, _ctx -> {:ok, %{_: :cdnConfig, public_keys: cdn_keys()}} end
        }
      )

    client = inited(server)
    {id, client} = C.send_term(client, %{_: :"help.getCdnConfig"})
    {%{term: %{raw: raw, result: result}}, _, _} = C.answer(client, id)
    assert <<0x3072CFA1::little-32, _::binary>> = raw
    assert result == %{_: :cdnConfig, public_keys: cdn_keys()}
  end

  defp cdn_keys do
    for i <- 1..40, do: %{_: :cdnPublicKey, dc_id: i, public_key: String.duplicate("key #{i} ", 20)}
  end

  test "events: connections, keys, calls, refused messages and transport errors" do
    server =
      start_server(handlers: %{"updates.getState": fn _, _ -> {:error, 420, "FLOOD_WAIT_1"} end})

    me = self()
    id = make_ref()

    MTProto.Event.attach(id, [[:mtproto, :test_server]], fn name, measurements, meta, _ ->
      if meta.server == server, do: send(me, {:event, name, measurements, meta})
    end)

    on_exit(fn -> MTProto.Event.detach(id) end)
    client = inited(server)
    <<key_id::little-signed-64>> = Crypto.auth_key_id(client.auth_key)
    assert_receive {:event, [:mtproto, :test_server, :connection, :opened], _, %{peer: {_, _}}}

    assert_receive {:event, [:mtproto, :test_server, :auth_key, :created], _,
                    %{auth_key_id: ^key_id}}

    assert_receive {:event, [:mtproto, :test_server, :rpc], %{duration: d},
                    %{method: :"help.getNearestDc", result: :ok, layer: 198}}
                   when d >= 0

    {_, client} = C.call(client, %{_: :"updates.getState"})

    assert_receive {:event, [:mtproto, :test_server, :rpc], _,
                    %{method: :"updates.getState", result: {:error, 420, "FLOOD_WAIT_1"}}}

    {_, client} = C.send_term(client, %{_: :ping, ping_id: 1}, seqno: 2)

    assert_receive {:event, [:mtproto, :test_server, :bad_msg], _,
                    %{code: 35, auth_key_id: ^key_id}}

    C.close(client)

    assert_receive {:event, [:mtproto, :test_server, :connection, :closed], _,
                    %{framing: :intermediate, packets: packets}}
                   when packets >= 5

    bad = C.send_packet(connect(server), :crypto.strong_rand_bytes(8) <> <<0::512>>)
    assert {{:transport_error, -404}, _} = C.recv_event(bad)

    assert_receive {:event, [:mtproto, :test_server, :transport_error], _,
                    %{code: -404, reason: :unknown_auth_key}}
  end
end
