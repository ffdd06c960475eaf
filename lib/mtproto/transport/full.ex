defmodule MTProto.Transport.Full do
  @moduledoc """
  Full framing: no opening tag; each packet travels as total length (4 bytes LE, payload + 12),
  sequence number (4 bytes LE, counted from 0 in each direction), payload and the CRC32 of all
  that. The decoder checks both the sequence number and the CRC. No quick acks, no obfuscation.
  """
  @behaviour MTProto.Transport

  @impl true
  def name, do: :full
  @impl true
  def obfuscatable?, do: false
  @impl true
  def quick_ack?, do: false
  @impl true
  def frame_random_bytes, do: 0
end
