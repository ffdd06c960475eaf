defmodule MTProto.TransportTest do
  use ExUnit.Case, async: true

  alias MTProto.Transport

  @plain [:abridged, :intermediate, :padded_intermediate, :full]
  @obfuscated [
    {:obfuscated, :abridged},
    {:obfuscated, :intermediate},
    {:obfuscated, :padded_intermediate}
  ]
  @framings @plain ++ @obfuscated
  @secret "0123456789abcdef"

  test "framings/0 lists exactly the seven framings" do
    assert Transport.framings() == @framings
  end

  # ------------------------------------------------------------------ helpers

  # An MTProto-shaped packet (padded intermediate finds a packet's end from its shape):
  # encrypted-looking (nonzero auth_key_id, 24 + 16k bytes) or unencrypted (auth_key_id 0).
  defp encrypted_packet(blocks), do: <<1, :crypto.strong_rand_bytes(23 + 16 * blocks)::binary>>

  defp plain_packet(words) do
    body = :crypto.strong_rand_bytes(4 * words)

    <<0::64, System.unique_integer([:positive])::little-64, byte_size(body)::little-32,
      body::binary>>
  end

  defp frames(t, packets, opts \\ []) do
    Enum.map_reduce(packets, t, fn p, t ->
      {frame, t} = Transport.encode(t, p, opts)
      {IO.iodata_to_binary(frame), t}
    end)
  end

  # Feeds chunks one by one; returns every event and the transport.
  defp feed(t, chunks) do
    Enum.reduce(chunks, {[], t}, fn chunk, {acc, t} ->
      {:ok, events, t} = Transport.decode(t, chunk)
      {acc ++ events, t}
    end)
  end

  defp split(bin, sizes), do: split(bin, Stream.cycle(sizes) |> Enum.take(byte_size(bin)), [])
  defp split(<<>>, _, acc), do: Enum.reverse(acc)

  defp split(bin, [n | rest], acc) do
    n = min(n, byte_size(bin))
    <<chunk::binary-size(n), tail::binary>> = bin
    split(tail, rest, [chunk | acc])
  end

  defp server_for(framing, opts \\ []), do: Transport.new(framing, :server, opts)

  defp packets(n),
    do:
      for(i <- 1..n, do: if(rem(i, 3) == 0, do: plain_packet(i * 5), else: encrypted_packet(i * 7)))

  defp reserved?(<<0xEF, _::binary>>), do: true
  defp reserved?(<<_::32, 0::32, _::binary>>), do: true

  defp reserved?(<<w::binary-4, _::binary>>),
    do:
      w in [
        "HEAD",
        "POST",
        "GET ",
        "OPTI",
        "PVrG",
        <<0xEE, 0xEE, 0xEE, 0xEE>>,
        <<0xDD, 0xDD, 0xDD, 0xDD>>,
        <<0x16, 3, 1, 2>>
      ]

  # A rand function giving these binaries in turn (then fresh random bytes).
  defp scripted_rand(values) do
    agent = start_supervised!(Supervisor.child_spec({Agent, fn -> values end}, id: make_ref()))

    fn n ->
      case Agent.get_and_update(agent, fn
             [v | rest] -> {v, rest}
             [] -> {nil, []}
           end) do
        nil -> :crypto.strong_rand_bytes(n)
        v -> v
      end
    end
  end

  defp valid_init_random(seed) do
    <<_::8, a::binary-3, _::32, b::binary>> = :crypto.hash(:sha512, "init #{seed}")
    <<0x11, a::binary, 1::32, b::binary>>
  end

  # ------------------------------------------------------------------ round trips

  for framing <- @framings, server_kind <- [:explicit, :detect] do
    test "#{inspect(framing)} round trip, both directions, #{server_kind} server" do
      framing = unquote(Macro.escape(framing))
      obfuscated? = unquote(match?({:obfuscated, _}, framing))
      client = Transport.new(framing, :client, dc_id: 2)
      server = server_for(if unquote(server_kind) == :detect, do: :detect, else: framing)
      up = packets(6) ++ [encrypted_packet(70_000)]

      {start, client} = Transport.start(client)
      {up_frames, client} = frames(client, up)
      {events, server} = feed(server, [start | up_frames])
      assert events == Enum.map(up, &{:packet, &1})
      assert Transport.framing(server) == framing
      if obfuscated?, do: assert(Transport.dc_id(server) == 2)

      down = packets(5)
      {down_frames, _server} = frames(server, down)
      {events, _client} = feed(client, down_frames)
      assert events == Enum.map(down, &{:packet, &1})
    end
  end

  test "a started client transport encodes in one process while another decodes (a session's handler and listener)" do
    framing = {:obfuscated, :padded_intermediate}
    {start, client} = Transport.start(Transport.new(framing, :client, dc_id: 2))
    server = server_for(framing)
    {[], server} = feed(server, [start])
    down = for i <- 1..3000, do: plain_packet(4 + rem(i, 30) * 4)
    {down_frames, server} = frames(server, down)
    up = for i <- 1..3000, do: plain_packet(8 + rem(i, 40) * 4)

    # Both halves busy at once, each in its own process: no :concurrent_use, no mixed streams.
    encoder = Task.async(fn -> frames(client, up) end)
    decoder = Task.async(fn -> feed(client, down_frames) end)
    {up_frames, _} = Task.await(encoder, 30_000)
    {down_events, _} = Task.await(decoder, 30_000)

    assert down_events == Enum.map(down, &{:packet, &1})
    {up_events, _} = feed(server, up_frames)
    assert up_events == Enum.map(up, &{:packet, &1})
  end

  test "obfuscated2 with an MTProxy secret, and a server with another secret cannot read it" do
    client = Transport.new({:obfuscated, :padded_intermediate}, :client, secret: @secret, dc_id: -4)
    {start, client} = Transport.start(client)
    {up_frames, _} = frames(client, packets(3))

    server = server_for(:detect, secret: @secret)
    {events, server} = feed(server, [start | up_frames])
    assert length(events) == 3
    assert Transport.framing(server) == {:obfuscated, :padded_intermediate}
    assert Transport.dc_id(server) == -4

    wrong = server_for(:detect, secret: "fedcba9876543210")
    assert {:error, :unknown_protocol_tag, _} = Transport.decode(wrong, start)

    assert {:error, :secret_required, _} =
             Transport.decode(server_for(:detect, secret: @secret), <<0xEF, 1>>)
  end

  test "1 MiB packets cross every framing (the dirty-scheduler paths)" do
    big = encrypted_packet(65_536)

    for framing <- @framings do
      client = Transport.new(framing, :client)
      {start, client} = Transport.start(client)
      {[frame], _} = frames(client, [big])
      {events, server} = feed(server_for(:detect), [IO.iodata_to_binary([start, frame])])
      assert events == [{:packet, big}], inspect(framing)
      {[down], _} = frames(server, [big])
      assert {:ok, [{:packet, ^big}], _} = Transport.decode(client, down)
    end
  end

  # ------------------------------------------------------------------ chunking independence

  test "splitting the stream at random boundaries gives the same events (property)" do
    framings = Enum.map(@framings, &:proper_types.exactly/1)

    prop =
      :proper.forall(
        {:proper_types.oneof(framings),
         :proper_types.non_empty(:proper_types.list(:proper_types.range(0, 80))),
         :proper_types.non_empty(:proper_types.list(:proper_types.range(1, 700))),
         :proper_types.bool()},
        fn {framing, sizes, cuts, quick_ack} ->
          packets =
            Enum.map(sizes, fn k ->
              if rem(k, 4) == 3, do: plain_packet(k), else: encrypted_packet(k)
            end)

          quick_ack = quick_ack and framing != :full
          client = Transport.new(framing, :client)
          {start, client} = Transport.start(client)
          {up, client} = frames(client, packets, quick_ack: quick_ack)
          stream = IO.iodata_to_binary([start | up])
          {whole, server_a} = feed(server_for(:detect), [stream])
          {pieces, server_b} = feed(server_for(:detect), split(stream, cuts))

          expected =
            Enum.map(packets, fn p ->
              if quick_ack, do: {:packet, p, :quick_ack}, else: {:packet, p}
            end)

          {down, _} = frames(server_a, packets)
          {back, _} = feed(client, split(IO.iodata_to_binary(down), cuts))

          whole == expected and pieces == expected and Transport.framing(server_b) == framing and
            back == Enum.map(packets, &{:packet, &1})
        end
      )

    assert :proper.quickcheck(prop, [:quiet, numtests: 150]) == true
  end

  # ------------------------------------------------------------------ first bytes

  test "abridged: 0xef, then length/4 in one byte or 0x7f and 3 bytes" do
    t = Transport.new(:abridged, :client)
    assert {<<0xEF>>, t} = Transport.start(t)
    small = :binary.copy(<<1, 2, 3, 4>>, 126)
    large = :binary.copy(<<1, 2, 3, 4>>, 127)
    {f, t} = Transport.encode(t, small)
    assert IO.iodata_to_binary(f) == <<126, small::binary>>
    {f, t} = Transport.encode(t, large)
    assert IO.iodata_to_binary(f) == <<0x7F, 127, 0, 0, large::binary>>
    {f, t} = Transport.encode(t, small, quick_ack: true)
    assert IO.iodata_to_binary(f) == <<126 + 128, small::binary>>
    assert_raise ArgumentError, ~r/bad_length/, fn -> Transport.encode(t, "abc") end
  end

  test "intermediate and padded: 0xeeeeeeee / 0xdddddddd, then a 4-byte little-endian length" do
    t = Transport.new(:intermediate, :client)
    assert {<<0xEE, 0xEE, 0xEE, 0xEE>>, t} = Transport.start(t)
    {f, t} = Transport.encode(t, "twelve bytes")
    assert IO.iodata_to_binary(f) == <<12::little-32, "twelve bytes">>
    {f, _} = Transport.encode(t, "twelve bytes", quick_ack: true)
    assert IO.iodata_to_binary(f) == <<12 + 0x80000000::little-32, "twelve bytes">>

    # one byte picks the padding length (0x2b rem 16 = 11), the next ones fill it
    rand = scripted_rand([<<0x2B, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15>>])
    t = Transport.new(:padded_intermediate, :client, rand: rand)
    assert {<<0xDD, 0xDD, 0xDD, 0xDD>>, t} = Transport.start(t)
    packet = encrypted_packet(1)
    {f, _} = Transport.encode(t, packet)

    assert IO.iodata_to_binary(f) ==
             <<40 + 11::little-32, packet::binary, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11>>

    t = Transport.new(:padded_intermediate, :client, max_padding: 3)
    {_, t} = Transport.start(t)
    {frames, _} = frames(t, List.duplicate(packet, 50))
    assert Enum.all?(frames, fn <<n::little-32, _::binary>> -> (n - 40) in 0..3 end)

    # a client pads up to 15 by default, a server up to 3
    {_, t} = Transport.start(Transport.new(:padded_intermediate, :client))
    {frames, _} = frames(t, List.duplicate(packet, 200))
    paddings = Enum.map(frames, fn <<n::little-32, _::binary>> -> n - 40 end)
    assert Enum.max(paddings) > 3 and Enum.all?(paddings, &(&1 in 0..15))
    {frames, _} = frames(server_for(:padded_intermediate), List.duplicate(packet, 200))
    assert Enum.all?(frames, fn <<n::little-32, _::binary>> -> (n - 40) in 0..3 end)
  end

  test "full: length, sequence number from 0, payload, CRC32 (as :erlang.crc32 computes it)" do
    t = Transport.new(:full, :client)
    assert {"", t} = Transport.start(t)
    payload = encrypted_packet(2)
    {frames, _} = frames(t, [payload, payload, payload])

    for {frame, seq} <- Enum.with_index(frames) do
      total = byte_size(payload) + 12

      assert <<^total::little-32, ^seq::little-32, ^payload::binary-size(byte_size(payload)),
               crc::little-32>> = frame

      assert crc == :erlang.crc32(binary_part(frame, 0, total - 4))
    end

    assert_raise ArgumentError, ~r/quick acks/, fn ->
      Transport.encode(t, payload, quick_ack: true)
    end
  end

  # ------------------------------------------------------------------ obfuscated2

  test "obfuscated2 init: keys and ivs from the init and its reverse, checked with :crypto" do
    for secret <- [nil, @secret] do
      random = valid_init_random(1)

      client =
        Transport.new({:obfuscated, :intermediate}, :client,
          rand: scripted_rand([random]),
          dc_id: 4,
          secret: secret
        )

      {init, client} = Transport.start(client)
      assert byte_size(init) == 64
      assert binary_part(init, 0, 56) == binary_part(random, 0, 56)

      fix = fn key -> if secret, do: :crypto.hash(:sha256, key <> secret), else: key end
      <<_::binary-8, key::binary-32, iv::binary-16, _::binary-8>> = init
      up = :crypto.crypto_init(:aes_256_ctr, fix.(key), iv, true)

      assert <<_::binary-56, 0xEE, 0xEE, 0xEE, 0xEE, 4::little-signed-16, _::binary-2>> =
               :crypto.crypto_update(up, init)

      packet = encrypted_packet(3)
      {frame, _} = Transport.encode(client, packet)

      assert :crypto.crypto_update(up, IO.iodata_to_binary(frame)) ==
               <<byte_size(packet)::little-32, packet::binary>>

      <<rkey::binary-32, riv::binary-16>> =
        init
        |> binary_part(8, 48)
        |> :binary.bin_to_list()
        |> Enum.reverse()
        |> :erlang.list_to_binary()

      server = server_for(:detect, secret: secret)
      {[{:packet, ^packet}], server} = feed(server, [init, frame])
      {down, _} = Transport.encode(server, packet)
      down_stream = :crypto.crypto_init(:aes_256_ctr, fix.(rkey), riv, true)

      assert :crypto.crypto_update(down_stream, IO.iodata_to_binary(down)) ==
               <<byte_size(packet)::little-32, packet::binary>>
    end
  end

  test "obfuscated2 init never starts like another protocol; reserved random is drawn again" do
    for _ <- 1..2000 do
      {init, _} = Transport.start(Transport.new({:obfuscated, :abridged}, :client))
      refute reserved?(init)
    end

    reserved = [
      <<0xEF, 1::504>>,
      "POST" <> <<1::480>>,
      "GET " <> <<1::480>>,
      <<0xEE, 0xEE, 0xEE, 0xEE, 1::480>>,
      <<0x16, 3, 1, 2, 1::480>>,
      <<7::32, 0::32, 1::448>>
    ]

    good = valid_init_random(2)
    t = Transport.new({:obfuscated, :abridged}, :client, rand: scripted_rand(reserved ++ [good]))
    {init, _} = Transport.start(t)
    assert binary_part(init, 0, 56) == binary_part(good, 0, 56)

    assert_raise ArgumentError, ~r/reserved_init/, fn ->
      Transport.new({:obfuscated, :abridged}, :client, rand: fn 64 -> <<0xEF, 1::504>> end)
    end
  end

  # ------------------------------------------------------------------ quick acks, transport errors

  test "quick ack requests and answers, transport errors as events" do
    for framing <- [:abridged, :intermediate, :padded_intermediate | @obfuscated] do
      client = Transport.new(framing, :client)
      {start, client} = Transport.start(client)
      packet = encrypted_packet(1)
      {up, client} = Transport.encode(client, packet, quick_ack: true)
      {[{:packet, ^packet, :quick_ack}], server} = feed(server_for(:detect), [start, up])

      {ack, server} = Transport.encode_quick_ack(server, 0x0BADCAFE)
      {err, server} = Transport.encode_transport_error(server, -404)
      {pkt, _} = Transport.encode(server, packet)
      stream = IO.iodata_to_binary([ack, err, pkt])

      assert {:ok, [{:quick_ack, 0x8BADCAFE}, {:error, {:transport, -404}}, {:packet, ^packet}], _} =
               Transport.decode(client, stream)
    end

    server = server_for(:full)
    assert_raise ArgumentError, fn -> Transport.encode_quick_ack(server, 1) end
    {err, _} = Transport.encode_transport_error(server, -429)

    assert {:ok, [{:error, {:transport, -429}}], _} =
             Transport.decode(Transport.new(:full, :client), err)
  end

  test "abridged quick-ack answers are byte-swapped, intermediate ones little-endian" do
    {ack, _} = Transport.encode_quick_ack(server_for(:abridged), 0x01020304)
    assert IO.iodata_to_binary(ack) == <<0x81, 2, 3, 4>>
    {ack, _} = Transport.encode_quick_ack(server_for(:intermediate), 0x01020304)
    assert IO.iodata_to_binary(ack) == <<4, 3, 2, 0x81>>
  end

  # ------------------------------------------------------------------ errors

  test "corrupt CRC and wrong sequence numbers are refused (full)" do
    {_, client} = Transport.start(Transport.new(:full, :client))
    {[f0, f1], _} = frames(client, [encrypted_packet(1), encrypted_packet(1)])
    <<head::binary-20, byte, rest::binary>> = f0

    assert {:error, :bad_crc, _} =
             Transport.decode(
               server_for(:full),
               <<head::binary, Bitwise.bxor(byte, 1), rest::binary>>
             )

    assert {:error, :bad_seqno, _} = Transport.decode(server_for(:full), f1)
    assert {:error, :bad_seqno, _} = Transport.decode(server_for(:detect), f0 <> f0)
    {:error, :bad_seqno, t} = Transport.decode(server_for(:full), f1)
    assert {:error, :bad_seqno, _} = Transport.decode(t, f0), "errors are final"
  end

  test "a length beyond :max_packet is refused before its bytes arrive" do
    assert {:error, :packet_too_large, _} =
             Transport.decode(
               server_for(:intermediate),
               <<0xEEEEEEEE::32, 16 * 1024 * 1024 + 1::little-32>>
             )

    assert {:ok, [], _} =
             Transport.decode(
               server_for(:intermediate),
               <<0xEEEEEEEE::32, 16 * 1024 * 1024::little-32>>
             )

    assert {:error, :packet_too_large, _} =
             Transport.decode(server_for(:abridged, max_packet: 1000), <<0xEF, 0x7F, 251, 0, 0>>)

    assert {:error, :packet_too_large, _} =
             Transport.decode(server_for(:detect), <<0x7FFFFFFF::little-32, 0::32>>)

    client = Transport.new(:intermediate, :client, max_packet: 100)
    {_, client} = Transport.start(client)

    assert_raise ArgumentError, ~r/packet_too_large/, fn ->
      Transport.encode(client, :binary.copy("a", 101))
    end
  end

  test "unknown first bytes, wrong tags and misuse give clear errors" do
    for junk <- ["GET / HTTP/1.1\r\n", "POST /api HTTP/1.1\r\n", <<0x16, 3, 1, 2, 0, 1, 0, 1>>] do
      assert {:error, :unknown_framing, _} = Transport.decode(server_for(:detect), junk)
    end

    assert {:error, :unknown_protocol_tag, _} =
             Transport.decode(server_for(:detect), valid_init_random(3))

    assert {:error, :bad_tag, _} = Transport.decode(server_for(:abridged), <<0xEE>>)

    assert {:error, :bad_tag, _} =
             Transport.decode(server_for(:intermediate), <<0xDD, 0xDD, 0xDD, 0xDD>>)

    {init, _} = Transport.start(Transport.new({:obfuscated, :abridged}, :client))

    assert {:error, :protocol_tag_mismatch, _} =
             Transport.decode(server_for({:obfuscated, :intermediate}), init)

    assert {:error, :bad_padding, _} =
             Transport.decode(
               server_for(:padded_intermediate),
               <<0xDDDDDDDD::32, 64::little-32, 0::128, 20::little-32, 0::352>>
             )

    assert_raise ArgumentError, fn -> Transport.new({:obfuscated, :full}, :client) end
    assert_raise ArgumentError, fn -> Transport.new(:detect, :client) end
    assert_raise ArgumentError, fn -> Transport.new(:abridged, :client, secret: "short") end
    assert_raise ArgumentError, fn -> Transport.new(:abridged, :client, secret: @secret) end

    assert_raise ArgumentError, ~r/not_started/, fn ->
      Transport.encode(Transport.new(:abridged, :client), "abcd")
    end

    assert_raise ArgumentError, ~r/not_started/, fn ->
      Transport.encode(server_for(:detect), "abcd")
    end

    {_, t} = Transport.start(Transport.new(:abridged, :client))
    assert_raise ArgumentError, fn -> Transport.start(t) end
    assert_raise ArgumentError, fn -> :mtproto_nif.framing_decode(make_ref(), "x") end
    assert_raise ArgumentError, fn -> :mtproto_nif.framing_decode(t.ref, :not_binary) end
  end

  test "random bytes into a detecting server: events or an error, never a crash (property)" do
    prop =
      :proper.forall(
        {:proper_types.binary(),
         :proper_types.non_empty(:proper_types.list(:proper_types.range(1, 40)))},
        fn {bin, cuts} ->
          result =
            Enum.reduce_while(
              split(bin, cuts),
              Transport.new(:detect, :server, max_packet: 4096),
              fn chunk, t ->
                case Transport.decode(t, chunk) do
                  {:ok, events, t} when is_list(events) -> {:cont, t}
                  {:error, reason, _} when is_atom(reason) -> {:halt, :error}
                end
              end
            )

          result == :error or is_struct(result, Transport)
        end
      )

    assert :proper.quickcheck(prop, [:quiet, numtests: 3000]) == true
  end

  test "a transport's inspect shows its framing, never key material" do
    t = Transport.new({:obfuscated, :intermediate}, :client, secret: @secret)
    assert inspect(t) =~ "framing: {:obfuscated, :intermediate}"
    refute inspect(t) =~ "0123456789abcdef"
  end

  # ------------------------------------------------------------------ Telethon as an independent peer

  @telethon Path.expand("../support/telethon_framing.py", __DIR__)

  defp telethon(name, args, up, serve) do
    port =
      Port.open({:spawn_executable, "/usr/bin/python3"}, [
        :binary,
        :exit_status,
        {:line, 50_000_000},
        args: [@telethon, name | args]
      ])

    send_line = fn line -> Port.command(port, line <> "\n") end

    read_line = fn ->
      receive do: ({^port, {:data, {:eol, line}}} -> line),
              after: (20_000 -> flunk("telethon timed out"))
    end

    send_line.(Enum.map_join(up, ",", &Base.encode16(&1, case: :lower)))
    stream = Base.decode16!(read_line.(), case: :lower)
    send_line.(Base.encode16(serve.(stream), case: :lower))

    received =
      read_line.() |> String.split(",", trim: true) |> Enum.map(&Base.decode16!(&1, case: :lower))

    assert_receive {^port, {:exit_status, 0}}, 20_000
    received
  end

  # Telethon sends padded intermediate only obfuscated (its plain one omits the 0xdddddddd tag).
  @telethon_framings [
    {"abridged", :abridged},
    {"intermediate", :intermediate},
    {"full", :full},
    {"obfuscated_abridged", {:obfuscated, :abridged}},
    {"obfuscated_intermediate", {:obfuscated, :intermediate}},
    {"obfuscated_padded", {:obfuscated, :padded_intermediate}}
  ]

  for {name, framing} <- @telethon_framings do
    test "Telethon's #{name} codec and ours understand each other" do
      up = packets(4) ++ [encrypted_packet(40)]
      down = packets(3)
      framing = unquote(Macro.escape(framing))
      # Telethon's padded decoder strips len % 4 bytes only: a server sends 0..3 by default.
      server = server_for(:detect)

      received =
        telethon(unquote(name), [], up, fn stream ->
          {events, server} = feed(server, split(stream, [1, 5, 63, 200]))
          assert events == Enum.map(up, &{:packet, &1})
          assert Transport.framing(server) == framing
          {frames, _} = frames(server, down)
          IO.iodata_to_binary(frames)
        end)

      assert received == down
    end
  end

  test "Telethon's MTProxy init (secret, dc id) opens our server" do
    up = packets(3)

    received =
      telethon(
        "obfuscated_intermediate",
        [Base.encode16(@secret, case: :lower), "-2"],
        up,
        fn stream ->
          {events, server} = feed(server_for(:detect, secret: @secret), [stream])
          assert events == Enum.map(up, &{:packet, &1})
          assert Transport.dc_id(server) == -2
          {frames, _} = frames(server, up)
          IO.iodata_to_binary(frames)
        end
      )

    assert received == up
  end
end
