defmodule MTProto.AuthKeyTest do
  use ExUnit.Case, async: true
  alias MTProto.{AuthKey, Crypto, DC, RpcError}

  test "inspect shows the dc, id and kind but never the key or the salt" do
    key = :crypto.strong_rand_bytes(256)
    ak = AuthKey.new(key, 2, server_salt: 0x1234_5678_9ABC_DEF0, user_id: 42)
    shown = inspect(ak) <> inspect([ak]) <> inspect(%{k: ak}, structs: true)
    <<id::little-signed-64>> = Crypto.auth_key_id(key)
    assert ak.id == id
    assert shown =~ "dc 2"
    assert shown =~ Base.encode16(<<id::signed-64>>, case: :lower)
    refute shown =~ Base.encode16(key, case: :lower)
    refute shown =~ Base.encode16(binary_part(key, 0, 8), case: :lower)
    refute shown =~ "123456789"
    refute shown =~ inspect(key)
  end

  test "temporary keys expire, permanent ones do not" do
    key = :crypto.strong_rand_bytes(256)
    refute AuthKey.expired?(AuthKey.new(key, 1), 4_000_000_000)
    temp = AuthKey.new(key, 1, kind: :temp, expires_at: 1000)
    refute AuthKey.expired?(temp, 999)
    assert AuthKey.expired?(temp, 1000)
  end

  test "the published production key has its published fingerprint" do
    [prod] = DC.rsa_keys(:production)
    [test] = DC.rsa_keys(:test)
    assert Crypto.rsa_fingerprint(prod) == -3_414_540_481_677_951_611
    assert <<Crypto.rsa_fingerprint(test)::signed-64>> == <<0xB25898DF208D2603::64>>
    assert {:ok, {{149, 154, 167, 51}, 443}} = DC.address(2)
    assert {:ok, {{149, 154, 167, 40}, 443}} = DC.address(2, :test)
    assert DC.address(9) == {:error, :unknown_dc}
    assert DC.ids() == [1, 2, 3, 4, 5]
  end

  test "RpcError reads wait seconds and formats" do
    e = RpcError.from_term(%{_: :rpc_error, error_code: 420, error_message: "FLOOD_WAIT_31"})
    assert e == %RpcError{code: 420, message: "FLOOD_WAIT_31"}
    assert RpcError.wait_seconds(e) == 31
    assert RpcError.wait_seconds(%RpcError{code: 400, message: "PEER_ID_INVALID"}) == nil
    assert Exception.message(e) == "420 FLOOD_WAIT_31"
  end
end
