defmodule MTProto.Handshake do
  @moduledoc """
  Creating an auth key: the client side of the MTProto DH exchange as a pure state machine.

      {:send, body, hs} = Handshake.start(rsa_keys: keys, dc_id: 2)
      # send `body` as an unencrypted message, feed the answer's body back:
      {:send, body, hs} = Handshake.step(hs, res_pq_body)        # req_DH_params
      {:send, body, hs} = Handshake.step(hs, server_dh_body)     # set_client_DH_params
      {:ok, %{auth_key: key, server_salt: salt, time_offset: s}} = Handshake.step(hs, dh_gen_body)

  No I/O: bodies in, bodies out (the caller wraps them with `MTProto.Message.encode_plain/2`).
  Every check of the security guidelines is made, and each failure is a named
  `{:error, reason}`: nonces echoed at every step, a trusted key fingerprint, pq factorized,
  the SHA1 inside the encrypted answer, dh_prime a 2048-bit safe prime and g generating the
  subgroup of order (p-1)/2, `g_a` and `g_b` in range, new_nonce_hash1/2/3.

  Options of `start/1`:

    * `:rsa_keys` (required): the public keys (PEM) the client trusts.
    * `:dc_id`: the datacenter id written into `p_q_inner_data_dc` (test DCs: id + 10000,
      media DCs negative); default 2.
    * `:temp`: `nil` (permanent key, default) or the lifetime in seconds of a temporary key
      (`p_q_inner_data_temp_dc`).
    * `:rand`: the source of randomness, `(n -> n bytes)`; `:crypto.strong_rand_bytes/1` by
      default. The machine draws, in order: nonce (16), new_nonce (32), the RSA_PAD
      randomness, b (256), the padding of `client_DH_inner_data` (0..15 bytes).
    * `:now`: `(-> unix seconds)`, to compute the time offset; the system clock by default.
    * `:check_dh`: `(dh_prime, g -> :ok | {:error, reason})`, `MTProto.Crypto.dh_check_prime/2`
      by default. Only for replaying the documentation's worked example (its g = 2 fails the
      residue condition for its prime); never loosen it against a real server.
    * `:max_retries`: how many `dh_gen_retry` answers are followed (default 5).
  """

  import Bitwise

  alias MTProto.{Crypto, TL}

  @enforce_keys [:stage, :rand, :rsa_keys, :dc_id, :temp, :now, :check_dh, :max_retries]
  defstruct @enforce_keys ++
              [
                :nonce,
                :server_nonce,
                :new_nonce,
                :dh_prime,
                :g,
                :g_a,
                :auth_key,
                :time_offset,
                retries: 0
              ]

  @opaque t :: %__MODULE__{}

  @typedoc "What a finished handshake gives."
  @type result :: %{
          auth_key: <<_::2048>>,
          server_salt: integer(),
          time_offset: integer(),
          kind: :perm | :temp,
          expires_at: integer() | nil
        }

  @type reason ::
          :decode_error
          | {:unexpected, atom()}
          | :nonce_mismatch
          | :server_nonce_mismatch
          | :no_trusted_key
          | :bad_pq
          | :server_dh_params_fail
          | :bad_answer_length
          | :answer_hash_mismatch
          | :bad_dh_prime
          | :prime_not_2048_bits
          | :bad_g
          | :g_not_generator
          | :not_safe_prime
          | :g_a_out_of_range
          | :g_b_out_of_range
          | :new_nonce_hash_mismatch
          | :dh_gen_fail
          | :too_many_retries

  @type step_result :: {:send, binary(), t()} | {:ok, result()} | {:error, reason()}

  @doc "Starts a handshake: the `req_pq_multi` body to send and the state awaiting `resPQ`."
  @spec start(keyword()) :: {:send, binary(), t()}
  def start(opts) do
    opts =
      Keyword.validate!(opts,
        rsa_keys: [],
        dc_id: 2,
        temp: nil,
        rand: &:crypto.strong_rand_bytes/1,
        now: fn -> System.os_time(:second) end,
        check_dh: &Crypto.dh_check_prime/2,
        max_retries: 5
      )

    keys = for pem <- opts[:rsa_keys], do: {Crypto.rsa_fingerprint(pem), pem}
    if keys == [], do: raise(ArgumentError, "the handshake needs at least one :rsa_keys PEM")

    hs = %__MODULE__{
      stage: :res_pq,
      rand: opts[:rand],
      rsa_keys: keys,
      dc_id: opts[:dc_id],
      temp: opts[:temp],
      now: opts[:now],
      check_dh: opts[:check_dh],
      max_retries: opts[:max_retries]
    }

    nonce = random(hs, 16)
    {:send, TL.encode!(%{_: :req_pq_multi, nonce: nonce}), %{hs | nonce: nonce}}
  end

  @doc "Feeds the body of the server's answer; gives the next body to send, the result or an error."
  @spec step(t(), binary()) :: step_result()
  def step(%__MODULE__{stage: stage} = hs, body) when is_binary(body) do
    case TL.decode(body) do
      {:ok, %{_: _} = term} -> handle(stage, term, hs)
      _ -> {:error, :decode_error}
    end
  end

  @doc "The stage the handshake waits in: `:res_pq`, `:server_dh` or `:dh_gen`."
  @spec stage(t()) :: :res_pq | :server_dh | :dh_gen
  def stage(%__MODULE__{stage: stage}), do: stage

  ## resPQ -> req_DH_params

  defp handle(:res_pq, %{_: :resPQ} = res, hs) do
    with :ok <- check_nonces(res, hs.nonce, nil),
         {:ok, fingerprint, pem} <- trusted_key(res.server_public_key_fingerprints, hs),
         {:ok, p, q} <- split_pq(res.pq) do
      new_nonce = random(hs, 32)
      inner = inner_data(hs, res, p, q, new_nonce)
      encrypted = Crypto.rsa_pad_encrypt(TL.encode!(inner), pem, hs.rand)

      body =
        TL.encode!(%{
          _: :req_DH_params,
          nonce: hs.nonce,
          server_nonce: res.server_nonce,
          p: p,
          q: q,
          public_key_fingerprint: fingerprint,
          encrypted_data: encrypted
        })

      {:send, body, %{hs | stage: :server_dh, server_nonce: res.server_nonce, new_nonce: new_nonce}}
    end
  end

  ## server_DH_params -> set_client_DH_params

  defp handle(:server_dh, %{_: :server_DH_params_fail} = fail, hs) do
    with :ok <- check_nonces(fail, hs.nonce, hs.server_nonce) do
      <<_::binary-size(4), hash::binary-size(16)>> = :crypto.hash(:sha, hs.new_nonce)

      if equal?(fail.new_nonce_hash, hash),
        do: {:error, :server_dh_params_fail},
        else: {:error, :new_nonce_hash_mismatch}
    end
  end

  defp handle(:server_dh, %{_: :server_DH_params_ok} = ok, hs) do
    with :ok <- check_nonces(ok, hs.nonce, hs.server_nonce),
         {:ok, answer} <- decrypt_answer(ok.encrypted_answer, hs),
         {:ok, %{_: :server_DH_inner_data} = inner} <- decode_inner(answer),
         :ok <- check_nonces(inner, hs.nonce, hs.server_nonce),
         :ok <- check_dh(inner, hs) do
      hs = %{
        hs
        | dh_prime: inner.dh_prime,
          g: inner.g,
          g_a: inner.g_a,
          time_offset: inner.server_time - hs.now.()
      }

      client_dh(hs, 0)
    end
  end

  ## dh_gen_*

  defp handle(:dh_gen, %{_: :dh_gen_ok} = ok, hs) do
    with :ok <- check_nonces(ok, hs.nonce, hs.server_nonce),
         :ok <- check_hash(ok.new_nonce_hash1, hs, 1) do
      <<a::little-signed-64, _::binary>> = hs.new_nonce
      <<b::little-signed-64, _::binary>> = hs.server_nonce
      now = hs.now.() + hs.time_offset

      {:ok,
       %{
         auth_key: hs.auth_key,
         server_salt: bxor(a, b),
         time_offset: hs.time_offset,
         kind: if(hs.temp, do: :temp, else: :perm),
         expires_at: if(hs.temp, do: now + hs.temp)
       }}
    end
  end

  defp handle(:dh_gen, %{_: :dh_gen_retry} = retry, hs) do
    with :ok <- check_nonces(retry, hs.nonce, hs.server_nonce),
         :ok <- check_hash(retry.new_nonce_hash2, hs, 2) do
      if hs.retries >= hs.max_retries do
        {:error, :too_many_retries}
      else
        <<retry_id::little-signed-64>> = Crypto.auth_key_aux_hash(hs.auth_key)
        client_dh(%{hs | retries: hs.retries + 1}, retry_id)
      end
    end
  end

  defp handle(:dh_gen, %{_: :dh_gen_fail} = fail, hs) do
    with :ok <- check_nonces(fail, hs.nonce, hs.server_nonce),
         :ok <- check_hash(fail.new_nonce_hash3, hs, 3) do
      {:error, :dh_gen_fail}
    end
  end

  defp handle(_stage, %{_: name}, _hs), do: {:error, {:unexpected, name}}

  ## Pieces

  defp inner_data(%{temp: nil} = hs, res, p, q, new_nonce) do
    %{
      _: :p_q_inner_data_dc,
      pq: res.pq,
      p: p,
      q: q,
      nonce: hs.nonce,
      server_nonce: res.server_nonce,
      new_nonce: new_nonce,
      dc: hs.dc_id
    }
  end

  defp inner_data(hs, res, p, q, new_nonce) do
    hs
    |> Map.put(:temp, nil)
    |> inner_data(res, p, q, new_nonce)
    |> Map.merge(%{_: :p_q_inner_data_temp_dc, expires_in: hs.temp})
  end

  # b is drawn, g_b = g^b mod p checked for range (a new b if it falls outside), then
  # auth_key = g_a^b mod p, and client_DH_inner_data goes out encrypted with the tmp key.
  defp client_dh(hs, retry_id, attempts \\ 0)
  defp client_dh(_hs, _retry_id, 8), do: {:error, :g_b_out_of_range}

  defp client_dh(hs, retry_id, attempts) do
    b = random(hs, 256)
    g_b = Crypto.mod_pow(<<hs.g>>, b, hs.dh_prime)

    case Crypto.dh_check_range(g_b, hs.dh_prime) do
      :ok ->
        auth_key = Crypto.mod_pow(hs.g_a, b, hs.dh_prime)

        inner =
          TL.encode!(%{
            _: :client_DH_inner_data,
            nonce: hs.nonce,
            server_nonce: hs.server_nonce,
            retry_id: retry_id,
            g_b: g_b
          })

        data = [:crypto.hash(:sha, inner), inner]
        padding = random(hs, rem(16 - rem(IO.iodata_length(data), 16), 16))
        {key, iv} = Crypto.tmp_aes_key_iv(hs.new_nonce, hs.server_nonce)
        encrypted = Crypto.aes_ige_encrypt(IO.iodata_to_binary([data, padding]), key, iv)

        body =
          TL.encode!(%{
            _: :set_client_DH_params,
            nonce: hs.nonce,
            server_nonce: hs.server_nonce,
            encrypted_data: encrypted
          })

        {:send, body, %{hs | stage: :dh_gen, auth_key: auth_key}}

      {:error, _} ->
        client_dh(hs, retry_id, attempts + 1)
    end
  end

  defp check_nonces(term, nonce, server_nonce) do
    cond do
      not equal?(term.nonce, nonce) ->
        {:error, :nonce_mismatch}

      server_nonce != nil and not equal?(term.server_nonce, server_nonce) ->
        {:error, :server_nonce_mismatch}

      not (is_binary(term.server_nonce) and byte_size(term.server_nonce) == 16) ->
        {:error, :server_nonce_mismatch}

      true ->
        :ok
    end
  end

  defp trusted_key(fingerprints, hs) do
    case Enum.find(hs.rsa_keys, fn {fp, _} -> fp in fingerprints end) do
      {fp, pem} -> {:ok, fp, pem}
      nil -> {:error, :no_trusted_key}
    end
  end

  defp split_pq(pq) when byte_size(pq) in 1..8 do
    case Crypto.factorize(:binary.decode_unsigned(pq)) do
      {:ok, {p, q}} -> {:ok, :binary.encode_unsigned(p), :binary.encode_unsigned(q)}
      {:error, _} -> {:error, :bad_pq}
    end
  end

  defp split_pq(_pq), do: {:error, :bad_pq}

  # answer_with_hash = SHA1(answer) + answer + 0..15 random bytes: the answer's length is the
  # one whose SHA1 matches, so nothing is parsed before it is authenticated.
  defp decrypt_answer(encrypted, hs)
       when rem(byte_size(encrypted), 16) == 0 and byte_size(encrypted) >= 32 do
    {key, iv} = Crypto.tmp_aes_key_iv(hs.new_nonce, hs.server_nonce)
    <<hash::binary-size(20), rest::binary>> = Crypto.aes_ige_decrypt(encrypted, key, iv)

    Enum.find_value(0..15, {:error, :answer_hash_mismatch}, fn pad ->
      if pad <= byte_size(rest) do
        answer = binary_part(rest, 0, byte_size(rest) - pad)
        if equal?(:crypto.hash(:sha, answer), hash), do: {:ok, answer}
      end
    end)
  end

  defp decrypt_answer(_encrypted, _hs), do: {:error, :bad_answer_length}

  defp decode_inner(answer) do
    case TL.decode(answer) do
      {:ok, %{_: :server_DH_inner_data}} = ok -> ok
      {:ok, %{_: name}} -> {:error, {:unexpected, name}}
      _ -> {:error, :decode_error}
    end
  end

  defp check_dh(%{dh_prime: p, g: g, g_a: g_a}, hs) do
    with true <- byte_size(p) == 256 || {:error, :prime_not_2048_bits},
         :ok <- hs.check_dh.(p, g),
         :ok <- range(g_a, p) do
      :ok
    end
  end

  defp range(g_a, p) do
    case Crypto.dh_check_range(g_a, p) do
      :ok -> :ok
      {:error, _} -> {:error, :g_a_out_of_range}
    end
  end

  defp check_hash(got, hs, n) do
    if equal?(got, Crypto.new_nonce_hash(hs.new_nonce, hs.auth_key, n)),
      do: :ok,
      else: {:error, :new_nonce_hash_mismatch}
  end

  defp equal?(a, b) when is_binary(a) and is_binary(b) and byte_size(a) == byte_size(b),
    do: :crypto.hash_equals(a, b)

  defp equal?(_, _), do: false

  defp random(%{rand: rand}, n) do
    case rand.(n) do
      bytes when is_binary(bytes) and byte_size(bytes) == n -> bytes
      other -> raise ArgumentError, ":rand.(#{n}) returned #{inspect(other, limit: 5)}"
    end
  end
end
