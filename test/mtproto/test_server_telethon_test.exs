defmodule MTProto.TestServerTelethonTest do
  @moduledoc """
  Telethon (Debian's python3-telethon, API layer 144, legacy RSA padding) as an independent
  client: it creates an auth key, sends invokeWithLayer(initConnection(help.getConfig)) and
  then ping, help.getNearestDc and help.getConfig, over four framings.
  """
  use MTProto.TestServerCase, async: true

  import Bitwise

  @script Path.expand("../support/telethon_server_interop.py", __DIR__)

  setup_all do
    server = start_supervised!({TestServer, rsa_key: rsa_key(), dc_id: 2})

    pem =
      Path.join(System.tmp_dir!(), "mtproto_test_server_#{System.unique_integer([:positive])}.pem")

    File.write!(pem, TestServer.public_key(server))
    on_exit(fn -> File.rm(pem) end)
    %{server: server, pem: pem}
  end

  defp telethon(server, pem, framing) do
    {_ip, port} = TestServer.address(server)

    port =
      Port.open({:spawn_executable, "/usr/bin/python3"}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: [@script, "127.0.0.1", "#{port}", pem, framing, "2"]
      ])

    collect(port, "")
  end

  defp collect(port, acc) do
    receive do
      {^port, {:data, data}} -> collect(port, acc <> data)
      {^port, {:exit_status, status}} -> {status, acc}
    after
      60_000 -> flunk("Telethon timed out: #{acc}")
    end
  end

  for framing <- ~w(abridged intermediate full obfuscated) do
    test "Telethon creates a key and calls ping and help.getNearestDc over #{framing}", %{
      server: server,
      pem: pem
    } do
      {status, output} = telethon(server, pem, unquote(framing))
      assert status == 0, output
      {_ip, port} = TestServer.address(server)
      line = output |> String.split("\n", trim: true) |> List.last()
      result = line |> String.split(" ") |> Map.new(&List.to_tuple(String.split(&1, "=", parts: 2)))

      assert result["layer"] == "144"
      assert result["auth_key_bytes"] == "256"
      # Telethon prints the auth_key_id unsigned; the server lists it signed.
      key_id = String.to_integer(result["auth_key_id"])
      signed = if key_id >= 1 <<< 63, do: key_id - (1 <<< 64), else: key_id
      assert signed in TestServer.auth_key_ids(server)
      assert result["pong_ping_id"] == "#{0x1234567890}"
      assert result["nearest_this_dc"] == "2" and result["nearest_dc"] == "2"
      assert result["config_this_dc"] == "2"
      assert result["config_dc_options"] == "2,127.0.0.1,#{port}"
    end
  end
end
