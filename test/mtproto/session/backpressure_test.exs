defmodule MTProto.Session.BackpressureTest do
  use ExUnit.Case, async: true

  alias MTProto.Session.Backpressure, as: BP

  defp tag_of(call), do: elem(call, 1)

  test "bounded in messages: full at the limit, room again after a release" do
    bp = BP.new(max_queue: 2)
    refute BP.full?(bp)
    bp = bp |> BP.admit(:a, 10) |> BP.admit(:b, 10)
    assert BP.full?(bp)
    assert %{messages: 2, bytes: 20, full?: true, waiting: 0} = BP.info(BP.snapshot(bp))
    bp = BP.release(bp, :a)
    refute BP.full?(bp)
    assert %{messages: 1, bytes: 10, full?: false} = BP.info(BP.snapshot(bp))
    # a tag not counted (or released twice) changes nothing
    assert BP.release(bp, :a) == bp
    assert BP.release(bp, :zzz) == bp
  end

  test "bounded in bytes; one request larger than the bound still goes alone" do
    bp = BP.new(max_queue_bytes: 100)
    bp = BP.admit(bp, :big, 500)
    assert BP.full?(bp)
    bp = BP.release(bp, :big)
    refute BP.full?(bp)
    assert %{bytes: 0, messages: 0} = BP.info(BP.snapshot(bp))
    bp = bp |> BP.admit(:a, 60) |> BP.admit(:b, 40)
    assert BP.full?(bp)
  end

  test "parked calls wait in order, leave when cancelled, and go when there is room" do
    bp = BP.new(max_queue: 1) |> BP.admit(:a, 1)
    bp = Enum.reduce([:p1, :p2, :p3], bp, &BP.park(&2, {:call, &1}))
    assert %{waiting: 3} = BP.info(BP.snapshot(bp))
    # others are waiting: a new request must wait too, even with room
    assert {[], bp} = BP.unpark(bp)
    bp = BP.cancel(bp, :p2, &tag_of/1)
    bp = BP.release(bp, :a)
    assert BP.full?(bp)
    assert {[{:call, :p1}], bp} = BP.unpark(bp)
    # the unparked call takes the free slot once admitted; p3 waits for the next one
    bp = BP.admit(bp, :p1, 1)
    assert {[], bp} = BP.unpark(bp)
    bp = BP.release(bp, :p1)
    assert {[{:call, :p3}], bp} = BP.unpark(bp)
    refute BP.full?(bp)
  end

  test "several parked calls go at once when several slots free" do
    bp = BP.new(max_queue: 3) |> BP.admit(:a, 1) |> BP.admit(:b, 1) |> BP.admit(:c, 1)
    bp = Enum.reduce(1..5, bp, &BP.park(&2, {:call, &1}))
    bp = bp |> BP.release(:a) |> BP.release(:b)
    assert {[{:call, 1}, {:call, 2}], bp} = BP.unpark(bp)
    assert {parked, bp} = BP.take_parked(bp)
    assert parked == [{:call, 3}, {:call, 4}, {:call, 5}]
    assert %{waiting: 0} = BP.info(BP.snapshot(bp))
  end
end
