defmodule MTProto.TL.Schema do
  @moduledoc """
  The TL schema the codec uses: `priv/schema/mtproto.tl` and `priv/schema/api.tl`, parsed once
  in C when the NIF loads (ids checked against their CRC32 at build time by `make nif`).

  Lookups are by name atom or by id. Where both files define a name (`message`: mtproto.tl's bare
  service message and api.tl's `message`), the name means api.tl's; every definition is still
  listed by `constructors/0` and found by its id.

  Entries are maps:

      %{name: :inputPeerUser, id: 0xDDE8A54C, kind: :constructor, type: "InputPeer",
        boxed: 12, file: "api.tl", line: 14,
        params: [%{name: :user_id, type: :long, type_text: "long", flag: nil}, ...]}

  A param's `type` is `:int | :long | :double | :int128 | :int256 | :string | :bytes | :bool |
  :true | :"#" | :object | {:vector, t} | {:bare_vector, t} | {:boxed, name, boxed_index} |
  {:bare, constructor_id}`, and `flag` is `nil` or `{flags_field, bit}`.
  """

  @key {__MODULE__, :tables}

  @typedoc "A constructor or method of the schema."
  @type entry :: %{
          name: atom(),
          id: non_neg_integer(),
          kind: :constructor | :method,
          type: String.t(),
          boxed: non_neg_integer() | nil,
          params: [map()],
          file: String.t(),
          line: pos_integer()
        }

  @doc "The API layer, from the `// LAYER N` line of api.tl."
  @spec layer() :: pos_integer()
  def layer, do: tables().layer

  @doc "The constructor id of a constructor or method name, `nil` if unknown."
  @spec id(atom()) :: non_neg_integer() | nil
  def id(name) do
    case entry(name) do
      nil -> nil
      e -> e.id
    end
  end

  @doc "The name of a constructor id (unsigned or signed 32-bit), `nil` if unknown."
  @spec name(integer()) :: atom() | nil
  def name(id) when is_integer(id) do
    case Map.get(tables().by_id, Bitwise.band(id, 0xFFFFFFFF)) do
      nil -> nil
      e -> e.name
    end
  end

  @doc "Whether `name` is a method (declared under `---functions---`)."
  @spec method?(atom()) :: boolean()
  def method?(name), do: match?(%{kind: :method}, entry(name))

  @doc "The entry of a name atom or an id, `nil` if unknown."
  @spec entry(atom() | integer()) :: entry() | nil
  def entry(name) when is_atom(name), do: Map.get(tables().by_name, name)
  def entry(id) when is_integer(id), do: Map.get(tables().by_id, Bitwise.band(id, 0xFFFFFFFF))

  @doc "Every constructor (both files), in schema order."
  @spec constructors() :: [entry()]
  def constructors, do: Enum.filter(tables().entries, &(&1.kind == :constructor))

  @doc "Every method (both files), in schema order."
  @spec methods() :: [entry()]
  def methods, do: Enum.filter(tables().entries, &(&1.kind == :method))

  @doc "The constructors of a boxed type, by its index (a param's `{:boxed, name, index}`)."
  @spec constructors_of(non_neg_integer()) :: [entry()]
  def constructors_of(boxed_index), do: Map.get(tables().by_boxed, boxed_index, [])

  defp tables do
    case :persistent_term.get(@key, nil) do
      nil ->
        t = build()
        :persistent_term.put(@key, t)
        t

      t ->
        t
    end
  end

  defp build do
    entries = Enum.map(:mtproto_nif.tl_schema_entries(), &to_entry/1)

    %{
      layer: :mtproto_nif.tl_schema_layer(),
      entries: entries,
      # later files shadow earlier ones for a name, as the codec does
      by_name: Map.new(entries, &{&1.name, &1}),
      by_id: Map.new(entries, &{&1.id, &1}),
      by_boxed: entries |> Enum.filter(& &1.boxed) |> Enum.group_by(& &1.boxed)
    }
  end

  defp to_entry({name, id, kind, type, boxed, params, file, line}) do
    %{
      name: name,
      id: id,
      kind: kind,
      type: type,
      boxed: boxed,
      params:
        for {field, text, t, flag} <- params do
          %{name: field, type_text: text, type: t, flag: flag}
        end,
      file: file,
      line: line
    }
  end
end
