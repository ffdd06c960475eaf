defmodule MTProto.Session.Writer do
  @moduledoc """
  The handler's way out: the current connection's socket and the encoding half of its
  transport (the listener decodes with the same transport, see `MTProto.Transport`); the
  handler counts the bytes written (`MTProto.Session.info/1` shows them). The listener hands one over with every
  new connection; the handler frames and sends its packets itself, so a call's packets cross
  no process on their way out.
  """

  alias MTProto.Transport

  @type t :: {port(), Transport.t()}

  @doc """
  Frames and sends `packets`: `{:ok, writer, bytes_written}`, or `{:error, reason, writer}`
  when the socket refused them (the connection is gone; the listener reconnects, and the
  handler resends what is unanswered).
  """
  @spec write(t(), [iodata()]) :: {:ok, t(), non_neg_integer()} | {:error, term(), t()}
  def write({socket, transport}, packets) do
    {frames, transport} = Enum.map_reduce(packets, transport, &Transport.encode(&2, &1))

    case :gen_tcp.send(socket, frames) do
      :ok -> {:ok, {socket, transport}, IO.iodata_length(frames)}
      {:error, reason} -> {:error, reason, {socket, transport}}
    end
  end

  @doc "The socket written to."
  @spec socket(t()) :: port()
  def socket({socket, _transport}), do: socket
end
