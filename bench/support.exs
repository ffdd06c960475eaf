# Helpers shared by the benchmarks (loaded with Code.require_file("support.exs", __DIR__)):
# number formatting, sizes from the environment, medians, and the test datacenter in a VM of
# its own, so the figures of the VM running the client are the client's alone.
defmodule BenchSupport do
  @doc "`name` from the environment as an integer, or `default`."
  def env_int(name, default) do
    case System.get_env(name) do
      nil -> default
      value -> String.to_integer(value)
    end
  end

  def median(list), do: list |> Enum.sort() |> Enum.at(div(length(list), 2))

  def fmt(nil), do: "n/a"
  def fmt(x) when is_float(x) and x >= 100, do: :erlang.float_to_binary(x, decimals: 0)
  def fmt(x) when is_float(x), do: :erlang.float_to_binary(x, decimals: 2)
  def fmt(x), do: to_string(x)

  @doc """
  Starts `MTProto.TestServer` (with `server_opts`) in a `:peer` VM; `vm_args` are extra
  emulator flags. Returns `{peer, address, public_pem}`.
  """
  def start_datacenter(name, server_opts \\ [], vm_args \\ []) do
    paths = Enum.flat_map(:code.get_path(), &[~c"-pa", &1])
    {:ok, peer, _node} = :peer.start_link(%{connection: :standard_io, args: paths ++ vm_args})
    {:ok, _} = :peer.call(peer, Application, :ensure_all_started, [:mtproto])
    spec = {MTProto.TestServer, Keyword.merge([name: name, port: 0], server_opts)}
    {:ok, _} = :peer.call(peer, DynamicSupervisor, :start_child, [MTProto.SessionSupervisor, spec])
    address = :peer.call(peer, MTProto.TestServer, :address, [name])
    pem = :peer.call(peer, MTProto.TestServer, :public_key, [name])
    {peer, address, pem}
  end
end
