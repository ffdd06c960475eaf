defmodule MTProto.TestServer.Config do
  @moduledoc """
  The answer to `help.getConfig`, in the layer the client announced: its DC list is this one
  server (`dc_id`, loopback address and port). Layers from 145 on get the schema's `config`
  (layer #{198}); layers up to 144 (Telethon 1.25 among them) get `config#330b4067`, whose
  fields differ, written here field by field since the schema no longer has it.
  """

  alias MTProto.TL
  alias MTProto.TestServer.{Faults, Shared}

  @legacy_config 0x330B4067
  @bool_true 0x997275B5
  @bool_false 0xBC799737
  @vector 0x1CB5C415

  @doc "The encoded `Config` for `layer`."
  @spec encode(Shared.t(), pos_integer()) :: binary()
  def encode(%Shared{} = shared, layer) when layer <= 144, do: legacy(shared)

  def encode(%Shared{} = shared, _layer) do
    TL.encode!(
      Map.merge(common(shared), %{
        _: :config,
        test_mode: true,
        dc_options: dc_options(shared),
        tmp_sessions: 3
      })
    )
  end

  defp common(shared) do
    now = Faults.now(shared)

    %{
      date: now,
      expires: now + 3600,
      this_dc: shared.dc_id,
      dc_txt_domain_name: "localhost",
      chat_size_max: 200,
      megagroup_size_max: 200_000,
      forwarded_count_max: 100,
      online_update_period_ms: 210_000,
      offline_blur_timeout_ms: 5000,
      offline_idle_timeout_ms: 30_000,
      online_cloud_timeout_ms: 300_000,
      notify_cloud_delay_ms: 30_000,
      notify_default_delay_ms: 1500,
      push_chat_period_ms: 60_000,
      push_chat_limit: 2,
      edit_time_limit: 172_800,
      revoke_time_limit: 2_147_483_647,
      revoke_pm_time_limit: 2_147_483_647,
      rating_e_decay: 2_419_200,
      stickers_recent_limit: 200,
      channels_read_media_period: 604_800,
      call_receive_timeout_ms: 20_000,
      call_ring_timeout_ms: 90_000,
      call_connect_timeout_ms: 30_000,
      call_packet_timeout_ms: 10_000,
      me_url_prefix: "https://t.me/",
      caption_length_max: 1024,
      message_length_max: 4096,
      webfile_dc_id: shared.dc_id
    }
  end

  defp dc_options(shared) do
    ip = shared.ip |> :inet.ntoa() |> to_string()
    option = %{_: :dcOption, id: shared.dc_id, ip_address: ip, port: shared.port}
    [if(tuple_size(shared.ip) == 8, do: Map.put(option, :ipv6, true), else: option)]
  end

  # config#330b4067 (layers up to 144), flags 0 (no optional field) except tmp_sessions.
  defp legacy(shared) do
    c = common(shared)
    options = dc_options(shared)
    int = &<<&1::little-signed-32>>

    IO.iodata_to_binary([
      <<@legacy_config::little-32, 1::little-32>>,
      int.(c.date),
      int.(c.expires),
      <<@bool_true::little-32>>,
      int.(c.this_dc),
      <<@vector::little-32, length(options)::little-32>>,
      Enum.map(options, &TL.encode!/1),
      string(c.dc_txt_domain_name),
      Enum.map(
        [
          c.chat_size_max,
          c.megagroup_size_max,
          c.forwarded_count_max,
          c.online_update_period_ms,
          c.offline_blur_timeout_ms,
          c.offline_idle_timeout_ms,
          c.online_cloud_timeout_ms,
          c.notify_cloud_delay_ms,
          c.notify_default_delay_ms,
          c.push_chat_period_ms,
          c.push_chat_limit,
          # saved_gifs_limit
          200,
          c.edit_time_limit,
          c.revoke_time_limit,
          c.revoke_pm_time_limit,
          c.rating_e_decay,
          c.stickers_recent_limit,
          # stickers_faved_limit
          5,
          c.channels_read_media_period,
          # tmp_sessions (flags.0)
          3,
          # pinned_dialogs_count_max, pinned_infolder_count_max
          5,
          100,
          c.call_receive_timeout_ms,
          c.call_ring_timeout_ms,
          c.call_connect_timeout_ms,
          c.call_packet_timeout_ms
        ],
        int
      ),
      string(c.me_url_prefix),
      Enum.map([c.caption_length_max, c.message_length_max, c.webfile_dc_id], int)
    ])
  end

  @doc false
  # A TL string: length byte (or 254 and 3 bytes), the bytes, zero padding to 4.
  def string(s) when byte_size(s) < 254, do: pad([byte_size(s), s], 1 + byte_size(s))
  def string(s), do: pad([254, <<byte_size(s)::little-24>>, s], 4 + byte_size(s))

  defp pad(iodata, n), do: [iodata | :binary.copy(<<0>>, rem(4 - rem(n, 4), 4))]

  @doc false
  def bool(true), do: <<@bool_true::little-32>>
  def bool(false), do: <<@bool_false::little-32>>
end
