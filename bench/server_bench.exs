# The test datacenter under load: N concurrent client connections (default 1,000), each creating
# an auth key and then making M calls (default 100) of help.getNearestDc, through MTProto.Session.
# Reports handshakes/s, calls/s and the server's memory per connection. The server runs in a
# separate BEAM (`:peer`) so its memory and schedulers are its own; both VMs share the machine.
#
# Baselines measured in the same run:
#   * handshake math: the RSA and DH work of one handshake (both sides: pq factorization,
#     RSA_PAD encryption and decryption, four 2048-bit modexps), on twice as many workers as
#     there are schedulers (two VMs do it in the real run): the most handshakes/s the math
#     alone allows;
#   * TCP echo: the same N connections each doing M round trips of 64 bytes through a plain
#     gen_tcp echo server in the server VM: the most round trips/s loopback and the VMs allow.
#
#   MIX_ENV=bench mix run bench/server_bench.exs   (or: make bench)
#   SERVER_BENCH_CONNS=1000 SERVER_BENCH_CALLS=100 to change the sizes.

{:module, _, remote_binary, _} =
  defmodule ServerBench.Remote do
    @moduledoc false
    # Runs inside the server VM: its object code is loaded there by ServerBench.

    def server_bytes(server) do
      shared = MTProto.TestServer.Core.shared(server)

      pids =
        for sup <- [shared.conns_sup, shared.sessions_sup],
            {_, pid, _, _} <- DynamicSupervisor.which_children(sup),
            is_pid(pid),
            do: pid

      processes =
        Enum.reduce(pids, 0, fn pid, acc ->
          case Process.info(pid, :memory) do
            {:memory, bytes} -> acc + bytes
            nil -> acc
          end
        end)

      words = :erlang.system_info(:wordsize)

      tables =
        Enum.reduce([shared.keys, shared.sessions], 0, &(:ets.info(&1, :memory) * words + &2))

      processes + tables
    end

    def start_echo do
      parent = self()

      spawn(fn ->
        {:ok, listen} = :gen_tcp.listen(0, [:binary, active: false, reuseaddr: true, backlog: 1024])
        {:ok, port} = :inet.port(listen)
        send(parent, {:echo_port, port})
        accept(listen)
      end)

      receive do
        {:echo_port, port} -> port
      end
    end

    defp accept(listen) do
      {:ok, socket} = :gen_tcp.accept(listen)
      pid = spawn(fn -> echo(socket) end)
      :ok = :gen_tcp.controlling_process(socket, pid)
      accept(listen)
    end

    defp echo(socket) do
      case :gen_tcp.recv(socket, 0) do
        {:ok, data} ->
          :gen_tcp.send(socket, data)
          echo(socket)

        {:error, _} ->
          :ok
      end
    end
  end

:persistent_term.put(:server_bench_remote, remote_binary)

Code.require_file("support.exs", __DIR__)

