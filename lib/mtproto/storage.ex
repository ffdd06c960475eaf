defmodule MTProto.Storage do
  @moduledoc """
  Where auth keys live between runs, one per datacenter of a network. A storage is given as a
  module or `{module, opts}`; `MTProto.Storage.File` is the default (keys survive a restart of
  the application), `MTProto.Storage.Memory` keeps them in an ETS table for tests.

  Datacenter numbers repeat across networks (production DC 2, test DC 2, a local test
  datacenter numbered 2), and a key of one is worthless to the others, so
  `MTProto.Session.open/2` scopes the storage to its network (`for_network/2`): the backends
  keep keys per `:network` option (`"production"` when absent) and dc id.
  """

  alias MTProto.AuthKey

  @typedoc "A storage backend with its options."
  @type t :: module() | {module(), keyword()} | nil

  @doc "The key stored for `dc_id`, if any."
  @callback fetch(dc_id :: integer(), opts :: keyword()) :: {:ok, AuthKey.t()} | :error
  @doc "Stores a key under its `dc_id` (replacing the previous one)."
  @callback put(AuthKey.t(), opts :: keyword()) :: :ok | {:error, term()}
  @doc "Forgets the key of `dc_id`."
  @callback delete(dc_id :: integer(), opts :: keyword()) :: :ok

  @doc """
  The storage spec scoped to `network` (`"production"`, `"test"`, or `"host:port"` for a
  datacenter given by address): its keys are kept apart from other networks' keys.
  """
  @spec for_network(t(), String.t()) :: t()
  def for_network(nil, _network), do: nil
  def for_network({module, opts}, network), do: {module, Keyword.put(opts, :network, network)}
  def for_network(module, network) when is_atom(module), do: {module, [network: network]}

  @doc "The network a spec is scoped to (`\"production\"` when not scoped)."
  @spec network(keyword()) :: String.t()
  def network(opts), do: Keyword.get(opts, :network, "production")

  @doc "The default storage: `Application.get_env(:mtproto, :storage)` or the file backend."
  @spec default() :: t()
  def default, do: Application.get_env(:mtproto, :storage, MTProto.Storage.File)

  @doc "Fetches through a storage spec (`nil` stores nothing)."
  @spec fetch(t(), integer()) :: {:ok, AuthKey.t()} | :error
  def fetch(nil, _dc_id), do: :error
  def fetch(storage, dc_id) when is_integer(dc_id), do: call(storage, :fetch, [dc_id])

  @doc "Stores through a storage spec (`nil` stores nothing)."
  @spec put(t(), AuthKey.t()) :: :ok | {:error, term()}
  def put(nil, _key), do: :ok
  def put(storage, %AuthKey{} = key), do: call(storage, :put, [key])

  @doc "Deletes through a storage spec."
  @spec delete(t(), integer()) :: :ok
  def delete(nil, _dc_id), do: :ok
  def delete(storage, dc_id), do: call(storage, :delete, [dc_id])

  defp call({module, opts}, fun, args), do: apply(module, fun, args ++ [opts])
  defp call(module, fun, args) when is_atom(module), do: apply(module, fun, args ++ [[]])
end
