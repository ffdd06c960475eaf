defmodule MTProto.TestServer.Shared do
  @moduledoc """
  What every process of one test server reads: its configuration, its RSA key and the public
  ETS tables (`config`: faults, clock skew, salt rotation; `keys`: auth keys by auth_key_id;
  `sessions`: `{{auth_key_id, session_id}, pid, last_use}`, last_use an `:atomics` cell the
  session writes, increasing, at every use).
  """

  @derive {Inspect, only: [:dc_id, :ip, :port, :fingerprint]}
  @enforce_keys [:core, :config, :keys, :sessions, :dc_id, :ip, :port, :rsa_private]
  defstruct [
    :core,
    :config,
    :keys,
    :sessions,
    :sessions_sup,
    :conns_sup,
    :listen,
    :dc_id,
    :ip,
    :port,
    :rsa_private,
    :public_pem,
    :fingerprint,
    # help.getNearestDc's answer, the same for every call: encoded once.
    :nearest_dc,
    handlers: %{},
    salt_period: 3600,
    max_connections: nil,
    max_sessions_per_key: 64,
    session_idle_timeout: 600_000
  ]

  @type t :: %__MODULE__{
          core: pid(),
          config: :ets.tid(),
          keys: :ets.tid(),
          sessions: :ets.tid(),
          sessions_sup: pid() | nil,
          conns_sup: pid() | nil,
          listen: port() | nil,
          dc_id: integer(),
          ip: :inet.ip_address(),
          port: :inet.port_number(),
          rsa_private: binary(),
          public_pem: binary() | nil,
          fingerprint: integer() | nil,
          nearest_dc: binary() | nil,
          handlers: %{atom() => function()},
          salt_period: pos_integer(),
          max_connections: pos_integer() | nil,
          max_sessions_per_key: pos_integer(),
          session_idle_timeout: pos_integer() | :infinity
        }
end
