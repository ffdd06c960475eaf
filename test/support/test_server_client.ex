defmodule MTProto.TestServer.RawClient do
  @moduledoc """
  A deliberately low-level MTProto client for the test server's tests and benchmark: every
  byte under the test's control (msg_ids, seqnos, salts, containers, paddings, the four
  `p_q_inner_data` constructors), so the tests can be strict and hostile. Written from the
  spec, independently of `MTProto.Session`, so the two cannot share a misunderstanding.
  """

  import Bitwise

  alias MTProto.{Crypto, Message, MessageId, TL, Transport}

  defstruct [
    :socket,
    :transport,
    :auth_key,
    :salt,
    :session_id,
    :public_pem,
    buffer: [],
    dh_retries: 0,
    last_msg_id: 0,
    seq_count: 0,
    time_offset: 0
  ]

  @type t :: %__MODULE__{}

  @doc "Connects to `{ip, port}` with a framing (default `:intermediate`)."
  @spec connect({:inet.ip_address(), :inet.port_number()}, Transport.framing(), keyword()) :: t()
  def connect({ip, port}, framing \\ :intermediate, opts \\ []) do
    {:ok, socket} = :gen_tcp.connect(ip, port, [:binary, active: false, nodelay: true])
    transport = Transport.new(framing, :client, Keyword.delete(opts, :public_pem))
    {start, transport} = Transport.start(transport)
    :ok = :gen_tcp.send(socket, start)

    %__MODULE__{
      socket: socket,
      transport: transport,
      session_id: random_long(),
      public_pem: Keyword.get(opts, :public_pem)
    }
  end

  @doc "A new connection for the same key and session."
  @spec reconnect(t(), {:inet.ip_address(), :inet.port_number()}, Transport.framing()) :: t()
  def reconnect(client, address, framing \\ :intermediate) do
    :gen_tcp.close(client.socket)
    fresh = connect(address, framing, public_pem: client.public_pem)
    %{client | socket: fresh.socket, transport: fresh.transport, buffer: []}
  end

  @doc "Closes the socket."
  @spec close(t()) :: :ok
  def close(client), do: :gen_tcp.close(client.socket)

  ## raw frames

  @doc "Frames and sends one packet."
  @spec send_packet(t(), iodata(), keyword()) :: t()
  def send_packet(client, packet, opts \\ []) do
    {frame, transport} = Transport.encode(client.transport, packet, opts)
    :ok = :gen_tcp.send(client.socket, frame)
    %{client | transport: transport}
  end

  @doc "Sends bytes as they are (no framing)."
  @spec send_raw(t(), iodata()) :: :ok | {:error, term()}
  def send_raw(client, bytes), do: :gen_tcp.send(client.socket, bytes)

  @doc """
  The next transport event: `{:packet, binary}`, `{:transport_error, code}`,
  `{:quick_ack, token}`, or `:closed` / `:timeout`.
  """
  @spec recv_event(t(), timeout()) :: {term(), t()}
  def recv_event(client, timeout \\ 5000)

  def recv_event(%{buffer: [event | rest]} = client, _timeout),
    do: {event, %{client | buffer: rest}}

  def recv_event(client, timeout) do
    case :gen_tcp.recv(client.socket, 0, timeout) do
      {:ok, data} ->
        case Transport.decode(client.transport, data) do
          {:ok, events, transport} ->
            events =
              Enum.map(events, fn
                {:error, {:transport, code}} -> {:transport_error, code}
                other -> other
              end)

            recv_event(%{client | transport: transport, buffer: events}, timeout)

          {:error, reason, transport} ->
            {{:framing_error, reason}, %{client | transport: transport}}
        end

      {:error, :timeout} ->
        {:timeout, client}

      {:error, _closed} ->
        {:closed, client}
    end
  end

  ## handshake

  @doc """
  Creates an auth key. Options: `padding: :rsa_pad | :legacy`, `inner: :p_q_inner_data |
  :p_q_inner_data_dc | :p_q_inner_data_temp | :p_q_inner_data_temp_dc`, `dc: 2`,
  `expires_in: 3600`, `req_pq: :req_pq_multi | :req_pq`. Returns the client with its key and
  first salt, or `{:error, reason, client}`.
  """
  @spec handshake(t(), keyword()) :: {:ok, t()} | {:error, term(), t()}
  def handshake(client, opts \\ []) do
    nonce = :crypto.strong_rand_bytes(16)
    client = plain(client, %{_: Keyword.get(opts, :req_pq, :req_pq_multi), nonce: nonce})

    with {{:ok, %{_: :resPQ} = res_pq}, client} <- recv_plain(client),
         true <- res_pq.nonce == nonce || {:error, :nonce},
         fingerprint = Crypto.rsa_fingerprint(client.public_pem),
         true <- fingerprint in res_pq.server_public_key_fingerprints || {:error, :fingerprint},
         {:ok, {p, q}} <- Crypto.factorize(:binary.decode_unsigned(res_pq.pq)) do
      new_nonce = :crypto.strong_rand_bytes(32)
      inner_name = Keyword.get(opts, :inner, :p_q_inner_data)

      inner =
        %{
          _: inner_name,
          pq: res_pq.pq,
          p: :binary.encode_unsigned(p),
          q: :binary.encode_unsigned(q),
          nonce: nonce,
          server_nonce: res_pq.server_nonce,
          new_nonce: new_nonce
        }
        |> put_if(inner_name in [:p_q_inner_data_dc, :p_q_inner_data_temp_dc], :dc, opts[:dc] || 2)
        |> put_if(
          inner_name in [:p_q_inner_data_temp, :p_q_inner_data_temp_dc],
          :expires_in,
          opts[:expires_in] || 3600
        )

      data = TL.encode!(inner)

      encrypted =
        case Keyword.get(opts, :padding, :rsa_pad) do
          :rsa_pad -> Crypto.rsa_pad_encrypt(data, client.public_pem)
          :legacy -> Crypto.rsa_legacy_encrypt(data, client.public_pem)
        end

      client =
        plain(client, %{
          _: :req_DH_params,
          nonce: nonce,
          server_nonce: res_pq.server_nonce,
          p: :binary.encode_unsigned(p),
          q: :binary.encode_unsigned(q),
          public_key_fingerprint: fingerprint,
          encrypted_data: encrypted
        })

      dh_params(client, nonce, res_pq.server_nonce, new_nonce)
    else
      {{:ok, other}, client} -> {:error, {:unexpected, other}, client}
      {{:error, reason}, client} -> {:error, reason, client}
      {:error, reason} -> {:error, reason, client}
    end
  end

  defp put_if(map, true, key, value), do: Map.put(map, key, value)
  defp put_if(map, false, _key, _value), do: map

  defp dh_params(client, nonce, server_nonce, new_nonce) do
    with {{:ok, %{_: :server_DH_params_ok} = ok}, client} <- recv_plain(client),
         true <- (ok.nonce == nonce and ok.server_nonce == server_nonce) || {:error, :nonce},
         {key, iv} = Crypto.tmp_aes_key_iv(new_nonce, server_nonce),
         <<hash::binary-20, rest::binary>> <-
           Crypto.aes_ige_decrypt(ok.encrypted_answer, key, iv),
         {:ok, size} <- server_inner_size(rest),
         <<answer::binary-size(size), _::binary>> = rest,
         true <- :crypto.hash(:sha, answer) == hash || {:error, :answer_hash},
         {:ok, %{_: :server_DH_inner_data} = inner} <- TL.decode(answer),
         :ok <- Crypto.dh_check_prime(inner.dh_prime, inner.g),
         :ok <- Crypto.dh_check_range(inner.g_a, inner.dh_prime) do
      client = %{client | time_offset: inner.server_time - System.os_time(:second)}
      set_dh(client, inner, {nonce, server_nonce, new_nonce, key, iv}, 0)
    else
      {{:ok, other}, client} -> {:error, {:unexpected, other}, client}
      {{:error, reason}, client} -> {:error, reason, client}
      {:error, reason} -> {:error, reason, client}
      other -> {:error, other, client}
    end
  end

  defp set_dh(client, inner, {nonce, server_nonce, new_nonce, key, iv} = n, retry_id) do
    b = :crypto.strong_rand_bytes(256)
    g_b = Crypto.mod_pow(<<inner.g>>, b, inner.dh_prime)
    auth_key = Crypto.mod_pow(inner.g_a, b, inner.dh_prime)

    data =
      TL.encode!(%{
        _: :client_DH_inner_data,
        nonce: nonce,
        server_nonce: server_nonce,
        retry_id: retry_id,
        g_b: g_b
      })

    with_hash = [:crypto.hash(:sha, data), data]
    pad = rem(16 - rem(IO.iodata_length(with_hash), 16), 16)
    padded = IO.iodata_to_binary([with_hash, :crypto.strong_rand_bytes(pad)])

    client =
      plain(client, %{
        _: :set_client_DH_params,
        nonce: nonce,
        server_nonce: server_nonce,
        encrypted_data: Crypto.aes_ige_encrypt(padded, key, iv)
      })

    case recv_plain(client) do
      {{:ok, %{_: :dh_gen_ok} = ok}, client} ->
        if ok.new_nonce_hash1 == Crypto.new_nonce_hash(new_nonce, auth_key, 1) do
          <<a::64, _::binary>> = new_nonce
          <<s::64, _::binary>> = server_nonce
          <<salt::little-signed-64>> = <<bxor(a, s)::64>>
          {:ok, %{client | auth_key: auth_key, salt: salt}}
        else
          {:error, :new_nonce_hash1, client}
        end

      {{:ok, %{_: :dh_gen_retry} = retry}, client} ->
        if retry.new_nonce_hash2 == Crypto.new_nonce_hash(new_nonce, auth_key, 2) do
          <<retry_id::little-signed-64>> = Crypto.auth_key_aux_hash(auth_key)
          set_dh(%{client | dh_retries: client.dh_retries + 1}, inner, n, retry_id)
        else
          {:error, :new_nonce_hash2, client}
        end

      {{:ok, %{_: :dh_gen_fail} = fail}, client} ->
        hash_ok = fail.new_nonce_hash3 == Crypto.new_nonce_hash(new_nonce, auth_key, 3)
        {:error, {:dh_gen_fail, hash_ok}, client}

      {other, client} ->
        {:error, other, client}
    end
  end

  # server_DH_inner_data: id, nonce, server_nonce, g, dh_prime:string, g_a:string, server_time.
  defp server_inner_size(<<_id::32, _::binary-32, _g::32, rest::binary>>) do
    with {:ok, n1} <- string_size(rest, 0),
         {:ok, n2} <- string_size(rest, n1) do
      {:ok, 4 + 32 + 4 + n2 + 4}
    end
  end

  defp server_inner_size(_), do: {:error, :short_answer}

  defp string_size(bin, offset) do
    case bin do
      <<_::binary-size(offset), 254, len::little-24, _::binary>> -> {:ok, offset + align4(4 + len)}
      <<_::binary-size(offset), len, _::binary>> when len < 254 -> {:ok, offset + align4(1 + len)}
      _ -> {:error, :bad_string}
    end
  end

  defp align4(n), do: n + rem(4 - rem(n, 4), 4)

  @doc "Sends an unencrypted message."
  @spec plain(t(), map() | binary()) :: t()
  def plain(client, term) do
    body = if is_binary(term), do: term, else: TL.encode!(term)
    {id, client} = next_msg_id(client)
    send_packet(client, Message.encode_plain(id, body))
  end

  @doc "Receives an unencrypted message: `{{:ok, term} | {:error, reason}, client}`."
  @spec recv_plain(t(), timeout()) :: {{:ok, term()} | {:error, term()}, t()}
  def recv_plain(client, timeout \\ 5000) do
    case recv_event(client, timeout) do
      {{:packet, packet}, client} ->
        with {:ok, _id, body} <- Message.decode_plain(packet), {:ok, term} <- TL.decode(body) do
          {{:ok, term}, client}
        else
          {:error, reason} -> {{:error, reason}, client}
        end

      {other, client} ->
        {{:error, other}, client}
    end
  end

  ## encrypted messages

  @doc "A new client msg_id (from the clock shifted by the server's offset)."
  @spec next_msg_id(t()) :: {integer(), t()}
  def next_msg_id(client) do
    id = MessageId.next(:client, client.last_msg_id, client.time_offset * 1_000_000_000)
    {id, %{client | last_msg_id: id}}
  end

  @doc "The next seqno for a body (content-related ones count)."
  @spec next_seqno(t(), binary()) :: {non_neg_integer(), t()}
  def next_seqno(client, body) do
    {seqno, count} = Message.next_seqno(client.seq_count, Message.content_related?(body))
    {seqno, %{client | seq_count: count}}
  end

  @doc """
  Builds a message for `send_messages/3`: `%{msg_id, seqno, body}` with fresh ids unless given.
  """
  @spec message(t(), map() | binary(), keyword()) :: {Message.t(), t()}
  def message(client, term, opts \\ []) do
    body = if is_binary(term), do: term, else: TL.encode!(term)

    {id, client} = if opts[:msg_id], do: {opts[:msg_id], client}, else: next_msg_id(client)

    {seqno, client} = if opts[:seqno], do: {opts[:seqno], client}, else: next_seqno(client, body)

    {%{msg_id: id, seqno: seqno, body: body}, client}
  end

  @doc "Sends one term as an encrypted message; returns its msg_id."
  @spec send_term(t(), map() | binary(), keyword()) :: {integer(), t()}
  def send_term(client, term, opts \\ []) do
    {msg, client} = message(client, term, opts)
    {msg.msg_id, send_message(client, msg, opts)}
  end

  @doc """
  Encrypts and sends one message (a `Message.t()`). Options: `salt:`, `session_id:`,
  `auth_key:` override the client's; `quick_ack: true`.
  """
  @spec send_message(t(), Message.t(), keyword()) :: t()
  def send_message(client, %{msg_id: id, seqno: seqno, body: body}, opts \\ []) do
    plaintext =
      Message.encode_plaintext(
        Keyword.get(opts, :salt, client.salt),
        Keyword.get(opts, :session_id, client.session_id),
        id,
        seqno,
        body
      )

    packet =
      Crypto.encrypt_message(Keyword.get(opts, :auth_key, client.auth_key), :client, plaintext)

    send_packet(client, packet, Keyword.take(opts, [:quick_ack]))
  end

  @doc "Like `send_message/3` with a quick-ack request; returns the token the server must answer."
  @spec send_message_quick_ack(t(), Message.t()) :: {non_neg_integer(), t()}
  def send_message_quick_ack(client, %{msg_id: id, seqno: seqno, body: body}) do
    plaintext = Message.encode_plaintext(client.salt, client.session_id, id, seqno, body)
    {packet, token} = Crypto.encrypt_message_quick_ack(client.auth_key, :client, plaintext)
    {token, send_packet(client, packet, quick_ack: true)}
  end

  @doc "Sends several messages in one container; returns the container's msg_id."
  @spec send_container(t(), [Message.t()], keyword()) :: {integer(), t()}
  def send_container(client, messages, opts \\ []) do
    body = Message.encode_container(messages)
    {container, client} = message(client, body, opts)
    {container.msg_id, send_message(client, container, opts)}
  end

  @doc """
  Receives the next encrypted packet and returns its messages (containers unwrapped), each
  `%{msg_id, seqno, body, term}` with the body decoded by TL (rpc_result's result too, as
  `term.result`), or `{:transport_error, code}`, `:closed`, `:timeout`.
  """
  @spec recv(t(), timeout()) :: {[map()] | term(), t()}
  def recv(client, timeout \\ 5000) do
    case recv_event(client, timeout) do
      {{:packet, packet}, client} ->
        {:ok, plaintext} = Crypto.decrypt_message(client.auth_key, :server, packet)
        {:ok, header} = Message.decode_plaintext(plaintext)
        true = header.session_id == client.session_id
        {unpack(header), %{client | salt: client.salt}}

      {other, client} ->
        {other, client}
    end
  end

  defp unpack(%{body: body} = header) do
    if Message.container?(body) do
      {:ok, messages} = Message.decode_container(body)
      Enum.flat_map(messages, &unpack(Map.put(&1, :salt, header.salt)))
    else
      [Map.put(header, :term, decode_body(body))]
    end
  end

  defp decode_body(body) do
    case Message.decode_rpc_result(body) do
      {:ok, req, result} ->
        decoded =
          case TL.decode(result) do
            {:ok, term} -> term
            {:error, _} -> {:undecodable, result}
          end

        %{_: :rpc_result, req_msg_id: req, result: decoded, raw: result}

      {:error, _} ->
        TL.decode!(body)
    end
  end

  @doc """
  Receives until `fun` returns a truthy value for a message (acks, new_session_created and
  other messages are collected); returns `{message, all_messages_seen, client}`.
  """
  @spec recv_until(t(), (map() -> boolean()), timeout()) :: {map() | term(), [map()], t()}
  def recv_until(client, fun, timeout \\ 5000, seen \\ []) do
    case recv(client, timeout) do
      {messages, client} when is_list(messages) ->
        seen = seen ++ messages

        case Enum.find(messages, fun) do
          nil -> recv_until(client, fun, timeout, seen)
          found -> {found, seen, client}
        end

      {other, client} ->
        {other, seen, client}
    end
  end

  @doc "Waits for the answer to `req_msg_id` (rpc_result, pong, or a message carrying req_msg_id)."
  @spec answer(t(), integer(), timeout()) :: {map() | term(), [map()], t()}
  def answer(client, req, timeout \\ 5000) do
    recv_until(client, fn %{term: term} -> answers?(term, req) end, timeout)
  end

  defp answers?(%{_: :pong, msg_id: id}, req), do: id == req
  defp answers?(%{req_msg_id: id}, req), do: id == req
  defp answers?(%{bad_msg_id: id}, req), do: id == req
  defp answers?(_, _), do: false

  @doc "Calls `term` (wrapped as the caller builds it) and returns the rpc_result's result."
  @spec call(t(), map(), timeout()) :: {term(), t()}
  def call(client, term, timeout \\ 5000) do
    {id, client} = send_term(client, term)

    case answer(client, id, timeout) do
      {%{term: %{_: :rpc_result, result: result}}, _seen, client} -> {result, client}
      {%{term: other}, _seen, client} -> {other, client}
      {other, _seen, client} -> {other, client}
    end
  end

  @doc "`invokeWithLayer(layer, initConnection(..., query))`."
  @spec init_connection(map(), pos_integer()) :: map()
  def init_connection(query, layer \\ 198) do
    %{
      _: :invokeWithLayer,
      layer: layer,
      query: %{
        _: :initConnection,
        api_id: 1,
        device_model: "test",
        system_version: "test",
        app_version: "1.0",
        system_lang_code: "en",
        lang_pack: "",
        lang_code: "en",
        query: query
      }
    }
  end

  defp random_long do
    <<n::signed-64>> = :crypto.strong_rand_bytes(8)
    n
  end
end
