defmodule MTProto.Session.SeenTest do
  use ExUnit.Case, async: true
  alias MTProto.Session.Seen
  alias MTProto.Test.Prop

  # msg_ids are about 2^62 (bignums): the set keeps them as offsets from the first one.
  @base 7_400_000_000_000_000_001

  defp put_all(s, ids) do
    Enum.reduce(ids, s, fn id, s ->
      assert Seen.check(s, id) == :ok
      Seen.put(s, id)
    end)
  end

  test "duplicates and ids below everything forgotten are refused" do
    assert Seen.check(Seen.new(), @base) == :ok
    refute Seen.member?(Seen.new(), @base)

    # limit 2: the young generation fills with 10, 30; 20 starts a new one (10, 30 get old);
    # 50 fills it again and 10, 30 are forgotten
    s = put_all(Seen.new(2), Enum.map([10, 30, 20, 40], &(@base + &1)))
    for id <- [10, 30, 20, 40], do: assert(Seen.check(s, @base + id) == {:error, :duplicate})
    assert Seen.size(s) == 4

    s = put_all(s, [@base + 50])
    for id <- [10, 30, 25, 5], do: assert(Seen.check(s, @base + id) == {:error, :too_low})
    refute Seen.member?(s, @base + 10)
    for id <- [20, 40, 50], do: assert(Seen.check(s, @base + id) == {:error, :duplicate})
    assert Seen.member?(s, @base + 20) and Seen.size(s) == 3
    assert Seen.check(s, @base + 31) == :ok
  end

  test "forget_before/2 forgets the ids below a bound; they stay refused as too low" do
    s = put_all(Seen.new(), Enum.map([100, 300, 200, 400], &(@base + &1)))
    assert Seen.forget_before(s, @base) == s
    s = Seen.forget_before(s, @base + 250)
    assert Seen.size(s) == 2
    refute Seen.member?(s, @base + 200)
    for id <- [100, 150, 200], do: assert(Seen.check(s, @base + id) == {:error, :too_low})
    for id <- [300, 400], do: assert(Seen.check(s, @base + id) == {:error, :duplicate})
    # never received: the receive window decides about those
    for id <- [201, 250], do: assert(Seen.check(s, @base + id) == :ok)

    # everything forgotten: nothing is kept, and nothing received passes
    s = Seen.forget_before(s, @base + 1000)
    assert Seen.size(s) == 0
    for id <- [100, 300, 400], do: assert(Seen.check(s, @base + id) == {:error, :too_low})
    assert Seen.check(s, @base + 401) == :ok
    # an empty set forgets nothing
    assert Seen.forget_before(Seen.new(), @base) == Seen.new()
  end

  test "an idle set, everything forgotten, is a few words" do
    busy = Enum.reduce(1..1024, Seen.new(), &Seen.put(&2, @base + 4 * &1))
    idle = Seen.forget_before(busy, @base + 10_000)
    assert :erts_debug.flat_size(busy) > 3000
    assert :erts_debug.flat_size(idle) < 16
    assert :erts_debug.flat_size(Seen.new()) < 16
  end

  # Operations: put an id (when check/2 allows it) or forget below a bound. Against a model of
  # everything put: an id put is never accepted again; one of the latest `limit` puts not
  # below a later bound is a duplicate; one never put and above every id that may have been
  # forgotten is accepted.
  test "property: replays are refused through count and time forgetting; recent ids are duplicates" do
    op =
      :proper_types.frequency([
        {6, {:put, :proper_types.integer(0, 400)}},
        {1, {:forget, :proper_types.integer(0, 400)}}
      ])

    Prop.check(
      :proper.forall({:proper_types.list(op), :proper_types.integer(1, 12)}, fn {ops, limit} ->
        run(ops, limit)
      end),
      400
    )
  end

  # model: {puts (latest first), ids below a bound applied after they were put}
  defp run(ops, limit) do
    {s, puts, cut} =
      Enum.reduce(ops, {Seen.new(limit), [], MapSet.new()}, fn
        {:put, k}, {s, puts, cut} ->
          if Seen.check(s, @base + k) == :ok,
            do: {Seen.put(s, @base + k), [k | puts], cut},
            else: {s, puts, cut}

        {:forget, b}, {s, puts, cut} ->
          below = for k <- puts, k < b, into: cut, do: k
          {Seen.forget_before(s, @base + b), puts, below}
      end)

    latest = Enum.take(puts, limit)
    may_be_forgotten = Enum.filter(puts, &(&1 not in latest or MapSet.member?(cut, &1)))
    ceiling = Enum.max(may_be_forgotten, fn -> -1 end)

    Seen.size(s) <= 2 * limit and
      Enum.all?(0..400, fn k ->
        result = Seen.check(s, @base + k)

        cond do
          k in puts and k in may_be_forgotten ->
            result != :ok

          k in puts ->
            result == {:error, :duplicate} and Seen.member?(s, @base + k)

          k > ceiling ->
            result == :ok and not Seen.member?(s, @base + k)

          true ->
            result in [:ok, {:error, :too_low}]
        end
      end)
  end
end
