defmodule MTProto.TLPropertyTest do
  use ExUnit.Case, async: true

  alias MTProto.TL
  alias MTProto.TL.Schema
  alias MTProto.Test.TLGenerator

  @runs 10

  # Every constructor and method of both schemas: random valid terms encode, decode back equal,
  # and encode again to the same bytes. The shadowed mtproto.tl `message` is reached through
  # msg_container (its only use, as a bare constructor).
  for kind <- [:constructor, :method] do
    test "every #{kind} round-trips (#{@runs} random terms each)" do
      entries = if unquote(kind) == :constructor, do: Schema.constructors(), else: Schema.methods()

      # ExUnit's seed (printed with every run) makes a failure reproducible with --seed
      :rand.seed(:exsss, {ExUnit.configuration()[:seed], 3, 1})

      checked =
        for entry <- entries, Schema.entry(entry.name) == entry, _ <- 1..@runs, reduce: 0 do
          n ->
            term = TLGenerator.term(entry)
            bin = encode!(term)
            # gzip_packed is unwrapped on decode: it must hold TL, and gives that back
            {term, bin} = if entry.name == :gzip_packed, do: gzipped(), else: {term, bin}
            # Bool is true/false wherever it appears
            term = Map.get(%{boolTrue: true, boolFalse: false}, entry.name, term)
            assert {:ok, back} = TL.decode(bin), "#{entry.name}: #{inspect(term, limit: 8)}"
            assert back == term, "#{entry.name}: decoded differently"
            if entry.name != :gzip_packed, do: assert(TL.encode!(back) == bin)
            n + 1
        end

      shadowed = Enum.reject(entries, &(Schema.entry(&1.name) == &1))
      assert Enum.map(shadowed, & &1.name) in [[], [:message]]
      assert checked >= (length(entries) - length(shadowed)) * @runs
    end
  end

  test "msg_container of random bare messages round-trips" do
    :rand.seed(:exsss, {2, 7, 1})
    container = Schema.entry(:msg_container)

    for _ <- 1..100 do
      term = TLGenerator.term(container)
      bin = TL.encode!(term)
      assert TL.decode(bin) == {:ok, term}
    end
  end

  test "the dirty path (a tiny slice) decodes and encodes the same" do
    :rand.seed(:exsss, {9, 9, 9})
    entries = Enum.take_random(Schema.constructors() ++ Schema.methods(), 200)

    for entry <- entries, Schema.entry(entry.name) == entry do
      term = TLGenerator.term(entry)
      bin = TL.encode!(term)
      assert TL.encode(term, slice_work: 1) == {:ok, bin}
      assert TL.decode(bin, slice_work: 1) == {:ok, term}
    end
  end

  test "encode_result and decode_result by every method's return type" do
    :rand.seed(:exsss, {5, 5, 5})

    checked =
      for m <- Schema.methods(), type = result_type(m), type != nil, reduce: 0 do
        n ->
          value = TLGenerator.value(type, 1)
          bin = encode_value!(type, value)
          assert TL.encode_result(m.name, value) == {:ok, bin}, "#{m.name}"
          assert TL.decode_result(m.name, bin) == {:ok, value}, "#{m.name}"
          n + 1
      end

    # every method but the generic ones (X) has a concrete result type
    assert checked == Enum.count(Schema.methods(), &(&1.type != "X"))
  end

  test "generic results (invokeWithLayer's X) take any object" do
    assert TL.encode_result(:invokeWithLayer, %{_: :pong, msg_id: 1, ping_id: 2}) ==
             TL.encode(%{_: :pong, msg_id: 1, ping_id: 2})

    assert TL.encode_result(:invokeWithLayer, [1]) == {:error, {:bad_value, [], "X"}}

    assert TL.encode_result(:"messages.receivedQueue", [1, :x]) ==
             {:error, {:bad_value, [1], "long"}}
  end

  defp gzipped do
    term = TLGenerator.term(Schema.entry(:rpc_error))
    {term, TL.gzip(TL.encode!(term))}
  end

  defp encode!(term) do
    case TL.encode(term) do
      {:ok, bin} -> bin
      {:error, reason} -> flunk("encode #{inspect(term, limit: 8)}: #{inspect(reason)}")
    end
  end

  # The method's return type as a param type, from a constructor with the same text where there
  # is one (Vector<long>, Bool, a boxed type); nil for generic X.
  defp result_type(m) do
    case m.type do
      "X" -> nil
      "Bool" -> :bool
      "Vector<" <> rest -> {:vector, element_type(String.trim_trailing(rest, ">"), m.file)}
      name -> boxed(name, m.file)
    end
  end

  defp element_type("long", _), do: :long
  defp element_type("int", _), do: :int
  defp element_type("string", _), do: :string
  defp element_type("bytes", _), do: :bytes
  defp element_type("Bool", _), do: :bool
  defp element_type(name, file), do: boxed(name, file)

  # the boxed type as the method's file sees it (its own definitions first)
  defp boxed(name, file) do
    ctors = Enum.filter(Schema.constructors(), &(&1.type == name))

    case Enum.find(ctors, &(&1.file == file)) || List.first(ctors) do
      nil -> nil
      c -> {:boxed, name, c.boxed}
    end
  end

  # Encodes a value of a result type by hand: boxed terms through TL, vectors and Bool by the
  # serialization rules.
  defp encode_value!(:bool, true), do: <<0x997275B5::little-32>>
  defp encode_value!(:bool, false), do: <<0xBC799737::little-32>>
  defp encode_value!({:boxed, _, _}, term), do: TL.encode!(term)

  defp encode_value!({:vector, t}, list) do
    body =
      for v <- list, into: <<>> do
        case t do
          :long -> <<v::little-signed-64>>
          :int -> <<v::little-signed-32>>
          s when s in [:string, :bytes] -> tl_string(v)
          :bool -> encode_value!(:bool, v)
          {:boxed, _, _} -> TL.encode!(v)
        end
      end

    <<0x1CB5C415::little-32, length(list)::little-32, body::binary>>
  end

  defp tl_string(s) when byte_size(s) < 254 do
    pad(<<byte_size(s), s::binary>>)
  end

  defp tl_string(s), do: pad(<<254, byte_size(s)::little-24, s::binary>>)

  defp pad(b), do: b <> :binary.copy(<<0>>, rem(4 - rem(byte_size(b), 4), 4))
