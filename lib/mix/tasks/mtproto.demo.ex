defmodule Mix.Tasks.Mtproto.Demo do
  @shortdoc "Runs the mtproto demo against the embedded test datacenter"
  @moduledoc """
  Runs the demo: `mix mtproto.demo` (or `make demo`).

  Until the session layer lands this shows the C core loading; each layer extends it.
  """
  use Mix.Task

  @impl true
  def run(_args) do
    Mix.Task.run("app.start")
    Mix.shell().info("mtproto NIF loaded, ABI #{:mtproto_nif.abi_version()}")
  end
end
