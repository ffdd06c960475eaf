defmodule MTProto.TLAtomsTest do
  # Not async: the atom count only means something while nothing else runs.
  use ExUnit.Case, async: false

  alias MTProto.TL

  test "random bytes never crash and never make atoms" do
    ping = TL.encode!(%{_: :ping, ping_id: 1})
    atoms = :erlang.system_info(:atom_count)

    for seed <- 1..3000 do
      :rand.seed(:exsss, {seed, 2, 3})
      bin = :rand.bytes(:rand.uniform(64))
      # random bytes alone, and after a valid id so that decoding gets further
      for b <- [bin, binary_part(ping, 0, 4) <> bin, <<0x1CB5C415::little-32>> <> bin] do
        assert match?({:ok, _}, TL.decode(b)) or match?({:error, _}, TL.decode(b))

        assert match?({:ok, _}, TL.decode_result(:"messages.receivedQueue", b)) or
                 match?({:error, _}, TL.decode_result(:"messages.receivedQueue", b))
      end
    end

    assert :erlang.system_info(:atom_count) == atoms
  end
end
