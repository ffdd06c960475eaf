defmodule MTProto.TestServerSessionLimitsTest do
  use MTProto.TestServerCase, async: true

  # Pings `client`'s session; true when the server announced it as a new session.
  defp ping(client) do
    {id, client} = C.send_term(client, %{_: :ping, ping_id: 1})
    {%{term: %{_: :pong}}, seen, client} = C.answer(client, id)
    {Enum.any?(seen, &match?(%{term: %{_: :new_session_created}}, &1)), client}
  end

  defp in_session(client, session_id), do: %{client | session_id: session_id, seq_count: 0}

  import MTProto.Test.SessionHelpers, only: [wait_until: 3]

  test "beyond max_sessions_per_key the least recently used session of the key is forgotten" do
    server = start_server(max_sessions_per_key: 2)
    a = keyed(server)
    other = keyed(server)
    {true, a} = ping(a)
    {true, b} = ping(in_session(a, a.session_id + 1))
    {true, other} = ping(other)
    # a is used again: b is now the least recently used.
    {false, a} = ping(a)
    assert TestServer.stats(server).sessions == 3
    {true, c} = ping(in_session(a, a.session_id + 2))
    # b went, a and c stay; the other key's session is not counted against this key.
    assert TestServer.stats(server).sessions == 3
    {false, a} = ping(a)
    {false, _c} = ping(c)
    {false, _} = ping(other)
    # b's next message opens a new session (and evicts the least recently used: a).
    {true, b} = ping(b)
    {false, _b} = ping(b)
    {true, _a} = ping(a)
    assert TestServer.stats(server).sessions == 3
  end

  test "a session idle for session_idle_timeout ms is forgotten; an active one stays" do
    server = start_server(session_idle_timeout: 1000)
    idle = keyed(server)
    {true, idle} = ping(idle)
    active = keyed(server)
    {true, active} = ping(active)
    assert TestServer.stats(server).sessions == 2

    # The active session hears from its client every 100 ms and outlives the idle one.
    active =
      Enum.reduce_while(1..100, active, fn _, active ->
        Process.sleep(100)
        {false, active} = ping(active)

        if TestServer.stats(server).sessions == 1,
          do: {:halt, active},
          else: {:cont, active}
      end)

    assert TestServer.stats(server).sessions == 1
    {false, _} = ping(active)
    {true, _} = ping(idle)
  end

  test "a session with a call still running is not expired" do
    server =
      start_server(
        session_idle_timeout: 100,
        handlers: %{
          "account.updateStatus": fn _req, _ctx ->
            Process.sleep(600)
            {:ok, true}
          end
        }
      )

    client = inited(server)
    # The answer arrives: the session outlived its idle timeout while the call ran (an expired
    # session's answer would be lost).
    {true, client} = C.call(client, %{_: :"account.updateStatus", offline: true})
    wait_until(fn -> TestServer.stats(server).sessions == 0 end, 250, 20)
    {true, _} = ping(client)
  end

  test "the options are checked" do
    opts = [max_sessions_per_key: 1, session_idle_timeout: :infinity, rsa_key: rsa_key()]
    assert {:ok, pid} = TestServer.start_link(opts)
    TestServer.stop(pid)
    assert_raise ArgumentError, fn -> TestServer.start_link(max_sessions_per_key: 0) end
    assert_raise ArgumentError, fn -> TestServer.start_link(session_idle_timeout: -1) end
  end
end
