defmodule MTProto.Test.SessionHelpers do
  @moduledoc """
  Sessions against a test datacenter in tests: opening one (closed when the test ends), and a
  handler that answers `help.getAppConfig(hash)` with the same hash and counts in an ETS table
  how often each hash ran on the server (so tests can prove nothing ran twice).
  """
  import ExUnit.Callbacks, only: [on_exit: 1]
  alias MTProto.{Session, TestServer}

  @doc "Handlers with the counting `help.getAppConfig` writing to `table`."
  @spec counting_handlers(:ets.tid()) :: map()
  def counting_handlers(table) do
    %{
      "help.getAppConfig": fn %{hash: hash}, _ctx ->
        :ets.update_counter(table, hash, 1, {hash, 0})
        {:ok, %{_: :"help.appConfig", hash: hash, config: %{_: :jsonNull}}}
      end
    }
  end

  @doc "How often `help.getAppConfig(i)` ran on the server."
  @spec runs(:ets.tid(), integer()) :: non_neg_integer()
  def runs(table, i) do
    case :ets.lookup(table, i) do
      [{_, n}] -> n
      [] -> 0
    end
  end

  @doc "Opens a session to `server` (in-memory storage, fast backoff, the test as client)."
  @spec open(GenServer.server(), keyword()) :: Session.session_id()
  def open(server, opts \\ []) do
    base = [
      address: TestServer.address(server),
      rsa_keys: [TestServer.public_key(server)],
      storage: {MTProto.Storage.Memory, namespace: make_ref()},
      client: self(),
      backoff_min: 10,
      backoff_max: 200,
      api_id: 1234
    ]

    {:ok, sid} = Session.open(2, Keyword.merge(base, opts))
    on_exit(fn -> Session.close(sid) end)
    sid
  end

  @doc "`help.getAppConfig(i)` through the session."
  def app_config(sid, i, timeout \\ 30_000),
    do: Session.call(sid, %{_: :"help.getAppConfig", hash: i}, timeout)

  @doc "Waits until `fun` returns true, checking every `step` ms at most `tries` times."
  @spec wait_until((() -> boolean()), pos_integer(), pos_integer()) :: :ok
  def wait_until(fun, tries \\ 200, step \\ 10) do
    cond do
      fun.() -> :ok
      tries == 0 -> ExUnit.Assertions.flunk("condition not reached")
      true -> Process.sleep(step) && wait_until(fun, tries - 1, step)
    end
  end
end
