defmodule MTProto.Session.CoreTest do
  use ExUnit.Case, async: true

  import Bitwise
  alias MTProto.{Crypto, Message, MessageId, RpcError, TL}
  alias MTProto.Session.{Core, Inbound, Seen}

  # The server side of the conversation, built from the protocol primitives.

  defp new_core(opts \\ []) do
    Core.new(:crypto.strong_rand_bytes(256), Keyword.merge([salt: 77, time_synced?: true], opts))
  end

  # Decrypts what the client sent: a flat list of %{msg_id, seqno, term, container}.
  defp sent(core, packets) do
    Enum.flat_map(packets, fn p ->
      {:ok, plain} = Crypto.decrypt_message(core.auth_key, :client, p)
      {:ok, msg} = Message.decode_plaintext(plain)
      assert msg.session_id == core.session_id

      if Message.container?(msg.body) do
        {:ok, inner} = Message.decode_container(msg.body)
        assert Enum.all?(inner, &(&1.msg_id < msg.msg_id))
        for m <- inner, do: decoded(m, msg.msg_id, msg.salt)
      else
        [decoded(msg, nil, msg.salt)]
      end
    end)
  end

  defp decoded(m, container, salt) do
    {:ok, term} = TL.decode(m.body)

    %{
      msg_id: m.msg_id,
      seqno: m.seqno,
      term: term,
      container: container,
      salt: salt,
      size: byte_size(m.body)
    }
  end

  defp server_id(offset_s \\ 0, kind \\ :server_response) do
    now = System.os_time(:nanosecond) + offset_s * 1_000_000_000
    id = MessageId.with_kind(div(now * 4_294_967_296, 1_000_000_000), kind)
    # unique and increasing within a test
    id + 4 * System.unique_integer([:positive, :monotonic])
  end

  defp packet(core, body, opts \\ []) do
    msg_id = Keyword.get_lazy(opts, :msg_id, fn -> server_id() end)
    seqno = Keyword.get(opts, :seqno, if(Message.content_related?(body), do: 1, else: 0))
    sid = Keyword.get(opts, :session_id, core.session_id)
    plain = Message.encode_plaintext(0, sid, msg_id, seqno, body)
    Crypto.encrypt_message(core.auth_key, :server, plain)
  end

  defp container(msgs) do
    Message.encode_container(
      for {id, seqno, body} <- msgs, do: %{msg_id: id, seqno: seqno, body: body}
    )
  end

  defp rpc_result(req_msg_id, term), do: Message.encode_rpc_result(req_msg_id, TL.encode!(term))

  defp call!(core, request, tag) do
    {:ok, id, core} = Core.call(core, request, tag)
    {id, core}
  end

  test "msg_ids increase and are divisible by 4; seqnos are 2n+1 for content, 2n otherwise" do
    core = %{new_core() | connection_inited?: true}

    {ids, core} =
      Enum.map_reduce(1..50, core, fn i, core -> call!(core, %{_: :ping, ping_id: i}, i) end)

    assert ids == Enum.sort(ids) and length(Enum.uniq(ids)) == 50
    assert Enum.all?(ids, &((&1 &&& 3) == 0))
    core = Core.ack(core, server_id())
    {[packet], core} = Core.flush(core)
    msgs = sent(core, [packet])
    pings = for %{term: %{_: :ping}} = m <- msgs, do: m.seqno
    assert pings == for(i <- 0..49, do: 2 * i + 1)
    [ack] = for %{term: %{_: :msgs_ack}} = m <- msgs, do: m
    assert rem(ack.seqno, 2) == 0
    assert Enum.all?(msgs, &(&1.salt == 77))
  end

  test "containers hold at most 1024 messages and 1 MiB; acks go 8192 ids a message" do
    core = %{new_core() | connection_inited?: true}

    core =
      Enum.reduce(1..2000, core, fn i, core ->
        elem(Core.call(core, %{_: :ping, ping_id: i}, i), 2)
      end)

    core = Enum.reduce(1..9000, core, fn i, core -> Core.ack(core, i * 4 + 1) end)
    {packets, core} = Core.flush(core)
    msgs = sent(core, packets)
    by_container = Enum.group_by(msgs, & &1.container)
    assert Enum.all?(by_container, fn {_, ms} -> length(ms) <= 1024 end)
    acks = for %{term: %{_: :msgs_ack, msg_ids: ids}} <- msgs, do: length(ids)
    assert Enum.sort(acks) == [808, 8192]
    assert length(for %{term: %{_: :ping}} <- msgs, do: 1) == 2000

    big = :crypto.strong_rand_bytes(400_000)

    core =
      Enum.reduce(1..5, core, fn i, core ->
        elem(
          Core.send_message(core, %{
            _: :"help.saveAppLog",
            events: [
              %{
                _: :inputAppEvent,
                time: 1.0,
                type: "x",
                peer: i,
                data: %{_: :jsonString, value: big}
              }
            ]
          }),
          2
        )
      end)

    {packets, core} = Core.flush(core)
    sizes = for p <- packets, do: byte_size(p)
    assert length(packets) >= 3
    assert Enum.all?(sizes, &(&1 <= 1024 * 1024 + 1024))
    assert length(sent(core, packets)) == 5
  end

  test "large queries are gzipped when that makes them smaller" do
    core = %{new_core() | connection_inited?: true}
    text = String.duplicate("hello ", 500)

    {_id, core} =
      call!(
        core,
        %{_: :"messages.sendMessage", peer: %{_: :inputPeerSelf}, message: text, random_id: 1},
        :t
      )

    {[p], core} = Core.flush(core)
    {:ok, plain} = Crypto.decrypt_message(core.auth_key, :client, p)
    {:ok, msg} = Message.decode_plaintext(plain)
    assert <<0x3072CFA1::little-32, _::binary>> = msg.body
    assert byte_size(msg.body) < byte_size(text)
    assert {:ok, %{_: :"messages.sendMessage", message: ^text}} = TL.decode(msg.body)
  end

  test "the first API call is wrapped in invokeWithLayer(initConnection); results decode by the inner method" do
    core = new_core(init: %{api_id: 4242})
    {id, core} = call!(core, %{_: :"help.getNearestDc"}, :a)
    {_ping, core} = call!(core, %{_: :ping, ping_id: 1}, :b)
    {[p], core} = Core.flush(core)
    [wrapped, ping] = sent(core, [p])

    assert %{
             _: :invokeWithLayer,
             layer: layer,
             query: %{_: :initConnection, api_id: 4242, query: %{_: :"help.getNearestDc"}}
           } = wrapped.term

    assert layer == MTProto.TL.Schema.layer()
    assert ping.term._ == :ping

    # fields equal to the defaults are not kept, and go out all the same
    init = %{api_id: 7, device_model: "BEAM", lang_code: "de", app_version: "mtproto 0.1.0"}
    other = new_core(init: init)
    assert other.init == %{api_id: 7, lang_code: "de"}
    {_, other} = call!(other, %{_: :"help.getNearestDc"}, :a)
    {[p], other} = Core.flush(other)
    [%{term: %{query: query}}] = sent(other, [p])

    assert %{
             api_id: 7,
             device_model: "BEAM",
             app_version: "mtproto 0.1.0",
             system_lang_code: "en",
             lang_pack: "",
             lang_code: "de"
           } = query

    assert query.system_version =~ "OTP"

    nearest = %{_: :nearestDc, country: "NL", this_dc: 2, nearest_dc: 2}
    {events, core} = Inbound.handle_packet(core, packet(core, rpc_result(id, nearest)))
    assert [{:reply, :a, {:ok, ^nearest}}] = events
    assert core.connection_inited?
    {_id, core} = call!(core, %{_: :"help.getNearestDc"}, :c)
    {[p], core} = Core.flush(core)
    terms = for m <- sent(core, [p]), do: m.term._
    assert :"help.getNearestDc" in terms
    refute :invokeWithLayer in terms
  end

  test "a gzipped rpc_result is unpacked and decoded by the method's return type" do
    core = %{new_core() | connection_inited?: true}
    {id, core} = call!(core, %{_: :"messages.receivedQueue", max_qts: 1}, :q)
    {_, core} = Core.flush(core)
    {:ok, result} = TL.encode_result(:"messages.receivedQueue", Enum.to_list(1..300))
    body = Message.encode_rpc_result(id, TL.gzip(result))
    assert {[{:reply, :q, {:ok, list}}], _} = Inbound.handle_packet(core, packet(core, body))
    assert list == Enum.to_list(1..300)
  end

  test "rpc_error becomes an RpcError; CONNECTION_NOT_INITED re-sends the call wrapped" do
    core = %{new_core() | connection_inited?: true}
    {id, core} = call!(core, %{_: :"help.getConfig"}, :a)
    {_, core} = Core.flush(core)
    err = %{_: :rpc_error, error_code: 400, error_message: "CONNECTION_NOT_INITED"}
    {events, core} = Inbound.handle_packet(core, packet(core, rpc_result(id, err)))
    assert events == []
    {packets, core} = Core.flush(core)
    [again] = for %{term: %{_: :invokeWithLayer}} = m <- sent(core, packets), do: m
    err = %{_: :rpc_error, error_code: 420, error_message: "FLOOD_WAIT_3"}
    {events, _core} = Inbound.handle_packet(core, packet(core, rpc_result(again.msg_id, err)))
    assert [{:reply, :a, {:error, %RpcError{code: 420, message: "FLOOD_WAIT_3"}}}] = events
  end

  test "receive checks: wrong session, even msg_id, outside the window, duplicates, tampering" do
    core = %{new_core() | connection_inited?: true}
    {id, core} = call!(core, %{_: :ping, ping_id: 5}, :p)
    {_, core} = Core.flush(core)
    pong = TL.encode!(%{_: :pong, msg_id: id, ping_id: 5})

    assert {[{:dropped, :wrong_session_id}], _} =
             Inbound.handle_packet(core, packet(core, pong, session_id: 1))

    assert {[{:dropped, :even_msg_id}], _} =
             Inbound.handle_packet(core, packet(core, pong, msg_id: server_id() - 1))

    assert {[{:dropped, :too_old}], _} =
             Inbound.handle_packet(core, packet(core, pong, msg_id: server_id(-400)))

    assert {[{:dropped, :too_new}], _} =
             Inbound.handle_packet(core, packet(core, pong, msg_id: server_id(60)))

    <<head::binary-size(30), x, rest::binary>> = packet(core, pong)

    assert {[{:dropped, :msg_key_mismatch}], _} =
             Inbound.handle_packet(core, <<head::binary, bxor(x, 1), rest::binary>>)

    p = packet(core, pong, msg_id: server_id())
    assert {[{:reply, :p, {:ok, %{_: :pong}}}], core} = Inbound.handle_packet(core, p)
    assert {[{:dropped, :duplicate}], core} = Inbound.handle_packet(core, p)
    assert core.stats.dropped == 1
  end

  test "bad_server_salt: new salt, the message (or the whole container) goes again under new ids" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {[p], core} = Core.flush(core)
    [%{container: container} | _] = sent(core, [p])

    bad =
      TL.encode!(%{
        _: :bad_server_salt,
        bad_msg_id: container,
        bad_msg_seqno: 0,
        error_code: 48,
        new_server_salt: 999
      })

    {events, core} = Inbound.handle_packet(core, packet(core, bad))
    assert {:salt_changed, 999} in events
    {packets, core} = Core.flush(core)
    resent = sent(core, packets)
    pings = for %{term: %{_: :ping}} = m <- resent, do: m
    assert length(pings) == 2
    assert Enum.all?(pings, &(&1.msg_id > b and &1.salt == 999))
    refute Enum.any?(pings, &(&1.msg_id in [a, b]))
    [new_a] = for %{term: %{ping_id: 1}} = m <- pings, do: m.msg_id
    pong = TL.encode!(%{_: :pong, msg_id: new_a, ping_id: 1})
    assert {[{:reply, :a, {:ok, _}}], _} = Inbound.handle_packet(core, packet(core, pong))
  end

  test "bad_msg_notification 16/17 fixes the clock from the server's msg_id, even from outside the window" do
    for skew <- [-3600, 3600] do
      core = %{new_core(time_offset: 0, time_synced?: true) | connection_inited?: true}
      {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
      {_, core} = Core.flush(core)
      code = if skew > 0, do: 16, else: 17

      bad =
        TL.encode!(%{_: :bad_msg_notification, bad_msg_id: a, bad_msg_seqno: 1, error_code: code})

      {events, core} =
        Inbound.handle_packet(core, packet(core, bad, msg_id: server_id(skew, :server_other)))

      assert [{:clock_fixed, offset}] = events
      assert_in_delta offset, skew, 2
      {packets, core} = Core.flush(core)
      [ping] = for %{term: %{_: :ping}} = m <- sent(core, packets), do: m
      assert_in_delta MessageId.seconds(ping.msg_id), System.os_time(:second) + skew, 2

      # a replayed notification about a message that is not ours is dropped
      old =
        TL.encode!(%{
          _: :bad_msg_notification,
          bad_msg_id: a - 4_000_000,
          bad_msg_seqno: 1,
          error_code: 16
        })

      assert {[{:dropped, _}], _} =
               Inbound.handle_packet(core, packet(core, old, msg_id: server_id(-2 * skew)))
    end
  end

  test "a bad_msg_notification 16/17 whose own msg_id contradicts its code is dropped, not followed" do
    for {code, skew} <- [{16, 3600}, {17, -3600}] do
      core = %{new_core(time_offset: 0, time_synced?: true) | connection_inited?: true}
      {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
      {_, core} = Core.flush(core)

      bad =
        TL.encode!(%{_: :bad_msg_notification, bad_msg_id: a, bad_msg_seqno: 1, error_code: code})

      # Sent at our own time (inside the window) or from the other side of it: the server's
      # clock, which the msg_id shows, does not put `a` out of the window as the code says.
      # (From outside the window it is dropped for that, as anything else from there.)
      for {msg_id, reason} <- [
            {server_id(0, :server_other), :clock_claim_mismatch},
            {server_id(-skew, :server_other), if(code == 16, do: :too_old, else: :too_new)}
          ] do
        {events, after_} = Inbound.handle_packet(core, packet(core, bad, msg_id: msg_id))
        assert events == [{:dropped, reason}]
        assert after_.time_offset_ns == core.time_offset_ns
        assert after_.stats.resent == 0 and not Core.pending_output?(after_)
        assert Map.has_key?(after_.sent, a)
      end

      # The consistent one is still followed.
      {events, core} =
        Inbound.handle_packet(core, packet(core, bad, msg_id: server_id(skew, :server_other)))

      assert [{:clock_fixed, offset}] = events
      assert_in_delta offset, skew, 2
      assert core.stats.resent == 1
    end
  end

  test "two authentic messages in a row from outside the window mean our clock stepped: resync" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_, core} = Core.flush(core)
    ack = TL.encode!(%{_: :msgs_ack, msg_ids: [a]})
    pong = TL.encode!(%{_: :pong, msg_id: a, ping_id: 1})
    {events, core} = Inbound.handle_packet(core, packet(core, ack, msg_id: server_id(3600)))
    assert events == [{:dropped, :too_new}]
    {events, core} = Inbound.handle_packet(core, packet(core, pong, msg_id: server_id(3600)))
    assert [{:clock_fixed, offset}, {:reply, :a, {:ok, %{_: :pong}}}] = events
    assert_in_delta offset, 3600, 2
    # a lone straggler does not move the clock
    assert {[{:dropped, :too_old}], _} =
             Inbound.handle_packet(core, packet(core, ack, msg_id: server_id(0)))
  end

  test "bad_msg_notification 32/33 start a new session; 18/34/35/64 fail the calls they name" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_, core} = Core.flush(core)
    old_session = core.session_id
    bad = TL.encode!(%{_: :bad_msg_notification, bad_msg_id: a, bad_msg_seqno: 1, error_code: 32})
    {[{:session_reset, {:bad_msg, 32}}], core} = Inbound.handle_packet(core, packet(core, bad))
    assert core.session_id != old_session
    {packets, core} = Core.flush(core)
    [ping] = for %{term: %{_: :ping}} = m <- sent(core, packets), do: m
    assert ping.msg_id > a and ping.seqno == 1

    for code <- [18, 34, 35, 64] do
      {b, core} = call!(core, %{_: :ping, ping_id: code}, {:t, code})
      {_, core} = Core.flush(core)

      bad =
        TL.encode!(%{_: :bad_msg_notification, bad_msg_id: b, bad_msg_seqno: 1, error_code: code})

      assert {[{:reply, {:t, ^code}, {:error, {:bad_msg, ^code}}}], _} =
               Inbound.handle_packet(core, packet(core, bad))
    end
  end

  test "reconnect resends unanswered calls with their msg_ids; answered and acked ones are not resent" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {:ok, c, core} = Core.send_message(core, %{_: :inputPeerSelf})
    {_, core} = Core.flush(core)

    {_, core} =
      Inbound.handle_packet(core, packet(core, TL.encode!(%{_: :pong, msg_id: a, ping_id: 1})))

    {_, core} =
      Inbound.handle_packet(core, packet(core, TL.encode!(%{_: :msgs_ack, msg_ids: [b, c]})))

    core = Core.reconnected(core)
    {packets, core} = Core.flush(core)
    ids = for %{term: %{_: name}} = m <- sent(core, packets), name != :msgs_ack, do: m.msg_id
    assert ids == [b]
  end

  test "a message queued again by a reconnect and then refused goes out once, under its new id" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_, core} = Core.flush(core)
    core = Core.reconnected(core)

    bad =
      TL.encode!(%{
        _: :bad_server_salt,
        bad_msg_id: a,
        bad_msg_seqno: 1,
        error_code: 48,
        new_server_salt: 5
      })

    {_, core} = Inbound.handle_packet(core, packet(core, bad))
    {packets, _core} = Core.flush(core)
    assert [new_a] = for(%{term: %{_: :ping}} = m <- sent(core, packets), do: m.msg_id)
    assert new_a != a
  end

  test "new_session_created: new salt, the client is told, older unanswered messages go again" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_, core} = Core.flush(core)
    {b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {_, core} = Core.flush(core)
    nsc = %{_: :new_session_created, first_msg_id: b, unique_id: 5, server_salt: 31}
    {events, core} = Inbound.handle_packet(core, packet(core, TL.encode!(nsc)))
    assert [{:session_created, ^nsc}] = events
    assert core.salts.current == 31
    {packets, core} = Core.flush(core)
    pings = for %{term: %{_: :ping, ping_id: pid}} = m <- sent(core, packets), do: {pid, m.msg_id}
    assert [{1, new_a}] = pings
    assert new_a > b and new_a != a
    # the acknowledgment of new_session_created went too
    assert core.acks == []
  end

  test "new_session_created naming a container: the messages inside it are not sent again" do
    core = %{new_core() | connection_inited?: true}
    {_a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {_, core} = Core.flush(core)
    # the container's msg_id comes after those of the two pings inside it
    [{container, _}] = Map.to_list(core.containers)
    nsc = %{_: :new_session_created, first_msg_id: container, unique_id: 5, server_salt: 31}
    {_, core} = Inbound.handle_packet(core, packet(core, TL.encode!(nsc)))
    {packets, _core} = Core.flush(core)
    assert for(%{term: %{_: :ping}} = m <- sent(core, packets), do: m) == []
  end

  test "prune/2 forgets received ids past the window; replays of them stay refused" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {_, core} = Core.flush(core)
    old = packet(core, TL.encode!(%{_: :pong, msg_id: a, ping_id: 1}), msg_id: server_id(-250))
    new = packet(core, TL.encode!(%{_: :pong, msg_id: b, ping_id: 2}), msg_id: server_id(-10))
    {[{:reply, :a, {:ok, _}}], core} = Inbound.handle_packet(core, old)
    {[{:reply, :b, {:ok, _}}], core} = Inbound.handle_packet(core, new)
    assert Seen.size(core.history) == 2

    # 60 s on: the first is 310 s old, past the window, and forgotten
    pruned = Core.prune(core, Core.server_now(core) + 60)
    assert Seen.size(pruned.history) == 1
    assert {[{:dropped, :duplicate}], _} = Inbound.handle_packet(pruned, new)
    assert {[{:dropped, reason}], _} = Inbound.handle_packet(pruned, old)
    assert reason in [:too_old, :too_low]
    # refused as too low even if the clock went back and the window let it in
    assert {[{:dropped, :too_low}], _} = Inbound.handle_packet(%{pruned | time_synced?: false}, old)

    # at the session's own time nothing is that old
    assert Seen.size(Core.prune(core).history) == 2
    # before the clock is synchronised the window is not checked: nothing is forgotten
    unsynced = Core.prune(%{core | time_synced?: false}, Core.server_now(core) + 1000)
    assert Seen.size(unsynced.history) == 2
    assert Seen.size(Core.prune(core, Core.server_now(core) + 1000).history) == 0
  end

  test "prune/2 forgets containers once all their messages are answered" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {b, core} = call!(core, %{_: :ping, ping_id: 2}, :b)
    {_, core} = Core.flush(core)
    later = Core.server_now(core) + 301
    [{container, [^a, ^b]}] = Map.to_list(core.containers)
    # a call still waiting keeps its container, however old
    pong_a = packet(core, TL.encode!(%{_: :pong, msg_id: a, ping_id: 1}))
    {_, core} = Inbound.handle_packet(core, pong_a)
    assert map_size(Core.prune(core, later).containers) == 1
    # a container without content (here acknowledgments and a state request) is kept for the
    # window
    core = core |> Core.ack(server_id()) |> Core.ack(server_id())
    {_, core} = Core.enqueue(core, TL.encode!(%{_: :msgs_state_req, msg_ids: [1]}), false)
    {_, core} = Core.flush(core)
    assert map_size(core.containers) == 2
    pong_b = packet(core, TL.encode!(%{_: :pong, msg_id: b, ping_id: 2}))
    {_, core} = Inbound.handle_packet(core, pong_b)
    assert [{_, []}] = Map.to_list(Core.prune(core).containers)
    refute Map.has_key?(Core.prune(core).containers, container)
    assert Core.prune(core, later).containers == %{}
  end

  test "cancel sends rpc_drop_answer; a late answer is ignored" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :"help.getConfig"}, :a)
    {_, core} = Core.flush(core)
    core = Core.cancel(core, :a)
    {packets, core} = Core.flush(core)
    assert [%{term: %{_: :rpc_drop_answer, req_msg_id: ^a}}] = sent(core, packets)
    late = rpc_result(a, %{_: :rpc_error, error_code: 500, error_message: "X"})
    assert {[], _} = Inbound.handle_packet(core, packet(core, late))
    # a call cancelled before it went out never goes
    {_b, core} = call!(core, %{_: :ping, ping_id: 9}, :b)
    core = Core.cancel(core, :b)
    assert {[], _} = Core.flush(core)
  end

  test "msgs_state_req, msg_resend_req, msgs_all_info, msg_detailed_info" do
    core = %{new_core() | connection_inited?: true}
    {a, core} = call!(core, %{_: :ping, ping_id: 1}, :a)
    {_, core} = Core.flush(core)
    seen = server_id()

    {_, core} =
      Inbound.handle_packet(
        core,
        packet(core, TL.encode!(%{_: :msgs_ack, msg_ids: []}), msg_id: seen, seqno: 0)
      )

    req_id = server_id()

    {_, core} =
      Inbound.handle_packet(
        core,
        packet(core, TL.encode!(%{_: :msgs_state_req, msg_ids: [seen, seen + 4]}), msg_id: req_id)
      )

    {packets, core} = Core.flush(core)
    [info] = for %{term: %{_: :msgs_state_info}} = m <- sent(core, packets), do: m.term
    assert info.req_msg_id == req_id and info.info == <<4, 1>>

    {_, core} =
      Inbound.handle_packet(core, packet(core, TL.encode!(%{_: :msg_resend_req, msg_ids: [a]})))

    {packets, core} = Core.flush(core)
    assert [^a] = for(%{term: %{_: :ping}} = m <- sent(core, packets), do: m.msg_id)

    {_, core} =
      Inbound.handle_packet(
        core,
        packet(core, TL.encode!(%{_: :msgs_all_info, msg_ids: [a], info: <<1>>}))
      )

    {packets, core} = Core.flush(core)
    [new_a] = for %{term: %{_: :ping}} = m <- sent(core, packets), do: m.msg_id
    assert new_a > a

    answer = server_id()

    {_, core} =
      Inbound.handle_packet(
        core,
        packet(
          core,
          TL.encode!(%{
            _: :msg_detailed_info,
            msg_id: new_a,
            answer_msg_id: answer,
            bytes: 20,
            status: 0
          })
        )
      )

    {packets, _core} = Core.flush(core)

    assert [%{term: %{msg_ids: [^answer]}}] =
             for(%{term: %{_: :msg_resend_req}} = m <- sent(core, packets), do: m)
  end

  test "updates go to the client, inside containers too, and content messages are acknowledged" do
    core = %{new_core() | connection_inited?: true}
    upd = %{_: :updateShort, update: %{_: :updateConfig}, date: 1}
    body = TL.encode!(upd)
    i1 = server_id(0, :server_other)
    i2 = server_id(0, :server_other)
    c = server_id(0, :server_other)

    {events, core} =
      Inbound.handle_packet(
        core,
        packet(core, container([{i1, 1, body}, {i2, 3, body}]), msg_id: c, seqno: 4)
      )

    assert events == [{:update, upd}, {:update, upd}]
    {packets, core} = Core.flush(core)
    [%{term: %{msg_ids: ids}}] = sent(core, packets)
    assert Enum.sort(ids) == [i1, i2]
  end

  test "a container repeating an id inside is cut at the duplicate" do
    core = %{new_core() | connection_inited?: true}
    body = TL.encode!(%{_: :updatesTooLong})
    i1 = server_id(0, :server_other)

    {events, _} =
      Inbound.handle_packet(
        core,
        packet(core, container([{i1, 1, body}, {i1, 1, body}]), seqno: 2)
      )

    assert events == [{:update, %{_: :updatesTooLong}}, {:dropped, :duplicate}]
  end
end
