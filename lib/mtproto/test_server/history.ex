defmodule MTProto.TestServer.History do
  @moduledoc """
  The msg_ids a session received, with their seqnos, for the receive checks: duplicates, ids
  too old to verify (at or below the newest one forgotten: bad_msg_notification 20), and the
  seqno order against the neighbouring ids (32/33). The oldest-received ids are forgotten
  beyond `limit`. The highest ids (at least @recent of them) are also kept in a list, highest
  first: ids arrive nearly in order (a container's messages in any order among themselves), so
  the neighbours of a new id are found near its head; only an id below all of them costs a
  scan.
  """

  @recent 32

  defstruct ids: %{},
            order: :queue.new(),
            size: 0,
            limit: 2048,
            recent: [],
            recent_n: 0,
            recent_low: nil,
            floor: nil

  @type entry :: {msg_id :: integer(), seqno :: non_neg_integer()}
  @type t :: %__MODULE__{
          ids: %{integer() => non_neg_integer()},
          order: :queue.queue(integer()),
          size: non_neg_integer(),
          limit: pos_integer(),
          recent: [entry()],
          recent_n: non_neg_integer(),
          recent_low: integer() | nil,
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
  def neighbours(%__MODULE__{recent_low: low, recent: recent}, id) when low != nil and id > low,
    do: around(recent, id, nil)

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

  # Every remembered id above recent_low is in the recent list (highest first).
  defp around([{other, _} = e | rest], id, _above) when other > id, do: around(rest, id, e)
  defp around([{id, _} | rest], id, above), do: around(rest, id, above)
  defp around([e | _], _id, above), do: {e, above}
  defp around([], _id, above), do: {nil, above}

  @doc "Records a received id with its seqno."
  @spec put(t(), integer(), non_neg_integer()) :: t()
  def put(%__MODULE__{} = h, id, seqno) do
    h = %{h | ids: Map.put(h.ids, id, seqno), order: :queue.in(id, h.order), size: h.size + 1}
    forget(add_recent(h, {id, seqno}))
  end

  defp add_recent(h, {id, _} = entry) do
    recent = insert_desc(h.recent, entry)
    low = if h.recent_low == nil or id < h.recent_low, do: id, else: h.recent_low
    h = %{h | recent: recent, recent_n: h.recent_n + 1, recent_low: low}

    # Trimmed now and then (not at every message) back to the @recent highest.
    if h.recent_n > 2 * @recent do
      recent = Enum.take(h.recent, @recent)
      %{h | recent: recent, recent_n: @recent, recent_low: elem(List.last(recent), 0)}
    else
      h
    end
  end

  defp insert_desc([{a, _} = e | rest], {id, _} = entry) when a > id,
    do: [e | insert_desc(rest, entry)]

  defp insert_desc(list, entry), do: [entry | list]

  defp forget(%__MODULE__{size: size, limit: limit} = h) when size <= limit, do: h

  defp forget(h) do
    {{:value, oldest}, order} = :queue.out(h.order)
    ids = Map.delete(h.ids, oldest)
    floor = if h.floor == nil or oldest > h.floor, do: oldest, else: h.floor
    h = %{h | ids: ids, order: order, size: h.size - 1, floor: floor}

    # The forgotten id is normally far below the recent ones.
    if oldest >= h.recent_low do
      recent = Enum.reject(h.recent, &(elem(&1, 0) == oldest))

      case recent do
        [] -> %{h | recent: [], recent_n: 0, recent_low: nil}
        _ -> %{h | recent: recent, recent_n: length(recent), recent_low: elem(List.last(recent), 0)}
      end
    else
      h
    end
  end
end
