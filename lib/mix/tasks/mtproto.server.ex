defmodule Mix.Tasks.Mtproto.Server do
  @shortdoc "Runs the MTProto test datacenter standalone"
  @moduledoc """
  Runs `MTProto.TestServer` until stopped, so any MTProto client can be pointed at it:

      mix mtproto.server --port 4430 --dc-id 2 --key-out pub.pem

  Prints the address and the path of the public key file (PKCS#1 `BEGIN RSA PUBLIC KEY`, as
  Telegram publishes its keys). Options:

    * `--port P` (default 0: an ephemeral port, printed)
    * `--dc-id N` (default 2)
    * `--ip ADDR` (default 127.0.0.1)
    * `--key-out FILE` where the public key is written (default `mtproto_test_server.pub.pem`)
    * `--rsa-key FILE` a private key to use (PEM) instead of a fresh 2048-bit one, so clients
      keep working across restarts
  """

  use Mix.Task

  alias MTProto.TestServer

  @switches [port: :integer, dc_id: :integer, ip: :string, key_out: :string, rsa_key: :string]

  @impl true
  def run(args) do
    Mix.Task.run("app.start")
    {:ok, _server, lines} = start(args)
    Enum.each(lines, &Mix.shell().info/1)
    Process.sleep(:infinity)
  end

  @doc """
  Starts the server from command-line arguments and writes the key file; returns the server
  and the lines to print. (`run/1` is this plus waiting forever.)
  """
  @spec start([String.t()]) :: {:ok, pid(), [String.t()]}
  def start(args) do
    {opts, _rest} = OptionParser.parse!(args, strict: @switches)
    ip = parse_ip!(Keyword.get(opts, :ip, "127.0.0.1"))
    key_out = Path.expand(Keyword.get(opts, :key_out, "mtproto_test_server.pub.pem"))

    server_opts =
      [port: Keyword.get(opts, :port, 0), dc_id: Keyword.get(opts, :dc_id, 2), ip: ip]
      |> put_rsa_key(opts[:rsa_key])

    {:ok, server} = TestServer.start_link(server_opts)
    File.write!(key_out, TestServer.public_key(server))
    {ip, port} = TestServer.address(server)

    {:ok, server,
     [
       "MTProto test server: DC #{TestServer.dc_id(server)} on #{:inet.ntoa(ip)} port #{port}",
       "port: #{port}",
       "public key: #{key_out}",
       "fingerprint: #{TestServer.fingerprint(server)}",
       "Serving until stopped (Ctrl-C twice)."
     ]}
  end

  defp put_rsa_key(opts, nil), do: opts
  defp put_rsa_key(opts, path), do: Keyword.put(opts, :rsa_key, File.read!(path))

  defp parse_ip!(string) do
    case :inet.parse_address(String.to_charlist(string)) do
      {:ok, ip} -> ip
      {:error, _} -> Mix.raise("--ip: not an IP address: #{string}")
    end
  end
end
