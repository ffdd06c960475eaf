defmodule MTProto.Session.Writer do
  @moduledoc """
  The handler's way out: the current connection's socket, the encoding half of its transport
  (the listener decodes with the same transport, see `MTProto.Transport`) and the counter of
  bytes written that `MTProto.Session.info/1` reads. The listener hands one over with every
  new connection; the handler frames and sends its packets itself, so a call's packets cross
  no process on their way out.
  """

  alias MTProto.Transport

  @type t :: {port(), Transport.t(), :counters.counters_ref()}

  @doc """
  Frames and sends `packets`. `{:error, reason, writer}` when the socket refused them (the
  connection is gone; the listener reconnects, and the handler resends what is unanswered).
  """
  @spec write(t(), [iodata()]) :: {:ok, t()} | {:error, term(), t()}
  def write({socket, transport, bytes_out}, packets) do
    {frames, transport} = Enum.map_reduce(packets, transport, &Transport.encode(&2, &1))

    case :gen_tcp.send(socket, frames) do
      :ok ->
        :counters.add(bytes_out, 1, IO.iodata_length(frames))
        {:ok, {socket, transport, bytes_out}}

      {:error, reason} ->
        {:error, reason, {socket, transport, bytes_out}}
    end
  end

  @doc "The socket written to."
  @spec socket(t()) :: port()
  def socket({socket, _transport, _bytes_out}), do: socket
end
