defmodule MTProto.Test.CryptoReference do
  @moduledoc """
  Plain re-statements of the MTProto pages on top of OTP's `:crypto` and `:public_key`, slow and
  obvious, to check the C core against (never used by the library itself).
  """

  ## AES-256-IGE over aes-256-ecb, one block at a time

  def ige_encrypt(data, key, <<c_prev::binary-16, p_prev::binary-16>>),
    do: ige_enc(data, key, c_prev, p_prev, [])

  defp ige_enc(<<p::binary-16, rest::binary>>, key, c_prev, p_prev, acc) do
    c = :crypto.exor(ecb(key, :crypto.exor(p, c_prev), true), p_prev)
    ige_enc(rest, key, c, p, [acc | c])
  end

  defp ige_enc(<<>>, _key, _c, _p, acc), do: IO.iodata_to_binary(acc)

  def ige_decrypt(data, key, <<c_prev::binary-16, p_prev::binary-16>>),
    do: ige_dec(data, key, c_prev, p_prev, [])

  defp ige_dec(<<c::binary-16, rest::binary>>, key, c_prev, p_prev, acc) do
    p = :crypto.exor(ecb(key, :crypto.exor(c, p_prev), false), c_prev)
    ige_dec(rest, key, c, p, [acc | p])
  end

  defp ige_dec(<<>>, _key, _c, _p, acc), do: IO.iodata_to_binary(acc)

  defp ecb(key, block, encrypt?), do: :crypto.crypto_one_time(:aes_256_ecb, key, block, encrypt?)

  ## MTProto 2.0 (core.telegram.org/mtproto/description)

  def x(:client), do: 0
  def x(:server), do: 8

  def msg_key(auth_key, x, plaintext_and_padding) do
    large = sha256(binary_part(auth_key, 88 + x, 32) <> plaintext_and_padding)
    binary_part(large, 8, 16)
  end

  def kdf(auth_key, msg_key, x) do
    a = sha256(msg_key <> binary_part(auth_key, x, 36))
    b = sha256(binary_part(auth_key, 40 + x, 36) <> msg_key)
    key = binary_part(a, 0, 8) <> binary_part(b, 8, 16) <> binary_part(a, 24, 8)
    iv = binary_part(b, 0, 8) <> binary_part(a, 8, 16) <> binary_part(b, 24, 8)
    {key, iv}
  end

  def auth_key_id(auth_key), do: binary_part(sha1(auth_key), 12, 8)

  @doc "Quick-ack token (mtproto-transports): msg_key_large's first 32 bits, high bit set."
  def quick_ack_token(auth_key, x, plaintext_and_padding) do
    <<token::little-32, _::binary>> =
      sha256(binary_part(auth_key, 88 + x, 32) <> plaintext_and_padding)

    Bitwise.bor(token, 0x80000000)
  end

  @doc "Encrypts with the given padding, whatever it is (so tests can build bad messages)."
  def encrypt_message(auth_key, sender, plaintext, padding) do
    x = x(sender)
    data = plaintext <> padding
    msg_key = msg_key(auth_key, x, data)
    {key, iv} = kdf(auth_key, msg_key, x)
    auth_key_id(auth_key) <> msg_key <> ige_encrypt(data, key, iv)
  end

  @doc "Decrypts and checks msg_key only: {:ok, plaintext_and_padding} | :error."
  def decrypt_message(auth_key, sender, <<_id::binary-8, msg_key::binary-16, enc::binary>>) do
    x = x(sender)
    {key, iv} = kdf(auth_key, msg_key, x)
    data = ige_decrypt(enc, key, iv)
    if msg_key(auth_key, x, data) == msg_key, do: {:ok, data}, else: :error
  end

  ## RSA (core.telegram.org/mtproto/auth_key)

  def rsa_numbers(pem) do
    [entry] = :public_key.pem_decode(pem)

    case :public_key.pem_entry_decode(entry) do
      {:RSAPublicKey, n, e} -> %{n: n, e: e}
      {:RSAPrivateKey, _, n, e, d, _, _, _, _, _, _} -> %{n: n, e: e, d: d}
    end
  end

  def fingerprint(pem) do
    %{n: n, e: e} = rsa_numbers(pem)
    digest = sha1(tl_bytes(:binary.encode_unsigned(n)) <> tl_bytes(:binary.encode_unsigned(e)))
    <<_::binary-12, fp::little-signed-64>> = digest
    fp
  end

  defp tl_bytes(b) when byte_size(b) < 254, do: pad4(<<byte_size(b)>> <> b)
  defp tl_bytes(b), do: pad4(<<254, byte_size(b)::little-24>> <> b)
  defp pad4(b), do: b <> :binary.copy(<<0>>, rem(4 - rem(byte_size(b), 4), 4))

  def rsa_raw_decrypt(encrypted, private_pem) do
    %{n: n, d: d} = rsa_numbers(private_pem)
    m = :crypto.mod_pow(encrypted, d, n)
    :binary.copy(<<0>>, 256 - byte_size(m)) <> m
  end

  @doc "RSA_PAD, undone as the spec builds it: {:ok, data_with_padding} | :error."
  def rsa_pad_decrypt(encrypted, private_pem) do
    <<temp_key_xor::binary-32, aes_encrypted::binary-224>> = rsa_raw_decrypt(encrypted, private_pem)

    temp_key = :crypto.exor(temp_key_xor, sha256(aes_encrypted))
    <<reversed::binary-192, hash::binary-32>> = ige_decrypt(aes_encrypted, temp_key, <<0::256>>)

    data_with_padding = reversed |> :binary.bin_to_list() |> Enum.reverse() |> :binary.list_to_bin()

    if sha256(temp_key <> data_with_padding) == hash, do: {:ok, data_with_padding}, else: :error
  end

  ## The documentation's worked example, test/vectors/samples-auth_key.txt

  def samples do
    for line <- File.stream!("test/vectors/samples-auth_key.txt"),
        line = String.trim(line),
        line != "" and not String.starts_with?(line, "#"),
        into: %{} do
      [name, hex] = String.split(line, " ", parts: 2)
      {String.to_atom(name), Base.decode16!(hex, case: :mixed)}
    end
  end

  def sha1(data), do: :crypto.hash(:sha, data)
  def sha256(data), do: :crypto.hash(:sha256, data)
end
