defmodule MTProto.Transport.Intermediate do
  @moduledoc """
  Intermediate framing: the client opens with `0xeeeeeeee`; each packet is preceded by its
  length as 4 little-endian bytes. A quick-ack request sets the length's high bit; the server
  answers with the 4-byte little-endian token, high bit set, in place of a length.
  """
  @behaviour MTProto.Transport

  @impl true
  def name, do: :intermediate
  @impl true
  def obfuscatable?, do: true
  @impl true
  def quick_ack?, do: true
  @impl true
  def frame_random_bytes, do: 0
end
