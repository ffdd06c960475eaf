defmodule MTProto.Transport.Full do
  @moduledoc """
  Full framing: no opening tag; each packet travels as total length (4 bytes LE, payload + 12),
  sequence number (4 bytes LE, counted from 0 in each direction), payload and the CRC32 of all
  that. The decoder checks both the sequence number and the CRC. No quick acks, no obfuscation.
  """
  use MTProto.Transport,
    name: :full,
    obfuscatable?: false,
    quick_ack?: false,
    frame_random_bytes: 0
end
