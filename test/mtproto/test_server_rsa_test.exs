defmodule MTProto.TestServerRsaTest do
  # Not async: the call trace below counts the RSA decryptions of every process.
  use MTProto.TestServerCase, async: false

  @decryptions [:rsa_pad_decrypt, :rsa_legacy_decrypt, :rsa_decrypt_any]

  setup_all do
    {:ok, pem: rsa_key()}
  end

  describe "Crypto.rsa_decrypt/2 (either padding, one private-key operation)" do
    test "gives the bytes of the single-padding decryptions and says which", %{pem: sk} do
      [entry] = :public_key.pem_decode(sk)
      {:RSAPrivateKey, _, n, e, _, _, _, _, _, _, _} = :public_key.pem_entry_decode(entry)

      pk =
        :public_key.pem_encode([:public_key.pem_entry_encode(:RSAPublicKey, {:RSAPublicKey, n, e})])

      for len <- [0, 1, 100, 144] do
        data = :crypto.strong_rand_bytes(len)
        enc = Crypto.rsa_pad_encrypt(data, pk)
        {:ok, padded} = Crypto.rsa_pad_decrypt(enc, sk)
        assert Crypto.rsa_decrypt(enc, sk) == {:ok, :rsa_pad, padded}
        assert binary_part(padded, 0, len) == data

        enc = Crypto.rsa_legacy_encrypt(data, pk)
        {:ok, block} = Crypto.rsa_legacy_decrypt(enc, sk)
        assert Crypto.rsa_decrypt(enc, sk) == {:ok, :legacy, block}
        assert binary_part(block, 0, 20 + len) == :crypto.hash(:sha, data) <> data
      end

      assert Crypto.rsa_decrypt(<<>>, sk) == {:error, :bad_length}
      assert Crypto.rsa_decrypt(:binary.copy(<<255>>, 256), sk) == {:error, :out_of_range}
      assert Crypto.rsa_decrypt(:binary.encode_unsigned(n), sk) == {:error, :out_of_range}
      big = :binary.encode_unsigned(n - 1)
      assert Crypto.rsa_decrypt(big, sk) == {:error, :bad_padding}
      assert_raise ArgumentError, fn -> Crypto.rsa_decrypt(big, pk) end
      assert_raise ArgumentError, fn -> Crypto.rsa_decrypt(:not_binary, sk) end
    end
  end

  test "the server's handshake costs one RSA decryption whichever padding the client uses" do
    server = start_server()

    for padding <- [:legacy, :rsa_pad] do
      client = connect(server)
      {calls, {:ok, client}} = count_decryptions(fn -> C.handshake(client, padding: padding) end)
      assert calls == [:rsa_decrypt_any], "#{padding}: #{inspect(calls)}"
      {%{_: :pong}, _} = C.call(client, %{_: :ping, ping_id: 1})
    end
  end

  # The RSA decryption NIFs called (by any process) while fun runs.
  defp count_decryptions(fun) do
    :erlang.trace(:all, true, [:call, {:tracer, self()}])
    for f <- @decryptions, do: :erlang.trace_pattern({:mtproto_nif, f, 2}, true, [:global])

    try do
      result = fun.()
      {collect([]), result}
    after
      :erlang.trace_pattern({:mtproto_nif, :_, :_}, false, [:global])
      :erlang.trace(:all, false, [:call])
    end
  end

  defp collect(acc) do
    receive do
      {:trace, _pid, :call, {:mtproto_nif, f, _args}} -> collect([f | acc])
    after
      200 -> Enum.reverse(acc)
    end
  end
end
