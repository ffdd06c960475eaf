defmodule Mix.Tasks.Compile.MtprotoNif do
  @moduledoc "Builds priv/mtproto_nif.so with `make nif`; a C failure fails the build."
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    {make, args} =
      case :os.type() do
        {:unix, :freebsd} -> {"gmake", ["nif"]}
        _ -> {"make", ["nif"]}
      end

    case System.cmd(make, args, into: IO.stream(:stdio, :line), stderr_to_stdout: true) do
      {_, 0} -> {:ok, []}
      {_, status} -> Mix.raise("make nif exited with status #{status}")
    end
  end

  @impl true
  def clean do
    System.cmd("make", ["clean"])
    :ok
  end
end

defmodule MTProto.MixProject do
  use Mix.Project

  def project do
    [
      app: :mtproto,
      version: "0.1.0",
      elixir: "~> 1.14",
      compilers: [:mtproto_nif] ++ Mix.compilers(),
      erlc_paths: ["lib"],
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      test_coverage: [ignore_modules: [:mtproto_nif]],
      # PropEr comes from Debian's erlang-proper (OTP's lib dir) and is used by tests only.
      xref: [exclude: [:proper, :proper_types]],
      deps: [],
      description: "Telegram MTProto 2.0 client (and test datacenter) with a C core",
      docs: [main: "readme", extras: ["README.md"]]
    ]
  end

  def application do
    [
      extra_applications: [:logger, :crypto, :public_key],
      mod: {MTProto.Application, []}
    ]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
