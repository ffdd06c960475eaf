defmodule MTProto.Session.BackpressureTest do
  use ExUnit.Case, async: true

  alias MTProto.Session.Backpressure, as: BP

  defp tag_of(call), do: elem(call, 1)

  test "bounded in messages: full at the limit, room again after a release" do
    bp = BP.new(max_queue: 2)
    refute BP.full?(bp)
    bp = bp |> BP.admit(:a, 10) |> BP.admit(:b, 10)
    assert BP.full?(bp)
    assert %{messages: 2, bytes: 20, full?: true, waiting: 0} = BP.info(bp)
    bp = BP.release(bp, :a)
    refute BP.full?(bp)
    assert %{messages: 1, bytes: 10, full?: false} = BP.info(bp)
    # a tag not counted (or released twice) changes nothing
    assert BP.release(bp, :a) == bp
    assert BP.release(bp, :zzz) == bp
  end

  test "the default limits show in info and are not kept per session" do
    assert %{max_messages: 10_000, max_bytes: 16_777_216, full?: false} = BP.info(BP.new([]))

    assert BP.new(max_queue: 10_000, max_queue_bytes: 16 * 1024 * 1024) == BP.new([])
    assert :erts_debug.flat_size(BP.new([])) < :erts_debug.flat_size(BP.new(max_queue: 5))
    assert %{max_messages: 5, max_bytes: 16_777_216} = BP.info(BP.new(max_queue: 5))
  end

  test "bounded in bytes; one request larger than the bound still goes alone" do
    bp = BP.new(max_queue_bytes: 100)
    bp = BP.admit(bp, :big, 500)
    assert BP.full?(bp)
    bp = BP.release(bp, :big)
    refute BP.full?(bp)
    assert %{bytes: 0, messages: 0} = BP.info(bp)
    bp = bp |> BP.admit(:a, 60) |> BP.admit(:b, 40)
    assert BP.full?(bp)
  end

  test "parked calls wait in order, leave when cancelled, and go when there is room" do
    bp = BP.new(max_queue: 1) |> BP.admit(:a, 1)
    bp = Enum.reduce([:p1, :p2, :p3], bp, &BP.park(&2, {:call, &1}))
    assert %{waiting: 3} = BP.info(bp)
    assert BP.unpark(bp) == :none
    bp = BP.cancel(bp, :p2, &tag_of/1)
    bp = BP.release(bp, :a)
    # others are waiting: a new request must wait too, even with room
    assert BP.full?(bp)
    assert {:ok, {:call, :p1}, bp} = BP.unpark(bp)
    # the unparked call takes the free slot once admitted; p3 waits for the next one
    bp = BP.admit(bp, :p1, 1)
    assert BP.unpark(bp) == :none
    bp = BP.release(bp, :p1)
    assert {:ok, {:call, :p3}, bp} = BP.unpark(bp)
    refute BP.full?(bp)
  end

  test "parked calls go one by one while there is room, in bytes too" do
    bp = BP.new(max_queue: 3, max_queue_bytes: 100)
    bp = bp |> BP.admit(:a, 1) |> BP.admit(:b, 1) |> BP.admit(:c, 1)
    bp = Enum.reduce(1..5, bp, &BP.park(&2, {:call, &1}))
    bp = bp |> BP.release(:a) |> BP.release(:b)
    assert {:ok, {:call, 1}, bp} = BP.unpark(bp)
    # the first one turned out large: the byte bound stops the next
    bp = BP.admit(bp, 1, 150)
    assert BP.unpark(bp) == :none
    bp = BP.release(bp, 1)
    assert {:ok, {:call, 2}, bp} = BP.unpark(bp)
    bp = BP.admit(bp, 2, 1)
    assert {parked, bp} = BP.take_parked(bp)
    assert parked == [{:call, 3}, {:call, 4}, {:call, 5}]
    assert %{waiting: 0} = BP.info(bp)
  end
end

defmodule MTProto.Session.BackpressurePropertyTest do
  use ExUnit.Case, async: true

  alias MTProto.Session.Backpressure, as: BP
  alias MTProto.Test.Prop

  # The handler's use of the bound, driven by random requests, answers and cancellations:
  # nothing is lost (every request is admitted, parked or cancelled), the count never passes
  # its limit, bytes pass theirs by less than one request, and parked calls go in order.
  test "property: bounded, nothing lost, parked calls go first come first served" do
    op =
      :proper_types.oneof([
        {:request, :proper_types.integer(1, 100)},
        {:finish, :proper_types.integer(0, 50)},
        {:cancel, :proper_types.integer(0, 50)}
      ])

    limits = {:proper_types.integer(1, 6), :proper_types.integer(1, 300)}

    Prop.check(
      :proper.forall({limits, :proper_types.list(op)}, fn {{max_m, max_b}, ops} ->
        bp = BP.new(max_queue: max_m, max_queue_bytes: max_b)

        run(
          ops,
          %{bp: bp, next: 0, sizes: %{}, admitted: [], parked: [], cancelled: []},
          max_m,
          max_b
        )
      end),
      300
    )
  end

  defp run([], s, _max_m, _max_b) do
    all = Map.keys(s.sizes)
    accounted = Enum.sort(s.admitted ++ s.cancelled ++ s.parked)
    %{messages: n, waiting: w} = BP.info(s.bp)
    accounted == Enum.sort(all) and w == length(s.parked) and n <= length(s.admitted)
  end

  defp run([op | ops], s, max_m, max_b) do
    s = step(op, s)
    %{messages: n, bytes: b} = BP.info(s.bp)
    live = Enum.filter(s.admitted, &BP.admitted?(s.bp, &1))
    ok = n == length(live) and b == Enum.sum(Enum.map(live, &s.sizes[&1]))
    ok = ok and n <= max_m and (n <= 1 or b < max_b + 100)
    ok and run(ops, s, max_m, max_b)
  end

  defp step({:request, size}, s) do
    tag = s.next
    s = %{s | next: tag + 1, sizes: Map.put(s.sizes, tag, size)}

    if BP.full?(s.bp),
      do: %{s | bp: BP.park(s.bp, {:call, tag}), parked: s.parked ++ [tag]},
      else: admit(s, tag)
  end

  defp step({:finish, i}, s) do
    case Enum.filter(s.admitted, &BP.admitted?(s.bp, &1)) do
      [] -> s
      live -> unpark(%{s | bp: BP.release(s.bp, Enum.at(live, rem(i, length(live))))})
    end
  end

  defp step({:cancel, i}, s) do
    case s.parked ++ Enum.filter(s.admitted, &BP.admitted?(s.bp, &1)) do
      [] ->
        s

      candidates ->
        tag = Enum.at(candidates, rem(i, length(candidates)))
        bp = s.bp |> BP.cancel(tag, &elem(&1, 1)) |> BP.release(tag)

        s =
          if tag in s.parked,
            do: %{s | parked: List.delete(s.parked, tag), cancelled: [tag | s.cancelled]},
            else: s

        unpark(%{s | bp: bp})
    end
  end

  defp admit(s, tag),
    do: %{s | bp: BP.admit(s.bp, tag, s.sizes[tag]), admitted: s.admitted ++ [tag]}

  # As the handler does: the oldest parked call, admitted, then the next while there is room.
  defp unpark(s) do
    case BP.unpark(s.bp) do
      {:ok, {:call, tag}, bp} ->
        [^tag | rest] = s.parked
        unpark(admit(%{s | bp: bp, parked: rest}, tag))

      :none ->
        s
    end
  end
end
