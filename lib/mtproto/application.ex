defmodule MTProto.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      MTProto.Registry,
      MTProto.Storage.Memory,
      {DynamicSupervisor, name: MTProto.SessionSupervisor, strategy: :one_for_one}
    ]

    Supervisor.start_link(children, strategy: :rest_for_one, name: MTProto.Supervisor)
  end
end
