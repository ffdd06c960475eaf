defmodule MTProto.TestServerHistoryTest do
  use ExUnit.Case, async: true

  import Bitwise

  alias MTProto.Test.Prop
  alias MTProto.TestServer.History

  test "seen, neighbours in and out of order, forgetting oldest-received first" do
    h = Enum.reduce([10, 20, 30], History.new(3), fn id, h -> History.put(h, id, id + 1) end)
    assert History.seen?(h, 20) and not History.seen?(h, 25)
    assert History.neighbours(h, 40) == {{30, 31}, nil}
    assert History.neighbours(h, 25) == {{20, 21}, {30, 31}}
    assert History.neighbours(h, 5) == {nil, {10, 11}}
    refute History.forgotten?(h, 5)

    h = History.put(h, 15, 16)
    refute History.seen?(h, 10)
    assert History.forgotten?(h, 10) and History.forgotten?(h, 5)
    refute History.forgotten?(h, 15) or History.forgotten?(h, 12)
    assert History.neighbours(h, 12) == {nil, {15, 16}}
  end

  test "property: neighbours and forgetting agree with a plain list of what was put" do
    ids = :proper_types.list(:proper_types.integer(1, 200))

    Prop.check(
      :proper.forall({ids, :proper_types.integer(1, 200), :proper_types.integer(1, 20)}, fn
        {ids, probe, limit} ->
          ids = Enum.uniq(ids)
          h = Enum.reduce(ids, History.new(limit), &History.put(&2, &1, &1 * 2))
          kept = Enum.take(ids, -limit)
          gone = Enum.drop(ids, -limit)
          below = kept |> Enum.filter(&(&1 < probe)) |> Enum.max(fn -> nil end)
          above = kept |> Enum.filter(&(&1 > probe)) |> Enum.min(fn -> nil end)
          pair = fn id -> id && {id, id * 2} end
          floor = Enum.max(gone, fn -> nil end)

          History.neighbours(h, probe) == {pair.(below), pair.(above)} and
            History.seen?(h, probe) == probe in kept and
            History.forgotten?(h, probe) == (floor != nil and probe <= floor and probe not in kept)
      end),
      300
    )
  end

  test "property: the same with msg_id-sized ids, nearly in order as a session gets them, and larger limits" do
    Prop.check(
      :proper.forall(
        {:proper_types.integer(0, 1500), :proper_types.integer(1, 400),
         :proper_types.integer(0, 1 <<< 32), :proper_types.integer(1, 32)},
        fn {n, limit, seed, jitter} ->
          :rand.seed(:exsss, {seed, n, limit})
          # Ids of msg_id size, increasing with some out of order (a container's messages).
          base = 7_300_000_000_000_000_000

          ids =
            1..n//1
            |> Enum.map(&(base + 4 * (&1 * 8 + :rand.uniform(8 * jitter))))
            |> Enum.uniq()

          h = Enum.reduce(ids, History.new(limit), &History.put(&2, &1, rem(&1, 1000)))
          kept = Enum.take(ids, -limit)
          kept_set = MapSet.new(kept)
          floor = ids |> Enum.drop(-limit) |> Enum.max(fn -> nil end)

          probes =
            Enum.take_random(ids, 20) ++ for(_ <- 1..20, do: base + :rand.uniform(40 * n + 100))

          Enum.all?(probes, fn probe ->
            below = kept |> Enum.filter(&(&1 < probe)) |> Enum.max(fn -> nil end)
            above = kept |> Enum.filter(&(&1 > probe)) |> Enum.min(fn -> nil end)
            pair = fn id -> id && {id, rem(id, 1000)} end
            seen = MapSet.member?(kept_set, probe)

            History.neighbours(h, probe) == {pair.(below), pair.(above)} and
              History.seen?(h, probe) == seen and
              History.forgotten?(h, probe) == (floor != nil and probe <= floor and not seen)
          end)
        end
      ),
      200
    )
  end
end
