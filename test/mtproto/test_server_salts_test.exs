defmodule MTProto.TestServerSaltsTest do
  use ExUnit.Case, async: true

  import Bitwise

  alias MTProto.TestServer.{AuthKeys, Salts}

  defp key(created_at, rotation0) do
    %AuthKeys{
      id: 1,
      key: :crypto.strong_rand_bytes(256),
      salt_secret: :crypto.strong_rand_bytes(32),
      initial_salt: 42,
      created_at: created_at,
      rotation0: rotation0
    }
  end

  test "with a memo carried along, current and valid? answer as without one" do
    period = 600
    key = key(1_000_000, 0)

    # Times walking through periods (inside and past the grace window), rotations changing.
    steps =
      for i <- 0..400 do
        now = 1_000_000 + i * 97
        rotation = div(i, 150)
        {now, rotation}
      end

    Enum.reduce(steps, %{}, fn {now, rotation}, memo ->
      {current, memo} = Salts.current(key, now, rotation, period, memo)
      assert current == Salts.current(key, now, rotation, period)

      candidates = [
        current,
        Salts.current(key, now - period, rotation, period),
        Salts.current(key, now - 2 * period, rotation, period),
        Salts.current(key, now, rotation + 1, period),
        42,
        :rand.uniform(1 <<< 62)
      ]

      Enum.reduce(candidates, memo, fn salt, memo ->
        {valid, memo} = Salts.valid?(key, salt, now, rotation, period, memo)
        assert valid == Salts.valid?(key, salt, now, rotation, period)
        assert map_size(memo) <= 4
        memo
      end)
    end)
  end

  test "the first salt is the handshake's during the key's first period only" do
    key = key(1_000_200, 0)
    assert Salts.current(key, 1_000_300, 0, 600) == 42
    refute Salts.current(key, 1_000_900, 0, 600) == 42
    refute Salts.current(key, 1_000_300, 1, 600) == 42
    assert Salts.valid?(key, 42, 1_000_900, 0, 600)
    refute Salts.valid?(key, 42, 1_000_900 + 600, 0, 600)
  end
end
