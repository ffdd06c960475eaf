defmodule MTProto.Session.SeenTest do
  use ExUnit.Case, async: true
  alias MTProto.Session.Seen

  test "duplicates and ids below everything forgotten are refused" do
    s =
      Enum.reduce([10, 30, 20, 40], Seen.new(3), fn id, s ->
        assert Seen.check(s, id) == :ok
        Seen.put(s, id)
      end)

    # 10 was forgotten (oldest first): it and anything not above it is too low now
    assert Seen.check(s, 10) == {:error, :too_low}
    assert Seen.check(s, 5) == {:error, :too_low}
    refute Seen.member?(s, 10)
    for id <- [30, 20, 40], do: assert(Seen.check(s, id) == {:error, :duplicate})
    assert Seen.check(s, 11) == :ok
    s = Seen.put(s, 50)
    assert Seen.check(s, 30) == {:error, :too_low}
    assert Seen.member?(s, 50) and s.size == 3
  end

  test "agrees with a plain model on random ids" do
    :rand.seed(:exsss, {1, 2, 3})
    ids = for _ <- 1..5000, do: :rand.uniform(3000)

    Enum.reduce(ids, {Seen.new(64), [], nil}, fn id, {s, kept, floor} ->
      expected =
        cond do
          id in kept -> {:error, :duplicate}
          floor != nil and id <= floor -> {:error, :too_low}
          true -> :ok
        end

      assert Seen.check(s, id) == expected

      if expected == :ok do
        kept = kept ++ [id]

        {kept, floor} =
          if length(kept) > 64,
            do: {tl(kept), max(floor || hd(kept), hd(kept))},
            else: {kept, floor}

        {Seen.put(s, id), kept, floor}
      else
        {s, kept, floor}
      end
    end)
  end
end
