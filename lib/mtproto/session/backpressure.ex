defmodule MTProto.Session.Backpressure do
  @moduledoc """
  The bound on a session's queue: the requests it has accepted (calls, and methods given to
  `MTProto.Session.send/3`) and not yet finished (answered, failed or cancelled), counted in
  messages and in encoded bytes. A request is accepted while the queue is under both limits
  (`:max_queue`, default #{10_000} messages, and `:max_queue_bytes`, default 16 MiB; a single
  request larger than the byte limit is accepted into an empty queue, or it could never go).

  When the queue is full, `send` is refused (`{:error, :queue_full}`) and a call is parked
  here, first come first served, until the queue has room or its caller's timeout cancels it:
  nothing is dropped silently. Objects that are not methods, given to `send/3`, are not
  counted (they have no answer to wait for). Pure functions on a struct the handler keeps.
  """

  @default_messages 10_000
  @default_bytes 16 * 1024 * 1024

  # `limits`: `{max_messages, max_bytes}`, or nil for the defaults (a word less per session).
  defstruct limits: nil,
            count: 0,
            bytes: 0,
            sizes: %{},
            parked: :queue.new(),
            parked_count: 0

  @type t :: %__MODULE__{}

  @doc "A bound from the session options `:max_queue` and `:max_queue_bytes`."
  @spec new(keyword()) :: t()
  def new(opts) do
    limits = limits_of(opts)

    # The default struct is a literal: with the default limits it takes no heap at all, and
    # updated it keeps its keys in the literal area.
    if limits == {@default_messages, @default_bytes},
      do: %__MODULE__{},
      else: %{%__MODULE__{} | limits: limits}
  end

  @doc "The bound `{max_messages, max_bytes}` the session options set."
  @spec limits_of(keyword()) :: {pos_integer(), pos_integer()}
  def limits_of(opts),
    do:
      {Keyword.get(opts, :max_queue, @default_messages),
       Keyword.get(opts, :max_queue_bytes, @default_bytes)}

  defp limits(%{limits: nil}), do: {@default_messages, @default_bytes}
  defp limits(%{limits: limits}), do: limits

  @doc "Whether a new request must wait (the queue is at a limit, or others already wait)."
  @spec full?(t()) :: boolean()
  def full?(bp), do: at_limit?(bp) or bp.parked_count > 0

  defp at_limit?(bp) do
    {max_messages, max_bytes} = limits(bp)
    at_limit?(bp.count, bp.bytes, max_messages, max_bytes)
  end

  defp at_limit?(count, bytes, max_messages, max_bytes),
    do: count >= max_messages or (bytes >= max_bytes and count > 0)

  @doc "Counts an accepted request of `size` bytes under `tag`."
  @spec admit(t(), term(), non_neg_integer()) :: t()
  def admit(bp, tag, size) do
    %{bp | count: bp.count + 1, bytes: bp.bytes + size, sizes: Map.put(bp.sizes, tag, size)}
  end

  @doc "Whether `tag` is counted in the queue."
  @spec admitted?(t(), term()) :: boolean()
  def admitted?(bp, tag), do: Map.has_key?(bp.sizes, tag)

  @doc "A request finished: frees its room (a tag not counted is ignored)."
  @spec release(t(), term()) :: t()
  def release(bp, tag) do
    case Map.pop(bp.sizes, tag) do
      {nil, _} -> bp
      {size, sizes} -> %{bp | count: bp.count - 1, bytes: bp.bytes - size, sizes: sizes}
    end
  end

  @doc "Parks a call (any term naming it; `tag_of` finds its tag for `cancel/3`)."
  @spec park(t(), term()) :: t()
  def park(bp, item),
    do: %{bp | parked: :queue.in(item, bp.parked), parked_count: bp.parked_count + 1}

  @doc "Removes the parked call whose tag (by `tag_of`) is `tag`, if it is parked."
  @spec cancel(t(), term(), (term() -> term())) :: t()
  def cancel(%{parked_count: 0} = bp, _tag, _tag_of), do: bp

  def cancel(bp, tag, tag_of) do
    parked = :queue.filter(&(tag_of.(&1) != tag), bp.parked)
    %{bp | parked: parked, parked_count: :queue.len(parked)}
  end

  @doc """
  The oldest parked call, if the queue is under its limits. Its size is known only once it
  is encoded, so the caller admits it before taking the next one.
  """
  @spec unpark(t()) :: {:ok, term(), t()} | :none
  def unpark(%{parked_count: 0}), do: :none

  def unpark(bp) do
    if at_limit?(bp) do
      :none
    else
      {{:value, item}, parked} = :queue.out(bp.parked)
      {:ok, item, %{bp | parked: parked, parked_count: bp.parked_count - 1}}
    end
  end

  @doc "Every parked call (to answer them when the session closes), emptying the park."
  @spec take_parked(t()) :: {[term()], t()}
  def take_parked(bp),
    do: {:queue.to_list(bp.parked), %{bp | parked: :queue.new(), parked_count: 0}}

  @doc "The `queue` map of `MTProto.Session.info/1` for a queue."
  @spec info(t()) :: map()
  def info(%__MODULE__{} = bp), do: info(bp.count, bp.bytes, bp.parked_count, limits(bp))

  @doc "The `queue` map of `MTProto.Session.info/1`: the queue's figures and its bound."
  @spec info(
          non_neg_integer(),
          non_neg_integer(),
          non_neg_integer(),
          {pos_integer(), pos_integer()}
        ) ::
          map()
  def info(count, bytes, waiting, {max_messages, max_bytes}) do
    %{
      messages: count,
      bytes: bytes,
      max_messages: max_messages,
      max_bytes: max_bytes,
      waiting: waiting,
      full?: at_limit?(count, bytes, max_messages, max_bytes)
    }
  end
end
