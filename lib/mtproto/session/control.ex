defmodule MTProto.Session.Control do
  @moduledoc """
  What the handler keeps for steering a session from outside: the queue bound
  (`MTProto.Session.Backpressure`), a drain in progress (`MTProto.Session.close/2` with
  `:drain`), the connection's kind (`:main` or `:media`, with the main session's id for a
  media one, and a main session's media connections), whether the client is told lifecycle
  events, and when the last `info` snapshot was published.
  """

  alias MTProto.Session.Backpressure

  defstruct [:bp, :drain, :parent, kind: :main, media: [], notify?: true, info_at: -1_000_000]

  @type t :: %__MODULE__{
          bp: Backpressure.t(),
          drain: nil | %{from: GenServer.from(), timer: reference()},
          parent: integer() | nil,
          kind: :main | :media,
          media: [integer()],
          notify?: boolean(),
          info_at: integer()
        }

  @doc "From the session options (`:max_queue`, `:max_queue_bytes`, `:kind`, `:parent`, `:client_events`)."
  @spec new(keyword()) :: t()
  def new(opts) do
    # An update of the literal default struct: its keys stay in the literal area.
    %{
      %__MODULE__{}
      | bp: Backpressure.new(opts),
        kind: Keyword.get(opts, :kind, :main),
        parent: Keyword.get(opts, :parent),
        notify?: Keyword.get(opts, :client_events, true)
    }
  end

  @doc "Whether a drain is in progress (new requests are refused with `{:error, :closing}`)."
  @spec draining?(t()) :: boolean()
  def draining?(%{drain: drain}), do: drain != nil
end
