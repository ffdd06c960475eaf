defmodule MTProto.Transport.Abridged do
  @moduledoc """
  Abridged framing: the client opens with `0xef`; each packet (a multiple of 4 bytes) is
  preceded by its length / 4 in one byte, or `0x7f` and 3 little-endian bytes from 127 words
  on. A quick-ack request sets the length byte's high bit (`0xff` for the long form); the
  server answers with the 4 token bytes byte-swapped, so the first has its high bit set.
  """
  use MTProto.Transport,
    name: :abridged,
    obfuscatable?: true,
    quick_ack?: true,
    frame_random_bytes: 0
end
