defmodule MTProto.Storage do
  @moduledoc """
  Where auth keys live between runs, one per datacenter. A storage is given as a module or
  `{module, opts}`; `MTProto.Storage.File` is the default (keys survive a restart of the
  application), `MTProto.Storage.Memory` keeps them in an ETS table for tests.
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
