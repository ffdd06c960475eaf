defmodule MTProto.Transport do
  @moduledoc """
  MTProto transport framings over a byte stream, for clients and servers.

  Framings: `:abridged`, `:intermediate`, `:padded_intermediate`, `:full`, and the first three
  wrapped in obfuscated2 as `{:obfuscated, inner}` (optionally keyed with a 16-byte MTProxy
  `:secret`). A server opened with `new(:detect, :server)` learns the client's framing from its
  first bytes. The byte work is done in C (`c_src/framing.c`); a transport holds a NIF resource,
  so it is owned by one process and every function returns the transport to use next. One
  exception: a started client transport's two directions are separate, so one process may
  `encode/3` with it while another `decode/2`s (a session's handler writes, its listener
  reads); any other sharing raises `:concurrent_use` rather than waiting.

      t = MTProto.Transport.new({:obfuscated, :intermediate}, :client, dc_id: 2)
      {first_bytes, t} = MTProto.Transport.start(t)
      {frame, t} = MTProto.Transport.encode(t, packet)
      {:ok, events, t} = MTProto.Transport.decode(t, chunk)

  `decode/2` takes chunks of any size and returns the events they complete:
  `{:packet, binary}`, `{:packet, binary, :quick_ack}` (server: the client asked for a quick
  ack), `{:quick_ack, token}` (client) and `{:error, {:transport, code}}` (a 4-byte transport
  error such as -404). A quick ack `token` is the 32-bit integer with its high bit set: the
  little-endian first 4 bytes of `SHA256(auth_key[88..120] <> plaintext)`, high bit set.

  Each framing is a module implementing this behaviour (`MTProto.Transport.Abridged`, ...).
  """

  alias MTProto.Transport.{Abridged, Full, Intermediate, Obfuscated2, PaddedIntermediate}

  @typedoc "A framing that obfuscated2 can wrap."
  @type inner :: :abridged | :intermediate | :padded_intermediate
  @type framing :: inner | :full | {:obfuscated, inner}
  @type role :: :client | :server
  @type event ::
          {:packet, binary}
          | {:packet, binary, :quick_ack}
          | {:quick_ack, non_neg_integer}
          | {:error, {:transport, integer}}

  @typedoc "A transport: a NIF resource plus what the facade needs to know about it."
  @type t :: %__MODULE__{
          ref: reference,
          role: role,
          framing: framing | :detect,
          module: module | nil,
          rand: (pos_integer -> binary),
          random_pool: binary
        }

  @enforce_keys [:ref, :role, :framing, :rand]
  @derive {Inspect, only: [:framing, :role]}
  defstruct [:ref, :role, :framing, :module, :rand, random_pool: <<>>]

  @doc "The framing's name, as `new/3` takes it."
  @callback name() :: inner | :full
  @doc "Whether obfuscated2 can wrap this framing."
  @callback obfuscatable?() :: boolean
  @doc "Whether this framing carries quick-ack requests and answers."
  @callback quick_ack?() :: boolean
  @doc "How many random bytes one encoded frame needs (padding)."
  @callback frame_random_bytes() :: non_neg_integer

  @doc """
  Implements the behaviour from a framing's properties:
  `use MTProto.Transport, name: :abridged, obfuscatable?: true, quick_ack?: true, frame_random_bytes: 0`.
  """
  defmacro __using__(opts) do
    name = Keyword.fetch!(opts, :name)
    obfuscatable? = Keyword.fetch!(opts, :obfuscatable?)
    quick_ack? = Keyword.fetch!(opts, :quick_ack?)
    random_bytes = Keyword.fetch!(opts, :frame_random_bytes)

    quote do
      @behaviour MTProto.Transport
      @impl true
      def name, do: unquote(name)
      @impl true
      def obfuscatable?, do: unquote(obfuscatable?)
      @impl true
      def quick_ack?, do: unquote(quick_ack?)
      @impl true
      def frame_random_bytes, do: unquote(random_bytes)
    end
  end

  @modules %{
    abridged: Abridged,
    intermediate: Intermediate,
    padded_intermediate: PaddedIntermediate,
    full: Full
  }

  @plain_framings [:abridged, :intermediate, :padded_intermediate, :full]

  @doc "Every framing `new/3` opens: the plain ones, then obfuscated2 around each that allows it."
  @spec framings() :: [framing]
  def framings,
    do:
      @plain_framings ++
        for(k <- @plain_framings, @modules[k].obfuscatable?(), do: {:obfuscated, k})

  @default_max_packet 16 * 1024 * 1024
  # Random bytes are drawn this many at a time: one strong_rand_bytes call costs as much as
  # framing a small packet. 64 bytes (a few packets' padding) stay a heap binary: every idle
  # connection keeps its pool, and a larger one would cost it a 256-byte off-heap binary.
  @random_pool_size 64

  @doc """
  Opens a transport. Options: `:secret` (16 bytes, obfuscated2 keys as MTProxy mixes them; a
  server with a secret accepts only obfuscated clients), `:dc_id` (client: the signed dc id
  written into the obfuscated2 init, random bytes when absent), `:max_packet` (largest packet
  accepted or sent, default 16 MiB), `:max_padding` (padded intermediate: most padding bytes
  sent, 0..15; default 15 for a client as tdlib sends, 3 for a server since Telethon's decoder
  copes with 0..3 only), `:rand` (a `strong_rand_bytes`-like function, for tests).
  """
  @spec new(framing | :detect, role, keyword) :: t
  def new(framing, role, opts \\ []) do
    opts =
      Keyword.validate!(opts,
        secret: nil,
        dc_id: nil,
        max_packet: @default_max_packet,
        max_padding: default_max_padding(role),
        rand: &:crypto.strong_rand_bytes/1
      )

    check_opts!(opts)
    {kind, obfuscated, module} = parse_framing!(framing, role)

    ref =
      if obfuscated and role == :client,
        do: Obfuscated2.open_client(kind, opts),
        else: opened!(open_codec(kind, role, obfuscated, opts, <<>>), kind)

    # (Updating the default struct keeps its keys in the literal area, off every connection's
    # heap.)
    %{__struct__() | ref: ref, role: role, framing: framing, module: module, rand: opts[:rand]}
  end

  @doc "The bytes a client sends before anything else (its tag or obfuscated2 init); `[]` for a server."
  @spec start(t) :: {iodata, t}
  def start(%__MODULE__{role: :server} = t), do: {[], t}

  def start(%__MODULE__{role: :client} = t) do
    case :mtproto_nif.framing_start(t.ref) do
      {:ok, bytes} -> {bytes, t}
      {:error, reason} -> raise ArgumentError, "cannot start transport: #{inspect(reason)}"
    end
  end

  @doc """
  Frames one packet. `quick_ack: true` (client, not `:full`) asks the server for a quick ack.
  Raises `ArgumentError` for a packet the framing cannot carry (empty, above `:max_packet`, not
  a multiple of 4 bytes for abridged) or before `start/1` (client) or detection (server).
  """
  @spec encode(t, iodata, keyword) :: {iodata, t}
  def encode(%__MODULE__{} = t, packet, opts \\ []) do
    t = settle(t)
    quick_ack = Keyword.get(opts, :quick_ack, false)
    if quick_ack, do: check_quick_ack!(t, :client)
    {random, t} = take_random(t)
    packet = IO.iodata_to_binary(packet)

    case :mtproto_nif.framing_encode(t.ref, packet, quick_ack, random) do
      {:ok, frame} -> {frame, t}
      {:error, reason} -> raise ArgumentError, "cannot encode packet: #{inspect(reason)}"
    end
  end

  @doc "Server: the answer to a quick-ack request (`token` as described in the moduledoc)."
  @spec encode_quick_ack(t, non_neg_integer) :: {iodata, t}
  def encode_quick_ack(%__MODULE__{} = t, token) when token in 0..0xFFFFFFFF do
    t = settle(t)
    check_quick_ack!(t, :server)

    case :mtproto_nif.framing_encode_quick_ack(t.ref, token) do
      {:ok, bytes} -> {bytes, t}
      {:error, reason} -> raise ArgumentError, "cannot encode quick ack: #{inspect(reason)}"
    end
  end

  @doc "Server: a transport error such as -404 (a 4-byte little-endian negative int in a frame)."
  @spec encode_transport_error(t, integer) :: {iodata, t}
  def encode_transport_error(%__MODULE__{role: :server} = t, code)
      when is_integer(code) and code in -0x80000000..-1 do
    encode(t, <<code::little-signed-32>>)
  end

  @doc """
  Feeds received bytes; returns the events they complete. Errors are final (later calls return
  the same one): `:packet_too_large`, `:bad_length`, `:bad_crc`, `:bad_seqno` (full),
  `:bad_padding` (padded), `:bad_tag` (not this framing's first bytes), `:unknown_framing` (a
  detecting server got HTTP, TLS...), `:unknown_protocol_tag` (an obfuscated2 init naming no
  framing, or keyed with another secret), `:protocol_tag_mismatch`, `:secret_required`.
  """
  @spec decode(t, iodata) :: {:ok, [event], t} | {:error, atom, t}
  def decode(%__MODULE__{} = t, chunk) do
    case :mtproto_nif.framing_decode(t.ref, IO.iodata_to_binary(chunk)) do
      {:ok, events} -> {:ok, events, settle(t)}
      {:error, reason} -> {:error, reason, t}
    end
  end

  @doc "The framing in use: `:detect` until a detecting server has read enough."
  @spec framing(t) :: framing | :detect
  def framing(%__MODULE__{} = t), do: settle(t).framing

  @doc "The dc id from a client's obfuscated2 init (server), or the one a client wrote; else nil."
  @spec dc_id(t) :: integer | nil
  def dc_id(%__MODULE__{ref: ref}) do
    {_kind, _obfuscated, dc_id} = :mtproto_nif.framing_info(ref)
    dc_id
  end

  defp default_max_padding(:server), do: 3
  defp default_max_padding(_client), do: 15

  @doc false
  @spec open_codec(atom, role, boolean, keyword, binary) :: {:ok, reference} | {:error, atom}
  def open_codec(kind, role, obfuscated, opts, init_random) do
    :mtproto_nif.framing_new(
      kind,
      role,
      obfuscated,
      opts[:secret],
      opts[:dc_id],
      opts[:max_packet],
      opts[:max_padding],
      init_random
    )
  end

  @doc false
  @spec opened!({:ok, reference} | {:error, atom}, atom) :: reference
  def opened!({:ok, ref}, _kind), do: ref

  def opened!({:error, reason}, kind),
    do: raise(ArgumentError, "cannot open a #{inspect(kind)} transport: #{inspect(reason)}")

  defp take_random(%__MODULE__{module: nil} = t), do: {<<>>, t}

  defp take_random(%__MODULE__{module: module, random_pool: pool} = t) do
    case module.frame_random_bytes() do
      0 ->
        {<<>>, t}

      n when byte_size(pool) >= n ->
        <<random::binary-size(n), rest::binary>> = pool
        {random, %{t | random_pool: rest}}

      n ->
        pool = t.rand.(@random_pool_size)
        unless byte_size(pool) >= n, do: raise(ArgumentError, ":rand gave too few bytes")
        take_random(%{t | random_pool: pool})
    end
  end

  # A detecting server learns its framing from the first bytes decoded.
  defp settle(%__MODULE__{framing: :detect} = t) do
    case :mtproto_nif.framing_info(t.ref) do
      {:detect, _, _} -> t
      {kind, true, _} -> %{t | framing: {:obfuscated, kind}, module: Map.fetch!(@modules, kind)}
      {kind, false, _} -> %{t | framing: kind, module: Map.fetch!(@modules, kind)}
    end
  end

  defp settle(t), do: t

  defp parse_framing!(:detect, :server), do: {:detect, false, nil}

  defp parse_framing!({:obfuscated, inner} = framing, role) when role in [:client, :server] do
    module = Map.get(@modules, inner)

    unless module && module.obfuscatable?(),
      do: raise(ArgumentError, "obfuscated2 cannot wrap #{inspect(inner)}: #{inspect(framing)}")

    {inner, true, module}
  end

  defp parse_framing!(framing, role) when role in [:client, :server] do
    case Map.fetch(@modules, framing) do
      {:ok, module} -> {framing, false, module}
      :error -> raise ArgumentError, "unknown framing #{inspect(framing)} for a #{role}"
    end
  end

  defp parse_framing!(_framing, role), do: raise(ArgumentError, "unknown role #{inspect(role)}")

  defp check_quick_ack!(%__MODULE__{role: role, module: module, framing: framing}, role) do
    unless module && module.quick_ack?(),
      do: raise(ArgumentError, "#{inspect(framing)} has no quick acks")
  end

  defp check_quick_ack!(%__MODULE__{role: role}, _),
    do: raise(ArgumentError, "quick acks are not for a #{role} to send this way")

  defp check_opts!(opts) do
    secret = opts[:secret]
    dc_id = opts[:dc_id]

    unless is_nil(secret) or (is_binary(secret) and byte_size(secret) == 16),
      do: raise(ArgumentError, ":secret must be 16 bytes")

    unless is_nil(dc_id) or dc_id in -0x8000..0x7FFF,
      do: raise(ArgumentError, ":dc_id must be a signed 16-bit integer")

    unless is_integer(opts[:max_packet]) and opts[:max_packet] in 1..0x7FFFFF00,
      do: raise(ArgumentError, ":max_packet must be a positive integer below 2^31")

    unless opts[:max_padding] in 0..15, do: raise(ArgumentError, ":max_padding must be 0..15")
    unless is_function(opts[:rand], 1), do: raise(ArgumentError, ":rand must be a 1-arity function")
  end
end
