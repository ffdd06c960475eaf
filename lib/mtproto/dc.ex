defmodule MTProto.DC do
  @moduledoc """
  Telegram's published datacenters: the production and test addresses (port 443) and the RSA
  public keys their handshakes use (production fingerprint `0xd09d1d85de64fd85`, test
  `0xb25898df208d2603`).
  """

  @production %{
    1 => {{149, 154, 175, 53}, 443},
    2 => {{149, 154, 167, 51}, 443},
    3 => {{149, 154, 175, 100}, 443},
    4 => {{149, 154, 167, 91}, 443},
    5 => {{91, 108, 56, 130}, 443}
  }

  @test %{
    1 => {{149, 154, 175, 10}, 443},
    2 => {{149, 154, 167, 40}, 443},
    3 => {{149, 154, 175, 117}, 443}
  }

  @production_key """
  -----BEGIN RSA PUBLIC KEY-----
  MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
  5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
  62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
  +aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
  t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
  5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
  -----END RSA PUBLIC KEY-----
  """

  @test_key """
  -----BEGIN RSA PUBLIC KEY-----
  MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
  yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
  plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
  j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
  aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
  j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
  -----END RSA PUBLIC KEY-----
  """

  @typedoc "`:production` or `:test` (Telegram's test servers)."
  @type environment :: :production | :test
  @type address :: {:inet.ip_address() | charlist() | String.t(), :inet.port_number()}

  @doc "The published address of datacenter `dc_id`."
  @spec address(integer(), environment()) :: {:ok, address()} | {:error, :unknown_dc}
  def address(dc_id, env \\ :production) do
    case Map.fetch(table(env), abs(dc_id)) do
      {:ok, address} -> {:ok, address}
      :error -> {:error, :unknown_dc}
    end
  end

  @doc "The ids of the datacenters of an environment."
  @spec ids(environment()) :: [pos_integer()]
  def ids(env \\ :production), do: table(env) |> Map.keys() |> Enum.sort()

  @doc "The RSA public keys (PEM) the handshake trusts by default in an environment."
  @spec rsa_keys(environment()) :: [binary()]
  def rsa_keys(:production), do: [@production_key]
  def rsa_keys(:test), do: [@test_key]

  defp table(:production), do: @production
  defp table(:test), do: @test
end
