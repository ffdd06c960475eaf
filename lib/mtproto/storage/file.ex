defmodule MTProto.Storage.File do
  @moduledoc """
  Keeps each datacenter's auth key in its own file (mode 0600), written atomically:
  `<dir>/dc<id>.key` for production datacenters, `<dir>/<network>-dc<id>.key` for the others
  (`test`, or a datacenter given by address, its `host:port` with characters other than
  letters, digits, `.`, `-` and `_` made `_`; see `MTProto.Storage.for_network/2`). `:dir` defaults to `Application.get_env(:mtproto, :storage_dir)` or
  `~/.mtproto`. The file holds the key, so guard the directory like a password store.
  """

  @behaviour MTProto.Storage

  alias MTProto.AuthKey

  @version 1

  @impl true
  def fetch(dc_id, opts) do
    with {:ok, bin} <- File.read(path(dc_id, opts)),
         {:ok, key} <- decode(bin, dc_id) do
      {:ok, key}
    else
      _ -> :error
    end
  end

  @impl true
  def put(%AuthKey{} = key, opts) do
    path = path(key.dc_id, opts)
    tmp = path <> ".tmp#{System.unique_integer([:positive])}"

    data =
      :erlang.term_to_binary(
        {@version, key.key, key.dc_id, key.kind, key.server_salt, key.user_id, key.expires_at}
      )

    with :ok <- File.mkdir_p(Path.dirname(path)),
         :ok <- File.write(tmp, <<>>),
         :ok <- File.chmod(tmp, 0o600),
         :ok <- File.write(tmp, data),
         :ok <- File.rename(tmp, path) do
      :ok
    else
      error ->
        File.rm(tmp)
        error
    end
  end

  @impl true
  def delete(dc_id, opts) do
    File.rm(path(dc_id, opts))
    :ok
  end

  @doc "The file a datacenter's key is kept in."
  @spec path(integer(), keyword()) :: Path.t()
  def path(dc_id, opts), do: Path.join(dir(opts), prefix(opts) <> "dc#{dc_id}.key")

  defp prefix(opts) do
    case MTProto.Storage.network(opts) do
      "production" -> ""
      network -> String.replace(network, ~r/[^A-Za-z0-9._-]/, "_") <> "-"
    end
  end

  defp dir(opts) do
    opts[:dir] || Application.get_env(:mtproto, :storage_dir) ||
      Path.join(System.user_home() || System.tmp_dir!(), ".mtproto")
  end

  defp decode(bin, dc_id) do
    case :erlang.binary_to_term(bin, [:safe]) do
      {@version, key, ^dc_id, kind, salt, user_id, expires_at}
      when is_binary(key) and byte_size(key) == 256 and kind in [:perm, :temp] and
             is_integer(salt) ->
        {:ok,
         AuthKey.new(key, dc_id,
           kind: kind,
           server_salt: salt,
           user_id: user_id,
           expires_at: expires_at
         )}

      _ ->
        :error
    end
  rescue
    ArgumentError -> :error
  end
end
