defmodule MTProto.Session.Salts do
  @moduledoc """
  Server salts: the one in use and the future ones from `get_future_salts`, with their
  validity. Salts are rotated before they expire (a margin of 60 s), the four soonest future
  ones are kept, and more are asked for when fewer than two remain. Times are server unix
  seconds. A future salt is kept as a tuple `{valid_since, valid_until, salt}` (the
  `future_salt` maps the server sends take three times the words).
  """

  defstruct current: 0, valid_until: nil, future: []

  @typedoc "A `future_salt` as the TL decoder gives it (only these fields are read)."
  @type future_salt :: %{valid_since: integer(), valid_until: integer(), salt: integer()}

  @typedoc "A future salt as kept: `{valid_since, valid_until, salt}`."
  @type kept_salt :: {integer(), integer(), integer()}

  @type t :: %__MODULE__{
          current: integer(),
          valid_until: integer() | nil,
          future: [kept_salt()]
        }

  @margin 60
  # The soonest future salts kept (an idle session holds few; more are fetched when needed).
  @keep 4

  @doc "Salts starting from one whose validity is unknown."
  @spec new(integer()) :: t()
  # (An update of the literal default struct: its keys stay in the literal area.)
  def new(salt), do: %{%__MODULE__{} | current: salt}

  @doc """
  Replaces the current salt with one the server sent (bad_server_salt, new_session_created).
  The future salts known so far are forgotten: the server's set has changed.
  """
  @spec put_current(t(), integer()) :: t()
  def put_current(salts, salt), do: %{salts | current: salt, valid_until: nil, future: []}

  @doc """
  Stores the answer to `get_future_salts` (fresh from the server, so valid): the current salt
  takes its validity from it, or is replaced by the newest salt already valid.
  """
  @spec put_future(t(), [future_salt()], integer()) :: t()
  def put_future(salts, future, now) do
    future =
      future
      |> Enum.map(&{&1.valid_since, &1.valid_until, &1.salt})
      |> Enum.sort_by(&elem(&1, 0))
      |> Enum.take(@keep)

    salts = %{salts | future: future}

    case List.keyfind(future, salts.current, 2) do
      {_since, until, _salt} -> rotate(%{salts | valid_until: until}, now)
      nil -> switch(salts, now)
    end
  end

  @doc "Moves to the newest future salt already valid when the current one is about to expire."
  @spec rotate(t(), integer()) :: t()
  def rotate(%__MODULE__{valid_until: nil} = salts, _now), do: salts

  def rotate(%__MODULE__{} = salts, now) do
    if salts.valid_until <= now + @margin, do: switch(salts, now), else: salts
  end

  defp switch(salts, now) do
    future = Enum.reject(salts.future, fn {_since, until, _salt} -> until <= now + @margin end)

    case Enum.filter(future, fn {since, _until, _salt} -> since <= now end) do
      [] ->
        %{salts | future: future}

      usable ->
        {_since, until, salt} = List.last(usable)
        %{salts | current: salt, valid_until: until, future: future}
    end
  end

  @doc "Whether more future salts should be asked for."
  @spec need_more?(t(), integer()) :: boolean()
  def need_more?(%__MODULE__{future: future}, now),
    do: Enum.count(future, fn {_since, until, _salt} -> until > now + @margin end) < 2
end
