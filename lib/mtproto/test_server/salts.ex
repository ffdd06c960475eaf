defmodule MTProto.TestServer.Salts do
  @moduledoc """
  Server salts, per auth key. Time is cut into periods of `salt_period` seconds; each period
  has its own salt, derived from a per-key secret, the period number and the server's rotation
  count (so `:rotate_salt` invalidates every salt at once). The first salt is the one the client
  computes from the handshake nonces (`new_nonce[0..8] xor server_nonce[0..8]`): it is valid
  during the key's first period. The salt of the previous period stays accepted for
  `@grace` seconds into the next, as Telegram keeps old salts valid for a while.

  A salt after the first is an HMAC-SHA256: a session passes a `t:memo/0` of the salts it
  already derived (`current/5`, `valid?/6`) so that one is computed once per period, not at
  every message.
  """

  alias MTProto.TestServer.AuthKeys

  @grace 300
  # A memo holds at most this many salts (those of the current and previous periods, and of a
  # rotation or two), then starts over.
  @memo_size 4

  @typedoc "Salts of one key and period length already derived, by `{rotation, period number}`."
  @type memo :: %{optional({non_neg_integer(), integer()}) => integer()}

  @doc "The salt valid at `now`."
  @spec current(AuthKeys.t(), integer(), non_neg_integer(), pos_integer()) :: integer()
  def current(key, now, rotation, period),
    do: elem(current(key, now, rotation, period, %{}), 0)

  @doc "`current/4` with a memo of the key's salts (for this `period`), and the memo after."
  @spec current(AuthKeys.t(), integer(), non_neg_integer(), pos_integer(), memo()) ::
          {integer(), memo()}
  def current(key, now, rotation, period, memo),
    do: memo_salt(key, div(now, period), rotation, period, memo)

  @doc "Whether the client's salt is accepted at `now`."
  @spec valid?(AuthKeys.t(), integer(), integer(), non_neg_integer(), pos_integer()) :: boolean()
  def valid?(key, salt, now, rotation, period),
    do: elem(valid?(key, salt, now, rotation, period, %{}), 0)

  @doc "`valid?/5` with a memo of the key's salts (for this `period`), and the memo after."
  @spec valid?(AuthKeys.t(), integer(), integer(), non_neg_integer(), pos_integer(), memo()) ::
          {boolean(), memo()}
  def valid?(key, salt, now, rotation, period, memo) do
    n = div(now, period)
    {current, memo} = memo_salt(key, n, rotation, period, memo)

    cond do
      salt == current ->
        {true, memo}

      now - n * period < @grace ->
        {previous, memo} = memo_salt(key, n - 1, rotation, period, memo)
        {salt == previous, memo}

      true ->
        {false, memo}
    end
  end

  defp memo_salt(key, n, rotation, period, memo) do
    case memo do
      %{{^rotation, ^n} => salt} ->
        {salt, memo}

      _ ->
        salt = salt(key, n, rotation, period)
        memo = if map_size(memo) >= @memo_size, do: %{}, else: memo
        {salt, Map.put(memo, {rotation, n}, salt)}
    end
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
