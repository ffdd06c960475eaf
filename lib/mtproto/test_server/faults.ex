defmodule MTProto.TestServer.Faults do
  @moduledoc """
  Reading the injected faults and the server clock (which a `{:clock_skew, s}` fault shifts).
  Faults live in the server's `config` ETS table, so every connection and session sees a new
  one at its next packet.
  """

  alias MTProto.TestServer.Shared

  @standing [:drop_after, :drop_random, :delay, :clock_skew, :transport_error]

  @doc "Stores a fault; returns `:ok` or `{:error, :unknown_fault}`."
  @spec put(Shared.t(), term()) :: :ok | {:error, :unknown_fault}
  def put(%Shared{config: config}, fault) do
    case fault do
      {:drop_after, n} when is_integer(n) and n > 0 ->
        insert(config, :drop_after, n)

      {:drop_random, p, seed} when is_number(p) and p >= 0 and p <= 1 and is_integer(seed) ->
        insert(config, :drop_random, {p, seed})

      {:delay, ms} when is_integer(ms) and ms >= 0 ->
        insert(config, :delay, ms)

      {:clock_skew, s} when is_integer(s) ->
        insert(config, :clock_skew, s)

      {:transport_error, code} when is_integer(code) and code < 0 and code >= -0x80000000 ->
        insert(config, :transport_error, code)

      :rotate_salt ->
        :ets.update_counter(config, :rotation, 1, {:rotation, 0})
        :ok

      handshake when handshake in [:dh_gen_retry, :dh_gen_fail] ->
        insert(config, :dh_gen, handshake)

      _ ->
        {:error, :unknown_fault}
    end
  end

  defp insert(config, key, value) do
    :ets.insert(config, {key, value})
    :ok
  end

  @doc "Removes every standing fault (salt rotations already done stay done)."
  @spec clear(Shared.t()) :: :ok
  def clear(%Shared{config: config}) do
    Enum.each([:dh_gen | @standing], &:ets.delete(config, &1))
  end

  @doc "The value of a standing fault, or nil."
  @spec get(Shared.t(), atom()) :: term()
  def get(%Shared{config: config}, key) do
    case :ets.lookup(config, key) do
      [{^key, value}] -> value
      [] -> nil
    end
  end

  @doc "Takes the one-shot handshake fault, if any: `:dh_gen_retry`, `:dh_gen_fail` or nil."
  @spec take_dh_gen(Shared.t()) :: :dh_gen_retry | :dh_gen_fail | nil
  def take_dh_gen(%Shared{config: config}) do
    case :ets.take(config, :dh_gen) do
      [{:dh_gen, fault}] -> fault
      [] -> nil
    end
  end

  @doc "How many times the salts were rotated."
  @spec rotation(Shared.t()) :: non_neg_integer()
  def rotation(%Shared{} = shared), do: get(shared, :rotation) || 0

  @doc "The server's clock skew in seconds (0 without the fault)."
  @spec skew(Shared.t()) :: integer()
  def skew(%Shared{} = shared), do: get(shared, :clock_skew) || 0

  @doc "The server's unix time in seconds, skew included."
  @spec now(Shared.t()) :: integer()
  def now(%Shared{} = shared), do: System.os_time(:second) + skew(shared)
end
