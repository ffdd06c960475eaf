defmodule MTProto.Crypto do
  @moduledoc """
  The cryptography of MTProto 2.0, done in C (`:mtproto_nif`).

    * AES-256-IGE (an AES-NI path when the CPU has it, a portable OpenSSL path otherwise, same
      bytes) and AES-256-CTR streams for the obfuscated transport.
    * Message encryption for both roles: `:client` (x = 0) and `:server` (x = 8).
    * Handshake math: pq factorization, RSA_PAD and legacy RSA padding (and the server's
      decryptions), fingerprints, DH prime and range checks, `mod_pow`, nonce hashes.

  Arguments of the wrong type or size raise `ArgumentError`; data from the wire that fails a
  check gives `{:error, reason}`. Big integers are big-endian binaries. Calls that can take more
  than about a millisecond run on dirty CPU schedulers. Functions that need randomness take a
  `rand_fun` (`(n -> n random bytes)`, `:crypto.strong_rand_bytes/1` by default) so tests can
  make them reproducible.
  """

  import Bitwise

  @typedoc "A 2048-bit auth key: always exactly 256 bytes, leading zero bytes kept."
  @type auth_key :: <<_::2048>>
  @typedoc "Who encrypted a message: the client (x = 0) or the server (x = 8)."
  @type sender :: :client | :server
  @typedoc "`(n -> n random bytes)`"
  @type rand_fun :: (non_neg_integer() -> binary())
  @typedoc "A PEM-encoded RSA key."
  @type pem :: binary()

  @default_rand &:crypto.strong_rand_bytes/1
  # MSG_PADDING_RANDOM_BYTES in c_src/msg_crypto.h
  @padding_random_bytes 76

  @doc "How many random bytes `encrypt_message/4` takes from its `rand_fun` per message."
  @spec padding_random_bytes() :: pos_integer()
  def padding_random_bytes, do: @padding_random_bytes

  ## AES

  @doc "AES-256-IGE encryption; `data` is a multiple of 16 bytes, `iv` 32 bytes."
  @spec aes_ige_encrypt(binary(), <<_::256>>, <<_::256>>) :: binary()
  def aes_ige_encrypt(data, key, iv), do: :mtproto_nif.aes_ige_encrypt(data, key, iv)

  @doc "AES-256-IGE decryption; `data` is a multiple of 16 bytes, `iv` 32 bytes."
  @spec aes_ige_decrypt(binary(), <<_::256>>, <<_::256>>) :: binary()
  def aes_ige_decrypt(data, key, iv), do: :mtproto_nif.aes_ige_decrypt(data, key, iv)

  @doc """
  AES-256-IGE with a chosen implementation (`:aesni` or `:portable`, see `aes_ige_impls/0`);
  the two must agree, which the tests and benchmarks check.
  """
  @spec aes_ige(:encrypt | :decrypt, :aesni | :portable, binary(), <<_::256>>, <<_::256>>) ::
          binary()
  def aes_ige(direction, impl, data, key, iv) when direction in [:encrypt, :decrypt] do
    :mtproto_nif.aes_ige_with(impl, direction == :encrypt, data, key, iv)
  end

  def aes_ige(direction, _impl, _data, _key, _iv),
    do: raise(ArgumentError, "direction must be :encrypt or :decrypt, got: #{inspect(direction)}")

  @doc "The AES-256-IGE implementations this machine can run."
  @spec aes_ige_impls() :: [:aesni | :portable]
  def aes_ige_impls, do: :mtproto_nif.aes_ige_impls()

  @doc "The implementation `aes_ige_encrypt/3` and `aes_ige_decrypt/3` use (chosen at load)."
  @spec aes_ige_default_impl() :: :aesni | :portable
  def aes_ige_default_impl, do: :mtproto_nif.aes_ige_default_impl()

  @doc "A new AES-256-CTR stream (a reference to C state) from a 32-byte key and 16-byte iv."
  @spec aes_ctr_init(<<_::256>>, <<_::128>>) :: reference()
  def aes_ctr_init(key, iv), do: :mtproto_nif.aes_ctr_init(key, iv)

  @doc "XORs the next `byte_size(data)` bytes of the stream into `data`."
  @spec aes_ctr_apply(reference(), iodata()) :: binary()
  def aes_ctr_apply(ctr, data), do: :mtproto_nif.aes_ctr_apply(ctr, data)

  ## Messages

  @doc """
  Encrypts an MTProto 2.0 message: `plaintext` is `salt(8) session_id(8) msg_id(8) seq_no(4)
  length(4) body`; 12..1024 random padding bytes are added. Returns
  `auth_key_id <> msg_key <> ciphertext`.
  """
  @spec encrypt_message(auth_key(), sender(), iodata(), rand_fun()) :: binary()
  def encrypt_message(auth_key, sender, plaintext, rand_fun \\ @default_rand) do
    # The C side picks the padding length (the least valid one plus 0..3 random blocks) and
    # takes the padding from these bytes.
    random = random!(rand_fun, @padding_random_bytes)
    :mtproto_nif.encrypt_message(auth_key, sender, plaintext, random)
  end

  @doc """
  Checks and decrypts a packet that `sender` encrypted: the auth_key_id, the length (a multiple
  of 16), the msg_key (in constant time, before anything else inside is looked at), then
  message_data_length (a multiple of 4, inside the plaintext) and the padding (12..1024).
  Returns the 32-byte header and the body, padding removed.
  """
  @spec decrypt_message(auth_key(), sender(), binary()) ::
          {:ok, binary()}
          | {:error,
             :auth_key_id_mismatch
             | :bad_length
             | :msg_key_mismatch
             | :bad_message_length
             | :bad_padding}
  def decrypt_message(auth_key, sender, packet),
    do: :mtproto_nif.decrypt_message(auth_key, sender, packet)

  @typedoc """
  A quick-ack token (core.telegram.org/mtproto/mtproto-transports): the first 4 bytes of
  `SHA256(auth_key[88+x, 32) <> plaintext <> padding)` read little-endian, with the high bit
  set; the value `MTProto.Transport` frames and parses.
  """
  @type quick_ack_token :: 0x80000000..0xFFFFFFFF

  @doc """
  `encrypt_message/4` that also returns the quick-ack token the receiver will answer with, so a
  sender that asks for a quick ack can match the answer to the message.
  """
  @spec encrypt_message_quick_ack(auth_key(), sender(), iodata(), rand_fun()) ::
          {binary(), quick_ack_token()}
  def encrypt_message_quick_ack(auth_key, sender, plaintext, rand_fun \\ @default_rand) do
    random = random!(rand_fun, @padding_random_bytes)
    :mtproto_nif.encrypt_message_quick_ack(auth_key, sender, plaintext, random)
  end

  @doc """
  `decrypt_message/3` that also returns the quick-ack token of the message (computed from the
  same hash as the msg_key check, so it costs nothing extra), for a receiver asked for a quick ack.
  """
  @spec decrypt_message_quick_ack(auth_key(), sender(), binary()) ::
          {:ok, binary(), quick_ack_token()} | {:error, atom()}
  def decrypt_message_quick_ack(auth_key, sender, packet),
    do: :mtproto_nif.decrypt_message_quick_ack(auth_key, sender, packet)

  ## Handshake hashes

  @doc "auth_key_id: the 64 lower-order bits of SHA1(auth_key), the 8 bytes as on the wire."
  @spec auth_key_id(auth_key()) :: <<_::64>>
  def auth_key_id(auth_key), do: :mtproto_nif.auth_key_id(auth_key)

  @doc "auth_key_aux_hash: the 64 higher-order bits of SHA1(auth_key) (dh_gen_retry's retry_id)."
  @spec auth_key_aux_hash(auth_key()) :: <<_::64>>
  def auth_key_aux_hash(auth_key), do: :mtproto_nif.auth_key_aux_hash(auth_key)

  @doc "new_nonce_hash1/2/3 of dh_gen_ok/dh_gen_retry/dh_gen_fail."
  @spec new_nonce_hash(<<_::256>>, auth_key(), 1..3) :: <<_::128>>
  def new_nonce_hash(new_nonce, auth_key, n),
    do: :mtproto_nif.new_nonce_hash(new_nonce, auth_key, n)

  @doc "The temporary AES key and iv that encrypt the DH parameters."
  @spec tmp_aes_key_iv(<<_::256>>, <<_::128>>) :: {<<_::256>>, <<_::256>>}
  def tmp_aes_key_iv(new_nonce, server_nonce),
    do: :mtproto_nif.tmp_aes_key_iv(new_nonce, server_nonce)

  ## pq

  @doc "Splits the handshake's pq into its two prime factors, `p < q`."
  @spec factorize(pos_integer()) ::
          {:ok, {pos_integer(), pos_integer()}}
          | {:error, :too_small | :too_large | :prime | :not_semiprime | :gave_up}
  def factorize(pq) when is_integer(pq) and pq >= 1 <<< 64, do: {:error, :too_large}
  def factorize(pq) when is_integer(pq) and pq >= 0, do: :mtproto_nif.factorize(pq)

  def factorize(pq),
    do: raise(ArgumentError, "pq must be a non-negative integer, got: #{inspect(pq)}")

  ## Diffie-Hellman

  @doc """
  Checks a server's DH parameters: `p` is a 2048-bit safe prime and `g` (2..7) generates the
  subgroup of order (p-1)/2. Primes proven once are cached, so repeated checks are cheap.
  """
  @spec dh_check_prime(binary(), integer()) ::
          :ok | {:error, :prime_not_2048_bits | :bad_g | :g_not_generator | :not_safe_prime}
  def dh_check_prime(p, g) when is_integer(g) and g in 2..7, do: :mtproto_nif.dh_check_prime(p, g)
  def dh_check_prime(p, g) when is_binary(p) and is_integer(g), do: {:error, :bad_g}

  def dh_check_prime(p, g),
    do: raise(ArgumentError, "expected a binary and an integer, got: #{inspect({p, g})}")

  @doc "`1 < g_x < p - 1` and `2^(2048-64) <= g_x <= p - 2^(2048-64)`."
  @spec dh_check_range(binary(), binary()) :: :ok | {:error, :g_x_out_of_range}
  def dh_check_range(g_x, p), do: :mtproto_nif.dh_check_range(g_x, p)

  @doc """
  `base^exp mod mod`, left-padded to `byte_size(mod)` (so an auth key is always 256 bytes).
  Operands up to 4096 bits; constant time in `exp` for odd moduli.
  """
  @spec mod_pow(binary(), binary(), binary()) :: binary()
  def mod_pow(base, exp, mod), do: :mtproto_nif.mod_pow(base, exp, mod)

  @doc "A 2048-bit safe prime for servers (Telegram's current dh_prime; g = 3 works with it)."
  @spec dh_prime() :: <<_::2048>>
  def dh_prime, do: :mtproto_nif.dh_prime()

  ## RSA

  @doc """
  A new RSA key pair with e = 65537: `{private_pem, public_pem}`, the public key as
  `BEGIN RSA PUBLIC KEY` like the keys Telegram publishes. 2048 bits for MTProto.
  """
  @spec rsa_generate(1024..4096) :: {pem(), pem()}
  def rsa_generate(bits \\ 2048), do: :mtproto_nif.rsa_generate(bits)

  @doc """
  The key's fingerprint as resPQ lists it: the lower 64 bits of SHA1 of the TL-serialized
  `n` and `e`, as a signed 64-bit integer. Takes `RSA PUBLIC KEY`, `PUBLIC KEY` or a private key.
  """
  @spec rsa_fingerprint(pem()) :: integer()
  def rsa_fingerprint(pem), do: :mtproto_nif.rsa_fingerprint(pem)

  @doc "RSA_PAD encryption of `data` (at most 144 bytes) for `req_DH_params`: 256 bytes."
  @spec rsa_pad_encrypt(binary(), pem(), rand_fun()) :: <<_::2048>>
  def rsa_pad_encrypt(data, public_pem, rand_fun \\ @default_rand) when is_binary(data) do
    if byte_size(data) > 144, do: raise(ArgumentError, "RSA_PAD data is limited to 144 bytes")
    padding = random!(rand_fun, 192 - byte_size(data))
    rsa_pad_attempt(data, public_pem, padding, rand_fun)
  end

  # A temp_key whose result is not below the modulus is replaced, as the spec says.
  defp rsa_pad_attempt(data, public_pem, padding, rand_fun) do
    case :mtproto_nif.rsa_pad_encrypt(data, public_pem, padding, random!(rand_fun, 32)) do
      :retry -> rsa_pad_attempt(data, public_pem, padding, rand_fun)
      encrypted -> encrypted
    end
  end

  @doc "Legacy encryption: raw RSA of `SHA1(data) <> data <> random` (255 bytes); data <= 235."
  @spec rsa_legacy_encrypt(binary(), pem(), rand_fun()) :: <<_::2048>>
  def rsa_legacy_encrypt(data, public_pem, rand_fun \\ @default_rand) when is_binary(data) do
    if byte_size(data) > 235, do: raise(ArgumentError, "legacy RSA data is limited to 235 bytes")
    :mtproto_nif.rsa_legacy_encrypt(data, public_pem, random!(rand_fun, 235 - byte_size(data)))
  end

  @doc """
  Server side of RSA_PAD: checks the SHA256 inside and returns `data_with_padding` (192
  bytes; the TL object at its start, random bytes after).
  """
  @spec rsa_pad_decrypt(binary(), pem()) ::
          {:ok, <<_::1536>>} | {:error, :bad_length | :out_of_range | :bad_hash}
  def rsa_pad_decrypt(encrypted, private_pem),
    do: :mtproto_nif.rsa_pad_decrypt(encrypted, private_pem)

  @doc """
  Server side of the legacy padding: the raw 255 bytes `SHA1(data) <> data <> padding`. The
  caller decodes `data` (e.g. `TL.decode_prefix`) and then checks the SHA1.
  """
  @spec rsa_legacy_decrypt(binary(), pem()) ::
          {:ok, <<_::2040>>} | {:error, :bad_length | :out_of_range | :bad_padding}
  def rsa_legacy_decrypt(encrypted, private_pem),
    do: :mtproto_nif.rsa_legacy_decrypt(encrypted, private_pem)

  @doc """
  Server side of either padding with one private-key operation (the whole cost of a
  decryption): RSA_PAD is tried first (its SHA256 checked), then the legacy layout.
  `{:ok, :rsa_pad, data_with_padding}` (192 bytes, as `rsa_pad_decrypt/2`) or
  `{:ok, :legacy, sha1_data_padding}` (255 bytes, as `rsa_legacy_decrypt/2`: the caller checks
  the SHA1); `{:error, :bad_padding}` when neither fits.
  """
  @spec rsa_decrypt(binary(), pem()) ::
          {:ok, :rsa_pad, <<_::1536>>}
          | {:ok, :legacy, <<_::2040>>}
          | {:error, :bad_length | :out_of_range | :bad_padding}
  def rsa_decrypt(encrypted, private_pem), do: :mtproto_nif.rsa_decrypt_any(encrypted, private_pem)

  defp random!(rand_fun, n) do
    case rand_fun.(n) do
      bytes when is_binary(bytes) and byte_size(bytes) == n ->
        bytes

      other ->
        raise ArgumentError, "rand_fun.(#{n}) returned #{byte_size_or_inspect(other)}"
    end
  end

  defp byte_size_or_inspect(bin) when is_binary(bin), do: "#{byte_size(bin)} bytes"
  defp byte_size_or_inspect(other), do: inspect(other)
end
