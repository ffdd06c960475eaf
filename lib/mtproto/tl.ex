defmodule MTProto.TL do
  @moduledoc """
  The TL codec for the whole schema (`priv/schema/api.tl`, layer `MTProto.TL.Schema.layer/0`,
  and `priv/schema/mtproto.tl`), done in C (`c_src/tl_*.c`).

  Terms are maps with the constructor (or method) name atom under `:_`:

      %{_: :"messages.sendMessage", peer: %{_: :inputPeerSelf}, message: "hi", random_id: 1}

    * `int`/`long` -> integers (signed on decode; encode also takes the unsigned range),
      `int128`/`int256` -> 16/32-byte binaries, `string`/`bytes` -> binaries, `double` -> float
      (encode also takes integers), `Bool` -> `true`/`false`, vectors -> lists.
    * `flags.N?true` -> boolean: decode always gives the key, encode reads a missing key (or
      `nil`) as false. Other optional fields: absent keys (`nil` counts as absent on encode).
    * `flags:#` words are not in terms: computed on encode from the fields present. Bits of a
      flags word that name no field are ignored on decode.
    * `Object` and `!X` fields hold any boxed term (methods included); `true`/`false` there
      stand for `boolTrue`/`boolFalse`.
    * Bare constructors (`%Message` in `msg_container`, `vector<future_salt>`) are maps too;
      their `:_` may be left out on encode. A container message's `bytes` field is the length
      of its encoded `body`, written as given and not checked (`MTProto.Message` builds
      containers by itself).
    * Results of RPC calls go by the method's return type: `encode_result/3` and
      `decode_result/3`.

  Errors are `{:error, reason}`. Decode reasons name the byte offset (inside `gzip_packed` data
  they are wrapped as `{:in_gzip, offset_of_the_gzip_packed, reason}`):
  `{:truncated, off}`, `{:bad_length, off}` (a length prefix past the end),
  `{:unknown_constructor, id, off}`, `{:unexpected_constructor, id, off}` (known, wrong type),
  `{:trailing_bytes, off}`, `{:too_deep, off}` (nesting beyond 64), `{:vector_too_long, off}`,
  `{:bad_double, off}` (NaN/infinity), `{:untyped_vector, off}` (a `Vector` where any object was
  expected: use `decode_result/3`), `{:bad_gzip, off}`, `{:gzip_too_large, off}`,
  `{:too_large, 0}` (4 GiB or more), `{:unknown_method, name}` (also from `encode_result/3`). Encode reasons name the field path from the root, e.g.
  `{:missing_field, [:peer, :access_hash]}`, `{:bad_value, path, "int"}`,
  `{:unknown_constructor, name, path}`, `{:wrong_constructor, name, "InputPeer", path}`,
  `{:unknown_field, key, path}`, `{:no_constructor, path}`, `{:flag_conflict, path}` (a
  `flags.N?true` false while a field sharing its bit is present), `{:too_deep, path}`.
  Atoms are only ever made from the schema, never from wire data. Decoded strings are copies,
  so terms never keep the input binary alive.

  Scheduling: a call runs on the caller's scheduler while its estimated work stays under
  `:slice_work` units (250 000 by default; a unit is about 2 ns: 1 per byte, 8 per value, 32 per
  constructor plus 8 per param of it, 2 per inflated byte), so about half a millisecond at most.
  Larger inputs go straight to a dirty CPU scheduler; a decode whose work runs past the budget is
  redone there (only the cheap checking pass is lost: terms are built after it), as is such an
  encode.
  """

  alias MTProto.TL.Error

  @gzip_limit 16 * 1024 * 1024
  @slice_work 250_000

  @typedoc "A TL value as a term: a map with the constructor name under `:_`, or a boolean."
  @type tl_term :: %{required(:_) => atom(), optional(atom()) => term()} | boolean()
  @typedoc "Why encoding or decoding failed (see the module doc)."
  @type reason :: tuple() | :enomem

  @typedoc """
  `:gzip_limit` - inflated bytes allowed per decode (16 MiB); `:slice_work` - the work done on a
  normal scheduler before the call moves to a dirty one (0: never moves); encode's `:gzip_above`
  - wrap the result in `gzip_packed` when it is longer than this many bytes and that is shorter.
  """
  @type opts :: [
          gzip_limit: pos_integer(),
          slice_work: non_neg_integer(),
          gzip_above: pos_integer()
        ]

  @doc "Encodes a constructor or method term into TL bytes (its id first)."
  @spec encode(tl_term(), opts()) :: {:ok, binary()} | {:error, reason()}
  def encode(term, opts \\ []) do
    nif_encode(term, nil, opts)
  end

  @doc "Like `encode/2`, raising `MTProto.TL.Error`."
  @spec encode!(tl_term(), opts()) :: binary()
  def encode!(term, opts \\ []), do: unwrap!(encode(term, opts))

  @doc """
  Decodes one boxed value (any constructor or method, `gzip_packed` unwrapped) that fills all of
  `binary`.
  """
  @spec decode(binary(), opts()) :: {:ok, tl_term()} | {:error, reason()}
  def decode(binary, opts \\ []) when is_binary(binary), do: nif_decode(binary, nil, opts)

  @doc "Like `decode/2`, raising `MTProto.TL.Error`."
  @spec decode!(binary(), opts()) :: tl_term()
  def decode!(binary, opts \\ []), do: unwrap!(decode(binary, opts))

  @doc """
  Decodes the result of an RPC call by the return type of `method` (e.g. `Vector<long>` for
  `:"messages.getMessagesViews"`... or `Bool`), `gzip_packed` unwrapped. Generic methods
  (`invokeWithLayer` and friends) return any object.
  """
  @spec decode_result(atom(), binary(), opts()) :: {:ok, term()} | {:error, reason()}
  def decode_result(method, binary, opts \\ []) when is_atom(method) and is_binary(binary),
    do: nif_decode(binary, method, opts)

  @doc """
  Encodes the result of an RPC call by the return type of `method`: the inverse of
  `decode_result/3` (a list for `Vector<long>`, `true`/`false` for `Bool`, a term otherwise), as
  the answering side of `rpc_result` needs.
  """
  @spec encode_result(atom(), term(), opts()) :: {:ok, binary()} | {:error, reason()}
  def encode_result(method, value, opts \\ []) when is_atom(method),
    do: nif_encode(value, method, opts)

  @doc "Like `encode_result/3`, raising `MTProto.TL.Error`."
  @spec encode_result!(atom(), term(), opts()) :: binary()
  def encode_result!(method, value, opts \\ []), do: unwrap!(encode_result(method, value, opts))

  @doc "Wraps already-encoded TL bytes into `gzip_packed`."
  @spec gzip(binary()) :: binary()
  def gzip(tl_binary) when is_binary(tl_binary) do
    encode!(%{_: :gzip_packed, packed_data: :zlib.gzip(tl_binary)})
  end

  defp nif_encode(term, method, opts) do
    case :mtproto_nif.tl_encode(term, method, Keyword.get(opts, :slice_work, @slice_work)) do
      {:ok, bin} -> {:ok, maybe_gzip(bin, opts[:gzip_above])}
      error -> error
    end
  end

  defp nif_decode(binary, method, opts) do
    :mtproto_nif.tl_decode(
      binary,
      method,
      Keyword.get(opts, :gzip_limit, @gzip_limit),
      Keyword.get(opts, :slice_work, @slice_work)
    )
  end

  defp maybe_gzip(bin, nil), do: bin

  defp maybe_gzip(bin, above) when byte_size(bin) > above do
    packed = gzip(bin)
    if byte_size(packed) < byte_size(bin), do: packed, else: bin
  end

  defp maybe_gzip(bin, _above), do: bin

  defp unwrap!({:ok, value}), do: value
  defp unwrap!({:error, reason}), do: raise(Error, reason: reason)
end
