defmodule MTProto.Test.Prop do
  @moduledoc "Runs PropEr (Debian's erlang-proper) properties from ExUnit."
  import ExUnit.Assertions

  @doc "Asserts that `property` holds for `numtests` generated cases, showing a counterexample."
  def check(property, numtests \\ 100) do
    result = :proper.quickcheck(property, [{:numtests, numtests}, :quiet, :long_result])
    assert result == true, "PropEr counterexample: #{inspect(result, limit: 20)}"
  end

  @doc "A binary of 0..max_blocks whole 16-byte blocks."
  def blocks(max_blocks) do
    :proper_types.bind(
      :proper_types.integer(0, max_blocks),
      &:proper_types.binary(16 * &1),
      false
    )
  end
end
