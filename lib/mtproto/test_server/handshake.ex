defmodule MTProto.TestServer.Handshake do
  @moduledoc """
  The server side of auth key creation, as a state machine over unencrypted message bodies:
  `step(state, body)` answers `req_pq`/`req_pq_multi` with `resPQ`, `req_DH_params` (any of
  the four `p_q_inner_data` constructors, RSA_PAD or the legacy padding) with
  `server_DH_params_ok` (or `server_DH_params_fail` when the decrypted data disagrees), and
  `set_client_DH_params` with `dh_gen_ok`, `dh_gen_retry` (auth_key_id already taken, or the
  `:dh_gen_retry` fault) or `dh_gen_fail` (g_b out of range, wrong retry_id, or the fault).

  The hostile faults (`MTProto.TestServer.Hostile`) change what it sends, never what it checks.

  Anything malformed, out of order or not matching the nonces is `{:error, reason}`: the
  connection answers with transport error -404 and closes, as Telegram does.
  """

  import Bitwise

  alias MTProto.{Crypto, TL}
  alias MTProto.TestServer.{AuthKeys, Faults, Hostile, Shared}

  @g 3

  @derive {Inspect, only: [:stage]}
  defstruct stage: :req_pq,
            nonce: nil,
            server_nonce: nil,
            p: nil,
            q: nil,
            new_nonce: nil,
            expires_in: nil,
            a: nil,
            retry_id: 0

  @type t :: %__MODULE__{}
  @type result ::
          {:reply, binary(), t()}
          | {:done, binary(), AuthKeys.t(), t()}
          | {:error, atom()}

  @doc "A fresh handshake."
  @spec new() :: t()
  def new, do: %__MODULE__{}

  @doc "Handles one unencrypted message body."
  @spec step(t(), binary(), Shared.t()) :: result()
  def step(%__MODULE__{} = hs, body, %Shared{} = shared) do
    case TL.decode(body) do
      {:ok, %{_: name} = msg} -> handle(name, msg, hs, shared)
      {:ok, _} -> {:error, :not_a_handshake_message}
      {:error, _} -> {:error, :undecodable}
    end
  end

  defp handle(name, %{nonce: nonce}, _hs, shared)
       when name in [:req_pq, :req_pq_multi] and byte_size(nonce) == 16 do
    {p, q} = pq_pair()
    hs = %__MODULE__{stage: :req_dh, nonce: nonce, server_nonce: rand(16), p: p, q: q}

    reply(hs, %{
      _: :resPQ,
      nonce: if(hostile?(shared, :wrong_nonce), do: Hostile.other_nonce(nonce), else: nonce),
      server_nonce: hs.server_nonce,
      pq: <<p * q::64>>,
      server_public_key_fingerprints: [shared.fingerprint]
    })
  end

  defp handle(:req_DH_params, msg, %__MODULE__{stage: :req_dh} = hs, shared) do
    with :ok <- check_nonces(msg, hs),
         :ok <- check(int(msg.p) == hs.p and int(msg.q) == hs.q, :wrong_p_q),
         :ok <- check(msg.public_key_fingerprint == shared.fingerprint, :unknown_fingerprint),
         {:ok, inner} <- rsa_decrypt(msg.encrypted_data, shared.rsa_private) do
      case check_inner(inner, hs, shared) do
        :ok -> server_dh_params_ok(inner, hs, shared)
        {:fail, _why} -> server_dh_params_fail(inner, hs)
      end
    end
  end

  defp handle(:set_client_DH_params, msg, %__MODULE__{stage: :set_dh} = hs, shared) do
    with :ok <- check_nonces(msg, hs),
         {:ok, inner} <- decrypt_client_inner(msg.encrypted_data, hs),
         :ok <- check_nonces(inner, hs) do
      dh_gen(inner, hs, shared)
    end
  end

  defp handle(_name, _msg, _hs, _shared), do: {:error, :unexpected_message}

  ## req_DH_params

  # One private-key operation for either padding (Crypto.rsa_decrypt/2 tries both on it).
  defp rsa_decrypt(encrypted, private_pem) when is_binary(encrypted) do
    case Crypto.rsa_decrypt(encrypted, private_pem) do
      {:ok, :rsa_pad, data_with_padding} -> decode_prefix(data_with_padding, &inner_data_size/1)
      {:ok, :legacy, block} -> legacy_data(block)
      {:error, reason} -> {:error, reason}
    end
  end

  # Legacy padding: SHA1(data) <> data <> random, 255 bytes.
  defp legacy_data(<<hash::binary-20, rest::binary>>) do
    with {:ok, size} <- inner_data_size(rest),
         <<data::binary-size(size), _::binary>> <- rest,
         :ok <- check(:crypto.hash(:sha, data) == hash, :bad_hash) do
      decode(data)
    else
      {:error, reason} -> {:error, reason}
      _ -> {:error, :bad_padding}
    end
  end

  defp check_inner(%{_: name} = inner, hs, shared)
       when name in [
              :p_q_inner_data,
              :p_q_inner_data_dc,
              :p_q_inner_data_temp,
              :p_q_inner_data_temp_dc
            ] do
    cond do
      byte_size(inner.new_nonce) != 32 -> {:error, :bad_new_nonce}
      check_nonces(inner, hs) != :ok -> {:fail, :nonce}
      int(inner.pq) != hs.p * hs.q or int(inner.p) != hs.p or int(inner.q) != hs.q -> {:fail, :pq}
      Map.has_key?(inner, :dc) and not our_dc?(inner.dc, shared.dc_id) -> {:fail, :dc}
      Map.get(inner, :expires_in, 1) <= 0 -> {:fail, :expires_in}
      true -> :ok
    end
  end

  defp check_inner(_inner, _hs, _shared), do: {:error, :not_p_q_inner_data}

  # Clients write the dc id, negated for media DCs and plus 10000 for test DCs.
  defp our_dc?(dc, dc_id), do: abs(dc) in [abs(dc_id), 10_000 + abs(dc_id)]

  defp server_dh_params_ok(inner, hs, shared) do
    {a, g_a} = dh_secret()
    dh_prime = Crypto.dh_prime()
    g_a = if hostile?(shared, :bad_g_a), do: Hostile.bad_g_a(), else: g_a
    dh_prime = if hostile?(shared, :bad_dh_prime), do: Hostile.bad_dh_prime(), else: dh_prime

    {:ok, answer} =
      TL.encode(%{
        _: :server_DH_inner_data,
        nonce: hs.nonce,
        server_nonce: hs.server_nonce,
        g: @g,
        dh_prime: dh_prime,
        g_a: g_a,
        server_time: Faults.now(shared)
      })

    with_hash = [:crypto.hash(:sha, answer), answer]
    padded = IO.iodata_to_binary([with_hash | rand(pad16(IO.iodata_length(with_hash)))])
    {key, iv} = Crypto.tmp_aes_key_iv(inner.new_nonce, hs.server_nonce)

    hs = %{hs | stage: :set_dh, new_nonce: inner.new_nonce, a: a}
    hs = %{hs | expires_in: Map.get(inner, :expires_in)}

    server_nonce =
      if hostile?(shared, :wrong_server_nonce),
        do: Hostile.other_nonce(hs.server_nonce),
        else: hs.server_nonce

    reply(hs, %{
      _: :server_DH_params_ok,
      nonce: hs.nonce,
      server_nonce: server_nonce,
      encrypted_answer: Crypto.aes_ige_encrypt(padded, key, iv)
    })
  end

  defp server_dh_params_fail(inner, hs) do
    <<_::binary-4, low128::binary-16>> = :crypto.hash(:sha, inner.new_nonce)

    reply(%{hs | stage: :req_pq}, %{
      _: :server_DH_params_fail,
      nonce: hs.nonce,
      server_nonce: hs.server_nonce,
      new_nonce_hash: low128
    })
  end

  defp dh_secret do
    a = rand(256)
    g_a = Crypto.mod_pow(<<@g>>, a, Crypto.dh_prime())

    case Crypto.dh_check_range(g_a, Crypto.dh_prime()) do
      :ok -> {a, g_a}
      {:error, _} -> dh_secret()
    end
  end

  ## set_client_DH_params

  # At least SHA1 (20 bytes) and a constructor: 32 bytes, whole AES blocks.
  defp decrypt_client_inner(encrypted, hs)
       when is_binary(encrypted) and byte_size(encrypted) >= 32 and
              rem(byte_size(encrypted), 16) == 0 do
    {key, iv} = Crypto.tmp_aes_key_iv(hs.new_nonce, hs.server_nonce)
    <<hash::binary-20, rest::binary>> = Crypto.aes_ige_decrypt(encrypted, key, iv)

    with {:ok, size} <- client_inner_size(rest),
         :ok <- check((byte_size(rest) - size) in 0..15, :bad_padding),
         <<data::binary-size(size), _::binary>> <- rest,
         :ok <- check(:crypto.hash(:sha, data) == hash, :bad_hash),
         {:ok, %{_: :client_DH_inner_data} = inner} <- decode(data) do
      {:ok, inner}
    else
      {:error, reason} -> {:error, reason}
      _ -> {:error, :bad_client_dh_inner_data}
    end
  end

  defp decrypt_client_inner(_encrypted, _hs), do: {:error, :bad_length}

  defp dh_gen(inner, hs, shared) do
    p = Crypto.dh_prime()

    case Crypto.dh_check_range(inner.g_b, p) do
      :ok ->
        auth_key = Crypto.mod_pow(inner.g_b, hs.a, p)

        if inner.retry_id == hs.retry_id,
          do: dh_gen_store(hs, auth_key, Faults.take_dh_gen(shared), shared),
          else: dh_gen_fail(hs, auth_key)

      # No key comes out of such a g_b (it may not even fit mod_pow): new_nonce_hash3 is taken
      # over an all-zero key.
      {:error, _} ->
        dh_gen_fail(hs, <<0::2048>>)
    end
  end

  defp dh_gen_store(hs, auth_key, :dh_gen_retry, _shared), do: dh_gen_retry(hs, auth_key)
  defp dh_gen_store(hs, auth_key, :dh_gen_fail, _shared), do: dh_gen_fail(hs, auth_key)

  defp dh_gen_store(hs, auth_key, nil, shared) do
    <<a::64, _::binary>> = hs.new_nonce
    <<b::64, _::binary>> = hs.server_nonce
    <<salt::little-signed-64>> = <<bxor(a, b)::64>>

    case AuthKeys.insert_new(shared, auth_key, salt, hs.expires_in) do
      {:ok, record} ->
        # (:bad_new_nonce_hash: the hash of a key one bit off.)
        hash_key = if hostile?(shared, :bad_new_nonce_hash), do: flip_last(auth_key), else: auth_key
        body = dh_gen_body(:dh_gen_ok, :new_nonce_hash1, hs, hash_key, 1)
        {:done, body, record, %{hs | stage: :done, a: nil}}

      {:error, :collision} ->
        dh_gen_retry(hs, auth_key)
    end
  end

  defp dh_gen_retry(hs, auth_key) do
    <<retry_id::little-signed-64>> = Crypto.auth_key_aux_hash(auth_key)
    body = dh_gen_body(:dh_gen_retry, :new_nonce_hash2, hs, auth_key, 2)
    {:reply, body, %{hs | retry_id: retry_id}}
  end

  defp dh_gen_fail(hs, auth_key) do
    body = dh_gen_body(:dh_gen_fail, :new_nonce_hash3, hs, auth_key, 3)
    {:reply, body, %{hs | stage: :req_pq, a: nil}}
  end

  defp dh_gen_body(name, field, hs, auth_key, n) do
    TL.encode!(
      Map.put(
        %{_: name, nonce: hs.nonce, server_nonce: hs.server_nonce},
        field,
        Crypto.new_nonce_hash(hs.new_nonce, auth_key, n)
      )
    )
  end

  ## helpers

  defp hostile?(shared, name), do: Faults.hostile?(shared, name)

  defp flip_last(key) do
    size = byte_size(key) - 1
    <<head::binary-size(size), last>> = key
    <<head::binary, bxor(last, 1)>>
  end

  defp reply(hs, term), do: {:reply, TL.encode!(term), hs}

  defp check_nonces(%{nonce: nonce, server_nonce: server_nonce}, hs) do
    if nonce == hs.nonce and server_nonce == hs.server_nonce,
      do: :ok,
      else: {:error, :nonce_mismatch}
  end

  defp check(true, _reason), do: :ok
  defp check(false, reason), do: {:error, reason}

  defp int(bin) when is_binary(bin), do: :binary.decode_unsigned(bin)
  defp int(_), do: -1

  defp rand(n), do: :crypto.strong_rand_bytes(n)
  defp pad16(n), do: rem(16 - rem(n, 16), 16)

  defp decode(data) do
    case TL.decode(data) do
      {:ok, term} -> {:ok, term}
      {:error, _} -> {:error, :undecodable_inner_data}
    end
  end

  defp decode_prefix(data, size_fun) do
    with {:ok, size} <- size_fun.(data),
         <<prefix::binary-size(size), _::binary>> <- data do
      decode(prefix)
    else
      _ -> {:error, :bad_inner_data}
    end
  end

  ## sizes of the TL objects that arrive followed by padding

  @p_q_inner_data 0x83C95AEC
  @p_q_inner_data_dc 0xA9F55F95
  @p_q_inner_data_temp 0x3C6A84D4
  @p_q_inner_data_temp_dc 0x56FDDF88
  @client_dh_inner_data 0x6643B654

  @doc false
  @spec inner_data_size(binary()) :: {:ok, pos_integer()} | :error
  def inner_data_size(<<id::little-32, rest::binary>>) do
    extra =
      case id do
        @p_q_inner_data -> 0
        @p_q_inner_data_dc -> 4
        @p_q_inner_data_temp -> 4
        @p_q_inner_data_temp_dc -> 8
        _ -> nil
      end

    with true <- extra != nil,
         {:ok, s1} <- string_size(rest, 0),
         {:ok, s2} <- string_size(rest, s1),
         {:ok, s3} <- string_size(rest, s2),
         size = 4 + s3 + 16 + 16 + 32 + extra,
         true <- size <= byte_size(rest) + 4 do
      {:ok, size}
    else
      _ -> :error
    end
  end

  def inner_data_size(_), do: :error

  @doc false
  @spec client_inner_size(binary()) :: {:ok, pos_integer()} | :error
  def client_inner_size(<<@client_dh_inner_data::little-32, rest::binary>>) do
    case string_size(rest, 16 + 16 + 8) do
      {:ok, end_of_g_b} when end_of_g_b <= byte_size(rest) -> {:ok, 4 + end_of_g_b}
      _ -> :error
    end
  end

  def client_inner_size(_), do: :error

  # The offset just past a TL string starting at `offset` (length prefix, data, padding to 4).
  defp string_size(bin, offset) do
    case bin do
      <<_::binary-size(offset), 254, len::little-24, _::binary>> -> {:ok, offset + align4(4 + len)}
      <<_::binary-size(offset), len, _::binary>> when len < 254 -> {:ok, offset + align4(1 + len)}
      _ -> :error
    end
  end

  defp align4(n), do: n + rem(4 - rem(n, 4), 4)

  ## pq

  # Two distinct random primes in [2^30, 2^31), smaller first, as Telegram's resPQ has.
  defp pq_pair do
    p = random_prime()
    q = random_prime()

    cond do
      p == q -> pq_pair()
      p < q -> {p, q}
      true -> {q, p}
    end
  end

  defp random_prime do
    <<n::32>> = rand(4)
    candidate = (n &&& 0x3FFFFFFF) ||| 0x40000001
    if prime?(candidate), do: candidate, else: random_prime()
  end

  # Deterministic Miller-Rabin for n < 2^32 (bases 2, 7, 61).
  defp prime?(n) do
    {d, s} = split_twos(n - 1, 0)
    Enum.all?([2, 7, 61], fn a -> rem(a, n) == 0 or strong_probable_prime?(a, d, s, n) end)
  end

  defp split_twos(d, s) when (d &&& 1) == 0, do: split_twos(d >>> 1, s + 1)
  defp split_twos(d, s), do: {d, s}

  defp strong_probable_prime?(a, d, s, n) do
    x = pow_mod(a, d, n)
    x == 1 or x == n - 1 or squares_reach_minus_one?(x, s - 1, n)
  end

  defp squares_reach_minus_one?(_x, 0, _n), do: false

  defp squares_reach_minus_one?(x, k, n) do
    x = rem(x * x, n)
    x == n - 1 or squares_reach_minus_one?(x, k - 1, n)
  end

  defp pow_mod(_b, 0, _m), do: 1

  defp pow_mod(b, e, m) do
    half = pow_mod(rem(b * b, m), e >>> 1, m)
    if (e &&& 1) == 1, do: rem(half * b, m), else: half
  end
end
