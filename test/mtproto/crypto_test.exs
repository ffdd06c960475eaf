defmodule MTProto.CryptoTest do
  use ExUnit.Case, async: true
  import Bitwise

  alias MTProto.Crypto
  alias MTProto.Test.{CryptoReference, Prop}

  @samples CryptoReference.samples()
  @telegram_key File.read!("test/vectors/telegram_2013_public_key.pem")

  setup_all do
    {private_pem, public_pem} = Crypto.rsa_generate(2048)
    %{private: private_pem, public: public_pem}
  end

  defp rand(n), do: :crypto.strong_rand_bytes(n)

  # A reproducible rand_fun (for checking that the randomness really is injected).
  defp seeded_rand(seed) do
    state = :rand.seed_s(:exsss, seed)
    {:ok, agent} = Agent.start_link(fn -> state end)

    fn n ->
      Agent.get_and_update(agent, fn s ->
        {bytes, s} = Enum.map_reduce(1..max(n, 1)//1, s, fn _, s -> :rand.uniform_s(256, s) end)
        {bytes |> Enum.take(n) |> Enum.map(&(&1 - 1)) |> :binary.list_to_bin(), s}
      end)
    end
  end

  describe "AES-256-IGE" do
    test "both implementations reproduce the documentation's encrypted_answer" do
      %{tmp_aes_key: key, tmp_aes_iv: iv, encrypted_answer: enc, answer: answer} = @samples

      for impl <- Crypto.aes_ige_impls() do
        plain = Crypto.aes_ige(:decrypt, impl, enc, key, iv)
        assert <<sha::binary-20, ^answer::binary-564, _pad::binary-8>> = plain
        assert sha == :crypto.hash(:sha, answer)
        assert Crypto.aes_ige(:encrypt, impl, plain, key, iv) == enc
      end

      assert Crypto.aes_ige_decrypt(enc, key, iv) |> binary_part(20, 564) == answer
    end

    test "the default implementation is AES-NI when the CPU has it" do
      assert :portable in Crypto.aes_ige_impls()
      assert Crypto.aes_ige_default_impl() in Crypto.aes_ige_impls()

      if :aesni in Crypto.aes_ige_impls() and System.get_env("MTPROTO_AES_IGE") != "portable",
        do: assert(Crypto.aes_ige_default_impl() == :aesni)
    end

    test "AES-NI, portable and a pure-Elixir IGE over :crypto's aes_256_ecb agree (PropEr)" do
      impls = Crypto.aes_ige_impls()

      prop =
        :proper.forall(
          {Prop.blocks(200), :proper_types.binary(32), :proper_types.binary(32)},
          fn {data, key, iv} ->
            enc = CryptoReference.ige_encrypt(data, key, iv)
            dec = CryptoReference.ige_decrypt(data, key, iv)

            Enum.all?(impls, fn impl ->
              Crypto.aes_ige(:encrypt, impl, data, key, iv) == enc and
                Crypto.aes_ige(:decrypt, impl, data, key, iv) == dec
            end) and Crypto.aes_ige_encrypt(data, key, iv) == enc and
              Crypto.aes_ige_decrypt(enc, key, iv) == data
          end
        )

      Prop.check(prop, 150)
    end

    test "large inputs (run on a dirty scheduler) match between implementations and round trip" do
      key = rand(32)
      iv = rand(32)
      data = rand(3 * 1024 * 1024 + 16)
      enc = Crypto.aes_ige_encrypt(data, key, iv)

      for impl <- Crypto.aes_ige_impls() do
        assert Crypto.aes_ige(:encrypt, impl, data, key, iv) == enc
        assert Crypto.aes_ige(:decrypt, impl, enc, key, iv) == data
      end

      # iodata is accepted for the data
      assert Crypto.aes_ige_encrypt(
               [binary_part(data, 0, 16), binary_part(data, 16, 32)],
               key,
               iv
             ) ==
               binary_part(enc, 0, 48)
    end

    test "wrong sizes raise ArgumentError" do
      for {data, key, iv} <- [
            {rand(15), rand(32), rand(32)},
            {rand(16), rand(31), rand(32)},
            {rand(16), rand(32), rand(16)},
            {:not_binary, rand(32), rand(32)}
          ] do
        assert_raise ArgumentError, fn -> Crypto.aes_ige_encrypt(data, key, iv) end
        assert_raise ArgumentError, fn -> Crypto.aes_ige_decrypt(data, key, iv) end
      end

      assert_raise ArgumentError, fn ->
        Crypto.aes_ige(:encrypt, :nope, rand(16), rand(32), rand(32))
      end

      assert_raise ArgumentError, fn ->
        Crypto.aes_ige(:both, :portable, rand(16), rand(32), rand(32))
      end

      assert Crypto.aes_ige_encrypt(<<>>, rand(32), rand(32)) == <<>>
    end
  end

  describe "AES-256-CTR" do
    test "NIST SP 800-38A F.5.5 and chunking independence, like :crypto's aes_256_ctr" do
      key = Base.decode16!("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4")
      iv = Base.decode16!("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF")
      pt = Base.decode16!("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51")
      ct = Base.decode16!("601EC313775789A5B7A7F504BBF3D228F443E3CA4D62B59ACA84E990CACAF5C5")
      assert Crypto.aes_ctr_apply(Crypto.aes_ctr_init(key, iv), pt) == ct

      data = rand(100_000)
      want = :crypto.crypto_one_time(:aes_256_ctr, key, iv, data, true)
      ctr = Crypto.aes_ctr_init(key, iv)

      {pieces, _} =
        Enum.map_reduce([1, 15, 16, 17, 1000, 70_000, 28_951], 0, fn n, off ->
          {Crypto.aes_ctr_apply(ctr, binary_part(data, off, n)), off + n}
        end)

      assert IO.iodata_to_binary(pieces) == want
      assert_raise ArgumentError, fn -> Crypto.aes_ctr_init(rand(16), iv) end
      assert_raise ArgumentError, fn -> Crypto.aes_ctr_apply(make_ref(), "x") end
    end

    test "random keys, counters near 2^64 and 2^128 and random pieces, against :crypto" do
      for i <- 1..60 do
        key = rand(32)
        low = 0xFFFFFFFFFFFFFFFF - :rand.uniform(20)

        iv =
          case rem(i, 3) do
            0 -> rand(16)
            1 -> <<rand(8)::binary, low::64>>
            2 -> <<0xFFFFFFFFFFFFFFFF::64, low::64>>
          end

        data = rand(:rand.uniform(3000))
        want = :crypto.crypto_one_time(:aes_256_ctr, key, iv, data, true)
        ctr = Crypto.aes_ctr_init(key, iv)
        assert IO.iodata_to_binary(apply_in_pieces(ctr, data)) == want
      end
    end
  end

  defp apply_in_pieces(_ctr, <<>>), do: []

  defp apply_in_pieces(ctr, data) do
    n = min(:rand.uniform(200) - 1, byte_size(data))
    <<piece::binary-size(n), rest::binary>> = data
    [Crypto.aes_ctr_apply(ctr, piece) | apply_in_pieces(ctr, rest)]
  end

  describe "MTProto 2.0 messages" do
    defp plaintext(body) do
      <<rand(8)::binary, rand(8)::binary, 1::little-64, 1::little-32, byte_size(body)::little-32,
        body::binary>>
    end

    test "round trips for both roles, decryptable by the spec's own formulas (PropEr)" do
      prop =
        :proper.forall(
          {:proper_types.integer(0, 300), :proper_types.elements([:client, :server])},
          fn {words, sender} ->
            auth_key = rand(256)
            plain = plaintext(rand(4 * words))
            packet = Crypto.encrypt_message(auth_key, sender, plain)
            padding = byte_size(packet) - 24 - byte_size(plain)
            {:ok, with_padding} = CryptoReference.decrypt_message(auth_key, sender, packet)

            binary_part(packet, 0, 8) == CryptoReference.auth_key_id(auth_key) and
              padding in 12..1024 and rem(byte_size(plain) + padding, 16) == 0 and
              binary_part(with_padding, 0, byte_size(plain)) == plain and
              Crypto.decrypt_message(auth_key, sender, packet) == {:ok, plain}
          end
        )

      Prop.check(prop, 200)
    end

    test "messages built by the reference are decrypted, padding 12..1024 in any block count" do
      auth_key = rand(256)
      plain = plaintext(rand(36))

      for pad_len <- [12, 28, 300, 1020], sender <- [:client, :server] do
        packet = CryptoReference.encrypt_message(auth_key, sender, plain, rand(pad_len))
        assert Crypto.decrypt_message(auth_key, sender, packet) == {:ok, plain}
      end
    end

    test "quick-ack tokens: the sender's and the receiver's agree with the spec's formula" do
      for sender <- [:client, :server], words <- [0, 1, 7, 300] do
        auth_key = rand(256)
        plain = plaintext(rand(4 * words))
        {packet, token} = Crypto.encrypt_message_quick_ack(auth_key, sender, plain)
        {:ok, with_padding} = CryptoReference.decrypt_message(auth_key, sender, packet)
        x = CryptoReference.x(sender)
        assert token == CryptoReference.quick_ack_token(auth_key, x, with_padding)
        assert token >= 0x80000000
        assert Crypto.decrypt_message_quick_ack(auth_key, sender, packet) == {:ok, plain, token}
        assert Crypto.decrypt_message(auth_key, sender, packet) == {:ok, plain}
      end

      auth_key = rand(256)
      {packet, _} = Crypto.encrypt_message_quick_ack(auth_key, :client, plaintext("abcd"))
      <<head::binary-30, b, tail::binary>> = packet
      tampered = <<head::binary, Bitwise.bxor(b, 1), tail::binary>>

      assert Crypto.decrypt_message_quick_ack(auth_key, :client, tampered) ==
               {:error, :msg_key_mismatch}
    end

    test "the padding comes from rand_fun" do
      auth_key = rand(256)
      plain = plaintext("abcd")
      a = Crypto.encrypt_message(auth_key, :client, plain, seeded_rand(7))
      assert a == Crypto.encrypt_message(auth_key, :client, plain, seeded_rand(7))
      refute a == Crypto.encrypt_message(auth_key, :client, plain, seeded_rand(8))

      assert_raise ArgumentError, fn ->
        Crypto.encrypt_message(auth_key, :client, plain, &rand(&1 - 1))
      end
    end

    test "every single flipped bit of an encrypted message gives {:error, _}" do
      auth_key = rand(256)
      packet = Crypto.encrypt_message(auth_key, :server, plaintext(rand(64)))
      bits = byte_size(packet) * 8

      for bit <- 0..(bits - 1) do
        <<pre::bitstring-size(bit), b::1, post::bitstring>> = packet
        flipped = <<pre::bitstring, 1 - b::1, post::bitstring>>
        want = if bit < 64, do: :auth_key_id_mismatch, else: :msg_key_mismatch
        assert Crypto.decrypt_message(auth_key, :server, flipped) == {:error, want}
      end
    end

    test "each receive check" do
      auth_key = rand(256)
      plain = plaintext(rand(40))
      packet = Crypto.encrypt_message(auth_key, :client, plain)
      assert Crypto.decrypt_message(auth_key, :server, packet) == {:error, :msg_key_mismatch}
      assert Crypto.decrypt_message(rand(256), :client, packet) == {:error, :auth_key_id_mismatch}
      short = binary_part(packet, 0, byte_size(packet) - 1)
      assert Crypto.decrypt_message(auth_key, :client, short) == {:error, :bad_length}

      assert Crypto.decrypt_message(auth_key, :client, binary_part(packet, 0, 24 + 32)) ==
               {:error, :bad_length}

      assert Crypto.decrypt_message(auth_key, :client, <<>>) == {:error, :bad_length}

      # a valid msg_key over a bad header: message_data_length and the padding it implies
      bad = fn len, pad ->
        <<head::binary-28, _::little-32, body::binary>> = plain
        p = <<head::binary, len::little-32, body::binary>>
        CryptoReference.encrypt_message(auth_key, :client, p, rand(pad))
      end

      assert Crypto.decrypt_message(auth_key, :client, bad.(40, 24)) |> elem(0) == :ok

      assert Crypto.decrypt_message(auth_key, :client, bad.(42, 24)) ==
               {:error, :bad_message_length}

      assert Crypto.decrypt_message(auth_key, :client, bad.(56, 24)) ==
               {:error, :bad_message_length}

      assert Crypto.decrypt_message(auth_key, :client, bad.(0xFFFFFFFC, 24)) ==
               {:error, :bad_message_length}

      # 72 + 1048 bytes: data_len 64 leaves 1024 bytes of padding, 60 leaves 1028
      assert Crypto.decrypt_message(auth_key, :client, bad.(40, 1048)) == {:error, :bad_padding}
      assert Crypto.decrypt_message(auth_key, :client, bad.(60, 1048)) == {:error, :bad_padding}
      assert Crypto.decrypt_message(auth_key, :client, bad.(64, 1048)) |> elem(0) == :ok
    end

    test "wrong argument sizes raise ArgumentError" do
      assert_raise ArgumentError, fn ->
        Crypto.encrypt_message(rand(255), :client, plaintext(""))
      end

      assert_raise ArgumentError, fn ->
        Crypto.encrypt_message(rand(256), :both, plaintext(""))
      end

      assert_raise ArgumentError, fn -> Crypto.decrypt_message(rand(257), :client, rand(72)) end
      assert_raise ArgumentError, fn -> Crypto.decrypt_message(rand(256), :client, :packet) end
    end
  end

  describe "the documentation's auth key example (samples-auth_key)" do
    test "every value the core computes" do
      s = @samples
      <<pq::64>> = s.pq
      <<p::32>> = s.p
      <<q::32>> = s.q
      <<fp::signed-64>> = s.fingerprint
      assert Crypto.factorize(pq) == {:ok, {p, q}}
      assert Crypto.rsa_fingerprint(@telegram_key) == fp
      assert Crypto.tmp_aes_key_iv(s.new_nonce, s.server_nonce) == {s.tmp_aes_key, s.tmp_aes_iv}

      <<_sha::binary-20, answer::binary-564, _::binary>> =
        Crypto.aes_ige_decrypt(s.encrypted_answer, s.tmp_aes_key, s.tmp_aes_iv)

      assert answer == s.answer

      <<_::binary-36, 2::little-32, 254, 256::little-24, dh_prime::binary-256, 254, 256::little-24,
        g_a::binary-256, _time::binary-4>> = answer

      assert dh_prime == Crypto.dh_prime()
      assert Crypto.dh_check_prime(dh_prime, 2) == {:error, :g_not_generator}
      assert Crypto.dh_check_prime(dh_prime, 3) == :ok
      assert Crypto.dh_check_range(g_a, dh_prime) == :ok
      g_b = Crypto.mod_pow(<<2>>, s.b, dh_prime)
      assert g_b == s.g_b
      assert Crypto.dh_check_range(g_b, dh_prime) == :ok
      auth_key = Crypto.mod_pow(g_a, s.b, dh_prime)
      assert auth_key == s.auth_key
      assert Crypto.new_nonce_hash(s.new_nonce, auth_key, 1) == s.new_nonce_hash1
      sha = :crypto.hash(:sha, auth_key)
      assert Crypto.auth_key_id(auth_key) == binary_part(sha, 12, 8)
      assert Crypto.auth_key_aux_hash(auth_key) == binary_part(sha, 0, 8)

      aux = binary_part(sha, 0, 8)

      for n <- 1..3 do
        want = :crypto.hash(:sha, s.new_nonce <> <<n>> <> aux) |> binary_part(4, 16)
        assert Crypto.new_nonce_hash(s.new_nonce, auth_key, n) == want
      end
    end
  end

  describe "pq factorization" do
    defp random_prime(bits) do
      n = :rand.uniform(1 <<< (bits - 1)) - 1 ||| 1 <<< (bits - 1) ||| 1
      if prime?(n), do: n, else: random_prime(bits)
    end

    # Deterministic Miller-Rabin for n < 3.3 * 10^24, written here independently of the C.
    defp prime?(n) when n < 2, do: false

    defp prime?(n) do
      bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]

      if Enum.any?(bases, &(rem(n, &1) == 0)) do
        n in bases
      else
        {d, s} = split(n - 1, 0)
        Enum.all?(bases, &mr_round(&1, d, s, n))
      end
    end

    defp split(d, s) when rem(d, 2) == 0, do: split(div(d, 2), s + 1)
    defp split(d, s), do: {d, s}

    defp mr_round(a, d, s, n) do
      x = :binary.decode_unsigned(:crypto.mod_pow(a, d, n))

      x == 1 or x == n - 1 or
        Enum.any?(1..(s - 1)//1, fn r ->
          :binary.decode_unsigned(:crypto.mod_pow(x, 1 <<< r, n)) == n - 1
        end)
    end

    test "random products of two 31-bit primes (PropEr)" do
      prop =
        :proper.forall(:proper_types.integer(1, 1 <<< 30), fn seed ->
          :rand.seed(:exsss, seed)
          p = random_prime(31)
          q = random_prime(31)
          want = if p < q, do: {:ok, {p, q}}, else: {:ok, {q, p}}
          p == q or Crypto.factorize(p * q) == want
        end)

      Prop.check(prop, 300)
    end

    test "inputs that are not a product of two distinct primes" do
      assert Crypto.factorize(4_294_967_291) == {:error, :prime}
      assert Crypto.factorize(4_294_967_291 * 4_294_967_291) == {:error, :not_semiprime}
      assert Crypto.factorize(3 * 5 * 7 * 11) == {:error, :not_semiprime}
      assert Crypto.factorize(5) == {:error, :too_small}
      assert Crypto.factorize(1 <<< 64) == {:error, :too_large}
      assert Crypto.factorize((1 <<< 64) - 1) == {:error, :not_semiprime}
      assert_raise ArgumentError, fn -> Crypto.factorize(-1) end
      assert_raise ArgumentError, fn -> Crypto.factorize("17") end
    end
  end

  describe "Diffie-Hellman" do
    # RFC 3526 group 14: a 2048-bit safe prime, p = 7 (mod 8).
    @rfc3526 ("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22" <>
                "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6" <>
                "F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" <>
                "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB" <>
                "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E8603" <>
                "9B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" <>
                "15728E5A8AACAA68FFFFFFFFFFFFFFFF")
             |> Base.decode16!()

    test "safe primes pass with a generating g, others are refused" do
      p = Crypto.dh_prime()
      assert Crypto.dh_check_prime(p, 3) == :ok
      assert Crypto.dh_check_prime(p, 4) == :ok
      assert Crypto.dh_check_prime(p, 7) == :ok
      for g <- [2, 5, 6], do: assert(Crypto.dh_check_prime(p, g) == {:error, :g_not_generator})
      for g <- [0, 1, 8, -3], do: assert(Crypto.dh_check_prime(p, g) == {:error, :bad_g})
      assert_raise ArgumentError, fn -> Crypto.dh_check_prime(p, "3") end
      assert_raise ArgumentError, fn -> Crypto.dh_check_prime(:p, 3) end

      rfc = :binary.decode_unsigned(@rfc3526)
      assert rem(rfc, 8) == 7

      for g <- 2..7 do
        want = if generates?(rfc, g), do: :ok, else: {:error, :g_not_generator}
        assert Crypto.dh_check_prime(@rfc3526, g) == want
      end

      assert Crypto.dh_check_prime(binary_part(p, 1, 255), 3) == {:error, :prime_not_2048_bits}
      assert Crypto.dh_check_prime(<<1, p::binary>>, 3) == {:error, :prime_not_2048_bits}
      assert Crypto.dh_check_prime(<<0, p::binary>>, 3) == :ok
    end

    # The conditions on p mod 4g that the security guidelines give.
    defp generates?(p, 2), do: rem(p, 8) == 7
    defp generates?(p, 3), do: rem(p, 3) == 2
    defp generates?(_p, 4), do: true
    defp generates?(p, 5), do: rem(p, 5) in [1, 4]
    defp generates?(p, 6), do: rem(p, 24) in [19, 23]
    defp generates?(p, 7), do: rem(p, 7) in [3, 5, 6]

    test "composite and non-safe primes are refused" do
      n = :binary.decode_unsigned(Crypto.dh_prime())
      composite = :binary.encode_unsigned(n + 4)
      assert rem(n + 4, 3) == 0
      assert Crypto.dh_check_prime(composite, 4) == {:error, :not_safe_prime}
      assert Crypto.dh_check_prime(:binary.encode_unsigned(n + 2), 4) == {:error, :not_safe_prime}
      # a prime whose (p-1)/2 is not prime: a prime factor of a fresh 4096-bit RSA modulus
      {private_pem, _} = Crypto.rsa_generate(4096)
      [entry] = :public_key.pem_decode(private_pem)
      rsa_prime = :public_key.pem_entry_decode(entry) |> elem(5)
      assert rsa_prime >>> 2047 == 1 and prime?(rsa_prime)

      assert Crypto.dh_check_prime(:binary.encode_unsigned(rsa_prime), 4) ==
               {:error, :not_safe_prime}
    end

    test "the range check at its edges and at random (PropEr)" do
      p = Crypto.dh_prime()
      n = :binary.decode_unsigned(p)
      lo = 1 <<< (2048 - 64)
      hi = n - lo
      enc = &:binary.encode_unsigned/1

      for {x, ok} <- [
            {lo - 1, false},
            {lo, true},
            {hi, true},
            {hi + 1, false},
            {0, false},
            {1, false},
            {2, false},
            {n - 2, false},
            {n - 1, false},
            {n, false},
            {n + lo, false}
          ] do
        want = if ok, do: :ok, else: {:error, :g_x_out_of_range}
        assert Crypto.dh_check_range(enc.(x), p) == want, "g_x = #{x}"
      end

      prop =
        :proper.forall(:proper_types.binary(256), fn bytes ->
          x = :binary.decode_unsigned(bytes)
          want = if x >= lo and x <= hi, do: :ok, else: {:error, :g_x_out_of_range}
          Crypto.dh_check_range(bytes, p) == want
        end)

      Prop.check(prop, 300)
      assert Crypto.dh_check_range(<<>>, p) == {:error, :g_x_out_of_range}
    end

    test "mod_pow agrees with :crypto.mod_pow and keeps leading zeros (PropEr)" do
      prop =
        :proper.forall(
          {:proper_types.binary(), :proper_types.binary(),
           :proper_types.non_empty(:proper_types.binary())},
          fn {b, e, m} ->
            if :binary.decode_unsigned(m) == 0 do
              true
            else
              want = :crypto.mod_pow(b, e, m)
              want = if want == :error, do: <<0>>, else: want
              got = Crypto.mod_pow(b, e, m)

              byte_size(got) == byte_size(m) and
                :binary.decode_unsigned(got) == :binary.decode_unsigned(want)
            end
          end
        )

      Prop.check(prop, 300)
      # an auth key whose first byte is zero stays 256 bytes
      p = Crypto.dh_prime()
      assert Crypto.mod_pow(<<1>>, rand(256), p) == <<0::2040, 1>>
      assert_raise ArgumentError, fn -> Crypto.mod_pow(<<2>>, <<3>>, <<0, 0>>) end
      assert_raise ArgumentError, fn -> Crypto.mod_pow(<<2>>, <<3>>, <<>>) end
      assert_raise ArgumentError, fn -> Crypto.mod_pow(<<2>>, rand(513), p) end
    end
  end

  describe "RSA" do
    test "generated keys: Telegram's PEM form, fingerprints in every form", %{
      private: sk,
      public: pk
    } do
      assert pk =~ "-----BEGIN RSA PUBLIC KEY-----"
      assert Crypto.rsa_fingerprint(pk) == CryptoReference.fingerprint(pk)
      assert Crypto.rsa_fingerprint(sk) == Crypto.rsa_fingerprint(pk)

      [entry] = :public_key.pem_decode(pk)

      spki =
        :public_key.pem_encode([
          :public_key.pem_entry_encode(:SubjectPublicKeyInfo, :public_key.pem_entry_decode(entry))
        ])

      assert spki =~ "-----BEGIN PUBLIC KEY-----"
      assert Crypto.rsa_fingerprint(spki) == Crypto.rsa_fingerprint(pk)
      assert Crypto.rsa_fingerprint(@telegram_key) == CryptoReference.fingerprint(@telegram_key)

      for bad <- ["", "junk", String.replace(pk, "MII", "MIJ")] do
        assert_raise ArgumentError, fn -> Crypto.rsa_fingerprint(bad) end
      end

      assert_raise ArgumentError, fn -> Crypto.rsa_generate(512) end
    end

    test "RSA_PAD round trips and matches the spec's construction", %{private: sk, public: pk} do
      for len <- [0, 1, 96, 144] do
        data = rand(len)
        enc = Crypto.rsa_pad_encrypt(data, pk)
        assert byte_size(enc) == 256

        assert {:ok, <<^data::binary-size(len), _::binary>> = padded} =
                 Crypto.rsa_pad_decrypt(enc, sk)

        assert byte_size(padded) == 192
        assert CryptoReference.rsa_pad_decrypt(enc, sk) == {:ok, padded}
      end

      assert_raise ArgumentError, fn -> Crypto.rsa_pad_encrypt(rand(145), pk) end
      assert_raise ArgumentError, fn -> Crypto.rsa_pad_encrypt("x", "not a key") end
    end

    test "RSA_PAD draws a new temp_key while the result is not below the modulus" do
      # Telegram's key has n < 0xC2 * 2^2040: about a quarter of temp_keys are redrawn.
      draws =
        for seed <- 1..24 do
          rand_fun = seeded_rand(seed)
          {:ok, counter} = Agent.start_link(fn -> 0 end)

          counting = fn n ->
            if n == 32, do: Agent.update(counter, &(&1 + 1))
            rand_fun.(n)
          end

          enc = Crypto.rsa_pad_encrypt("data", @telegram_key, counting)
          assert enc == Crypto.rsa_pad_encrypt("data", @telegram_key, seeded_rand(seed))
          Agent.get(counter, & &1)
        end

      assert Enum.all?(draws, &(&1 >= 1))
      assert Enum.any?(draws, &(&1 > 1))
    end

    test "RSA_PAD decryption refuses what it did not encrypt", %{private: sk, public: pk} do
      enc = Crypto.rsa_pad_encrypt(rand(100), pk)
      <<first, rest::binary>> = enc
      assert {:error, reason} = Crypto.rsa_pad_decrypt(<<bxor(first, 1), rest::binary>>, sk)
      assert reason in [:bad_hash, :out_of_range]
      assert Crypto.rsa_pad_decrypt(:binary.copy(<<255>>, 256), sk) == {:error, :out_of_range}
      assert Crypto.rsa_pad_decrypt(<<>>, sk) == {:error, :bad_length}
      assert Crypto.rsa_pad_decrypt(rand(257), sk) == {:error, :bad_length}
      assert_raise ArgumentError, fn -> Crypto.rsa_pad_decrypt(enc, pk) end
    end

    test "legacy padding: SHA1(data) + data + random, raw RSA", %{private: sk, public: pk} do
      data = rand(96)
      rand_fun = seeded_rand(3)
      enc = Crypto.rsa_legacy_encrypt(data, pk, rand_fun)
      padding = seeded_rand(3).(235 - 96)
      sha = :crypto.hash(:sha, data)
      assert {:ok, raw} = Crypto.rsa_legacy_decrypt(enc, sk)
      assert raw == sha <> data <> padding
      assert CryptoReference.rsa_raw_decrypt(enc, sk) == <<0>> <> raw
      # a number of 256 significant bytes cannot come from 255 bytes
      n = CryptoReference.rsa_numbers(pk).n
      big = :crypto.mod_pow(n - 1, CryptoReference.rsa_numbers(pk).e, n)
      assert Crypto.rsa_legacy_decrypt(big, sk) == {:error, :bad_padding}
      assert Crypto.rsa_legacy_decrypt(:binary.encode_unsigned(n), sk) == {:error, :out_of_range}
      assert_raise ArgumentError, fn -> Crypto.rsa_legacy_encrypt(rand(236), pk) end
    end
  end

  describe "no crash on random input (PropEr)" do
    test "decryptions and checks return {:ok, _}, {:error, _} or raise ArgumentError",
         %{private: sk} do
      auth_key = rand(256)
      p = Crypto.dh_prime()

      prop =
        :proper.forall(:proper_types.binary(), fn bin ->
          results = [
            Crypto.decrypt_message(auth_key, :client, bin),
            Crypto.decrypt_message(
              auth_key,
              :server,
              <<Crypto.auth_key_id(auth_key)::binary, bin::binary>>
            ),
            Crypto.rsa_pad_decrypt(bin, sk),
            Crypto.rsa_legacy_decrypt(bin, sk),
            Crypto.dh_check_range(bin, p),
            Crypto.dh_check_range(p, bin)
          ]

          Enum.all?(results, &(&1 == :ok or match?({:ok, _}, &1) or match?({:error, _}, &1))) and
            raises_or_ok(fn -> Crypto.rsa_fingerprint(bin) end)
        end)

      Prop.check(prop, 200)
    end

    defp raises_or_ok(fun) do
      fun.()
      true
    rescue
      ArgumentError -> true
    end
  end
end