end

defmodule MTProto.TLNoCrashPropertyTest do
  use ExUnit.Case, async: true

  alias MTProto.Test.Prop
  alias MTProto.TL

  @seeds [
    %{_: :ping, ping_id: 1},
    %{_: :rpc_error, error_code: 420, error_message: "FLOOD_WAIT_3"},
    %{_: :msgs_ack, msg_ids: [1, 2, 3]},
    %{
      _: :"messages.sendMessage",
      peer: %{_: :inputPeerUser, user_id: 1, access_hash: 2},
      message: "hello",
      random_id: 3,
      entities: [%{_: :messageEntityBold, offset: 0, length: 5}]
    }
  ]

  # jiffy's prop_dec_no_crash_bin: any bytes give {:ok, _} or {:error, _}.
  test "PropEr: random binaries never crash decode or decode_result" do
    prop =
      :proper.forall(:proper_types.binary(), fn bin ->
        ok_or_error?(TL.decode(bin)) and
          ok_or_error?(TL.decode_result(:"messages.receivedQueue", bin)) and
          ok_or_error?(TL.decode(bin, slice_work: 1))
      end)

    Prop.check(prop, 500)
  end

  # Valid encodings with bytes flipped, cut or inserted get further into the decoder.
  test "PropEr: mutated valid encodings never crash and re-encode what they decode" do
    valid = Enum.map(@seeds, &TL.encode!/1)

    gen =
      :proper_types.tuple([
        :proper_types.elements(valid),
        :proper_types.list(
          :proper_types.tuple([:proper_types.non_neg_integer(), :proper_types.byte()])
        )
      ])

    prop =
      :proper.forall(gen, fn {bin, edits} ->
        mutated = Enum.reduce(edits, bin, &mutate/2)

        case TL.decode(mutated) do
          {:ok, term} when is_map(term) ->
            {:ok, again} = TL.encode(term)
            TL.decode(again) == {:ok, term}

          other ->
            ok_or_error?(other)
        end
      end)

    Prop.check(prop, 1000)
  end

  defp mutate({pos, byte}, bin) when byte_size(bin) > 0 do
    i = rem(pos, byte_size(bin))

    case rem(byte, 3) do
      0 -> binary_part(bin, 0, i) <> <<byte>> <> binary_part(bin, i + 1, byte_size(bin) - i - 1)
      1 -> binary_part(bin, 0, i)
      2 -> binary_part(bin, 0, i) <> <<byte>> <> binary_part(bin, i, byte_size(bin) - i)
    end
  end

  defp mutate(_, bin), do: bin

  defp ok_or_error?({:ok, _}), do: true
  defp ok_or_error?({:error, _}), do: true
  defp ok_or_error?(_), do: false
end
