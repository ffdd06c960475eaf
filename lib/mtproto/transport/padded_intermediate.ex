defmodule MTProto.Transport.PaddedIntermediate do
  @moduledoc """
  Padded intermediate framing: the client opens with `0xdddddddd`; as intermediate, but each
  packet is followed by 0..15 random bytes counted in the length. The decoder accepts any
  0..15 padding bytes (as the spec allows) and finds the packet's end from the MTProto packet
  itself: an unencrypted message states its length, an encrypted one is 24 + 16k bytes, and a
  4-byte transport error is all that fits under 20 bytes. It therefore carries MTProto packets
  only. `:max_padding` bounds what it sends: 15 for a client, 3 for a server by default (Telethon's
  decoder copes with 0..3 only).
  """
  # 16 random bytes per frame: one picks the padding length, the other 15 fill it.
  use MTProto.Transport,
    name: :padded_intermediate,
    obfuscatable?: true,
    quick_ack?: true,
    frame_random_bytes: 16
end
