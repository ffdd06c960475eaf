defmodule MTProto.TestServer.AuthKeys do
  @moduledoc """
  The auth keys a test server created, in its public `keys` ETS table: per auth_key_id the key,
  what its salts derive from, when a temporary key expires, and the API layer its client
  announced with `initConnection` (nil until then). Each row is `{id, record, layer, stamp}`:
  the stamp, unique to the row, lets a connection keep the record it fetched and check with a
  small read per packet that the key is still that one (`fetch/3`).
  """

  alias MTProto.Crypto
  alias MTProto.TestServer.{Faults, Shared}

  @derive {Inspect, only: [:id, :expires_at, :created_at]}
  @enforce_keys [:id, :key, :salt_secret, :initial_salt, :created_at]
  defstruct [:id, :key, :salt_secret, :initial_salt, :created_at, :rotation0, :expires_at]

  @type t :: %__MODULE__{
          id: integer(),
          key: <<_::2048>>,
          salt_secret: binary(),
          initial_salt: integer(),
          created_at: integer(),
          rotation0: non_neg_integer(),
          expires_at: integer() | nil
        }

  @doc "The signed 64-bit auth_key_id of a key (its 8 wire bytes, little-endian)."
  @spec id_of(<<_::2048>>) :: integer()
  def id_of(key) do
    <<id::little-signed-64>> = Crypto.auth_key_id(key)
    id
  end

  @doc """
  Stores a new key unless its auth_key_id is taken (the handshake then answers `dh_gen_retry`).
  `initial_salt` is the salt the client derives from the nonces; `expires_in` makes it a
  temporary key.
  """
  @spec insert_new(Shared.t(), <<_::2048>>, integer(), non_neg_integer() | nil) ::
          {:ok, t()} | {:error, :collision}
  def insert_new(%Shared{keys: keys} = shared, key, initial_salt, expires_in) do
    now = Faults.now(shared)

    record = %__MODULE__{
      id: id_of(key),
      key: key,
      salt_secret: :crypto.strong_rand_bytes(32),
      initial_salt: initial_salt,
      created_at: now,
      rotation0: Faults.rotation(shared),
      expires_at: expires_in && now + expires_in
    }

    if :ets.insert_new(keys, {record.id, record, nil, :erlang.unique_integer()}),
      do: {:ok, record},
      else: {:error, :collision}
  end

  @typedoc "What `fetch/3` keeps between packets: the last key fetched and its row's stamp."
  @opaque cache :: {t(), integer()} | nil

  @doc "The key with this auth_key_id (an expired temporary key is gone)."
  @spec fetch(Shared.t(), integer()) :: {:ok, t()} | :error
  def fetch(%Shared{} = shared, id) do
    with {:ok, record, _cache} <- fetch(shared, id, nil), do: {:ok, record}
  end

  @doc """
  `fetch/2` for a connection that keeps `cache` (nil at first) between packets: while the row
  of the cached key is still the same (its stamp, read alone, is unchanged), the record is not
  copied out of the table again. Deleted, replaced and expired keys are refused as by `fetch/2`.
  """
  @spec fetch(Shared.t(), integer(), cache()) :: {:ok, t(), cache()} | :error
  def fetch(%Shared{keys: keys} = shared, id, {%__MODULE__{id: id} = record, stamp} = cache) do
    if row_stamp(keys, id) == stamp,
      do: check_expiry(shared, record, cache),
      else: fetch(shared, id, nil)
  end

  def fetch(%Shared{keys: keys} = shared, id, _cache) do
    case :ets.lookup(keys, id) do
      [{^id, record, _layer, stamp}] -> check_expiry(shared, record, {record, stamp})
      [] -> :error
    end
  end

  defp row_stamp(keys, id) do
    :ets.lookup_element(keys, id, 4)
  catch
    :error, :badarg -> nil
  end

  defp check_expiry(_shared, %__MODULE__{expires_at: nil} = record, cache),
    do: {:ok, record, cache}

  defp check_expiry(%Shared{keys: keys} = shared, record, cache) do
    if Faults.now(shared) < record.expires_at,
      do: {:ok, record, cache},
      else: expire(keys, record.id)
  end

  defp expire(keys, id) do
    :ets.delete(keys, id)
    :error
  end

  @doc "The layer announced with `initConnection` on this key, or nil (not initialised)."
  @spec layer(Shared.t(), integer()) :: pos_integer() | nil
  def layer(%Shared{keys: keys}, id) do
    :ets.lookup_element(keys, id, 3)
  catch
    :error, :badarg -> nil
  end

  @doc "Records `initConnection` (and its layer) for a key."
  @spec put_layer(Shared.t(), integer(), pos_integer()) :: boolean()
  def put_layer(%Shared{keys: keys}, id, layer), do: :ets.update_element(keys, id, {3, layer})

  @doc "Forgets a key (`destroy_auth_key`)."
  @spec delete(Shared.t(), integer()) :: :ok
  def delete(%Shared{keys: keys}, id) do
    :ets.delete(keys, id)
    :ok
  end
end
