defmodule MTProto do
  @moduledoc """
  A Telegram MTProto 2.0 client for the BEAM whose byte work is done by a C NIF.

  The layers, bottom up:

    * `MTProto.Crypto`: AES-256-IGE/CTR, MTProto 2.0 message encryption, handshake math
    * `MTProto.TL`: schema-driven TL encoding and decoding of the whole API
    * `MTProto.Transport`: abridged, intermediate, padded, full and obfuscated2 framings
    * `MTProto.Session`: supervised sessions (handler + listener) with the message layer
    * `MTProto.TestServer`: a local datacenter speaking real MTProto on loopback
  """
end
