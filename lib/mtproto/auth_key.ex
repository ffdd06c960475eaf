defmodule MTProto.AuthKey do
  @moduledoc """
  An authorization key and what belongs with it: the datacenter, the key id, the last server
  salt, the user it is logged in as, and for temporary keys their expiry.

  `inspect/2` and logs never show the key or the salt: only the dc, the key id and the kind.
  """

  alias MTProto.Crypto

  @enforce_keys [:key, :id, :dc_id]
  defstruct [:key, :id, :dc_id, kind: :perm, server_salt: 0, user_id: nil, expires_at: nil]

  @typedoc """
  `key` is the 256-byte key; `id` the auth_key_id as a signed 64-bit integer (the 8 bytes read
  little-endian, as on the wire); `expires_at` a unix time for temporary keys.
  """
  @type t :: %__MODULE__{
          key: <<_::2048>>,
          id: integer(),
          dc_id: integer(),
          kind: :perm | :temp,
          server_salt: integer(),
          user_id: integer() | nil,
          expires_at: integer() | nil
        }

  @doc "Wraps a 256-byte key; options: `:kind`, `:server_salt`, `:user_id`, `:expires_at`."
  @spec new(<<_::2048>>, integer(), keyword()) :: t()
  def new(key, dc_id, opts \\ []) when is_binary(key) and byte_size(key) == 256 do
    opts = Keyword.validate!(opts, kind: :perm, server_salt: 0, user_id: nil, expires_at: nil)

    # Updating the default struct (a literal) keeps the keys in the literal area: a session
    # holds its key for its whole life.
    # (`__struct__/0` is the default struct, enforced keys left nil.)
    %{
      __struct__()
      | key: key,
        id: id_of(key),
        dc_id: dc_id,
        kind: opts[:kind],
        server_salt: opts[:server_salt],
        user_id: opts[:user_id],
        expires_at: opts[:expires_at]
    }
  end

  @doc "The auth_key_id of a 256-byte key as a signed 64-bit integer."
  @spec id_of(<<_::2048>>) :: integer()
  def id_of(key) do
    <<id::little-signed-64>> = Crypto.auth_key_id(key)
    id
  end

  @doc "Whether a temporary key has expired at `now` (unix seconds); permanent keys never do."
  @spec expired?(t(), integer()) :: boolean()
  def expired?(key, now \\ System.os_time(:second))
  def expired?(%__MODULE__{expires_at: nil}, _now), do: false
  def expired?(%__MODULE__{expires_at: at}, now), do: now >= at

  defimpl Inspect do
    def inspect(%{id: id, dc_id: dc_id, kind: kind}, _opts) do
      hex = Base.encode16(<<id::signed-64>>, case: :lower)
      "#MTProto.AuthKey<dc #{dc_id}, id #{hex}, #{kind}>"
    end
  end
end