defmodule ServerBench do
  import BenchSupport
  alias MTProto.{Crypto, Session, TL}

  @server :server_bench_dc

  def run do
    conns = env_int("SERVER_BENCH_CONNS", 1000)
    calls = env_int("SERVER_BENCH_CALLS", 100)
    {peer, address, pem} = start_datacenter()

    IO.puts(
      "test datacenter in a separate VM at #{:inet.ntoa(elem(address, 0))}:#{elem(address, 1)}"
    )

    IO.puts("#{conns} connections, #{calls} calls each, #{System.schedulers_online()} schedulers\n")

    base_memory = :peer.call(peer, :erlang, :memory, [:total])
    {handshake_s, sids} = handshakes(address, pem, conns)
    # One call each so that every connection has its server session (and initConnection).
    run_calls(sids, 1)
    busy = server_memory(peer, base_memory, conns)
    # Idle connections and sessions hibernate after a second.
    Process.sleep(2000)
    idle = server_memory(peer, base_memory, conns)
    cpu_before = {cpu_ms(peer), cpu_ms(nil)}
    {calls_s, failed} = run_calls(sids, calls)

    {server_cpu, client_cpu} =
      {cpu_ms(peer) - elem(cpu_before, 0), cpu_ms(nil) - elem(cpu_before, 1)}

    Enum.each(sids, &Session.close/1)
    IO.puts("")

    math_rate = handshake_math_rate()
    echo_rate = echo_rate(peer, conns, calls)
    :peer.stop(peer)

    handshakes_per_s = conns / handshake_s
    calls_per_s = conns * calls / calls_s

    IO.puts("| measure | test server | baseline | ratio |")
    IO.puts("|---|---|---|---|")

    row(
      "handshakes/s (#{conns} concurrent)",
      handshakes_per_s,
      "math only: #{fmt(math_rate)}/s",
      handshakes_per_s / math_rate
    )

    row(
      "calls/s (#{conns} x #{calls})",
      calls_per_s,
      "TCP echo: #{fmt(echo_rate)} round trips/s",
      calls_per_s / echo_rate
    )

    for {name, m} <- [{"just used", busy}, {"idle 2 s", idle}] do
      IO.puts(
        "| KiB per connection, #{name}: server processes + ETS | #{fmt(m.processes_kib)} | | |"
      )

      IO.puts("| KiB per connection, #{name}: server VM growth | #{fmt(m.total_kib)} | | |")
    end

    n = conns * calls

    IO.puts(
      "\nCPU per call: server VM #{fmt(server_cpu * 1000 / n)} us (no busy-waiting); " <>
        "client VM (MTProto.Session) #{fmt(client_cpu * 1000 / n)} us (busy-waiting included)"
    )

    IO.puts("failed calls: #{failed}")
    if failed > 0, do: System.halt(1)
  end

  defp row(name, value, baseline, ratio),
    do: IO.puts("| #{name} | #{fmt(value)} | #{baseline} | #{fmt(ratio)} |")

  # CPU time used by a VM's schedulers so far, in ms (the local one for nil).
  defp cpu_ms(nil), do: elem(:erlang.statistics(:runtime), 0)
  defp cpu_ms(peer), do: elem(:peer.call(peer, :erlang, :statistics, [:runtime]), 0)

  ## the datacenter

  defp start_datacenter do
    # No scheduler busy-waiting in the server VM, so its runtime counts work only.
    no_spin = Enum.flat_map(~w(+sbwt +sbwtdcpu +sbwtdio), &[String.to_charlist(&1), ~c"none"])
    {peer, address, pem} = BenchSupport.start_datacenter(@server, [acceptors: 8], no_spin)
    remote = :persistent_term.get(:server_bench_remote)
    {:module, _} = :peer.call(peer, :code, :load_binary, [__MODULE__.Remote, ~c"nofile", remote])
    {peer, address, pem}
  end

  # Memory of the server's connection and session processes (and its key/session tables),
  # and the whole server VM's growth since before the connections, per connection.
  defp server_memory(peer, base_memory, conns) do
    stats = :peer.call(peer, MTProto.TestServer, :stats, [@server])
    processes = :peer.call(peer, __MODULE__.Remote, :server_bytes, [@server])
    total = :peer.call(peer, :erlang, :memory, [:total]) - base_memory
    IO.puts("server: #{stats.connections} connections, #{stats.sessions} sessions open")
    %{processes_kib: processes / conns / 1024, total_kib: total / conns / 1024}
  end

  ## handshakes and calls through MTProto.Session

  defp handshakes(address, pem, conns) do
    t = System.monotonic_time(:microsecond)

    sids =
      for _ <- 1..conns do
        {:ok, sid} =
          Session.open(2,
            address: address,
            rsa_keys: [pem],
            storage: nil,
            client: self(),
            api_id: 1,
            backoff_min: 50
          )

        sid
      end

    for sid <- sids do
      receive do
        {:mtproto, ^sid, :auth_key_generated} -> :ok
      after
        120_000 -> raise "no auth key after 120 s"
      end
    end

    {(System.monotonic_time(:microsecond) - t) / 1_000_000, sids}
  end

  defp run_calls(sids, calls) do
    t = System.monotonic_time(:microsecond)

    failed =
      sids
      |> Task.async_stream(
        fn sid ->
          Enum.count(1..calls, fn _ ->
            not match?(
              {:ok, %{_: :nearestDc}},
              Session.call(sid, %{_: :"help.getNearestDc"}, 60_000)
            )
          end)
        end,
        max_concurrency: length(sids),
        timeout: :infinity
      )
      |> Enum.reduce(0, fn {:ok, n}, acc -> acc + n end)

    {(System.monotonic_time(:microsecond) - t) / 1_000_000, failed}
  end

  ## baselines

  # Both sides' RSA and DH work for one handshake, on one worker per scheduler.
  defp handshake_math_rate do
    {private, public} = Crypto.rsa_generate(2048)
    p = Crypto.dh_prime()
    pq = 1_000_000_007 * 1_000_000_009
    # The client and the server VM each have their own schedulers: twice as many workers.
    workers = 2 * System.schedulers_online()
    per_worker = 20
    data = TL.encode!(%{_: :ping, ping_id: 1}) <> :crypto.strong_rand_bytes(80)

    one = fn ->
      {:ok, _} = Crypto.factorize(pq)
      encrypted = Crypto.rsa_pad_encrypt(data, public)
      {:ok, _} = Crypto.rsa_pad_decrypt(encrypted, private)
      a = :crypto.strong_rand_bytes(256)
      b = :crypto.strong_rand_bytes(256)
      g_a = Crypto.mod_pow(<<3>>, a, p)
      g_b = Crypto.mod_pow(<<3>>, b, p)
      Crypto.mod_pow(g_a, b, p)
      Crypto.mod_pow(g_b, a, p)
    end

    t = System.monotonic_time(:microsecond)

    1..workers
    |> Task.async_stream(fn _ -> Enum.each(1..per_worker, fn _ -> one.() end) end,
      timeout: :infinity
    )
    |> Stream.run()

    workers * per_worker / ((System.monotonic_time(:microsecond) - t) / 1_000_000)
  end

  defp echo_rate(peer, conns, calls) do
    port = :peer.call(peer, __MODULE__.Remote, :start_echo, [])
    payload = :crypto.strong_rand_bytes(64)
    t = System.monotonic_time(:microsecond)

    1..conns
    |> Task.async_stream(
      fn _ ->
        {:ok, socket} =
          :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, nodelay: true])

        Enum.each(1..calls, fn _ ->
          :ok = :gen_tcp.send(socket, payload)
          {:ok, _} = :gen_tcp.recv(socket, 64)
        end)

        :gen_tcp.close(socket)
      end,
      max_concurrency: conns,
      timeout: :infinity
    )
    |> Stream.run()

    conns * calls / ((System.monotonic_time(:microsecond) - t) / 1_000_000)
  end
end

ServerBench.run()
