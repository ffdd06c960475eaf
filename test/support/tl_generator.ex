defmodule MTProto.Test.TLGenerator do
  @moduledoc """
  Random valid TL terms for any constructor or method of `MTProto.TL.Schema`, driven by `:rand`
  (seed it for reproducible runs). Terms come out the way decode gives them back: every
  `flags.N?true` key present as a boolean, fields sharing a flag bit present or absent together,
  and nesting kept shallow by preferring constructors with fewer nested fields deeper down.
  """

  alias MTProto.TL.Schema

  @max_depth 5

  @doc "A random term of the entry (constructor or method)."
  @spec term(Schema.entry(), non_neg_integer()) :: map()
  def term(entry, depth \\ 0) do
    bits = flag_bits(entry, depth)

    Enum.reduce(entry.params, %{_: entry.name}, fn p, acc ->
      case {p.type, p.flag} do
        {:"#", _} ->
          acc

        {true, nil} ->
          Map.put(acc, p.name, true)

        {true, {word, bit}} ->
          Map.put(acc, p.name, MapSet.member?(bits, {word, bit}))

        {type, nil} ->
          Map.put(acc, p.name, value(type, depth + 1))

        {type, {word, bit}} ->
          if MapSet.member?(bits, {word, bit}),
            do: Map.put(acc, p.name, value(type, depth + 1)),
            else: acc
      end
    end)
  end

  # Which {flags_word, bit} pairs are set: random, fewer deeper down.
  defp flag_bits(entry, depth) do
    for %{flag: {_, _} = f} <- entry.params, reduce: MapSet.new() do
      acc ->
        if depth < @max_depth - 1 and :rand.uniform(2) == 1, do: MapSet.put(acc, f), else: acc
    end
  end

  @doc "A random value of a schema param type (see `MTProto.TL.Schema`)."
  @spec value(term(), non_neg_integer()) :: term()
  def value(:int, _), do: int(32)
  def value(:long, _), do: int(64)
  def value(:"#", _), do: int(32)
  def value(:double, _), do: double()
  def value(:int128, _), do: :rand.bytes(16)
  def value(:int256, _), do: :rand.bytes(32)
  def value(t, _) when t in [:string, :bytes], do: string()
  def value(:bool, _), do: :rand.uniform(2) == 1
  def value(true, _), do: true
  def value(:object, depth), do: object(depth)

  def value({kind, t}, depth) when kind in [:vector, :bare_vector] do
    n = if depth >= @max_depth - 2, do: 0, else: Enum.random([0, 1, 1, 2, 3])
    for _ <- 1..n//1, do: value(t, depth + 1)
  end

  def value({:boxed, _name, index}, depth) do
    index |> Schema.constructors_of() |> pick(depth) |> term(depth)
  end

  def value({:bare, id}, depth), do: id |> Schema.entry() |> term(depth)

  # Any boxed object: a ping-like leaf deep down, otherwise a random constructor.
  defp object(depth) do
    if depth >= @max_depth - 2 do
      %{_: :ping, ping_id: int(64)}
    else
      Schema.constructors()
      |> Enum.filter(&(&1.file == "api.tl" and &1.name not in [:boolTrue, :boolFalse]))
      |> Enum.random()
      |> term(depth)
    end
  end

  # Deeper down, the constructors with the fewest required nested fields.
  defp pick(ctors, depth) when depth < @max_depth - 2, do: Enum.random(ctors)

  defp pick(ctors, _depth) do
    min = ctors |> Enum.map(&nested/1) |> Enum.min()
    ctors |> Enum.filter(&(nested(&1) == min)) |> Enum.random()
  end

  defp nested(entry) do
    Enum.count(entry.params, fn p ->
      (p.flag == nil and match?({_, _, _}, p.type)) or match?({:bare, _}, p.type) or
        p.type == :object
    end)
  end

  defp int(bits) do
    half = Bitwise.bsl(1, bits - 1)

    case :rand.uniform(4) do
      1 -> Enum.random([0, 1, -1, half - 1, -half])
      _ -> :rand.uniform(2 * half) - half - 1
    end
  end

  defp double do
    case :rand.uniform(3) do
      1 -> Enum.random([0.0, 1.5, -2.25, 1.0e300, -1.0e-300])
      _ -> (:rand.uniform() - 0.5) * :math.pow(10, :rand.uniform(40) - 20)
    end
  end

  defp string do
    n =
      case :rand.uniform(10) do
        10 -> 250 + :rand.uniform(300)
        _ -> :rand.uniform(20) - 1
      end

    :rand.bytes(n)
  end
end
