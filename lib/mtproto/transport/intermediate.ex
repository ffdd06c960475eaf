defmodule MTProto.Transport.Intermediate do
  @moduledoc """
  Intermediate framing: the client opens with `0xeeeeeeee`; each packet is preceded by its
  length as 4 little-endian bytes. A quick-ack request sets the length's high bit; the server
  answers with the 4-byte little-endian token, high bit set, in place of a length.
  """
  use MTProto.Transport,
    name: :intermediate,
    obfuscatable?: true,
    quick_ack?: true,
    frame_random_bytes: 0
end
