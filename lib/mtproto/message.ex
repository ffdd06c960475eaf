defmodule MTProto.Message do
  @moduledoc """
  The envelope of encrypted MTProto messages, shared by the client and the test datacenter:
  the 32-byte plaintext header, `msg_container`, `rpc_result`, and the seqno rule.

  These are byte layouts fixed by the protocol (not schema-driven), so they are plain binary
  matching here; the bodies inside are TL and go through `MTProto.TL`.

  Plaintext of an encrypted message (before padding):

      salt:long session_id:long msg_id:long seq_no:int message_data_length:int body

  A body's first 4 bytes are its constructor id (little-endian).
  """

  import Bitwise

  @typedoc "One message inside a session: its id, seqno and TL body."
  @type t :: %{msg_id: integer(), seqno: non_neg_integer(), body: binary()}

  @typedoc "A decoded plaintext: the header fields plus the body."
  @type plaintext :: %{
          salt: integer(),
          session_id: integer(),
          msg_id: integer(),
          seqno: non_neg_integer(),
          body: binary()
        }

  @msg_container 0x73F1F8DC
  @rpc_result 0xF35C6D01

  # Constructors that need no acknowledgment, so they take even seqnos: acks, containers, and
  # the service messages the spec says need none. Everything else, RPC queries (ping included:
  # real clients send it odd and Telegram accepts it), answers and updates, is content-related.
  @not_content_related %{
    0x62D6B459 => :msgs_ack,
    0x73F1F8DC => :msg_container,
    0x347773C5 => :pong,
    0x04DEB57D => :msgs_state_info,
    0x8CC0D131 => :msgs_all_info,
    0x276D3EC6 => :msg_detailed_info,
    0x809DB6DF => :msg_new_detailed_info,
    0xA7EFF811 => :bad_msg_notification,
    0xEDAB447B => :bad_server_salt
  }

  # Container limits (Telegram: at most 1024 messages and 1 MiB in one container).
  @max_container_messages 1024

  @doc "The 32-byte header and the body, ready for `MTProto.Crypto.encrypt_message/3`."
  @spec encode_plaintext(integer(), integer(), integer(), non_neg_integer(), iodata()) :: binary()
  def encode_plaintext(salt, session_id, msg_id, seqno, body) do
    body = IO.iodata_to_binary(body)

    <<salt::little-signed-64, session_id::little-signed-64, msg_id::little-signed-64,
      seqno::little-32, byte_size(body)::little-32, body::binary>>
  end

  @doc """
  Splits a decrypted plaintext (padding already removed, as `MTProto.Crypto.decrypt_message/3`
  returns it) into header fields and body.
  """
  @spec decode_plaintext(binary()) :: {:ok, plaintext()} | {:error, :bad_header}
  def decode_plaintext(
        <<salt::little-signed-64, session_id::little-signed-64, msg_id::little-signed-64,
          seqno::little-32, len::little-32, body::binary-size(len)>>
      ) do
    {:ok, %{salt: salt, session_id: session_id, msg_id: msg_id, seqno: seqno, body: body}}
  end

  def decode_plaintext(_), do: {:error, :bad_header}

  @doc """
  An unencrypted message (the handshake's): `auth_key_id = 0`, msg_id, length, body.
  """
  @spec encode_plain(integer(), iodata()) :: binary()
  def encode_plain(msg_id, body) do
    body = IO.iodata_to_binary(body)
    <<0::64, msg_id::little-signed-64, byte_size(body)::little-32, body::binary>>
  end

  @doc """
  Splits an unencrypted message into msg_id and body. The auth_key_id must be 0 and the length
  field must match the rest of the packet exactly.
  """
  @spec decode_plain(binary()) ::
          {:ok, integer(), binary()} | {:error, :not_plain | :bad_header}
  def decode_plain(<<0::64, msg_id::little-signed-64, len::little-32, body::binary-size(len)>>),
    do: {:ok, msg_id, body}

  def decode_plain(<<0::64, _::binary>>), do: {:error, :bad_header}
  def decode_plain(_), do: {:error, :not_plain}

  @doc "The constructor id a body starts with, as an unsigned integer."
  @spec constructor(binary()) :: {:ok, non_neg_integer()} | :error
  def constructor(<<id::little-32, _::binary>>), do: {:ok, id}
  def constructor(_), do: :error

  @doc "Whether a body (or constructor id) is content-related, i.e. needs an acknowledgment."
  @spec content_related?(binary() | non_neg_integer()) :: boolean()
  def content_related?(id) when is_integer(id), do: not Map.has_key?(@not_content_related, id)
  def content_related?(<<id::little-32, _::binary>>), do: content_related?(id)
  def content_related?(_), do: true

  @doc """
  The seqno for the next message and the new count of content-related messages sent so far:
  `2 * count + 1` for a content-related message (and the count grows), `2 * count` otherwise.
  """
  @spec next_seqno(non_neg_integer(), boolean()) :: {non_neg_integer(), non_neg_integer()}
  def next_seqno(count, true), do: {2 * count + 1, count + 1}
  def next_seqno(count, false), do: {2 * count, count}

  @doc "Whether `seqno`'s parity matches the body: odd for content-related, even otherwise."
  @spec seqno_parity_ok?(non_neg_integer(), binary()) :: boolean()
  def seqno_parity_ok?(seqno, body), do: (seqno &&& 1) == 1 == content_related?(body)

  @doc "A `msg_container` body holding `messages` in order."
  @spec encode_container([t()]) :: binary()
  def encode_container(messages) when length(messages) <= @max_container_messages do
    parts =
      for %{msg_id: id, seqno: seqno, body: body} <- messages do
        body = IO.iodata_to_binary(body)
        [<<id::little-signed-64, seqno::little-32, byte_size(body)::little-32>>, body]
      end

    IO.iodata_to_binary([<<@msg_container::little-32, length(messages)::little-32>> | parts])
  end

  @doc "Whether a body is a `msg_container`."
  @spec container?(binary()) :: boolean()
  def container?(<<@msg_container::little-32, _::binary>>), do: true
  def container?(_), do: false

  @doc """
  The messages of a `msg_container` body. Fails on a truncated or overlong container, a body
  length that is not a multiple of 4, more than 1024 messages, or a container nested inside.
  """
  @spec decode_container(binary()) :: {:ok, [t()]} | {:error, atom()}
  def decode_container(<<@msg_container::little-32, count::little-32, rest::binary>>) do
    if count > @max_container_messages,
      do: {:error, :container_too_large},
      else: decode_messages(rest, count, [])
  end

  def decode_container(_), do: {:error, :not_a_container}

  defp decode_messages(<<>>, 0, acc), do: {:ok, Enum.reverse(acc)}
  defp decode_messages(_rest, 0, _acc), do: {:error, :container_trailing_bytes}

  defp decode_messages(
         <<id::little-signed-64, seqno::little-32, len::little-32, rest::binary>>,
         count,
         acc
       )
       when (len &&& 3) == 0 and byte_size(rest) >= len do
    <<body::binary-size(len), rest::binary>> = rest

    if container?(body),
      do: {:error, :nested_container},
      else: decode_messages(rest, count - 1, [%{msg_id: id, seqno: seqno, body: body} | acc])
  end

  defp decode_messages(_rest, _count, _acc), do: {:error, :container_truncated}

  @doc "An `rpc_result` body answering `req_msg_id` with an already encoded result."
  @spec encode_rpc_result(integer(), iodata()) :: binary()
  def encode_rpc_result(req_msg_id, result) do
    IO.iodata_to_binary([<<@rpc_result::little-32, req_msg_id::little-signed-64>>, result])
  end

  @doc """
  Splits an `rpc_result` body into the id of the query it answers and the encoded result, to be
  decoded with `MTProto.TL.decode_result/2` by the query's method.
  """
  @spec decode_rpc_result(binary()) :: {:ok, integer(), binary()} | {:error, :not_an_rpc_result}
  def decode_rpc_result(<<@rpc_result::little-32, req_msg_id::little-signed-64, result::binary>>)
      when byte_size(result) >= 4,
      do: {:ok, req_msg_id, result}

  def decode_rpc_result(_), do: {:error, :not_an_rpc_result}
end
