defmodule MTProto.MessageTest do
  use ExUnit.Case, async: true
  alias MTProto.Message

  @ping <<0xEC, 0x77, 0xBE, 0x7A, 7::little-64>>
  @msgs_ack <<0x59, 0xB4, 0xD6, 0x62, 0x15, 0xC4, 0xB5, 0x1C, 0::little-32>>

  test "the plaintext header has the layout of the spec, byte for byte" do
    bin = Message.encode_plaintext(-2, 0x0102030405060708, 0x5E0B800000000004, 3, @ping)

    assert bin ==
             <<0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF>> <>
               <<8, 7, 6, 5, 4, 3, 2, 1>> <>
               <<4, 0, 0, 0, 0, 0x80, 0x0B, 0x5E>> <> <<3, 0, 0, 0>> <> <<12, 0, 0, 0>> <> @ping

    assert {:ok,
            %{
              salt: -2,
              session_id: 0x0102030405060708,
              msg_id: 0x5E0B800000000004,
              seqno: 3,
              body: @ping
            }} = Message.decode_plaintext(bin)
  end

  test "a header whose length field disagrees with the body is rejected" do
    bin = Message.encode_plaintext(1, 2, 4, 1, @ping)
    assert Message.decode_plaintext(bin <> <<0, 0, 0, 0>>) == {:error, :bad_header}

    assert Message.decode_plaintext(binary_part(bin, 0, byte_size(bin) - 4)) ==
             {:error, :bad_header}

    assert Message.decode_plaintext(<<1, 2, 3>>) == {:error, :bad_header}
  end

  test "content-related classification and seqno parity" do
    assert Message.content_related?(@ping)
    refute Message.content_related?(@msgs_ack)
    refute Message.content_related?(0x73F1F8DC)
    refute Message.content_related?(0x347773C5)
    assert Message.next_seqno(0, true) == {1, 1}
    assert Message.next_seqno(1, false) == {2, 1}
    assert Message.next_seqno(1, true) == {3, 2}
    assert Message.seqno_parity_ok?(3, @ping)
    refute Message.seqno_parity_ok?(4, @ping)
    assert Message.seqno_parity_ok?(4, @msgs_ack)
    refute Message.seqno_parity_ok?(5, @msgs_ack)
  end

  test "containers round-trip and have the spec's layout" do
    msgs = [%{msg_id: 8, seqno: 1, body: @ping}, %{msg_id: 12, seqno: 2, body: @msgs_ack}]
    bin = Message.encode_container(msgs)

    assert <<0xDC, 0xF8, 0xF1, 0x73, 2::little-32, 8::little-64, 1::little-32, 12::little-32,
             _::binary>> = bin

    assert Message.container?(bin)
    assert Message.decode_container(bin) == {:ok, msgs}
  end

  test "malformed containers are named errors" do
    bin = Message.encode_container([%{msg_id: 8, seqno: 1, body: @ping}])

    assert Message.decode_container(binary_part(bin, 0, byte_size(bin) - 1)) ==
             {:error, :container_truncated}

    assert Message.decode_container(bin <> <<0, 0, 0, 0>>) == {:error, :container_trailing_bytes}
    nested = Message.encode_container([%{msg_id: 8, seqno: 2, body: bin}])
    assert Message.decode_container(nested) == {:error, :nested_container}
    odd = <<0x73F1F8DC::little-32, 1::little-32, 8::little-64, 1::little-32, 3::little-32, 1, 2, 3>>
    assert Message.decode_container(odd) == {:error, :container_truncated}

    assert Message.decode_container(<<0x73F1F8DC::little-32, 1025::little-32>>) ==
             {:error, :container_too_large}

    assert Message.decode_container(@ping) == {:error, :not_a_container}
  end

  test "rpc_result envelopes round-trip" do
    bin = Message.encode_rpc_result(-5, [@ping])
    assert Message.decode_rpc_result(bin) == {:ok, -5, @ping}
    assert Message.decode_rpc_result(@ping) == {:error, :not_an_rpc_result}
  end

  test "decoders never crash on random bytes (PropEr)" do
    prop =
      :proper.forall(:proper_types.binary(), fn bin ->
        results = [
          Message.decode_container(<<0x73F1F8DC::little-32>> <> bin),
          Message.decode_plaintext(bin),
          Message.decode_rpc_result(bin)
        ]

        Enum.all?(
          results,
          &(match?({:ok, _}, &1) or match?({:ok, _, _}, &1) or match?({:error, _}, &1))
        )
      end)

    assert :proper.quickcheck(prop, [:quiet, numtests: 2000]) == true
  end

  test "unencrypted messages: auth_key_id 0, msg_id, exact length" do
    bin = Message.encode_plain(0x5E0B800000000004, @ping)
    assert bin == <<0::64, 4, 0, 0, 0, 0, 0x80, 0x0B, 0x5E, 12::little-32>> <> @ping
    assert Message.decode_plain(bin) == {:ok, 0x5E0B800000000004, @ping}
    assert Message.decode_plain(bin <> <<0>>) == {:error, :bad_header}
    assert Message.decode_plain(binary_part(bin, 0, 20)) == {:error, :bad_header}
    assert Message.decode_plain(<<1::64>> <> binary_part(bin, 8, 24)) == {:error, :not_plain}
  end
end
