# The words an idle session's handler keeps (a hibernated process's heap is its live state):
# `:erts_debug.flat_size/1` of the handler state, of its `MTProto.Session.Core` and of each of
# the core's fields, for a freshly connected idle session, and for one that made 2,000 calls
# (1,000 sequential, 1,000 with 100 in flight) and then went idle, before and after it is idle
# past the 300 s receive window (simulated: the core is pruned as the keepalive timer does,
# with a clock 301 s ahead). Also the process's own figure (`:memory`) once hibernated.
# The datacenter runs in this VM (only the handler's words are measured).
#
#   MIX_ENV=bench mix run bench/session_state_bench.exs

defmodule SessionStateBench do
  alias MTProto.{Registry, Session, TestServer}
  alias MTProto.Session.Core

  def run do
    {:ok, server} = TestServer.start_link(port: 0)

    {:ok, sid} =
      Session.open(2,
        address: TestServer.address(server),
        rsa_keys: [TestServer.public_key(server)],
        storage: nil,
        client: self(),
        api_id: 1
      )

    receive do
      {:mtproto, ^sid, :auth_key_generated} -> :ok
    after
      30_000 -> raise "no auth key"
    end

    pid = Registry.whereis(sid, :handler)
    wait_idle(pid)
    report("fresh idle session", pid)

    req = %{_: :"help.getNearestDc"}
    for _ <- 1..1000, do: {:ok, _} = Session.call(sid, req)

    1..1000
    |> Task.async_stream(fn _ -> {:ok, _} = Session.call(sid, req, 60_000) end,
      max_concurrency: 100
    )
    |> Stream.run()

    wait_idle(pid)
    report("after 2,000 calls, idle", pid)

    if function_exported?(Core, :prune, 2) do
      :sys.replace_state(pid, fn state ->
        %{state | core: Core.prune(state.core, Core.server_now(state.core) + 301)}
      end)

      wait_idle(pid)
      report("after 2,000 calls, idle past the window (pruned)", pid)
    else
      IO.puts("\n(no Core.prune/2: nothing is forgotten when idle)")
    end

    Session.close(sid)
  end

  # Acknowledgments go out 200 ms after the last answer; the handler hibernates 200 ms later.
  defp wait_idle(pid) do
    Process.sleep(1_000)
    :sys.get_state(pid)
  end

  defp report(title, pid) do
    state = :sys.get_state(pid)
    core = state.core
    {:memory, memory} = Process.info(pid, :memory)

    IO.puts("\n## #{title}")
    IO.puts("handler state: #{words(state)} words; process memory #{memory} bytes")
    IO.puts("core: #{words(core)} words; control: #{words(state.control)} words")

    fields =
      core
      |> Map.from_struct()
      |> Enum.map(fn {k, v} -> {k, words(v)} end)
      |> Enum.sort_by(&elem(&1, 1), :desc)

    IO.puts("core fields: " <> Enum.map_join(fields, ", ", fn {k, w} -> "#{k} #{w}" end))

    IO.puts(
      "control fields: " <>
        Enum.map_join(Map.from_struct(state.control), ", ", fn {k, v} -> "#{k} #{words(v)}" end)
    )
  end

  defp words(term), do: :erts_debug.flat_size(term)
end

SessionStateBench.run()
