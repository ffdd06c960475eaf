defmodule MTProto.MessageId do
  @moduledoc """
  MTProto message identifiers, shared by the client and the test datacenter.

  A msg_id is about `unixtime * 2^32`: the upper 32 bits are seconds, the lower 32 bits a
  fraction of a second. Ids are strictly increasing per session. Client ids are divisible by 4;
  server ids are odd: `1 mod 4` for responses to a client message, `3 mod 4` otherwise.

  Receivers ignore ids more than 300 s in the past or 30 s in the future (bad_msg_notification
  16 and 17), and ids already seen or lower than every id they remember (`History`).
  """

  import Bitwise

  @typedoc "A 64-bit message identifier (TL `long`; always positive in practice)."
  @type t :: integer()

  @typedoc "Who creates the id: the client, or the server answering (`:response`) or not."
  @type kind :: :client | :server_response | :server_other

  @two32 4_294_967_296
  @max_past 300
  @max_future 30

  @doc """
  A new msg_id for `kind`, greater than `last` (0 for none), from the system clock shifted by
  `offset_ns` (the server time minus local time, in nanoseconds).
  """
  @spec next(kind(), t(), integer()) :: t()
  def next(kind, last, offset_ns \\ 0) do
    candidate = with_kind(from_unix_ns(System.os_time(:nanosecond) + offset_ns), kind)

    if candidate > last, do: candidate, else: with_kind((last &&& ~~~3) + 4, kind)
  end

  @doc """
  The id base for a unix time in nanoseconds, `div(unix_ns * 2^32, 10^9)`: the seconds in the
  upper 32 bits, the fraction below. Computed as seconds and fraction apart (10^9 is
  `2^9 * 1953125`), so no intermediate exceeds a small integer beyond the id itself.
  """
  @spec from_unix_ns(integer()) :: integer()
  def from_unix_ns(unix_ns) do
    (div(unix_ns, 1_000_000_000) <<< 32) + div(rem(unix_ns, 1_000_000_000) <<< 23, 1_953_125)
  end

  @doc "The id `base` rounded down to a multiple of 4, then marked for `kind`."
  @spec with_kind(non_neg_integer(), kind()) :: t()
  def with_kind(base, :client), do: base &&& ~~~3
  def with_kind(base, :server_response), do: (base &&& ~~~3) + 1
  def with_kind(base, :server_other), do: (base &&& ~~~3) + 3

  @doc "Whether `msg_id` has the parity its sender must use: divisible by 4 from a client, odd from a server."
  @spec valid_parity?(t(), :client | :server) :: boolean()
  def valid_parity?(msg_id, :client), do: (msg_id &&& 3) == 0
  def valid_parity?(msg_id, :server), do: (msg_id &&& 1) == 1

  @doc "The unix time (seconds) an id stands for."
  @spec seconds(t()) :: integer()
  def seconds(msg_id), do: msg_id >>> 32

  @doc """
  Checks that `msg_id` lies inside the acceptance window around `now` (unix seconds, defaulting
  to the system clock): no more than 300 s old and no more than 30 s ahead.
  """
  @spec check_window(t(), integer()) :: :ok | {:error, :too_old | :too_new}
  def check_window(msg_id, now \\ System.os_time(:second)) do
    cond do
      msg_id < window_start(now) -> {:error, :too_old}
      msg_id > (now + @max_future) * @two32 -> {:error, :too_new}
      true -> :ok
    end
  end

  @doc "The lowest id `check_window/2` accepts at `now` (unix seconds): 300 s back."
  @spec window_start(integer()) :: t()
  def window_start(now), do: (now - @max_past) * @two32

  @doc """
  The clock offset in nanoseconds that makes the local clock agree with a server msg_id: the
  value to pass as `offset_ns` to `next/3` after a bad_msg_notification 16 or 17.
  """
  @spec offset_from(t()) :: integer()
  def offset_from(server_msg_id) do
    server_ns = div(server_msg_id * 1_000_000_000, @two32)
    server_ns - System.os_time(:nanosecond)
  end

  defmodule History do
    @moduledoc """
    The last N msg_ids received from the other party. A new id is accepted only when it is
    unseen and not lower than every remembered id (once the history is full), so replays are
    dropped (MTProto security guidelines).
    """

    defstruct set: :gb_sets.empty(), size: 0, limit: 2048

    @type t :: %__MODULE__{
            set: :gb_sets.set(integer()),
            size: non_neg_integer(),
            limit: pos_integer()
          }

    @doc "An empty history remembering at most `limit` ids."
    @spec new(pos_integer()) :: t()
    def new(limit \\ 2048) when is_integer(limit) and limit > 0, do: %__MODULE__{limit: limit}

    @doc "Records `msg_id`, or tells why it must be ignored."
    @spec accept(t(), integer()) :: {:ok, t()} | {:error, :duplicate | :too_low}
    def accept(%__MODULE__{set: set, size: size, limit: limit} = h, msg_id) do
      cond do
        :gb_sets.is_member(msg_id, set) ->
          {:error, :duplicate}

        size >= limit and msg_id < :gb_sets.smallest(set) ->
          {:error, :too_low}

        size >= limit ->
          {_, smaller} = :gb_sets.take_smallest(set)
          {:ok, %{h | set: :gb_sets.add(msg_id, smaller)}}

        true ->
          {:ok, %{h | set: :gb_sets.add(msg_id, set), size: size + 1}}
      end
    end

    @doc "Whether `msg_id` was recorded."
    @spec member?(t(), integer()) :: boolean()
    def member?(%__MODULE__{set: set}, msg_id), do: :gb_sets.is_member(msg_id, set)
  end
end
