# TL codec benchmark (`make bench`): decode and encode throughput of a large realistic response
# (messages.messages: 100 messages with text, entities and replies, 50 users, 20 chats) and a
# small request (messages.sendMessage), against gramjs (npm `telegram` 2.26.22, layer 198)
# decoding and re-encoding the same bytes in the same run (bench/setup_node.sh installs it into
# bench/.node). Targets: decode >= 10x gramjs, encode >= 5x. Figures are medians of rounds.
Code.require_file("tl_workload.exs", __DIR__)

alias MTProto.Bench.TLWorkload
alias MTProto.TL

defmodule TLBench do
  @round_ns 50_000_000
  @rounds 9

  # Median nanoseconds per call over @rounds rounds of about 50 ms each.
  def ns_per_call(fun) do
    for _ <- 1..200, do: fun.()
    n = calibrate(fun, 1)
    rounds = for _ <- 1..@rounds, do: time(fun, n) / n
    Enum.at(Enum.sort(rounds), div(@rounds, 2))
  end

  defp calibrate(fun, n) do
    t = time(fun, n)
    if t >= @round_ns / 4, do: max(1, round(n * @round_ns / t)), else: calibrate(fun, n * 4)
  end

  defp time(fun, n) do
    t0 = System.monotonic_time(:nanosecond)
    Enum.each(1..n, fn _ -> fun.() end)
    System.monotonic_time(:nanosecond) - t0
  end

  # TL objects (constructors) in a term: maps, counted recursively.
  def objects(%{} = m), do: 1 + (m |> Map.values() |> Enum.map(&objects/1) |> Enum.sum())
  def objects(l) when is_list(l), do: l |> Enum.map(&objects/1) |> Enum.sum()
  def objects(_), do: 0

  def gramjs(bin) do
    modules = Path.expand("bench/.node/node_modules")
    file = Path.join(System.tmp_dir!(), "tl_bench_#{System.unique_integer([:positive])}.bin")
    File.write!(file, bin)

    try do
      with {_, 0} <- System.cmd("sh", ["bench/setup_node.sh"], stderr_to_stdout: true),
           {out, 0} <-
             System.cmd("node", ["bench/tl_gramjs.cjs", file, "1500"],
               env: [{"GRAMJS_NODE_MODULES", modules}],
               stderr_to_stdout: true
             ) do
        out |> String.split("\n", trim: true) |> List.last() |> json()
      else
        {out, _} -> {:error, String.slice(out, 0, 300)}
      end
    after
      File.rm(file)
    end
  end

  # The one flat JSON object tl_gramjs.cjs prints (no JSON library in OTP 25).
  defp json(line) do
    Regex.scan(~r/"(\w+)":\s*([-0-9.e+]+|true|false)/, line)
    |> Map.new(fn [_, k, v] ->
      {k,
       case v do
         "true" -> true
         "false" -> false
         _ -> elem(Float.parse(v), 0)
       end}
    end)
  end

  def table(header, rows) do
    all = [header | rows]

    widths =
      all
      |> Enum.zip_with(& &1)
      |> Enum.map(fn c -> c |> Enum.map(&String.length/1) |> Enum.max() end)

    fmt = fn cells ->
      "| " <> (Enum.zip_with(cells, widths, &String.pad_trailing/2) |> Enum.join(" | ")) <> " |"
    end

    IO.puts(fmt.(header))
    IO.puts(fmt.(Enum.map(widths, &String.duplicate("-", &1))))
    Enum.each(rows, &IO.puts(fmt.(&1)))
  end

  def f(x) when x >= 100, do: :erlang.float_to_binary(x / 1, decimals: 0)
  def f(x), do: :erlang.float_to_binary(x / 1, decimals: 2)
end

workloads = [
  {"messages.messages (100 msgs, 50 users, 20 chats)", TLWorkload.messages()},
  {"messages.sendMessage", TLWorkload.send_message()}
]

rows =
  for {name, term} <- workloads do
    bin = TL.encode!(term)
    {:ok, decoded} = TL.decode(bin)
    true = TL.encode!(decoded) == bin
    objs = TLBench.objects(decoded)
    dec = TLBench.ns_per_call(fn -> TL.decode(bin) end)
    enc = TLBench.ns_per_call(fn -> TL.encode(decoded) end)
    js = TLBench.gramjs(bin)

    {js_dec, js_enc, note} =
      case js do
        %{"decode_ns" => d, "encode_ns" => e, "same_bytes" => same} ->
          {d, e, if(same, do: "", else: " (gramjs re-encoded other bytes)")}

        {:error, why} ->
          IO.puts("gramjs unavailable: #{why}")
          {nil, nil, " (no gramjs)"}
      end

    ratio = fn ours, theirs -> if theirs, do: TLBench.f(theirs / ours) <> "x", else: "-" end
    per_s = fn ns -> TLBench.f(1.0e9 / ns) end
    mbps = fn ns -> TLBench.f(byte_size(bin) / ns * 1000) end

    [
      name <> note,
      "#{byte_size(bin)} B / #{objs} obj",
      "#{per_s.(dec)}/s #{TLBench.f(objs * 1.0e3 / dec)}M obj/s #{mbps.(dec)} MB/s",
      if(js_dec, do: "#{per_s.(js_dec)}/s #{mbps.(js_dec)} MB/s", else: "-"),
      ratio.(dec, js_dec),
      "#{per_s.(enc)}/s #{TLBench.f(objs * 1.0e3 / enc)}M obj/s #{mbps.(enc)} MB/s",
      if(js_enc, do: "#{per_s.(js_enc)}/s #{mbps.(js_enc)} MB/s", else: "-"),
      ratio.(enc, js_enc)
    ]
  end

IO.puts("\nTL codec vs gramjs (decode target >= 10x, encode >= 5x)\n")

TLBench.table(
  ["workload", "size", "decode", "gramjs decode", "ratio", "encode", "gramjs encode", "ratio"],
  rows
)
