defmodule MTProto.Session.Seen do
  @moduledoc """
  The msg_ids a session received lately, for the replay checks of the security guidelines:
  an id still remembered is a duplicate; an id not above the highest one forgotten (the
  floor) is too low. So an id received once is refused for good, remembered or not.

  Ids are forgotten by count, oldest first (at least the latest `limit`, 1024 by default, are
  kept), and by time: `forget_before/2` drops those the receive window refuses anyway, so an
  idle session keeps next to nothing.

  Two generations of ids, each a map (check and put O(1)): ids go into the young one; when it
  holds `limit`, the old one is forgotten and the young one becomes old, so between `limit`
  and `2 * limit` of the latest ids are remembered. Ids are kept as offsets from the first one
  put: small integers, where a msg_id (about `2^62`) is a bignum of two words more.
  """

  require Record

  Record.defrecordp(:seen, floor: nil, base: nil, young: %{}, old: %{}, limit: 1024)

  @opaque t ::
            record(:seen,
              floor: integer() | nil,
              base: integer() | nil,
              young: %{optional(integer()) => true},
              old: %{optional(integer()) => true},
              limit: pos_integer()
            )

  @doc "An empty set remembering (at least) the latest `limit` ids."
  @spec new(pos_integer()) :: t()
  def new(limit \\ 1024) when is_integer(limit) and limit > 0, do: seen(limit: limit)

  @doc "Whether `id` may be accepted."
  @spec check(t(), integer()) :: :ok | {:error, :duplicate | :too_low}
  def check(seen(base: nil), _id), do: :ok

  def check(seen(floor: floor, base: base, young: young, old: old), id) do
    key = id - base

    cond do
      is_map_key(young, key) or is_map_key(old, key) -> {:error, :duplicate}
      floor != nil and key <= floor -> {:error, :too_low}
      true -> :ok
    end
  end

  @doc "Records `id` (after `check/2` said `:ok`), forgetting the old generation when full."
  @spec put(t(), integer()) :: t()
  def put(seen(base: nil) = s, id), do: put(seen(s, base: id), id)

  def put(seen(young: young, limit: limit, base: base) = s, id)
      when map_size(young) >= limit do
    floor = Enum.reduce(Map.keys(seen(s, :old)), seen(s, :floor), &raise_floor(&2, &1))
    seen(s, floor: floor, old: young, young: %{(id - base) => true})
  end

  def put(seen(young: young, base: base) = s, id),
    do: seen(s, young: Map.put(young, id - base, true))

  @doc """
  Forgets every id below `oldest` (for a session whose clock is synchronised, the lowest id
  `MTProto.MessageId.check_window/2` accepts now). They stay refused, as too low.
  """
  @spec forget_before(t(), integer()) :: t()
  def forget_before(seen(base: nil) = s, _oldest), do: s

  def forget_before(seen(floor: floor, base: base, young: young, old: old) = s, oldest) do
    cut = oldest - base
    {old, floor} = forget_below(old, cut, floor)
    {young, floor} = forget_below(young, cut, floor)
    seen(s, floor: floor, young: young, old: old)
  end

  defp forget_below(keys, _cut, floor) when map_size(keys) == 0, do: {keys, floor}

  defp forget_below(keys, cut, floor) do
    {gone, kept} = keys |> Map.keys() |> Enum.split_with(&(&1 < cut))

    case {gone, kept} do
      {[], _} -> {keys, floor}
      {_, []} -> {%{}, Enum.reduce(gone, floor, &raise_floor(&2, &1))}
      _ -> {Map.drop(keys, gone), Enum.reduce(gone, floor, &raise_floor(&2, &1))}
    end
  end

  defp raise_floor(nil, key), do: key
  defp raise_floor(floor, key), do: max(floor, key)

  @doc "Whether `id` was received (and is still remembered)."
  @spec member?(t(), integer()) :: boolean()
  def member?(seen(base: nil), _id), do: false

  def member?(seen(base: base, young: young, old: old), id),
    do: is_map_key(young, id - base) or is_map_key(old, id - base)

  @doc "How many ids are remembered."
  @spec size(t()) :: non_neg_integer()
  def size(seen(young: young, old: old)), do: map_size(young) + map_size(old)
end
