defmodule MTProto.Session.Salts do
  @moduledoc """
  Server salts: the one in use and the future ones from `get_future_salts`, with their
  validity. Salts are rotated before they expire (a margin of 60 s), the four soonest future
  ones are kept, and more are asked for when fewer than two remain. Times are server unix
  seconds. The future salts are kept as one binary of 16-byte records (valid_since and
  valid_until as signed 32-bit, the salt as signed 64-bit, as on the wire): four take ten
  words of an idle session's heap, where tuples with their bignum salts took 36 (and the
  `future_salt` maps the server sends three times that). `future_list/1` gives them as
  `{valid_since, valid_until, salt}` tuples.
  """

  defstruct current: 0, valid_until: nil, future: <<>>

  @typedoc "A `future_salt` as the TL decoder gives it (only these fields are read)."
  @type future_salt :: %{valid_since: integer(), valid_until: integer(), salt: integer()}

  @typedoc "A future salt as kept: `{valid_since, valid_until, salt}`."
  @type kept_salt :: {integer(), integer(), integer()}

  @type t :: %__MODULE__{
          current: integer(),
          valid_until: integer() | nil,
          future: binary()
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
  def put_current(salts, salt), do: %{salts | current: salt, valid_until: nil, future: <<>>}

  @doc "The future salts kept, soonest first, as `{valid_since, valid_until, salt}`."
  @spec future_list(t()) :: [kept_salt()]
  def future_list(%__MODULE__{future: future}),
    do:
      for(<<since::signed-32, until::signed-32, salt::signed-64 <- future>>,
        do: {since, until, salt}
      )

  @doc "How many future salts are kept."
  @spec future_count(t()) :: non_neg_integer()
  def future_count(%__MODULE__{future: future}), do: div(byte_size(future), 16)

  defp pack(list),
    do:
      for(
        {since, until, salt} <- list,
        into: <<>>,
        do: <<since::signed-32, until::signed-32, salt::signed-64>>
      )

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

    salts = %{salts | future: pack(future)}

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
    future =
      salts
      |> future_list()
      |> Enum.reject(fn {_since, until, _salt} -> until <= now + @margin end)

    case Enum.filter(future, fn {since, _until, _salt} -> since <= now end) do
      [] ->
        %{salts | future: pack(future)}

      usable ->
        {_since, until, salt} = List.last(usable)
        %{salts | current: salt, valid_until: until, future: pack(future)}
    end
  end

  @doc "Whether more future salts should be asked for."
  @spec need_more?(t(), integer()) :: boolean()
  def need_more?(%__MODULE__{} = salts, now),
    do: Enum.count(future_list(salts), fn {_since, until, _salt} -> until > now + @margin end) < 2
end
