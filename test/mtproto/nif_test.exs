defmodule MTProto.NIFTest do
  use ExUnit.Case, async: true

  test "the NIF library loads and reports the ABI version the stubs expect" do
    assert :mtproto_nif.abi_version() == 1
  end
end
