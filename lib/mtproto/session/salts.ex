defmodule MTProto.Session.Salts do
  @moduledoc """
  Server salts: the one in use and the future ones from `get_future_salts`, with their
  validity. Salts are rotated before they expire (a margin of 60 s) and more are asked for
  when fewer than two future ones remain. Times are server unix seconds.
  """

  defstruct current: 0, valid_until: nil, future: []

  @type future_salt :: %{valid_since: integer(), valid_until: integer(), salt: integer()}
  @type t :: %__MODULE__{
          current: integer(),
          valid_until: integer() | nil,
          future: [future_salt()]
        }

  @margin 60

  @doc "Salts starting from one whose validity is unknown."
  @spec new(integer()) :: t()
  def new(salt), do: %__MODULE__{current: salt}

  @doc "Replaces the current salt (bad_server_salt, new_session_created); its validity is unknown."
  @spec put_current(t(), integer()) :: t()
  def put_current(salts, salt), do: %{salts | current: salt, valid_until: nil}

  @doc "Stores the answer to `get_future_salts` and picks the salt valid at `now`."
  @spec put_future(t(), [future_salt()], integer()) :: t()
  def put_future(salts, future, now) do
    future =
      future
      |> Enum.map(&Map.take(&1, [:valid_since, :valid_until, :salt]))
      |> Enum.sort_by(& &1.valid_since)

    rotate(%{salts | future: future}, now)
  end

  @doc "Moves to the newest future salt already valid when the current one is about to expire."
  @spec rotate(t(), integer()) :: t()
  def rotate(%__MODULE__{} = salts, now) do
    future = Enum.reject(salts.future, &(&1.valid_until <= now + @margin))

    case Enum.filter(future, &(&1.valid_since <= now)) do
      [] ->
        %{salts | future: future}

      usable ->
        expiring? = salts.valid_until == nil or salts.valid_until <= now + @margin
        best = List.last(usable)

        if expiring? and (salts.valid_until == nil or best.valid_until > salts.valid_until),
          do: %{salts | current: best.salt, valid_until: best.valid_until, future: future},
          else: %{salts | future: future}
    end
  end

  @doc "Whether more future salts should be asked for."
  @spec need_more?(t(), integer()) :: boolean()
  def need_more?(%__MODULE__{future: future}, now),
    do: Enum.count(future, &(&1.valid_until > now + @margin)) < 2
end
