defmodule MTProto.TLTest do
  use ExUnit.Case, async: true
  import Bitwise

  alias MTProto.TL
  alias MTProto.TL.Schema

  # Golden bytes written out by hand from the TL serialization rules (core.telegram.org/mtproto/
  # serialize): little-endian ints, constructor id first, strings with a 1-byte (or 0xFE + 3-byte)
  # length padded to 4, Vector = 0x1cb5c415, count, bare elements.
  defp le32(v), do: <<v::little-32>>
  defp le64(v), do: <<v::little-signed-64>>

  describe "golden bytes" do
    test "ping" do
      bytes = le32(0x7ABE77EC) <> le64(7)
      assert TL.encode!(%{_: :ping, ping_id: 7}) == bytes
      assert TL.decode!(bytes) == %{_: :ping, ping_id: 7}
    end

    test "messages.sendMessage with inputPeerSelf and one true flag" do
      term = %{
        _: :"messages.sendMessage",
        peer: %{_: :inputPeerSelf},
        message: "hi",
        random_id: -2,
        silent: true
      }

      bytes = le32(0x983F9745) <> le32(1 <<< 5) <> le32(0x7DA07EC9) <> <<2, ?h, ?i, 0>> <> le64(-2)

      assert TL.encode!(term) == bytes
      decoded = TL.decode!(bytes)
      assert decoded.silent == true and decoded.background == false
      assert Map.take(decoded, Map.keys(term)) == term
      refute Map.has_key?(decoded, :reply_to)
    end

    test "resPQ: int128, string, Vector<long>" do
      nonce = :binary.copy(<<1>>, 16)
      server_nonce = :binary.copy(<<2>>, 16)

      bytes =
        le32(0x05162463) <>
          nonce <>
          server_nonce <>
          <<8, 0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81, 0, 0, 0>> <>
          le32(0x1CB5C415) <> le32(1) <> le64(-4_344_800_451_088_585_951)

      term = %{
        _: :resPQ,
        nonce: nonce,
        server_nonce: server_nonce,
        pq: <<0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81>>,
        server_public_key_fingerprints: [-4_344_800_451_088_585_951]
      }

      assert TL.decode!(bytes) == term
      assert TL.encode!(term) == bytes
    end

    test "a 300-byte string takes the 0xFE form and pads to 4" do
      s = :binary.copy("a", 300)
      bytes = le32(0x2144CA19) <> le32(400) <> <<254, 300::little-24>> <> s
      assert byte_size(bytes) == 4 + 4 + 304
      assert TL.encode!(%{_: :rpc_error, error_code: 400, error_message: s}) == bytes
      assert TL.decode!(bytes) == %{_: :rpc_error, error_code: 400, error_message: s}
    end

    test "decoded strings are copies: they never keep the input binary alive" do
      s = :binary.copy("z", 1000)
      bin = TL.encode!(%{_: :rpc_error, error_code: 1, error_message: s})
      %{error_message: got} = TL.decode!(bin <> <<>>)
      assert got == s
      assert :binary.referenced_byte_size(got) == byte_size(got)
    end

    test "inputGeoPoint: doubles and an optional int" do
      bytes =
        le32(0x48222FAF) <> le32(1) <> <<1.5::little-float-64, -2.25::little-float-64>> <> le32(9)

      term = %{_: :inputGeoPoint, lat: 1.5, long: -2.25, accuracy_radius: 9}
      assert TL.encode!(term) == bytes
      assert TL.decode!(bytes) == term
    end

    test "msg_container holds bare messages (mtproto.tl's %Message)" do
      ping = TL.encode!(%{_: :ping, ping_id: 1})

      bytes = le32(0x73F1F8DC) <> le32(1) <> le64(5) <> le32(3) <> le32(byte_size(ping)) <> ping

      term = %{
        _: :msg_container,
        messages: [%{_: :message, msg_id: 5, seqno: 3, bytes: 12, body: %{_: :ping, ping_id: 1}}]
      }

      assert TL.decode!(bytes) == term
      assert TL.encode!(term) == bytes
    end

    test "future_salts: a bare vector of bare constructors" do
      bytes = le32(0xAE500895) <> le64(1) <> le32(2) <> le32(1) <> le32(10) <> le32(20) <> le64(30)

      term = %{
        _: :future_salts,
        req_msg_id: 1,
        now: 2,
        salts: [%{_: :future_salt, valid_since: 10, valid_until: 20, salt: 30}]
      }

      assert TL.decode!(bytes) == term
      assert TL.encode!(term) == bytes
    end

    test "invokeWithLayer(initConnection(help.getConfig)) nests methods in !X" do
      inner = %{
        _: :initConnection,
        api_id: 1,
        device_model: "d",
        system_version: "s",
        app_version: "a",
        system_lang_code: "en",
        lang_pack: "",
        lang_code: "en",
        query: %{_: :"help.getConfig"}
      }

      term = %{_: :invokeWithLayer, layer: 198, query: inner}
      bytes = TL.encode!(term)

      assert binary_part(bytes, 0, 12) ==
               le32(0xDA9B0D0D) <> le32(198) <> le32(0xC1CD5EA9)

      assert binary_part(bytes, byte_size(bytes) - 4, 4) == le32(0xC4F9186B)
      assert TL.decode!(bytes) == term
    end
  end

  describe "decode_result" do
    test "by the method's return type: Vector<long>, Bool" do
      bytes = le32(0x1CB5C415) <> le32(2) <> le64(1) <> le64(-1)
      assert TL.decode_result(:"messages.receivedQueue", bytes) == {:ok, [1, -1]}
      assert TL.decode(bytes) == {:error, {:untyped_vector, 0}}
      assert TL.decode_result(:"messages.setTyping", le32(0x997275B5)) == {:ok, true}
      assert TL.decode_result(:"messages.setTyping", le32(0xBC799737)) == {:ok, false}

      assert {:error, {:unexpected_constructor, _, 0}} =
               TL.decode_result(:"messages.setTyping", TL.encode!(%{_: :ping, ping_id: 1}))
    end

    test "gzip_packed is unwrapped" do
      bytes = le32(0x1CB5C415) <> le32(1) <> le64(42)
      assert TL.decode_result(:"messages.receivedQueue", TL.gzip(bytes)) == {:ok, [42]}
    end

    test "unknown method" do
      assert TL.decode_result(:nope, <<>>) == {:error, {:unknown_method, :nope}}
      assert TL.decode_result(:inputPeerSelf, <<>>) == {:error, {:unknown_method, :inputPeerSelf}}
    end
  end

  describe "gzip" do
    test "gzip/1 wraps and decode unwraps" do
      term = %{_: :rpc_error, error_code: 1, error_message: :binary.copy("x", 5000)}
      packed = TL.gzip(TL.encode!(term))
      assert <<0xA1, 0xCF, 0x72, 0x30, _::binary>> = packed
      assert TL.decode!(packed) == term
      assert byte_size(TL.encode!(term, gzip_above: 1000)) < 200
    end

    test "big gzip_packed data and big strings move to a dirty scheduler with the same result" do
      term = %{_: :rpc_error, error_code: 1, error_message: :binary.copy("ab", 2_000_000)}
      bin = TL.encode!(term)
      packed = TL.gzip(bin)
      assert byte_size(packed) < 20_000
      assert TL.decode(packed) == {:ok, term}
      assert TL.decode(packed, slice_work: 1) == {:ok, term}
      assert TL.decode(packed, slice_work: 0) == {:ok, term}
      assert TL.encode(term) == {:ok, bin}
      assert TL.encode(term, slice_work: 100) == {:ok, bin}
    end

    test "a zip bomb beyond the limit is an error, not an allocation" do
      big = :zlib.gzip(:binary.copy(<<0>>, 17 * 1024 * 1024))
      bomb = TL.encode!(%{_: :gzip_packed, packed_data: big})
      assert {:error, {:gzip_too_large, 0}} = TL.decode(bomb)

      assert {:error, {:gzip_too_large, 0}} =
               TL.decode(TL.gzip(:binary.copy(<<0>>, 2000)), gzip_limit: 1000)
    end

    test "corrupt gzip data and bad inner bytes" do
      bad = TL.encode!(%{_: :gzip_packed, packed_data: "not gzip"})
      assert {:error, {:bad_gzip, 0}} = TL.decode(bad)
      inner_bad = TL.gzip(<<1, 2, 3, 4>>)
      assert {:error, {:in_gzip, 0, {:unknown_constructor, 0x04030201, 0}}} = TL.decode(inner_bad)
      trailing = TL.gzip(TL.encode!(%{_: :ping, ping_id: 1}) <> <<0, 0, 0, 0>>)
      assert {:error, {:in_gzip, 0, {:trailing_bytes, 12}}} = TL.decode(trailing)
    end
  end

  describe "bad input on decode" do
    setup do
      {:ok, bytes: TL.encode!(%{_: :rpc_error, error_code: 400, error_message: "FLOOD"})}
    end

    test "unknown constructor", %{bytes: _} do
      assert TL.decode(le32(0xDEADBEEF)) == {:error, {:unknown_constructor, 0xDEADBEEF, 0}}
    end

    test "truncated at every length", %{bytes: bytes} do
      for n <- 0..(byte_size(bytes) - 1) do
        assert {:error, {reason, off}} = TL.decode(binary_part(bytes, 0, n))
        assert reason in [:truncated, :bad_length]
        assert off <= n
      end
    end

    test "a length prefix past the end" do
      assert TL.decode(le32(0x2144CA19) <> le32(1) <> <<200, ?a, ?b, ?c>>) ==
               {:error, {:bad_length, 8}}

      assert TL.decode(le32(0x2144CA19) <> le32(1) <> <<255, 0, 0, 0>>) ==
               {:error, {:bad_length, 8}}
    end

    test "trailing bytes", %{bytes: bytes} do
      assert TL.decode(bytes <> <<0>>) == {:error, {:trailing_bytes, byte_size(bytes)}}
    end

    test "a vector count beyond the remaining bytes" do
      bytes = le32(0x62D6B459) <> le32(0x1CB5C415) <> le32(0x7FFFFFFF) <> le64(1)
      assert TL.decode(bytes) == {:error, {:vector_too_long, 8}}
    end

    test "nesting deeper than the limit" do
      # invokeWithoutUpdates query:!X nested 100 times
      deep = :binary.copy(le32(0xBF9459B7), 100) <> TL.encode!(%{_: :ping, ping_id: 1})
      assert {:error, {:too_deep, _}} = TL.decode(deep)
      ok = :binary.copy(le32(0xBF9459B7), 30) <> TL.encode!(%{_: :ping, ping_id: 1})
      assert {:ok, _} = TL.decode(ok)
    end

    test "a constructor of the wrong type" do
      # inputPeerUser where InputPeer is expected is fine; inputUserSelf is not an InputPeer
      bytes = le32(0x35A95CB9) <> le64(1)
      assert {:ok, _} = TL.decode(bytes)
      bad = le32(0xF93CCBA3) <> le32(0) <> le32(0xF7C1B13F) <> le32(0) <> le64(1)
      assert {:error, {reason, _, _}} = TL.decode(bad)
      assert reason in [:unexpected_constructor, :unknown_constructor]
    end

    test "NaN doubles" do
      bytes = le32(0x48222FAF) <> le32(0) <> <<0, 0, 0, 0, 0, 0, 0xF8, 0x7F>> <> <<0::64>>
      assert TL.decode(bytes) == {:error, {:bad_double, 8}}
    end
  end

  describe "bad input on encode" do
    test "missing required field names its path" do
      assert TL.encode(%{_: :inputPeerUser, user_id: 1}) ==
               {:error, {:missing_field, [:access_hash]}}

      assert TL.encode(%{
               _: :"messages.sendMessage",
               peer: %{_: :inputPeerUser, user_id: 1},
               message: "",
               random_id: 1
             }) == {:error, {:missing_field, [:peer, :access_hash]}}
    end

    test "wrong field types" do
      assert TL.encode(%{_: :ping, ping_id: "x"}) == {:error, {:bad_value, [:ping_id], "long"}}
      assert TL.encode(%{_: :ping, ping_id: 1 <<< 64}) == {:error, {:bad_value, [:ping_id], "long"}}

      assert TL.encode(%{_: :msgs_ack, msg_ids: [1, :a]}) ==
               {:error, {:bad_value, [:msg_ids, 1], "long"}}

      assert TL.encode(%{_: :rpc_error, error_code: 1 <<< 32, error_message: ""}) ==
               {:error, {:bad_value, [:error_code], "int"}}

      assert {:error, {:bad_value, [:nonce], "int128"}} = TL.encode(%{_: :req_pq, nonce: <<1>>})
    end

    test "constructors: unknown, of the wrong type, missing" do
      assert TL.encode(%{_: :nope}) == {:error, {:unknown_constructor, :nope, []}}

      assert TL.encode(%{
               _: :"messages.sendMessage",
               peer: %{_: :inputUserSelf},
               message: "",
               random_id: 1
             }) == {:error, {:wrong_constructor, :inputUserSelf, "InputPeer", [:peer]}}

      assert TL.encode(%{ping_id: 1}) == {:error, {:no_constructor, []}}
      assert TL.encode([1]) == {:error, {:bad_value, [], "Object"}}
    end

    test "nesting deeper than the limit, on both schedulers" do
      nest = fn n ->
        Enum.reduce(1..n, %{_: :ping, ping_id: 1}, fn _, q ->
          %{_: :invokeWithoutUpdates, query: q}
        end)
      end

      for slice <- [0, 1] do
        assert {:ok, bin} = TL.encode(nest.(62), slice_work: slice)
        assert TL.decode(bin, slice_work: slice) == {:ok, nest.(62)}
        assert {:error, {:too_deep, path}} = TL.encode(nest.(100), slice_work: slice)
        assert Enum.all?(path, &(&1 == :query)) and length(path) == 64
      end
    end

    test "improper lists and non-binaries" do
      assert TL.encode(%{_: :msgs_ack, msg_ids: [1 | 2]}) ==
               {:error, {:bad_value, [:msg_ids], "Vector<long>"}}

      assert TL.encode(%{_: :rpc_error, error_code: 1, error_message: ~c"abc"}) ==
               {:error, {:bad_value, [:error_message], "string"}}

      assert TL.encode(%{_: :"messages.setTyping", peer: %{_: :inputPeerSelf}, action: 1}) ==
               {:error, {:bad_value, [:action], "SendMessageAction"}}
    end

    test "unknown keys are refused" do
      assert TL.encode(%{_: :ping, ping_id: 1, pong: 2}) == {:error, {:unknown_field, :pong, []}}
    end

    test "fields sharing a flag bit" do
      poll = %{
        _: :poll,
        id: 1,
        question: %{_: :textWithEntities, text: "q", entities: []},
        answers: []
      }

      base = %{_: :inputMediaPoll, poll: poll, solution: "s"}
      assert TL.encode(base) == {:error, {:missing_field, [:solution_entities]}}
      assert {:ok, _} = TL.encode(Map.put(base, :solution_entities, []))
    end

    test "nil is absent; unsigned ranges wrap" do
      assert TL.encode(%{_: :inputGeoPoint, lat: 1.0, long: 2, accuracy_radius: nil}) ==
               TL.encode(%{_: :inputGeoPoint, lat: 1.0, long: 2.0})

      assert TL.encode!(%{_: :ping, ping_id: 0xFFFFFFFFFFFFFFFF}) ==
               TL.encode!(%{_: :ping, ping_id: -1})
    end
  end

  describe "scheduling" do
    test "a tiny slice (every call redone dirty) gives the same results" do
      users =
        for i <- 1..200 do
          %{_: :inputPeerUser, user_id: i, access_hash: -i}
        end

      term = %{
        _: :"messages.getPeerDialogs",
        peers: Enum.map(users, &%{_: :inputDialogPeer, peer: &1})
      }

      {:ok, a} = TL.encode(term)
      assert TL.encode(term, slice_work: 1) == {:ok, a}
      assert TL.encode(term, slice_work: 0) == {:ok, a}
      assert TL.decode(a, slice_work: 1) == TL.decode(a)
      assert TL.decode(a, slice_work: 0) == {:ok, term}
      assert TL.decode(a <> <<0>>, slice_work: 1) == TL.decode(a <> <<0>>)
      assert TL.encode(%{term | peers: [1]}, slice_work: 1) == TL.encode(%{term | peers: [1]})
    end
  end

  describe "schema" do
    test "layer, ids, names, methods" do
      assert Schema.layer() == 198
      assert Schema.id(:ping) == 0x7ABE77EC
      assert Schema.name(0x7ABE77EC) == :ping
      assert Schema.name(-0x2366D9F4 + 0) == Schema.name(0xDC992E0C + 0)
      assert Schema.method?(:ping)
      refute Schema.method?(:pong)
      assert Schema.id(:nope) == nil
      assert Schema.id(:msg_container) == 0x73F1F8DC
      # api.tl's message wins the name; mtproto.tl's bare message is still listed
      assert Schema.id(:message) == 0x96FDBBE9
      assert Enum.count(Schema.constructors(), &(&1.name == :message)) == 2
      # lines without an id get the CRC32 of their canonical form
      assert %{name: :message, file: "mtproto.tl"} = Schema.entry(0x5BB8E511)
      assert %{name: :tlsBlockDomain} = Schema.entry(0x10E8636F)
      assert length(Schema.constructors()) + length(Schema.methods()) > 2100
    end
  end
end
