defmodule MTProto.Storage.Memory do
  @moduledoc """
  Keeps auth keys in a public ETS table owned by this process (started in the application's
  tree). Keys are grouped by `:namespace` (default `:default`) so tests do not share them, and
  within one by network (`MTProto.Storage.for_network/2`) and dc id.
  """

  @behaviour MTProto.Storage
  use GenServer

  alias MTProto.AuthKey

  @table __MODULE__

  @doc false
  def start_link(_opts), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl GenServer
  def init(nil) do
    :ets.new(@table, [:named_table, :public, :set, read_concurrency: true])
    {:ok, nil}
  end

  @impl MTProto.Storage
  def fetch(dc_id, opts) do
    case :ets.lookup(@table, {namespace(opts), MTProto.Storage.network(opts), dc_id}) do
      [{_, key}] -> {:ok, key}
      [] -> :error
    end
  end

  @impl MTProto.Storage
  def put(%AuthKey{} = key, opts) do
    :ets.insert(@table, {{namespace(opts), MTProto.Storage.network(opts), key.dc_id}, key})
    :ok
  end

  @impl MTProto.Storage
  def delete(dc_id, opts) do
    :ets.delete(@table, {namespace(opts), MTProto.Storage.network(opts), dc_id})
    :ok
  end

  defp namespace(opts), do: Keyword.get(opts, :namespace, :default)
end
