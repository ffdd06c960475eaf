defmodule MTProto.MessageIdTest do
  use ExUnit.Case, async: true
  import Bitwise
  alias MTProto.MessageId
  alias MTProto.MessageId.History

  test "client ids are divisible by 4 and strictly increasing, even when the clock stands still" do
    ids = Enum.scan(1..5000, 0, fn _, last -> MessageId.next(:client, last) end)
    assert Enum.all?(ids, &((&1 &&& 3) == 0))
    assert ids == Enum.sort(ids) and ids == Enum.dedup(ids)
    assert Enum.all?(ids, &MessageId.valid_parity?(&1, :client))
  end

  test "server ids are 1 mod 4 for responses and 3 mod 4 otherwise, increasing across kinds" do
    kinds = Stream.cycle([:server_response, :server_other, :server_other]) |> Enum.take(3000)

    ids = Enum.scan(kinds, {0, nil}, fn kind, {last, _} -> {MessageId.next(kind, last), kind} end)

    for {id, kind} <- ids do
      assert (id &&& 3) == if(kind == :server_response, do: 1, else: 3)
      assert MessageId.valid_parity?(id, :server)
      refute MessageId.valid_parity?(id, :client)
    end

    plain = Enum.map(ids, &elem(&1, 0))
    assert plain == Enum.sort(plain) and plain == Enum.dedup(plain)
  end

  test "from_unix_ns/1 is div(ns * 2^32, 10^9), for any sign and at the second boundaries" do
    edges = [0, 1, 999_999_999, 1_000_000_000, 1_000_000_001, 1_700_000_000_999_999_999]
    random = for _ <- 1..10_000, do: :rand.uniform(1 <<< 62) - (1 <<< 61)

    for ns <- edges ++ Enum.map(edges, &(-&1)) ++ random do
      assert MessageId.from_unix_ns(ns) == div(ns * 4_294_967_296, 1_000_000_000)
    end
  end

  test "an id stands for the current unix time and follows the clock offset" do
    now = System.os_time(:second)
    assert_in_delta MessageId.seconds(MessageId.next(:client, 0)), now, 2
    hour = 3600 * 1_000_000_000
    assert_in_delta MessageId.seconds(MessageId.next(:client, 0, hour)), now + 3600, 2
    assert_in_delta MessageId.seconds(MessageId.next(:client, 0, -hour)), now - 3600, 2
  end

  test "the acceptance window is 300 s back and 30 s ahead" do
    now = 1_700_000_000
    at = fn s -> s * 4_294_967_296 end
    assert MessageId.check_window(at.(now), now) == :ok
    assert MessageId.check_window(at.(now - 299), now) == :ok
    assert MessageId.check_window(at.(now - 301), now) == {:error, :too_old}
    assert MessageId.check_window(at.(now + 29), now) == :ok
    assert MessageId.check_window(at.(now + 31), now) == {:error, :too_new}
  end

  test "offset_from/1 recovers a server clock that is an hour ahead" do
    server_id = MessageId.next(:server_other, 0, 3600 * 1_000_000_000)
    offset = MessageId.offset_from(server_id)
    assert_in_delta offset / 1_000_000_000, 3600, 2

    assert_in_delta MessageId.seconds(MessageId.next(:client, 0, offset)),
                    MessageId.seconds(server_id),
                    2
  end

  test "history drops duplicates and, once full, ids lower than all it remembers" do
    h = History.new(3)
    {:ok, h} = History.accept(h, 40)
    {:ok, h} = History.accept(h, 20)
    assert History.accept(h, 20) == {:error, :duplicate}
    {:ok, h} = History.accept(h, 30)
    assert History.accept(h, 10) == {:error, :too_low}
    {:ok, h} = History.accept(h, 50)
    refute History.member?(h, 20)
    assert History.accept(h, 25) == {:error, :too_low}
    assert History.accept(h, 50) == {:error, :duplicate}
    assert History.member?(h, 30) and History.member?(h, 40)
  end
end
