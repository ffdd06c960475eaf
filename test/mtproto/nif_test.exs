defmodule MTProto.NIFTest do
  use ExUnit.Case, async: true

  test "the NIF library loads and reports the ABI version the stubs expect" do
    assert :mtproto_nif.abi_version() == :mtproto_nif.expected_abi()
    assert :mtproto_nif.expected_abi() == 4
  end
end
