defmodule MTProto.TestServer.Acceptor do
  @moduledoc """
  One of the server's acceptors: waits on the shared listening socket and hands each new
  connection to a `MTProto.TestServer.Connection` under the connection supervisor.
  """

  use Task, restart: :permanent

  alias MTProto.TestServer.{Connection, Shared}

  @doc false
  def start_link(%Shared{} = shared), do: Task.start_link(__MODULE__, :loop, [shared])

  @doc false
  def loop(%Shared{listen: listen} = shared) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        hand_over(shared, socket)
        loop(shared)

      {:error, :closed} ->
        :ok

      # emfile, enfile, econnaborted...: wait a little rather than spin.
      {:error, _transient} ->
        Process.sleep(10)
        loop(shared)
    end
  end

  defp hand_over(shared, socket) do
    spec = %{
      id: Connection,
      start: {Connection, :start_link, [shared, socket]},
      restart: :temporary
    }

    case DynamicSupervisor.start_child(shared.conns_sup, spec) do
      {:ok, pid} ->
        case :gen_tcp.controlling_process(socket, pid) do
          :ok -> send(pid, :socket_ready)
          {:error, _} -> :gen_tcp.close(socket)
        end

      _ ->
        :gen_tcp.close(socket)
    end
  end
end
