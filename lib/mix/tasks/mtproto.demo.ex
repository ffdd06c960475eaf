defmodule Mix.Tasks.Mtproto.Demo do
  @shortdoc "Runs the mtproto demo against the embedded test datacenter (or --address)"
  @moduledoc """
  The demo (`make demo`, `mix mtproto.demo`):

    1. starts the test datacenter in this VM (`MTProto.TestServer`), unless `--address
       host:port` names another one (then `--rsa-key file.pem` gives its key, default
       Telegram's test key, and `--dc` its id);
    2. opens a session, creating the auth key and showing each handshake step;
    3. calls `ping` and `help.getConfig`;
    4. fires 100 concurrent calls, which go out in one container;
    5. drops the connection under 100 calls in flight and shows that none is lost;
    6. exports the key and opens a second session that imports it (no handshake);
    7. shows an `info` snapshot, opens a media connection (same key, its own session id),
       and closes the session with `:drain` while calls are in flight (all answered);
    8. prints a summary with timings.

  The session's lifecycle events (`MTProto.Session.Lifecycle`) are printed as they happen.
  """
  use Mix.Task

  alias MTProto.{Event, Session}
  alias MTProto.Session.Lifecycle

  @impl true
  def run(args) do
    {opts, _, _} =
      OptionParser.parse(args,
        strict: [address: :string, rsa_key: :string, dc: :integer, transport: :string]
      )

    Mix.Task.run("app.start")
    t0 = now()
    dc = opts[:dc] || 2
    {address, rsa_keys, server} = datacenter(opts, dc)
    say("datacenter #{format_address(address)}#{if server, do: " (embedded test DC)", else: ""}")

    Event.attach(:demo, [[:mtproto, :session]], &print_event/4, %{
      t0: System.monotonic_time(:microsecond)
    })

    session_opts = [
      address: address,
      rsa_keys: rsa_keys,
      storage: {MTProto.Storage.Memory, namespace: :demo},
      client: self(),
      backoff_min: 50,
      environment: if(server, do: :production, else: :test)
    ]

    {t_key, sid} =
      timed(fn ->
        {:ok, sid} = Session.open(dc, session_opts)

        receive do
          {:mtproto, ^sid, :auth_key_generated} -> sid
          {:mtproto, ^sid, {:error, reason}} -> Mix.raise("handshake failed: #{inspect(reason)}")
        after
          30_000 -> Mix.raise("no auth key after 30 s")
        end
      end)

    info = quiet_info(sid, & &1[:auth_key_id])

    say(
      "auth key created in #{ms(t_key)}, key id #{hex(info.auth_key_id)}, time offset #{info.time_offset} s"
    )

    {t_ping, {:ok, pong}} = timed(fn -> Session.call(sid, %{_: :ping, ping_id: 42}) end)
    say("ping -> pong(ping_id #{pong.ping_id}) in #{ms(t_ping)}")

    {t_config, {:ok, config}} = timed(fn -> Session.call(sid, %{_: :"help.getConfig"}) end)

    say(
      "help.getConfig (first API call, wrapped in invokeWithLayer(initConnection)) in #{ms(t_config)}: " <>
        "this_dc #{config.this_dc}, #{length(config.dc_options)} dc options"
    )

    before = quiet_info(sid)

    {t_100, results} = timed(fn -> concurrent(sid, 100) end)
    after_100 = quiet_info(sid)
    packets = after_100.stats.packets_out - before.stats.packets_out
    ok = Enum.count(results, &match?({:ok, _}, &1))

    say(
      "100 concurrent help.getNearestDc: #{ok}/100 answered in #{ms(t_100)}, " <>
        "#{packets} packet(s) on the wire (one container)"
    )

    {t_drop, {ok_drop, reconnects}} =
      timed(fn ->
        # The embedded datacenter holds its answers 100 ms, so the drop surely finds the 100
        # calls in flight; they are answered on the next connection, none lost, none run twice.
        if server, do: MTProto.TestServer.inject(server, {:delay, 100})
        %{reconnects: r0} = quiet_info(sid)

        tasks =
          for _ <- 1..100,
              do:
                Task.async(fn ->
                  Session.call(sid, %{_: :"help.getNearestDc"}, 30_000, flush: false)
                end)

        wait_queued(sid, 100, 500)
        Session.flush(sid)
        Process.sleep(20)
        MTProto.Session.Listener.reconnect(MTProto.Registry.whereis(sid, :listener))
        results = Task.await_many(tasks, 35_000)
        if server, do: MTProto.TestServer.clear_faults(server)
        i = quiet_info(sid, &(&1.reconnects > r0))
        {Enum.count(results, &match?({:ok, _}, &1)), i.reconnects - r0}
      end)

    say(
      "forced connection drop under 100 calls in flight: #{ok_drop}/100 answered, none lost " <>
        "(#{reconnects} reconnect(s), #{ms(t_drop)})"
    )

    if ok_drop != 100, do: Mix.raise("calls were lost across the drop")
    Event.detach(:demo)

    if server do
      runs = :counters.get(:persistent_term.get({__MODULE__, :runs}), 1)

      say(
        "the server ran help.getNearestDc #{runs} times for the 200 calls made so far (none twice)"
      )

      if runs != 200, do: Mix.raise("calls ran #{runs} times on the server, not 200")
    end

    {:ok, key} = Session.export(sid)
    say("exported #{inspect(key)}")

    {t_import, {sid2, {:ok, _}}} =
      timed(fn ->
        {:ok, sid2} = Session.open(dc, Keyword.merge(session_opts, auth_key: key, storage: nil))
        {sid2, Session.call(sid2, %{_: :"help.getNearestDc"})}
      end)

    handshake? =
      receive do
        {:mtproto, ^sid2, :auth_key_generated} -> true
      after
        0 -> false
      end

    say(
      "second session imported the key: first call answered in #{ms(t_import)}, handshake: #{handshake?}"
    )

    final = quiet_info(sid)
    Session.close(sid2)
    say("info snapshot of the first session (Session.info/1):")
    print_info(final)

    {:ok, media} = Session.open_media(sid)
    {:ok, _} = Session.call(media, %{_: :"help.getNearestDc"})
    {:ok, m} = Session.info(media)

    say(
      "media connection: kind #{m.kind}, parent #{m.parent == sid}, same key #{m.auth_key_id == final.auth_key_id}, " <>
        "own MTProto session id #{m.mtproto_session_id != final.mtproto_session_id}"
    )

    Event.attach(:demo, [[:mtproto, :session]], &print_event/4, %{t0: now()})
    if server, do: MTProto.TestServer.inject(server, {:delay, 100})
    tasks = for _ <- 1..10, do: Task.async(fn -> Session.call(sid, %{_: :"help.getNearestDc"}) end)
    wait_queued(sid, 10, 500)
    {t_drain, drained} = timed(fn -> Session.close(sid, :drain) end)
    answered = Enum.count(Task.await_many(tasks), &match?({:ok, _}, &1))

    say(
      "close(:drain) with 10 calls in flight: #{inspect(drained)}, #{answered}/10 answered in #{ms(t_drain)}"
    )

    Event.detach(:demo)
    if server, do: MTProto.TestServer.stop(server)

    IO.puts("""

    Summary
      auth key (DH handshake)            #{ms(t_key)}
      ping round trip                    #{ms(t_ping)}
      help.getConfig (with initConnection) #{ms(t_config)}
      100 concurrent calls               #{ms(t_100)}  (#{packets} packet(s) out)
      100 calls across a forced drop     #{ms(t_drop)}  (#{ok_drop}/100 answered)
      second session, imported key       #{ms(t_import)}  (handshake: #{handshake?})
      packets out / in                   #{final.stats.packets_out} / #{final.stats.packets_in}
      messages resent                    #{final.stats.resent}
      total                              #{ms(now() - t0)}
    """)
  end

  defp datacenter(opts, dc) do
    case opts[:address] do
      nil ->
        # help.getNearestDc answered by a handler that counts how often the server ran it.
        runs = :counters.new(1, [:atomics])
        :persistent_term.put({__MODULE__, :runs}, runs)

        handlers = %{
          "help.getNearestDc": fn _req, _ctx ->
            :counters.add(runs, 1, 1)
            {:ok, %{_: :nearestDc, country: "NL", this_dc: dc, nearest_dc: dc}}
          end
        }

        {:ok, server} = MTProto.TestServer.start_link(dc_id: dc, handlers: handlers)
        {MTProto.TestServer.address(server), [MTProto.TestServer.public_key(server)], server}

      address ->
        [host, port] = String.split(address, ":", parts: 2)
        keys = if opts[:rsa_key], do: [File.read!(opts[:rsa_key])], else: MTProto.DC.rsa_keys(:test)
        {{host, String.to_integer(port)}, keys, nil}
    end
  end

  # n callers each make a call held back (`flush: false`); once all n are queued, one flush
  # sends them in a single container.
  defp concurrent(sid, n) do
    tasks =
      for _ <- 1..n,
          do:
            Task.async(fn -> Session.call(sid, %{_: :"help.getNearestDc"}, 15_000, flush: false) end)

    wait_queued(sid, n, 500)
    Session.flush(sid)
    Task.await_many(tasks, 20_000)
  end

  # info/1 reads snapshots the session publishes when it goes quiet: give it a moment, and
  # wait (up to a second) for what the next step relies on.
  defp quiet_info(sid, ready? \\ fn _ -> true end, tries \\ 100) do
    Process.sleep(10)
    {:ok, info} = Session.info(sid)
    if ready?.(info) || tries == 0, do: info, else: quiet_info(sid, ready?, tries - 1)
  end

  defp wait_queued(_sid, _n, 0), do: :ok

  defp wait_queued(sid, n, tries) do
    case Session.info(sid) do
      {:ok, %{queue: %{messages: q}}} when q >= n -> :ok
      _ -> Process.sleep(2) && wait_queued(sid, n, tries - 1)
    end
  end

  defp print_event([:mtproto, :session, :handshake_step], _m, %{step: step}, %{t0: t0}),
    do: say("  handshake: sending #{step} (+#{ms(System.monotonic_time(:microsecond) - t0)})")

  defp print_event([:mtproto, :session, name], _m, meta, %{t0: t0}) do
    if name in Lifecycle.client_events() do
      detail =
        meta
        |> Map.drop([:session_id, :dc_id, :kind])
        |> Enum.map_join(", ", fn {k, v} -> "#{k} #{inspect(v)}" end)

      kind = if meta[:kind] == :media, do: " (media connection)", else: ""
      say("  event #{name}#{kind} #{detail} (+#{ms(System.monotonic_time(:microsecond) - t0)})")
    end
  end

  defp print_info(info) do
    fields = [
      :kind,
      :connected?,
      :reading?,
      :writing?,
      :transport,
      :socket,
      :stats,
      :pending_calls,
      :unacknowledged,
      :queued,
      :queue,
      :full?,
      :draining?,
      :reconnects,
      :salt_valid_until,
      :time_offset
    ]

    for key <- fields, do: say("  #{key}: #{inspect(Map.get(info, key))}")
  end

  defp timed(fun) do
    t = now()
    result = fun.()
    {now() - t, result}
  end

  defp now, do: System.monotonic_time(:microsecond)
  defp ms(us), do: :erlang.float_to_binary(us / 1000, decimals: 1) <> " ms"
  defp hex(nil), do: "-"
  defp hex(id), do: Base.encode16(<<id::signed-64>>, case: :lower)
  defp say(line), do: IO.puts(line)
  defp format_address({host, port}) when is_tuple(host), do: "#{:inet.ntoa(host)}:#{port}"
  defp format_address({host, port}), do: "#{host}:#{port}"
end
