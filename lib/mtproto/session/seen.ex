defmodule MTProto.Session.Seen do
  @moduledoc """
  The msg_ids a session received lately, for the replay checks of the security guidelines:
  an id already seen is a duplicate; an id not above the highest one forgotten is too low.

  The last `limit` ids (1024 by default) are kept in a map, forgotten oldest-first, so both
  checks are O(1) (`MTProto.MessageId.History` keeps a balanced tree, which costs a
  rebalancing on every insertion: the receive path of a busy session is faster this way).
  """

  defstruct ids: %{}, order: :queue.new(), size: 0, floor: nil, limit: 1024

  @type t :: %__MODULE__{
          ids: %{optional(integer()) => true},
          order: :queue.queue(integer()),
          size: non_neg_integer(),
          floor: integer() | nil,
          limit: pos_integer()
        }

  @doc "An empty set remembering at most `limit` ids."
  @spec new(pos_integer()) :: t()
  def new(limit \\ 1024) when is_integer(limit) and limit > 0, do: %__MODULE__{limit: limit}

  @doc "Whether `id` may be accepted."
  @spec check(t(), integer()) :: :ok | {:error, :duplicate | :too_low}
  def check(%__MODULE__{ids: ids, floor: floor}, id) do
    cond do
      is_map_key(ids, id) -> {:error, :duplicate}
      floor != nil and id <= floor -> {:error, :too_low}
      true -> :ok
    end
  end

  @doc "Records `id` (after `check/2` said `:ok`), forgetting the oldest past the limit."
  @spec put(t(), integer()) :: t()
  def put(%__MODULE__{size: size, limit: limit} = s, id) when size >= limit do
    {{:value, old}, order} = :queue.out(s.order)
    floor = if s.floor == nil or old > s.floor, do: old, else: s.floor

    %{
      s
      | ids: s.ids |> Map.delete(old) |> Map.put(id, true),
        order: :queue.in(id, order),
        floor: floor
    }
  end

  def put(%__MODULE__{} = s, id) do
    %{s | ids: Map.put(s.ids, id, true), order: :queue.in(id, s.order), size: s.size + 1}
  end

  @doc "Whether `id` was received (and is still remembered)."
  @spec member?(t(), integer()) :: boolean()
  def member?(%__MODULE__{ids: ids}, id), do: is_map_key(ids, id)
end
