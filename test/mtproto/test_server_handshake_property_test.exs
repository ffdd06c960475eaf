defmodule MTProto.TestServerHandshakePropertyTest do
  @moduledoc "The server's handshake state machine never raises, whatever a client sends."
  use MTProto.TestServerCase, async: true

  alias MTProto.Test.Prop
  alias MTProto.TestServer.Handshake
  alias MTProto.TL

  setup do
    server = start_server()
    %{shared: MTProto.TestServer.Core.shared(server)}
  end

  # A handshake that reached the given stage with a real client exchange.
  defp at_stage(shared, :req_dh) do
    {:reply, _, hs} =
      Handshake.step(Handshake.new(), TL.encode!(%{_: :req_pq_multi, nonce: <<1::128>>}), shared)

    hs
  end

  defp at_stage(shared, :set_dh) do
    hs = at_stage(shared, :req_dh)
    p = :binary.encode_unsigned(hs.p)
    q = :binary.encode_unsigned(hs.q)
    common = %{nonce: hs.nonce, server_nonce: hs.server_nonce, p: p, q: q}

    inner =
      TL.encode!(
        Map.merge(common, %{
          _: :p_q_inner_data,
          pq: <<hs.p * hs.q::64>>,
          new_nonce: :crypto.strong_rand_bytes(32)
        })
      )

    request =
      Map.merge(common, %{
        _: :req_DH_params,
        public_key_fingerprint: shared.fingerprint,
        encrypted_data: Crypto.rsa_pad_encrypt(inner, shared.public_pem)
      })

    {:reply, _, hs} = Handshake.step(hs, TL.encode!(request), shared)
    hs
  end

  # set_client_DH_params carrying a correctly hashed and encrypted client_DH_inner_data.
  defp set_client_dh(hs, g_b, retry_id) do
    data =
      TL.encode!(%{
        _: :client_DH_inner_data,
        nonce: hs.nonce,
        server_nonce: hs.server_nonce,
        retry_id: retry_id,
        g_b: g_b
      })

    with_hash = :crypto.hash(:sha, data) <> data
    padded = with_hash <> :binary.copy(<<0>>, rem(16 - rem(byte_size(with_hash), 16), 16))
    {key, iv} = Crypto.tmp_aes_key_iv(hs.new_nonce, hs.server_nonce)

    TL.encode!(%{
      _: :set_client_DH_params,
      nonce: hs.nonce,
      server_nonce: hs.server_nonce,
      encrypted_data: Crypto.aes_ige_encrypt(padded, key, iv)
    })
  end

  test "g_b out of range (empty, 1, p - 1, larger than p, 600 bytes) or a wrong retry_id: dh_gen_fail",
       %{shared: shared} do
    hs = at_stage(shared, :set_dh)
    p = Crypto.dh_prime()
    p_minus_1 = :binary.encode_unsigned(:binary.decode_unsigned(p) - 1)
    good_g_b = Crypto.mod_pow(<<3>>, :crypto.strong_rand_bytes(256), p)

    for {g_b, retry_id} <- [
          {<<>>, 0},
          {<<1>>, 0},
          {p_minus_1, 0},
          {<<1>> <> p, 0},
          {:crypto.strong_rand_bytes(600), 0},
          {good_g_b, 12_345}
        ] do
      assert {:reply, body, _} = Handshake.step(hs, set_client_dh(hs, g_b, retry_id), shared)
      assert %{_: :dh_gen_fail} = TL.decode!(body)
    end

    assert {:done, body, _key, _} = Handshake.step(hs, set_client_dh(hs, good_g_b, 0), shared)
    assert %{_: :dh_gen_ok} = TL.decode!(body)
  end

  defp bytes(max), do: :proper_types.binary() |> then(&:proper_types.resize(max, &1))

  test "random bodies in every stage: a reply or an error, never an exception", %{shared: shared} do
    states = [Handshake.new(), at_stage(shared, :req_dh), at_stage(shared, :set_dh)]

    Prop.check(
      :proper.forall(bytes(300), fn body ->
        Enum.all?(states, fn hs ->
          match?({:reply, _, _}, Handshake.step(hs, body, shared)) or
            match?({:error, _}, Handshake.step(hs, body, shared))
        end)
      end),
      300
    )
  end

  test "well-formed req_DH_params and set_client_DH_params with hostile contents", %{
    shared: shared
  } do
    req_dh = at_stage(shared, :req_dh)
    set_dh = at_stage(shared, :set_dh)
    # A TL long: the test's own encoding must not be what fails.
    int = :proper_types.integer(-0x8000000000000000, 0x7FFFFFFFFFFFFFFF)
    # RSA-sized and AES-sized random data too, so the decryptions run.
    sizes = Enum.map([16, 32, 256, 384], &:proper_types.binary/1)
    data = :proper_types.oneof([bytes(600) | sizes])

    Prop.check(
      :proper.forall({data, bytes(8), int, :proper_types.boolean()}, fn
        {data, pq, fingerprint, right_nonces} ->
          {nonce, server_nonce} =
            if right_nonces,
              do: {req_dh.nonce, req_dh.server_nonce},
              else: {<<0::128>>, <<0::128>>}

          common = %{nonce: nonce, server_nonce: server_nonce}

          dh =
            Map.merge(common, %{
              _: :req_DH_params,
              p: if(right_nonces, do: :binary.encode_unsigned(req_dh.p), else: pq),
              q: :binary.encode_unsigned(req_dh.q),
              public_key_fingerprint: if(right_nonces, do: shared.fingerprint, else: fingerprint),
              encrypted_data: data
            })

          set =
            Map.merge(common, %{
              _: :set_client_DH_params,
              nonce: set_dh.nonce,
              server_nonce: set_dh.server_nonce,
              encrypted_data: data
            })

          Enum.all?([{req_dh, dh}, {set_dh, set}], fn {hs, term} ->
            case Handshake.step(hs, TL.encode!(term), shared) do
              {:reply, _, _} -> true
              {:error, _} -> true
            end
          end)
      end),
      200
    )
  end
end
