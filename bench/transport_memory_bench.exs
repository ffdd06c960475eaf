# Memory per obfuscated2 transport (what every session's connection holds): N started client
# transports ({:obfuscated, :padded_intermediate}, the default) are created and kept, and the
# growth of the VM's own count (:erlang.memory(:total)) is compared with the growth of the
# process's resident memory (VmRSS, /proc/self/status). Memory the C core takes with plain
# malloc shows in RSS only; what it takes through enif_alloc shows in both. Several rounds, each
# in a fresh process, all kept until the end (so no round reuses memory another freed); the
# figures are per transport, per round.
#
#   MIX_ENV=bench mix run bench/transport_memory_bench.exs   (TRANSPORTS=20000 by default)

Code.require_file("support.exs", __DIR__)

defmodule TransportMemoryBench do
  alias MTProto.Transport

  @framing {:obfuscated, :padded_intermediate}
  @rounds 4

  def run do
    n = BenchSupport.env_int("TRANSPORTS", 20_000)
    IO.puts("#{n} started #{inspect(@framing)} client transports, #{@rounds} rounds")
    warm = Enum.map(1..100, fn _ -> start() end)
    :erlang.garbage_collect()
    _ = length(warm)

    # Each round's transports stay alive until the end, so a round grows memory instead of
    # reusing what an earlier round freed.
    {samples, holders} = Enum.unzip(for _ <- 1..@rounds, do: sample(n))
    Enum.each(holders, &send(&1, :stop))
    vm = Enum.map(samples, &elem(&1, 0))
    rss = Enum.map(samples, &elem(&1, 1))

    IO.puts("| per transport, by round | VM count (bytes) | RSS (bytes) |")
    IO.puts("|---|---|---|")

    Enum.zip([1..@rounds, vm, rss])
    |> Enum.each(fn {i, v, r} -> IO.puts("| round #{i} | #{round(v)} | #{round(r)} |") end)

    IO.puts("(round 1 also grows the allocators' carriers; later rounds show the steady cost)")
  end

  defp start, do: Transport.start(Transport.new(@framing, :client, dc_id: 2))

  # Builds n transports in a fresh process that holds them until :stop; bytes per transport,
  # VM count and RSS, and that process.
  defp sample(n) do
    parent = self()

    pid =
      spawn(fn ->
        :erlang.garbage_collect()
        vm0 = :erlang.memory(:total)
        rss0 = rss()
        held = Enum.map(1..n, fn _ -> start() end)
        :erlang.garbage_collect()
        send(parent, {:sample, self(), (:erlang.memory(:total) - vm0) / n, (rss() - rss0) / n})
        receive do: (:stop -> length(held))
      end)

    receive do: ({:sample, ^pid, vm, rss} -> {{vm, rss}, pid})
  end

  defp rss do
    "/proc/self/status"
    |> File.read!()
    |> then(&Regex.run(~r/VmRSS:\s+(\d+) kB/, &1))
    |> then(fn [_, kb] -> String.to_integer(kb) * 1024 end)
  end
end

TransportMemoryBench.run()
