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

  test "keys are kept per network: production, test and a datacenter by address never share one",
       %{tmp_dir: dir} do
    for backend <- [{Storage.File, dir: dir}, {Storage.Memory, namespace: make_ref()}] do
      production = Storage.for_network(backend, "production")
      test_dc = Storage.for_network(backend, "test")
      local = Storage.for_network(backend, "127.0.0.1:4430")
      {kp, kt, kl} = {key(2), key(2), key(2)}
      assert Storage.put(production, kp) == :ok
      assert Storage.fetch(test_dc, 2) == :error
      assert Storage.fetch(local, 2) == :error
      assert Storage.put(test_dc, kt) == :ok
      assert Storage.put(local, kl) == :ok
      assert Storage.fetch(production, 2) == {:ok, kp}
      assert Storage.fetch(test_dc, 2) == {:ok, kt}
      assert Storage.fetch(local, 2) == {:ok, kl}
      # an unscoped spec is production's
      assert Storage.fetch(backend, 2) == {:ok, kp}
      assert Storage.delete(local, 2) == :ok
      assert Storage.fetch(local, 2) == :error
      assert Storage.fetch(test_dc, 2) == {:ok, kt}
    end

    assert File.ls!(dir) |> Enum.sort() == ["dc2.key", "test-dc2.key"]
    assert Storage.for_network(nil, "test") == nil
  end

  test "a session's storage is its network's: a key made against one datacenter is not offered to another",
       %{tmp_dir: dir} do
    {:ok, _} = MTProto.TestServer.start_link(name: :storage_net_a, port: 0)
    {:ok, _} = MTProto.TestServer.start_link(name: :storage_net_b, port: 0)
    storage = {Storage.File, dir: dir}

    open = fn server ->
      {:ok, sid} =
        MTProto.Session.open(2,
          address: MTProto.TestServer.address(server),
          rsa_keys: [MTProto.TestServer.public_key(server)],
          storage: storage,
          client: self(),
          api_id: 1
        )

      assert_receive {:mtproto, ^sid, :auth_key_generated}, 10_000
      # nothing came from the storage: the key was made for this datacenter
      refute_received {:mtproto_event, ^sid, :auth_key_imported, _}
      {:ok, key} = MTProto.Session.export(sid)
      MTProto.Session.close(sid)
      key
    end

    key_a = open.(:storage_net_a)
    # the second datacenter is also dc 2, on another port: its session makes its own key
    key_b = open.(:storage_net_b)
    assert key_a.id != key_b.id
    assert length(File.ls!(dir)) == 2
    # and a session to the first datacenter again takes its key from the storage
    {:ok, sid} =
      MTProto.Session.open(2,
        address: MTProto.TestServer.address(:storage_net_a),
        rsa_keys: [MTProto.TestServer.public_key(:storage_net_a)],
        storage: storage,
        client: self(),
        api_id: 1
      )

    assert_receive {:mtproto_event, ^sid, :auth_key_imported, %{source: :storage} = meta}, 5_000
    assert meta.auth_key_id == key_a.id
    MTProto.Session.close(sid)
  end
end
