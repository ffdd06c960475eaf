defmodule MTProto.TestServer.Hostile do
  @moduledoc """
  A hostile datacenter, opt in (`MTProto.TestServer.inject(server, {:hostile, name})`, until
  `clear_faults/1`), to test that a client refuses what it must. Each fault misbehaves exactly
  as named; everything else stays as strict and correct as without it.

  Handshake (`MTProto.TestServer.Handshake` asks `Faults.hostile?/2`): `:bad_dh_prime`
  (server_DH_inner_data names a 2048-bit odd number that passes the residue test for g = 3 but
  is not a safe prime), `:bad_g_a` (g_a just below 2^(2048-64)), `:wrong_nonce` (resPQ echoes
  another nonce), `:wrong_server_nonce` (server_DH_params_ok names another server_nonce than
  resPQ), `:bad_new_nonce_hash` (dh_gen_ok with a wrong new_nonce_hash1; the server keeps the
  key as usual).

  Encrypted session (`packets/4`, on the packets a session sends): before each real packet, a
  copy of it that must be refused: `:tampered_msg_key` (one msg_key bit flipped),
  `:even_msg_id` (msg_id with the low two bits cleared), `:wrong_session_id` (session_id with
  its low bit flipped), `:stale_msg_id` (msg_id an hour old). In such a copy every `rpc_result`
  carries rpc_error 500 `HOSTILE_COPY` instead, so a client taking it answers a call wrongly.
  `:replayed_msg_id`: after the real packets, the last packet of the previous send again, byte
  for byte.
  """

  import Bitwise

  alias MTProto.{Crypto, Message, TL}

  @handshake [:bad_dh_prime, :bad_g_a, :wrong_nonce, :wrong_server_nonce, :bad_new_nonce_hash]
  @copies [:tampered_msg_key, :even_msg_id, :wrong_session_id, :stale_msg_id]
  @session @copies ++ [:replayed_msg_id]

  # The stale copies are this old: far outside the 300 s a receiver accepts.
  @stale_seconds 3600

  @type name ::
          :bad_dh_prime
          | :bad_g_a
          | :wrong_nonce
          | :wrong_server_nonce
          | :bad_new_nonce_hash
          | :tampered_msg_key
          | :even_msg_id
          | :wrong_session_id
          | :stale_msg_id
          | :replayed_msg_id

  @doc "Every hostile fault."
  @spec names() :: [name()]
  def names, do: @handshake ++ @session

  ## handshake

  @doc """
  The dh_prime `:bad_dh_prime` sends: the real prime plus 6 (2048 bits, odd, 2 mod 3 like the
  real one, so only the safe-prime test refuses it).
  """
  @spec bad_dh_prime() :: <<_::2048>>
  def bad_dh_prime do
    <<p::2048>> = Crypto.dh_prime()
    <<p + 6::2048>>
  end

  @doc "The g_a `:bad_g_a` sends: 2^(2048-64) - 1, one below the lowest a receiver accepts."
  @spec bad_g_a() :: <<_::2048>>
  def bad_g_a, do: <<(1 <<< (2048 - 64)) - 1::2048>>

  @doc "A 16-byte nonce other than `nonce` (its first bit flipped), for the wrong-nonce faults."
  @spec other_nonce(<<_::128>>) :: <<_::128>>
  def other_nonce(<<first, rest::binary-15>>), do: <<bxor(first, 0x80), rest::binary>>

  ## encrypted session

  @doc """
  The packets to send instead of `packets` (encrypted by the server with `auth_key`) under the
  hostile faults `faults`, and the packet to replay next time (`last`: what the previous call
  returned, nil at first). Without a session fault, `packets` unchanged.
  """
  @spec packets([binary()], [name()], binary(), binary() | nil) :: {[binary()], binary() | nil}
  def packets([], _faults, _auth_key, last), do: {[], last}

  def packets(packets, faults, auth_key, last) do
    copies = Enum.filter(@copies, &(&1 in faults))

    out =
      Enum.flat_map(packets, fn packet ->
        Enum.map(copies, &copy(&1, packet, auth_key)) ++ [packet]
      end)

    if :replayed_msg_id in faults,
      do: {if(last, do: out ++ [last], else: out), List.last(packets)},
      else: {out, last}
  end

  defp copy(fault, packet, auth_key) do
    {:ok, plaintext} = Crypto.decrypt_message(auth_key, :server, packet)
    {:ok, m} = Message.decode_plaintext(plaintext)
    body = poison(m.body)

    {session_id, msg_id} =
      case fault do
        :even_msg_id -> {m.session_id, m.msg_id &&& bnot(3)}
        :wrong_session_id -> {bxor(m.session_id, 1), m.msg_id}
        :stale_msg_id -> {m.session_id, m.msg_id - (@stale_seconds <<< 32)}
        :tampered_msg_key -> {m.session_id, m.msg_id}
      end

    plaintext = Message.encode_plaintext(m.salt, session_id, msg_id, m.seqno, body)
    encrypted = Crypto.encrypt_message(auth_key, :server, plaintext)

    if fault == :tampered_msg_key do
      <<key_id::binary-8, first, rest::binary>> = encrypted
      <<key_id::binary, bxor(first, 1), rest::binary>>
    else
      encrypted
    end
  end

  # Every rpc_result (alone or in a container) answers with rpc_error 500 HOSTILE_COPY instead.
  defp poison(body) do
    cond do
      Message.container?(body) ->
        {:ok, inner} = Message.decode_container(body)
        Message.encode_container(Enum.map(inner, &%{&1 | body: poison(&1.body)}))

      match?({:ok, _, _}, Message.decode_rpc_result(body)) ->
        {:ok, req_msg_id, _result} = Message.decode_rpc_result(body)
        error = %{_: :rpc_error, error_code: 500, error_message: "HOSTILE_COPY"}
        Message.encode_rpc_result(req_msg_id, TL.encode!(error))

      true ->
        body
    end
  end
end
