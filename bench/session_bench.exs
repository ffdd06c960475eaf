# Sessions against the test datacenter: handshake time, calls/s on one session (sequential and
# 100 in flight), memory per idle session with 10,000 sessions open. The datacenter runs in a
# separate BEAM (`:peer`), so the client VM's figures are its own (and its file descriptors
# suffice for 10,000 connections). In the same run, gramjs (npm `telegram`, from
# bench/setup_node.sh into bench/.node) does the same against the same datacenter
# (bench/session_gramjs.cjs), when node and the package are there.
#
#   MIX_ENV=bench mix run bench/session_bench.exs   (or: make bench)
#   SESSION_BENCH_IDLE=10000 SESSION_BENCH_CALLS=20000 to change the sizes,
#   SESSION_BENCH_TRANSPORT=intermediate|abridged (obfuscated2 around it; default padded
#   intermediate), SESSION_BENCH_GRAMJS=0 to skip gramjs.

Code.require_file("support.exs", __DIR__)

defmodule SessionBench do
  import BenchSupport
  alias MTProto.Session

  @server :session_bench_dc
  @handshakes 30
  @sequential 5_000
  # The machine is shared and noisy: call rates are the best of five rounds, for both clients.
  @rounds 5
  # Idle sessions open (and connect) this many at a time, as gramjs's do.
  @idle_batch 100

  def run do
    idle = env_int("SESSION_BENCH_IDLE", 10_000)
    in_flight_calls = env_int("SESSION_BENCH_CALLS", 20_000)
    # Every idle session (ours, then gramjs's) shares one key: the datacenter keeps them all
    # (its default forgets all but a key's 64 most recent sessions).
    {peer, address, pem} = start_datacenter(@server, max_sessions_per_key: 2 * idle + 100)

    IO.puts(
      "test datacenter in a separate VM at #{:inet.ntoa(elem(address, 0))}:#{elem(address, 1)}\n"
    )

    ours = measure_ours(address, pem, in_flight_calls, idle)

    theirs =
      if System.get_env("SESSION_BENCH_GRAMJS") == "0",
        do: %{note: "skipped (SESSION_BENCH_GRAMJS=0)"},
        else: gramjs(address, pem, in_flight_calls, idle)

    :peer.stop(peer)

    rows = [
      {"handshake (median ms)", ours.handshake_ms, theirs[:handshake_ms], :lower},
      {"calls/s sequential", ours.sequential, theirs[:sequential], :higher},
      {"calls/s, 100 in flight", ours.in_flight, theirs[:in_flight], :higher},
      {"KiB per idle session (runtime's own count)", ours.idle_kib, theirs[:idle_kib], :lower},
      {"KiB per idle session (OS RSS delta)", ours.idle_rss_kib, theirs[:idle_rss_kib], :lower}
    ]

    IO.puts("\n| measure | mtproto | gramjs | ratio (target >= 3x) |")
    IO.puts("|---|---|---|---|")

    for {name, a, b, better} <- rows do
      ratio =
        cond do
          b == nil or a == nil -> "n/a"
          better == :higher -> fmt(a / b) <> "x"
          true -> fmt(b / a) <> "x"
        end

      IO.puts("| #{name} | #{fmt(a)} | #{fmt(b)} | #{ratio} |")
    end

    IO.puts(
      "\nidle sessions: mtproto #{ours.idle_n} (open in #{fmt(ours.idle_open_s)} s), gramjs #{theirs[:idle_n] || "n/a"}"
    )

    if theirs[:note], do: IO.puts("gramjs: #{theirs[:note]}")
  end

  ## The datacenter, in its own VM

  ## mtproto

  defp opts(address, pem, extra \\ []) do
    Keyword.merge(
      [
        address: address,
        rsa_keys: [pem],
        storage: nil,
        client: self(),
        api_id: 1,
        backoff_min: 50,
        transport: transport()
      ],
      extra
    )
  end

  defp measure_ours(address, pem, calls, idle) do
    times =
      for _ <- 1..@handshakes do
        t = System.monotonic_time(:microsecond)
        {:ok, sid} = Session.open(2, opts(address, pem))

        receive do
          {:mtproto, ^sid, :auth_key_generated} -> :ok
        after
          30_000 -> raise "no auth key"
        end

        dt = System.monotonic_time(:microsecond) - t
        Session.close(sid)
        dt
      end

    handshake_ms = median(times) / 1000
    IO.puts("mtproto: handshake median #{fmt(handshake_ms)} ms over #{@handshakes}")

    {:ok, sid} = Session.open(2, opts(address, pem))
    receive do: ({:mtproto, ^sid, :auth_key_generated} -> :ok)
    {:ok, key} = Session.export(sid)
    req = %{_: :"help.getNearestDc"}
    for _ <- 1..500, do: {:ok, _} = Session.call(sid, req)

    sequential =
      best_of(fn ->
        {us, _} =
          :timer.tc(fn -> for _ <- 1..@sequential, do: {:ok, _} = Session.call(sid, req) end)

        @sequential / (us / 1_000_000)
      end)

    IO.puts("mtproto: #{fmt(sequential)} sequential calls/s (best of #{@rounds})")

    in_flight =
      best_of(fn ->
        {us, _} =
          :timer.tc(fn ->
            1..calls
            |> Task.async_stream(fn _ -> {:ok, _} = Session.call(sid, req, 60_000) end,
              max_concurrency: 100,
              ordered: false
            )
            |> Stream.run()
          end)

        calls / (us / 1_000_000)
      end)

    IO.puts(
      "mtproto: #{fmt(in_flight)} calls/s with 100 in flight (#{calls} calls, best of #{@rounds})"
    )

    Session.close(sid)

    {idle_kib, idle_rss_kib, open_s} = idle_memory(address, pem, key, idle)

    IO.puts(
      "mtproto: #{fmt(idle_kib)} KiB per idle session, #{fmt(idle_rss_kib)} KiB of OS RSS (#{idle} sessions)"
    )

    %{
      handshake_ms: handshake_ms,
      sequential: sequential,
      in_flight: in_flight,
      idle_kib: idle_kib,
      idle_rss_kib: idle_rss_kib,
      idle_n: idle,
      idle_open_s: open_s
    }
  end

  # Sessions importing one key (no handshake), each connected with its MTProto session set up
  # (get_future_salts answered), then left idle. They open 100 at a time, each hundred set up
  # before the next opens: gramjs's clients connect the same way (bench/session_gramjs.cjs).
  defp idle_memory(address, pem, key, n) do
    # The same settling before as after: the earlier sessions' processes gone or hibernated.
    Process.sleep(2500)
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    before = :erlang.memory()
    {:memory, self_before} = Process.info(self(), :memory)
    rss_before = rss_kib()
    t = System.monotonic_time(:millisecond)

    sids =
      1..n
      |> Enum.chunk_every(@idle_batch)
      |> Enum.flat_map(fn batch ->
        sids =
          for _ <- batch do
            {:ok, sid} = Session.open(2, opts(address, pem, auth_key: key, client: nil))
            sid
          end

        wait_connected(sids)
        sids
      end)

    open_s = (System.monotonic_time(:millisecond) - t) / 1000
    # idle processes hibernate after 50 ms
    Process.sleep(2500)
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    now = :erlang.memory()
    # This process's own growth (the list of session ids, what polling them left) is the
    # benchmark's, not the sessions'.
    {:memory, self_after} = Process.info(self(), :memory)
    bench_own = (self_after - self_before) / n / 1024
    rss_per = (rss_kib() - rss_before) / n
    per = fn key -> (now[key] - before[key]) / n / 1024 end

    # The figure is the VM's growth: the sessions' own processes (supervisor, handler,
    # listener) summed, the growth of the other processes (the registry's monitors, the
    # DynamicSupervisor's children; never counted below zero, though whatever else shrank
    # meanwhile can make it so), ETS, binaries and the rest of the system's memory (sockets,
    # framing state). The benchmark process's own growth is left out.
    procs =
      for sid <- sids,
          role <- [:supervisor, :handler, :listener],
          pid = MTProto.Registry.whereis(sid, role),
          reduce: 0 do
        acc ->
          case Process.info(pid, :memory) do
            {:memory, m} -> acc + m
            nil -> acc
          end
      end

    processes = procs / n / 1024
    other_processes = max(per.(:processes) - processes - bench_own, 0.0)
    other = per.(:system) - per.(:ets) - per.(:binary)

    IO.puts(
      "mtproto: per idle session, KiB: session processes #{fmt(processes)}, other processes " <>
        "#{fmt(other_processes)} (the benchmark's own #{fmt(bench_own)} left out), " <>
        "ets #{fmt(per.(:ets))}, binary #{fmt(per.(:binary))}, other system #{fmt(other)}"
    )

    total = processes + other_processes + per.(:ets) + per.(:binary) + other
    Enum.each(sids, &Session.close/1)
    {total, rss_per, open_s}
  end

  # The whole OS process's resident memory (both runtimes are measured the same way: this VM
  # holds only the client side, the datacenter runs in its own).
  defp rss_kib do
    "/proc/self/status"
    |> File.read!()
    |> then(&Regex.run(~r/^VmRSS:\s+(\d+) kB/m, &1))
    |> then(fn [_, kib] -> String.to_integer(kib) end)
  end

  defp wait_connected(sids, tries \\ 6000) do
    pending =
      Enum.reject(sids, fn sid ->
        match?({:ok, %{connected?: true, future_salts: f}} when f > 0, Session.info(sid))
      end)

    cond do
      pending == [] -> :ok
      tries == 0 -> IO.puts("warning: #{length(pending)} sessions not set up")
      true -> Process.sleep(10) && wait_connected(pending, tries - 1)
    end
  end

  ## gramjs

  defp gramjs(address, pem, calls, idle) do
    script = Path.expand("bench/session_gramjs.cjs")
    node_modules = Path.expand("bench/.node/node_modules")

    cond do
      System.find_executable("node") == nil ->
        %{note: "node not found"}

      not File.dir?(Path.join(node_modules, "telegram")) ->
        %{note: "npm telegram not installed (run bench/setup_node.sh)"}

      true ->
        pem_file = Path.join(System.tmp_dir!(), "session_bench_key.pem")
        File.write!(pem_file, pem)
        {host, port} = address

        args = [
          "--expose-gc",
          script,
          to_string(:inet.ntoa(host)),
          to_string(port),
          pem_file,
          to_string(MTProto.Crypto.rsa_fingerprint(pem)),
          to_string(@handshakes),
          to_string(@sequential),
          to_string(calls),
          to_string(idle),
          to_string(@rounds)
        ]

        {out, status} =
          System.cmd("node", args,
            env: [{"GRAMJS_NODE_MODULES", node_modules}],
            stderr_to_stdout: true
          )

        IO.write(out)

        case {status, Regex.run(~r/^RESULT (.*)$/m, out)} do
          {0, [_, json]} -> parse_result(json)
          _ -> %{note: "gramjs run failed (status #{status})"}
        end
    end
  end

  # The node script prints one line: RESULT handshake_ms=.. sequential=.. in_flight=.. idle_kib=..
  # idle_rss_kib=.. idle_n=..
  defp parse_result(line) do
    keys = ~w(handshake_ms sequential in_flight idle_kib idle_rss_kib idle_n)a
    pairs = for pair <- String.split(line), [k, v] <- [String.split(pair, "=")], do: {k, v}

    for key <- keys, {k, v} <- pairs, k == Atom.to_string(key), into: %{} do
      {key, parse_number(v)}
    end
  end

  defp parse_number(v) do
    case Float.parse(v) do
      {f, _} -> f
      :error -> nil
    end
  end

  # SESSION_BENCH_TRANSPORT=intermediate (or abridged, padded_intermediate; obfuscated2 always)
  defp transport do
    case System.get_env("SESSION_BENCH_TRANSPORT") do
      nil -> {:obfuscated, :padded_intermediate}
      "abridged" -> {:obfuscated, :abridged}
      "intermediate" -> {:obfuscated, :intermediate}
      "padded_intermediate" -> {:obfuscated, :padded_intermediate}
    end
  end

  defp best_of(fun), do: Enum.max(for _ <- 1..@rounds, do: fun.())
end

SessionBench.run()
