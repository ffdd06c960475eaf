defmodule MTProto.TestServer.History do
  @moduledoc """
  The msg_ids a session received, with their seqnos, for the receive checks: duplicates, ids
  too old to verify (at or below the newest one forgotten: bad_msg_notification 20), and the
  seqno order against the neighbouring ids (32/33). The oldest-received ids are forgotten
  beyond `limit`. Clients send increasing ids, so the neighbour below a new id is the newest id
  kept (constant time); only an id arriving out of order costs a scan.
  """

  defstruct ids: %{}, order: :queue.new(), size: 0, limit: 2048, max: nil, floor: nil

  @type entry :: {msg_id :: integer(), seqno :: non_neg_integer()}
  @type t :: %__MODULE__{
          ids: %{integer() => non_neg_integer()},
          order: :queue.queue(integer()),
          size: non_neg_integer(),
          limit: pos_integer(),
          max: entry() | nil,
          floor: integer() | nil
        }

  @doc "An empty history keeping at most `limit` ids."
  @spec new(pos_integer()) :: t()
  def new(limit \\ 2048) when is_integer(limit) and limit > 0, do: %__MODULE__{limit: limit}

  @doc "Whether `id` was received (and is still remembered)."
  @spec seen?(t(), integer()) :: boolean()
  def seen?(%__MODULE__{ids: ids}, id), do: is_map_key(ids, id)

  @doc "Whether `id` is unknown but not above an id already forgotten (cannot be verified)."
  @spec forgotten?(t(), integer()) :: boolean()
  def forgotten?(%__MODULE__{floor: nil}, _id), do: false

  def forgotten?(%__MODULE__{ids: ids, floor: floor}, id),
    do: id <= floor and not is_map_key(ids, id)

  @doc "The remembered ids just below and just above `id` (either may be nil)."
  @spec neighbours(t(), integer()) :: {entry() | nil, entry() | nil}
  def neighbours(%__MODULE__{max: nil}, _id), do: {nil, nil}
  def neighbours(%__MODULE__{max: {max_id, _} = max}, id) when id > max_id, do: {max, nil}

  def neighbours(%__MODULE__{ids: ids}, id) do
    Enum.reduce(ids, {nil, nil}, fn
      {other, _} = e, {below, above} when other < id ->
        if below == nil or other > elem(below, 0), do: {e, above}, else: {below, above}

      {other, _} = e, {below, above} when other > id ->
        if above == nil or other < elem(above, 0), do: {below, e}, else: {below, above}

      _, acc ->
        acc
    end)
  end

  @doc "Records a received id with its seqno."
  @spec put(t(), integer(), non_neg_integer()) :: t()
  def put(%__MODULE__{} = h, id, seqno) do
    max = if h.max == nil or id > elem(h.max, 0), do: {id, seqno}, else: h.max
    h = %{h | ids: Map.put(h.ids, id, seqno), order: :queue.in(id, h.order), size: h.size + 1}
    forget(%{h | max: max})
  end

  defp forget(%__MODULE__{size: size, limit: limit} = h) when size <= limit, do: h

  defp forget(h) do
    {{:value, oldest}, order} = :queue.out(h.order)
    ids = Map.delete(h.ids, oldest)
    floor = if h.floor == nil or oldest > h.floor, do: oldest, else: h.floor
    h = %{h | ids: ids, order: order, size: h.size - 1, floor: floor}

    if elem(h.max, 0) == oldest,
      do: %{h | max: Enum.max_by(ids, &elem(&1, 0), fn -> nil end)},
      else: h
  end
end
