defmodule MTProto.TestServer.Faults do
  @moduledoc """
  Reading the injected faults and the server clock (which a `{:clock_skew, s}` fault shifts).
  The standing faults and the salt rotation count live in one row of the server's `config` ETS
  table, so a connection or session reads them all with one lookup (`snapshot/1`) per packet
  and sees a new fault at its next packet. Only the server's core process writes that row
  (`put/2`, `clear/1`), so its read-modify-writes never race.
  """

  alias MTProto.TestServer.{Hostile, Shared}

  @row :standing

  defstruct rotation: 0,
            drop_after: nil,
            drop_random: nil,
            delay: nil,
            clock_skew: nil,
            transport_error: nil,
            hostile: []

  @typedoc "The standing faults and the rotation count at one moment."
  @type t :: %__MODULE__{
          rotation: non_neg_integer(),
          drop_after: pos_integer() | nil,
          drop_random: {number(), integer()} | nil,
          delay: non_neg_integer() | nil,
          clock_skew: integer() | nil,
          transport_error: integer() | nil,
          hostile: [MTProto.TestServer.Hostile.name()]
        }

  @doc "Creates the row in a new `config` table: no faults, no rotation."
  @spec init(:ets.tid()) :: true
  def init(config), do: :ets.insert(config, {@row, %__MODULE__{}})

  @doc "Stores a fault; returns `:ok` or `{:error, :unknown_fault}`. Core process only."
  @spec put(Shared.t(), term()) :: :ok | {:error, :unknown_fault}
  def put(%Shared{config: config} = shared, fault) do
    case fault do
      {:drop_after, n} when is_integer(n) and n > 0 ->
        update(shared, drop_after: n)

      {:drop_random, p, seed} when is_number(p) and p >= 0 and p <= 1 and is_integer(seed) ->
        update(shared, drop_random: {p, seed})

      {:delay, ms} when is_integer(ms) and ms >= 0 ->
        update(shared, delay: ms)

      {:clock_skew, s} when is_integer(s) ->
        update(shared, clock_skew: s)

      {:transport_error, code} when is_integer(code) and code < 0 and code >= -0x80000000 ->
        update(shared, transport_error: code)

      :rotate_salt ->
        update(shared, rotation: snapshot(shared).rotation + 1)

      {:hostile, name} ->
        if name in Hostile.names(),
          do: update(shared, hostile: Enum.uniq([name | snapshot(shared).hostile])),
          else: {:error, :unknown_fault}

      handshake when handshake in [:dh_gen_retry, :dh_gen_fail] ->
        :ets.insert(config, {:dh_gen, handshake})
        :ok

      _ ->
        {:error, :unknown_fault}
    end
  end

  defp update(%Shared{config: config} = shared, fields) do
    :ets.insert(config, {@row, struct!(snapshot(shared), fields)})
    :ok
  end

  @doc "Removes every standing fault (salt rotations already done stay done). Core process only."
  @spec clear(Shared.t()) :: :ok
  def clear(%Shared{config: config} = shared) do
    :ets.delete(config, :dh_gen)
    :ets.insert(config, {@row, %__MODULE__{rotation: snapshot(shared).rotation}})
    :ok
  end

  @doc "The standing faults and rotation count now, read at once."
  @spec snapshot(Shared.t()) :: t()
  def snapshot(%Shared{config: config}), do: :ets.lookup_element(config, @row, 2)

  @doc "The value of a standing fault (from a snapshot, or read now), or nil."
  @spec get(t() | Shared.t(), atom()) :: term()
  def get(%__MODULE__{} = faults, key), do: Map.fetch!(faults, key)
  def get(%Shared{} = shared, key), do: get(snapshot(shared), key)

  @doc "Takes the one-shot handshake fault, if any: `:dh_gen_retry`, `:dh_gen_fail` or nil."
  @spec take_dh_gen(Shared.t()) :: :dh_gen_retry | :dh_gen_fail | nil
  def take_dh_gen(%Shared{config: config}) do
    case :ets.take(config, :dh_gen) do
      [{:dh_gen, fault}] -> fault
      [] -> nil
    end
  end

  @doc "Whether the hostile fault `name` (`MTProto.TestServer.Hostile`) is injected."
  @spec hostile?(t() | Shared.t(), Hostile.name()) :: boolean()
  def hostile?(%__MODULE__{hostile: hostile}, name), do: name in hostile
  def hostile?(%Shared{} = shared, name), do: hostile?(snapshot(shared), name)

  @doc "How many times the salts were rotated."
  @spec rotation(t() | Shared.t()) :: non_neg_integer()
  def rotation(%__MODULE__{rotation: rotation}), do: rotation
  def rotation(%Shared{} = shared), do: rotation(snapshot(shared))

  @doc "The server's clock skew in seconds (0 without the fault)."
  @spec skew(t() | Shared.t()) :: integer()
  def skew(%__MODULE__{clock_skew: skew}), do: skew || 0
  def skew(%Shared{} = shared), do: skew(snapshot(shared))

  @doc "The server's unix time in seconds, skew included."
  @spec now(t() | Shared.t()) :: integer()
  def now(faults_or_shared), do: System.os_time(:second) + skew(faults_or_shared)
end
