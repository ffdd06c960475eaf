defmodule MTProto.StorageTest do
  use ExUnit.Case, async: true
  alias MTProto.{AuthKey, Storage}

  @moduletag :tmp_dir

  defp key(dc), do: AuthKey.new(:crypto.strong_rand_bytes(256), dc, server_salt: -5, user_id: 7)

  test "file storage keeps one key per dc, private, and survives re-reading", %{tmp_dir: dir} do
    s = {Storage.File, dir: dir}
    assert Storage.fetch(s, 2) == :error
    k2 = key(2)
    k4 = key(4)
    assert Storage.put(s, k2) == :ok
    assert Storage.put(s, k4) == :ok
    assert Storage.fetch(s, 2) == {:ok, k2}
    assert Storage.fetch(s, 4) == {:ok, k4}
    %File.Stat{mode: mode} = File.stat!(Storage.File.path(2, dir: dir))
    assert Bitwise.band(mode, 0o077) == 0
    assert File.ls!(dir) |> Enum.sort() == ["dc2.key", "dc4.key"]
    k2b = key(2)
    assert Storage.put(s, k2b) == :ok
    assert Storage.fetch(s, 2) == {:ok, k2b}
    assert Storage.delete(s, 2) == :ok
    assert Storage.fetch(s, 2) == :error
  end

  test "a corrupt or foreign file is not a key", %{tmp_dir: dir} do
    File.write!(Path.join(dir, "dc1.key"), "garbage")

    File.write!(
      Path.join(dir, "dc3.key"),
      :erlang.term_to_binary({1, "short", 3, :perm, 0, nil, nil})
    )

    assert Storage.fetch({Storage.File, dir: dir}, 1) == :error
    assert Storage.fetch({Storage.File, dir: dir}, 3) == :error
  end

  test "memory storage is namespaced" do
    a = {Storage.Memory, namespace: make_ref()}
    b = {Storage.Memory, namespace: make_ref()}
    k = key(2)
    assert Storage.put(a, k) == :ok
    assert Storage.fetch(a, 2) == {:ok, k}
    assert Storage.fetch(b, 2) == :error
    assert Storage.delete(a, 2) == :ok
    assert Storage.fetch(a, 2) == :error
    assert Storage.fetch(nil, 2) == :error
    assert Storage.put(nil, k) == :ok
  end
end
