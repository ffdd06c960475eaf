defmodule MTProto.Transport.Obfuscated2 do
  @moduledoc """
  obfuscated2, the wrapper `{:obfuscated, inner}`: the client opens with a 64-byte init (random,
  never starting like another protocol; bytes 56..59 the inner framing's tag, 60..61 the signed
  dc id) and both directions then run through AES-256-CTR with keys taken from the init and from
  its reverse (each hashed with the MTProxy `:secret` when there is one). The C core
  (`c_src/obfuscated2.c`) builds and reads the init; this module opens the NIF codec, drawing a
  new init while the random bytes happen to be reserved.
  """

  # Reserved random (first byte 0xef, HTTP verbs, tags, a zero second word) is about 1 in 250.
  @attempts 16

  @doc false
  @spec open_client(MTProto.Transport.inner(), keyword) :: reference
  def open_client(kind, opts), do: open_client(kind, opts, @attempts)

  defp open_client(kind, opts, attempts) do
    case MTProto.Transport.open_codec(kind, :client, true, opts, opts[:rand].(64)) do
      {:error, :reserved_init} when attempts > 1 -> open_client(kind, opts, attempts - 1)
      result -> MTProto.Transport.opened!(result, kind)
    end
  end
end
