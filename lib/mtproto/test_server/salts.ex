defmodule MTProto.TestServer.Salts do
  @moduledoc """
  Server salts, per auth key. Time is cut into periods of `salt_period` seconds; each period
  has its own salt, derived from a per-key secret, the period number and the server's rotation
  count (so `:rotate_salt` invalidates every salt at once). The first salt is the one the client
  computes from the handshake nonces (`new_nonce[0..8] xor server_nonce[0..8]`): it is valid
  during the key's first period. The salt of the previous period stays accepted for
  `@grace` seconds into the next, as Telegram keeps old salts valid for a while.
  """

  alias MTProto.TestServer.AuthKeys

  @grace 300

  @doc "The salt valid at `now`."
  @spec current(AuthKeys.t(), integer(), non_neg_integer(), pos_integer()) :: integer()
  def current(key, now, rotation, period),
    do: salt(key, div(now, period), rotation, period)

  @doc "Whether the client's salt is accepted at `now`."
  @spec valid?(AuthKeys.t(), integer(), integer(), non_neg_integer(), pos_integer()) :: boolean()
  def valid?(key, salt, now, rotation, period) do
    n = div(now, period)

    salt == salt(key, n, rotation, period) or
      (now - n * period < @grace and salt == salt(key, n - 1, rotation, period))
  end

  @doc "`num` salts from the current one on: `{valid_since, valid_until, salt}`."
  @spec future(AuthKeys.t(), integer(), non_neg_integer(), pos_integer(), pos_integer()) ::
          [{integer(), integer(), integer()}]
  def future(key, now, rotation, period, num) do
    first = div(now, period)

    for n <- first..(first + num - 1),
        do: {n * period, (n + 1) * period, salt(key, n, rotation, period)}
  end

  defp salt(%AuthKeys{} = key, n, rotation, period) do
    if rotation == key.rotation0 and n == div(key.created_at, period) do
      key.initial_salt
    else
      <<salt::little-signed-64, _::binary>> =
        :crypto.mac(:hmac, :sha256, key.salt_secret, <<rotation::64, n::signed-64>>)

      salt
    end
  end
end
