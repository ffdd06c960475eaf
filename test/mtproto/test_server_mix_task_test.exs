defmodule MTProto.TestServerMixTaskTest do
  use MTProto.TestServerCase, async: true

  @tag :tmp_dir
  test "mix mtproto.server starts a server, writes its key and serves a client", %{tmp_dir: dir} do
    key_out = Path.join(dir, "pub.pem")
    private = Path.join(dir, "priv.pem")
    File.write!(private, rsa_key())

    {:ok, server, lines} =
      Mix.Tasks.Mtproto.Server.start(
        ~w(--port 0 --dc-id 4 --key-out #{key_out} --rsa-key #{private})
      )

    # start/1 links the server to the caller (the task's process); here, stop it explicitly.
    Process.unlink(server)
    on_exit(fn -> TestServer.stop(server) end)
    {_ip, port} = TestServer.address(server)
    assert "port: #{port}" in lines
    assert "public key: #{key_out}" in lines
    assert File.read!(key_out) == TestServer.public_key(server)

    client =
      C.connect({{127, 0, 0, 1}, port}, {:obfuscated, :abridged}, public_pem: File.read!(key_out))

    {:ok, client} = C.handshake(client)
    {result, _} = C.call(client, C.init_connection(%{_: :"help.getNearestDc"}))
    assert %{_: :nearestDc, this_dc: 4} = result
  end
end
