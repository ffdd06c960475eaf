defmodule MTProto.TL.Error do
  @moduledoc "Raised by `MTProto.TL.encode!/2` and `decode!/2`; `reason` as `MTProto.TL` lists."
  defexception [:reason]

  @impl true
  def message(%__MODULE__{reason: reason}), do: "TL: #{inspect(reason)}"
end
