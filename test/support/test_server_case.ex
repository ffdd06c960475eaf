defmodule MTProto.TestServerCase do
  @moduledoc """
  Shared setup for the test server's tests: one RSA key per test module (generating one costs
  ~100 ms), a server per test, and helpers to get a connected, keyed or initialised
  `MTProto.TestServer.RawClient`.
  """

  use ExUnit.CaseTemplate

  alias MTProto.TestServer
  alias MTProto.TestServer.RawClient

  using do
    quote do
      import MTProto.TestServerCase
      alias MTProto.{Crypto, Message, MessageId, TestServer}
      alias MTProto.TestServer.RawClient, as: C
    end
  end

  @doc "The RSA key shared by the tests of a module (generated once per VM)."
  @spec rsa_key() :: binary()
  def rsa_key do
    case :persistent_term.get({__MODULE__, :rsa_key}, nil) do
      nil ->
        {private, _public} = MTProto.Crypto.rsa_generate(2048)
        :persistent_term.put({__MODULE__, :rsa_key}, private)
        private

      key ->
        key
    end
  end

  @doc "Starts a server for the current test."
  @spec start_server(keyword()) :: pid()
  def start_server(opts \\ []) do
    spec = {TestServer, Keyword.put_new(opts, :rsa_key, rsa_key())}
    start_supervised!(Supervisor.child_spec(spec, id: make_ref()))
  end

  @doc "A server whose `account.updateStatus` handler sleeps `ms` and answers `true`."
  @spec slow_server(non_neg_integer()) :: pid()
  def slow_server(ms) do
    start_server(
      handlers: %{
        "account.updateStatus": fn _req, _ctx ->
          Process.sleep(ms)
          {:ok, true}
        end
      }
    )
  end

  @doc "A connected client (no key yet)."
  @spec connect(pid(), MTProto.Transport.framing()) :: RawClient.t()
  def connect(server, framing \\ :intermediate) do
    RawClient.connect(TestServer.address(server), framing, public_pem: TestServer.public_key(server))
  end

  @doc "A connected client with a fresh auth key."
  @spec keyed(pid(), keyword()) :: RawClient.t()
  def keyed(server, opts \\ []) do
    {:ok, client} =
      RawClient.handshake(connect(server, Keyword.get(opts, :framing, :intermediate)), opts)

    client
  end

  @doc "A keyed client whose key sent `initConnection` (layer 198)."
  @spec inited(pid(), keyword()) :: RawClient.t()
  def inited(server, opts \\ []) do
    client = keyed(server, opts)

    {%{_: :nearestDc}, client} =
      RawClient.call(client, RawClient.init_connection(%{_: :"help.getNearestDc"}))

    client
  end
end
