# The cost of MTProto.Session.info/1 when polling many sessions: 10,000 connected, idle
# sessions (one imported key, the test datacenter in a separate VM so the client VM's figures
# are its own), info read for all of them once a second for a few rounds. In the same run, the
# baseline: asking each session's processes directly (a GenServer call to the handler and one
# to the listener, which is what info/1 did before it read published snapshots).
#
#   MIX_ENV=bench mix run bench/session_info_bench.exs   (or: make bench)
#   SESSION_INFO_BENCH_N=10000 SESSION_INFO_BENCH_ROUNDS=5 to change the sizes.

Code.require_file("support.exs", __DIR__)

defmodule SessionInfoBench do
  import BenchSupport
  alias MTProto.{Registry, Session}
  alias MTProto.Session.Listener

  @server :session_info_bench_dc

  def run do
    n = env_int("SESSION_INFO_BENCH_N", 10_000)
    rounds = env_int("SESSION_INFO_BENCH_ROUNDS", 5)
    {peer, address, pem} = start_datacenter(@server)

    opts = [address: address, rsa_keys: [pem], storage: nil, api_id: 1, backoff_min: 50]
    {:ok, first} = Session.open(2, Keyword.put(opts, :client, self()))
    receive do: ({:mtproto, ^first, :auth_key_generated} -> :ok)
    {:ok, key} = Session.export(first)
    Session.close(first)

    t = System.monotonic_time(:millisecond)
    sids = for _ <- 1..n, do: elem(Session.open(2, Keyword.put(opts, :auth_key, key)), 1)
    wait_connected(sids)
    IO.puts("#{n} sessions connected in #{System.monotonic_time(:millisecond) - t} ms")
    # idle sessions hibernate after 1 s
    Process.sleep(2_000)

    ours = poll(rounds, fn -> for sid <- sids, do: {:ok, _} = Session.info(sid) end)
    woken_ours = awake(sids)
    base = poll(rounds, fn -> for sid <- sids, do: ask_processes(sid) end)
    woken_base = awake(sids)

    IO.puts("\n| info for #{n} sessions, one poll | mtproto info/1 | ask the processes | ratio |")
    IO.puts("|---|---|---|---|")
    row("wall time, median of #{rounds} (ms)", ours.wall_ms, base.wall_ms)
    row("per session (us)", ours.wall_ms * 1000 / n, base.wall_ms * 1000 / n)
    row("VM CPU time, median (ms)", ours.cpu_ms, base.cpu_ms)
    row("share of one core when polled every second (%)", ours.cpu_ms / 10, base.cpu_ms / 10)
    IO.puts("| session processes awake after the polls | #{woken_ours} | #{woken_base} | |")

    publication(hd(sids))
    Enum.each(sids, &Session.close/1)
    :peer.stop(peer)
  end

  # What publishing costs the session: one publication of a real handler's and listener's
  # snapshots (a sequential call has each process publish about twice), into a row of its
  # own.
  defp publication(sid) do
    {:ok, %{handler_snapshot: handler, listener_snapshot: listener}} = MTProto.Registry.lookup(sid)
    bench_id = System.unique_integer()
    true = MTProto.Registry.put_session(bench_id, [])

    task =
      Task.async(fn ->
        n = 200_000

        for {role, value} <- [handler: handler, listener: listener] do
          {us, _} =
            :timer.tc(fn ->
              for _ <- 1..n,
                  do: MTProto.Session.Info.publish(bench_id, role, fn -> value end, 0, true)
            end)

          {role, us / n}
        end
      end)

    [handler: h, listener: l] = Task.await(task, 60_000)
    MTProto.Registry.delete_session(bench_id)

    IO.puts(
      "\npublishing a snapshot (the sessions' side): handler #{fmt(h * 1000)} ns, " <>
        "listener #{fmt(l * 1000)} ns each"
    )
  end

  # Median wall and whole-VM CPU time of one poll of every session, one poll a second.
  defp poll(rounds, fun) do
    samples =
      for _ <- 1..rounds do
        {cpu0, _} = :erlang.statistics(:runtime)
        t0 = System.monotonic_time(:microsecond)
        fun.()
        wall = System.monotonic_time(:microsecond) - t0
        # the processes a poll woke do their work (and hibernate again) after it returns
        Process.sleep(max(0, 1_000 - div(wall, 1000)))
        {cpu1, _} = :erlang.statistics(:runtime)
        {wall / 1000, cpu1 - cpu0}
      end

    %{
      wall_ms: median(Enum.map(samples, &elem(&1, 0))),
      cpu_ms: median(Enum.map(samples, &elem(&1, 1)))
    }
  end

  defp ask_processes(sid) do
    info = GenServer.call(Registry.whereis(sid, :handler), :info)
    Map.merge(info, Listener.info(Registry.whereis(sid, :listener)))
  end

  # How many handlers and listeners are not hibernating right now.
  defp awake(sids) do
    pids =
      for sid <- sids, role <- [:handler, :listener], pid = Registry.whereis(sid, role), do: pid

    hibernating = {:current_function, {:erlang, :hibernate, 3}}
    Enum.count(pids, &(Process.info(&1, :current_function) != hibernating))
  end

  defp row(name, a, b),
    do: IO.puts("| #{name} | #{fmt(a)} | #{fmt(b)} | #{fmt(b / max(a, 1.0e-9))}x |")

  defp wait_connected(sids, tries \\ 600) do
    pending = Enum.reject(sids, &match?({:ok, %{connected?: true, queued: 0}}, Session.info(&1)))

    cond do
      pending == [] -> :ok
      tries == 0 -> IO.puts("warning: #{length(pending)} sessions not connected")
      true -> Process.sleep(100) && wait_connected(pending, tries - 1)
    end
  end
end

SessionInfoBench.run()
