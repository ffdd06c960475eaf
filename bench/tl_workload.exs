# The TL benchmark workloads (loaded by bench/tl_bench.exs): a large realistic response and a
# small request, as terms. Deterministic (seeded), so every run measures the same bytes.
defmodule MTProto.Bench.TLWorkload do
  import Bitwise
  @moduledoc false

  @words ~w(hello world the quick brown fox jumps over lazy dog telegram message reply link
            bold code meeting tomorrow at noon please check this out thanks see you soon)

  @doc "messages.messages: 100 messages with text, entities and replies, 50 users, 20 chats."
  def messages do
    :rand.seed(:exsss, {1, 2, 3})
    users = for i <- 1..50, do: user(i)
    chats = for i <- 1..20, do: chat(i)
    messages = for i <- 1..100, do: message(i)
    %{_: :"messages.messages", messages: messages, chats: chats, users: users}
  end

  @doc "messages.sendMessage with a reply, entities and a random id."
  def send_message do
    text = "Meeting tomorrow at noon, see https://example.org/agenda for the agenda"

    %{
      _: :"messages.sendMessage",
      peer: %{_: :inputPeerUser, user_id: 777_000_123, access_hash: -4_611_686_018_427_387_904},
      reply_to: %{_: :inputReplyToMessage, reply_to_msg_id: 4242},
      message: text,
      random_id: 1_234_567_890_123_456_789,
      entities: [
        %{_: :messageEntityBold, offset: 0, length: 7},
        %{_: :messageEntityUrl, offset: 30, length: 28}
      ]
    }
  end

  defp text(n), do: Enum.map_join(1..n, " ", fn _ -> Enum.random(@words) end)

  defp user(i) do
    first = String.capitalize(Enum.random(@words))

    %{
      _: :user,
      id: 100_000 + i,
      access_hash: :rand.uniform(1 <<< 62),
      first_name: first,
      last_name: String.capitalize(Enum.random(@words)),
      username: "#{first}_#{i}",
      phone: "4917#{100_000 + i}",
      photo: %{
        _: :userProfilePhoto,
        photo_id: :rand.uniform(1 <<< 62),
        dc_id: 2,
        stripped_thumb: :rand.bytes(40)
      },
      status: %{_: :userStatusOffline, was_online: 1_700_000_000 + i},
      contact: rem(i, 3) == 0,
      mutual_contact: rem(i, 6) == 0
    }
  end

  defp chat(i) do
    %{
      _: :chat,
      id: 5000 + i,
      title: String.capitalize(text(3)),
      photo: %{_: :chatPhotoEmpty},
      participants_count: 10 + i,
      date: 1_690_000_000 + i,
      version: 1
    }
  end

  defp message(i) do
    body = String.capitalize(text(8 + rem(i, 12)))

    peer =
      if rem(i, 2) == 0,
        do: %{_: :peerChat, chat_id: 5001 + rem(i, 20)},
        else: %{_: :peerUser, user_id: 100_001 + rem(i, 50)}

    m = %{
      _: :message,
      id: 10_000 + i,
      out: rem(i, 4) == 0,
      from_id: %{_: :peerUser, user_id: 100_001 + rem(i * 7, 50)},
      peer_id: peer,
      date: 1_700_000_000 + i * 60,
      message: body,
      entities: [
        %{_: :messageEntityBold, offset: 0, length: 5},
        %{_: :messageEntityTextUrl, offset: 6, length: 4, url: "https://example.org/#{i}"}
      ]
    }

    if rem(i, 3) == 0,
      do: Map.put(m, :reply_to, %{_: :messageReplyHeader, reply_to_msg_id: 10_000 + i - 1}),
      else: m
  end
end
