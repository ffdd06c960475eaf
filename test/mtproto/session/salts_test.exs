defmodule MTProto.Session.SaltsTest do
  use ExUnit.Case, async: true
  alias MTProto.Session.Salts

  defp fs(since, until, salt), do: %{valid_since: since, valid_until: until, salt: salt}

  test "future salts replace a salt of unknown validity and rotate before expiry" do
    s = Salts.new(1)
    s = Salts.put_future(s, [fs(2000, 3800, 3), fs(1000, 2800, 2), fs(3000, 4800, 4)], 1500)
    assert s.current == 2 and s.valid_until == 2800
    assert Salts.rotate(s, 2000).current == 2
    # 60 s before expiry, the next salt already valid takes over
    s = Salts.rotate(s, 2745)
    assert s.current == 3 and s.valid_until == 3800
    assert Salts.future_list(s) == [{2000, 3800, 3}, {3000, 4800, 4}]
    assert Salts.need_more?(s, 2745) == false
    s = Salts.rotate(s, 3750)
    assert s.current == 4
    assert Salts.need_more?(s, 3750)
  end

  test "future salts as the server sends them are kept compactly, read back as {valid_since, valid_until, salt}" do
    big = -0x7EDC_BA98_7654_3210

    sent =
      for i <- 3..0//-1,
          do: %{_: :future_salt, valid_since: 1000 * i, valid_until: 1000 * i + 1800, salt: big + i}

    s = Salts.put_future(Salts.new(big), sent, 100)

    assert Salts.future_list(s) == [
             {0, 1800, big},
             {1000, 2800, big + 1},
             {2000, 3800, big + 2},
             {3000, 4800, big + 3}
           ]

    assert s.current == big and s.valid_until == 1800
    # the struct, a bignum current salt, four kept salts in one 64-byte heap binary
    assert :erts_debug.flat_size(s) <= 12 + 3 + 10
  end

  test "a salt from the server (bad_server_salt) replaces the stale future ones" do
    s = Salts.new(1) |> Salts.put_future([fs(0, 1000, 2), fs(900, 2000, 3)], 100)
    assert s.current == 2
    s = Salts.put_current(s, 9)
    assert s.current == 9 and s.valid_until == nil and Salts.future_list(s) == []
    assert Salts.rotate(s, 100).current == 9
    assert Salts.need_more?(s, 100)
    # fresh future salts that list the current one give it its validity
    s = Salts.put_future(s, [fs(0, 1000, 9), fs(900, 2000, 10)], 100)
    assert s.current == 9 and s.valid_until == 1000
    assert Salts.rotate(s, 950).current == 10
  end
end
