defmodule MTProto.RpcError do
  @moduledoc """
  An `rpc_error` answered by the server: `code` (e.g. 400, 420) and `message` (e.g.
  `"FLOOD_WAIT_30"`). `wait_seconds/1` reads the number out of the `*_WAIT_X` family.
  """

  defexception [:code, :message]

  @type t :: %__MODULE__{code: integer(), message: String.t()}

  @impl true
  def message(%__MODULE__{code: code, message: message}), do: "#{code} #{message}"

  @doc "Builds the error from a decoded `rpc_error` term."
  @spec from_term(map()) :: t()
  def from_term(%{error_code: code, error_message: message}),
    do: %__MODULE__{code: code, message: message}

  @doc "For `FLOOD_WAIT_30`, `SLOWMODE_WAIT_5` and the like: the seconds to wait; else nil."
  @spec wait_seconds(t()) :: non_neg_integer() | nil
  def wait_seconds(%__MODULE__{message: message}) when is_binary(message) do
    case Regex.run(~r/_WAIT_(\d+)$/, message) do
      [_, n] -> String.to_integer(n)
      nil -> nil
    end
  end
end
