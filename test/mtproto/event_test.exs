defmodule MTProto.EventTest do
  use ExUnit.Case, async: false
  import ExUnit.CaptureLog
  alias MTProto.Event

  setup do
    on_exit(fn -> for {id, _} <- Event.list(), do: Event.detach(id) end)
  end

  test "handlers get events under their prefixes, in order, with measurements and metadata" do
    me = self()

    :ok =
      Event.attach(:a, [[:mtproto, :session]], fn n, m, md, c -> send(me, {c, n, m, md}) end, :cfg)

    Event.emit([:mtproto, :session, :connected], %{count: 1}, %{session_id: 7})
    Event.emit([:mtproto, :server, :started], %{}, %{})
    Event.emit([:mtproto, :session, :closed])

    assert_receive {:cfg, [:mtproto, :session, :connected], %{count: 1}, %{session_id: 7}}
    assert_receive {:cfg, [:mtproto, :session, :closed], %{}, %{}}
    refute_receive {:cfg, [:mtproto, :server, :started], _, _}
  end

  test "ids are unique and detach removes a handler" do
    f = fn _, _, _, _ -> :ok end
    assert Event.attach(:b, [[:x]], f) == :ok
    assert Event.attach(:b, [[:y]], f) == {:error, :already_exists}
    assert Event.list() == [{:b, [[:x]]}]
    assert Event.detach(:b) == :ok
    assert Event.detach(:b) == {:error, :not_found}
  end

  test "a raising handler is detached and logged; the others still run" do
    me = self()
    :ok = Event.attach(:bad, [[:e]], fn _, _, _, _ -> raise "boom" end)
    :ok = Event.attach(:good, [[:e]], fn n, _, _, _ -> send(me, n) end)

    log = capture_log(fn -> Event.emit([:e, :one]) end)
    assert log =~ "boom" and log =~ ":bad"
    assert_receive [:e, :one]
    assert Event.list() == [{:good, [[:e]]}]
  end

  test "concurrent attaches lose none" do
    1..50
    |> Enum.map(fn i ->
      Task.async(fn -> Event.attach({:h, i}, [[:z]], fn _, _, _, _ -> :ok end) end)
    end)
    |> Enum.each(&(:ok = Task.await(&1)))

    assert length(Event.list()) == 50
  end
end
