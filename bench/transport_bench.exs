# Transport framings: per-packet overhead for small packets (ns) and throughput for 1 MiB packets
# (MB/s), per framing and direction; obfuscated2 against raw OpenSSL AES-256-CTR (`:crypto`,
# measured in the same run, a CTR call before each encode/decode pair) since its cost is that
# cipher. The machine is shared and noisy: small packets take the best of several rounds, big
# ones the median of single calls.
#
#   MIX_ENV=bench mix run bench/transport_bench.exs   (or: make bench)

defmodule TransportBench do
  alias MTProto.Transport

  @framings Transport.framings()
  @small 72
  @small_count 20_000
  # 1 MiB + 8: an MTProto-shaped size (24 + 16k bytes), which padded intermediate needs
  @big 1024 * 1024 + 8
  @big_count 24
  @rounds 5
  @read_size 64 * 1024

  def run do
    small = <<1, :crypto.strong_rand_bytes(@small - 1)::binary>>
    big = <<1, :crypto.strong_rand_bytes(@big - 1)::binary>>

    IO.puts(
      "small packet: #{@small} bytes x #{@small_count}; big: 1 MiB x #{@big_count}; best of #{@rounds}"
    )

    IO.puts(
      "decode: one chunk per frame, and (1 MiB) in #{div(@read_size, 1024)} KiB reads as from a socket"
    )

    IO.puts("plain framings encode to iodata around the payload: their enc MB/s is not a copy\n")

    header = [
      "framing",
      "enc ns/pkt",
      "dec ns/pkt",
      "enc MB/s",
      "dec MB/s",
      "dec MB/s (64K reads)"
    ]

    rows = Enum.map(@framings, &measure(&1, small, big))
    print_table(header, Enum.map(rows, fn {name, cells, _} -> [name | cells] end))

    {ctr_mbs, ratios} = compare_with_ctr(big)
    IO.puts("\nobfuscated2 at 1 MiB against OpenSSL AES-256-CTR (:crypto.crypto_update), same run:")
    IO.puts("raw AES-256-CTR: #{fmt(ctr_mbs)} MB/s")

    print_table(
      ["framing", "enc MB/s", "enc ratio", "dec MB/s", "dec ratio", "target"],
      Enum.map(ratios, fn {name, enc, dec} ->
        [name, fmt(enc), fmt2(enc / ctr_mbs), fmt(dec), fmt2(dec / ctr_mbs), ">= 0.80"]
      end)
    )
  end

  defp measure(framing, small, big) do
    small_enc = best(fn -> encode_loop(pair(framing), small, @small_count) end) / @small_count
    small_dec = best(fn -> decode_frames(framing, small, @small_count) end) / @small_count
    {big_enc, big_dec} = big_per_call(framing, big, fn -> :ok end)
    big_dec_reads = mbs(best(fn -> decode_frames(framing, big, @big_count, @read_size) end))

    {name(framing),
     [fmt(small_enc), fmt(small_dec), fmt(mbs1(big_enc)), fmt(mbs1(big_dec)), fmt(big_dec_reads)],
     nil}
  end

  # Median nanoseconds of one encode and one decode of a big packet, each call timed alone (the
  # median shrugs off the other tenants of the machine); `between` runs before each pair.
  defp big_per_call(framing, big, between) do
    samples =
      for _ <- 1..@rounds do
        client = pair(framing)
        {start, sender} = Transport.start(Transport.new(framing, :client))
        {:ok, [], server} = Transport.decode(Transport.new(framing, :server), start)

        Enum.reduce(1..@big_count, {client, sender, server, []}, fn _, {c, snd, srv, acc} ->
          between.()
          {t_enc, {_, c}} = timed(fn -> Transport.encode(c, big) end)
          {frame, snd} = Transport.encode(snd, big)
          frame = IO.iodata_to_binary(frame)
          {t_dec, {:ok, [_], srv}} = timed(fn -> Transport.decode(srv, frame) end)
          {c, snd, srv, [{t_enc, t_dec} | acc]}
        end)
        |> elem(3)
      end
      |> List.flatten()

    {median(Enum.map(samples, &elem(&1, 0))), median(Enum.map(samples, &elem(&1, 1)))}
  end

  # obfuscated2 encode/decode and raw CTR at 1 MiB: a CTR call before every encode/decode pair.
  defp compare_with_ctr(big) do
    obfuscated = Enum.filter(@framings, &match?({:obfuscated, _}, &1))
    key = :crypto.strong_rand_bytes(32)
    iv = :crypto.strong_rand_bytes(16)
    state = :crypto.crypto_init(:aes_256_ctr, key, iv, true)
    {:ok, ctr_times} = Agent.start_link(fn -> [] end)

    between = fn ->
      {t, _} = timed(fn -> :crypto.crypto_update(state, big) end)
      Agent.update(ctr_times, &[t | &1])
    end

    ratios =
      for f <- obfuscated do
        {enc, dec} = big_per_call(f, big, between)
        {name(f), mbs1(enc), mbs1(dec)}
      end

    {mbs1(median(Agent.get(ctr_times, & &1))), ratios}
  end

  # A started client and the server that read its first bytes.
  defp pair(framing) do
    {start, client} = Transport.start(Transport.new(framing, :client))
    {:ok, [], _server} = Transport.decode(Transport.new(framing, :server), start)
    client
  end

  # Nanoseconds to encode `count` packets (the frames are not kept).
  defp encode_loop(t, packet, count) do
    time(fn -> Enum.reduce(1..count, t, fn _, t -> elem(Transport.encode(t, packet), 1) end) end)
  end

  # Nanoseconds for a server to decode `count` frames of `packet`, fed one frame per chunk (or in
  # `read_size` reads); the client encodes them beforehand.
  defp decode_frames(framing, packet, count, read_size \\ nil) do
    {start, client} = Transport.start(Transport.new(framing, :client))

    {frames, _} =
      Enum.map_reduce(1..count, client, fn _, c ->
        {f, c} = Transport.encode(c, packet)
        {IO.iodata_to_binary(f), c}
      end)

    chunks = if read_size, do: reads(IO.iodata_to_binary(frames), read_size), else: frames
    {:ok, [], server} = Transport.decode(Transport.new(framing, :server), start)

    time(fn ->
      Enum.reduce(chunks, server, fn chunk, s ->
        {:ok, _events, s} = Transport.decode(s, chunk)
        s
      end)
    end)
  end

  defp reads(bin, size) when byte_size(bin) <= size, do: [bin]

  defp reads(bin, size) do
    <<chunk::binary-size(size), rest::binary>> = bin
    [chunk | reads(rest, size)]
  end

  defp timed(fun) do
    t0 = System.monotonic_time(:nanosecond)
    result = fun.()
    {System.monotonic_time(:nanosecond) - t0, result}
  end

  defp time(fun) do
    t0 = System.monotonic_time(:nanosecond)
    fun.()
    System.monotonic_time(:nanosecond) - t0
  end

  defp best(fun) do
    :erlang.garbage_collect()
    Enum.min(for _ <- 1..@rounds, do: fun.())
  end

  defp mbs(ns), do: @big * @big_count / 1.0e6 / (ns / 1.0e9)
  defp mbs1(ns), do: @big / 1.0e6 / (ns / 1.0e9)

  defp median(list), do: list |> Enum.sort() |> Enum.at(div(length(list), 2))

  defp name({:obfuscated, inner}), do: "obfuscated2/#{inner}"
  defp name(f), do: Atom.to_string(f)

  defp fmt(x), do: :erlang.float_to_binary(x / 1, decimals: 0)
  defp fmt2(x), do: :erlang.float_to_binary(x / 1, decimals: 2)

  defp print_table(header, rows) do
    widths =
      Enum.map(0..(length(header) - 1), fn i ->
        [header | rows] |> Enum.map(&String.length(Enum.at(&1, i))) |> Enum.max()
      end)

    line = fn cells ->
      cells
      |> Enum.zip(widths)
      |> Enum.with_index()
      |> Enum.map_join(" | ", fn {{c, w}, i} ->
        if i == 0, do: String.pad_trailing(c, w), else: String.pad_leading(c, w)
      end)
    end

    IO.puts(line.(header))
    IO.puts(Enum.map_join(widths, "-+-", &String.duplicate("-", &1)))
    Enum.each(rows, &IO.puts(line.(&1)))
  end
end

TransportBench.run()
