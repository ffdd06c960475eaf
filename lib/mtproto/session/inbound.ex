defmodule MTProto.Session.Inbound do
  @moduledoc """
  The receiving side of a session (pure, on `MTProto.Session.Core`): the checks of the
  MTProto security guidelines, then the service messages, answers and updates.

  Checks, in order: msg_key and auth_key_id (in C, `MTProto.Crypto.decrypt_message/3`), the
  session_id, the server msg_id odd, inside the 300 s / 30 s window once the clock is known,
  and not seen before (duplicates and replays are dropped). A packet failing a check changes
  nothing except the drop counter. One exception keeps a client with a wrong clock alive: a
  `bad_msg_notification` 16/17 about a message this session just sent is accepted outside
  the window (it is authenticated by the key and names our own recent msg_id, so it cannot be
  a replay).

  `handle_packet/2` returns events for the handler:
  `{:reply, tag, {:ok, result} | {:error, reason}}`, `{:update, term}`,
  `{:session_created, term}`, `{:dropped, reason}`, `{:clock_fixed, offset_seconds}`,
  `{:salt_changed, salt}`, `{:session_reset, {:bad_msg, 32 | 33}}`.
  """

  import Bitwise

  alias MTProto.{Crypto, Message, MessageId, RpcError, TL}
  alias MTProto.Session.{Core, Salts, Seen}

  @rpc_error 0x2144CA19
  @bad_msg_notification 0xA7EFF811

  @type event ::
          {:reply, term(), {:ok, term()} | {:error, term()}}
          | {:update, map()}
          | {:session_created, map()}
          | {:dropped, term()}
          | {:clock_fixed, integer()}
          | {:salt_changed, integer()}
          | {:session_reset, {:bad_msg, 32 | 33}}

  @doc "Checks and handles one encrypted packet from the server."
  @spec handle_packet(Core.t(), binary()) :: {[event()], Core.t()}
  def handle_packet(core, packet) do
    core = bump(core, packets_in: 1, bytes_in: byte_size(packet))

    with {:ok, plain} <- Crypto.decrypt_message(core.auth_key, :server, packet),
         {:ok, msg} <- Message.decode_plaintext(plain),
         :ok <- check_session(core, msg) do
      receive_message(core, msg)
    else
      {:error, reason} -> drop(core, reason, [])
    end
  end

  defp check_session(core, %{session_id: id}),
    do: if(id == core.session_id, do: :ok, else: {:error, :wrong_session_id})

  defp receive_message(core, msg) do
    case check_id(core, msg.msg_id) do
      :ok ->
        core = %{core | history: Seen.put(core.history, msg.msg_id), window_misses: []}
        core = if core.time_synced?, do: core, else: Core.sync_clock(core, msg.msg_id)
        {events, core} = handle_message(core, msg)
        {Enum.reverse(events), core}

      {:error, reason} when reason in [:too_old, :too_new] ->
        clock_rescue(core, msg, reason)

      {:error, :duplicate} ->
        # A repeat the server sends because our ack got lost: acknowledge it again.
        core = if (msg.seqno &&& 1) == 1, do: Core.ack(core, msg.msg_id), else: core
        drop(core, :duplicate, [])

      {:error, reason} ->
        drop(core, reason, [])
    end
  end

  defp check_id(core, msg_id) do
    cond do
      not MessageId.valid_parity?(msg_id, :server) ->
        {:error, :even_msg_id}

      Seen.member?(core.history, msg_id) ->
        {:error, :duplicate}

      not core.time_synced? ->
        history_ok(core, msg_id)

      true ->
        with :ok <- MessageId.check_window(msg_id, Core.server_now(core)),
             do: history_ok(core, msg_id)
    end
  end

  defp history_ok(core, msg_id) do
    Seen.check(core.history, msg_id)
  end

  # Outside the window: only a bad_msg_notification 16/17 about our own recent message counts.
  defp clock_rescue(core, msg, reason) do
    bodies =
      if Message.container?(msg.body) do
        case Message.decode_container(msg.body) do
          {:ok, inner} -> Enum.map(inner, & &1.body)
          _ -> []
        end
      else
        [msg.body]
      end

    found =
      Enum.find_value(bodies, fn
        <<@bad_msg_notification::little-32, bad_id::little-signed-64, _seq::little-32,
          code::little-32>>
        when code in [16, 17] ->
          if ours?(core, bad_id) and clock_claim_holds?(code, bad_id, msg.msg_id), do: bad_id

        _ ->
          nil
      end)

    cond do
      found ->
        core = Core.sync_clock(core, msg.msg_id)
        core = %{core | history: Seen.put(core.history, msg.msg_id), window_misses: []}
        core = Core.reissue(core, found)
        {[{:clock_fixed, div(core.time_offset_ns, 1_000_000_000)}], core}

      clock_moved?(core, msg.msg_id) ->
        # Our clock stepped (the server keeps answering, from "outside" our window): resync.
        core = Core.sync_clock(%{core | window_misses: []}, msg.msg_id)
        {events, core} = receive_message(core, msg)
        {[{:clock_fixed, div(core.time_offset_ns, 1_000_000_000)} | events], core}

      true ->
        misses =
          if history_ok(core, msg.msg_id) == :ok,
            do: Enum.take([MessageId.offset_from(msg.msg_id) | core.window_misses], 3),
            else: core.window_misses

        drop(%{core | window_misses: misses}, reason, [])
    end
  end

  # The window check is only as good as our clock. Replays cannot pass the history check (ids
  # seen or below every remembered one), so two messages in a row that pass everything but
  # the window, and agree on the offset within 30 s, mean that our clock moved, not the server's.
  defp clock_moved?(core, msg_id) do
    history_ok(core, msg_id) == :ok and
      core.window_misses != [] and
      Enum.all?(core.window_misses, &(abs(&1 - MessageId.offset_from(msg_id)) < 30_000_000_000))
  end

  # A bad_msg_notification 16 (17) says our msg_id is too old (new) for the server's clock,
  # which its own msg_id shows. If that clock would not put our msg_id outside the window in
  # the way the code says, the claim contradicts itself: syncing to it changes nothing and the
  # message resent would be refused again, in a loop, so it is dropped.
  defp clock_claim_holds?(code, bad_id, server_msg_id) do
    MessageId.check_window(bad_id, MessageId.seconds(server_msg_id)) ==
      {:error, if(code == 16, do: :too_old, else: :too_new)}
  end

  defp ours?(core, id) do
    Map.has_key?(core.sent, id) or Map.has_key?(core.containers, id) or Map.has_key?(core.calls, id)
  end

  defp handle_message(core, %{body: body} = msg) do
    if Message.container?(body) do
      case Message.decode_container(body) do
        {:ok, inner} -> Enum.reduce(inner, {[], core}, &handle_inner/2)
        {:error, reason} -> {[{:dropped, reason}], core}
      end
    else
      handle_single({[], core}, msg)
    end
  end

  defp handle_inner(msg, {events, core}) do
    case check_id(core, msg.msg_id) do
      :ok ->
        handle_single({events, %{core | history: Seen.put(core.history, msg.msg_id)}}, msg)

      {:error, reason} ->
        core =
          if reason == :duplicate and (msg.seqno &&& 1) == 1,
            do: Core.ack(core, msg.msg_id),
            else: core

        {[{:dropped, reason} | events], bump(core, dropped: 1)}
    end
  end

  defp handle_single({events, core}, %{msg_id: msg_id, seqno: seqno, body: body}) do
    core = if (seqno &&& 1) == 1, do: Core.ack(core, msg_id), else: core
    dispatch(body, msg_id, core, events)
  end

  ## Dispatch

  defp dispatch(<<0xF35C6D01::little-32, _::binary>> = body, _msg_id, core, events) do
    case Message.decode_rpc_result(body) do
      {:ok, req_msg_id, result} -> rpc_result(core, req_msg_id, result, events)
      {:error, reason} -> {[{:dropped, reason} | events], core}
    end
  end

  defp dispatch(body, msg_id, core, events) do
    case TL.decode(body) do
      {:ok, %{_: name} = term} -> service(name, term, msg_id, core, events)
      {:error, reason} -> {[{:dropped, {:decode, reason}} | events], bump(core, dropped: 1)}
    end
  end

  defp rpc_result(core, req_msg_id, result, events) do
    {call, core} = Core.take_call(core, req_msg_id)

    case call do
      nil ->
        {events, core}

      call ->
        {reply, core} = decode_result(core, call, result)

        case {call.tag, reply} do
          {{:internal, _, _}, _} ->
            {events, core}

          {_, {:retry_wrapped, _}} ->
            {:ok, _id, core} =
              Core.call(%{core | connection_inited?: false}, call.request, call.tag)

            {events, core}

          {tag, reply} ->
            {[{:reply, tag, reply} | events], core}
        end
    end
  end

  defp decode_result(core, call, <<@rpc_error::little-32, _::binary>> = bin) do
    case TL.decode(bin) do
      {:ok, %{_: :rpc_error} = term} ->
        error = RpcError.from_term(term)

        cond do
          error.code == 400 and error.message == "CONNECTION_NOT_INITED" and not call.wrapped? ->
            {{:retry_wrapped, error}, core}

          call.wrapped? and not String.starts_with?(error.message, "CONNECTION_") ->
            {{:error, error}, %{core | connection_inited?: true}}

          true ->
            {{:error, error}, core}
        end

      {:error, reason} ->
        {{:error, {:decode, reason}}, core}
    end
  end

  defp decode_result(core, call, bin) do
    core = if call.wrapped?, do: %{core | connection_inited?: true}, else: core

    case TL.decode_result(call.method, bin) do
      {:ok, term} -> {{:ok, term}, core}
      {:error, reason} -> {{:error, {:decode, reason}}, core}
    end
  end

  # Bare answers to our own service queries: pong, future_salts, msgs_state_info carry the id
  # of the query they answer.
  defp bare_answer(core, req_msg_id, term, events) do
    case Core.take_call(core, req_msg_id) do
      {nil, core} -> {events, core}
      {%{tag: {:internal, _, _}}, core} -> {events, core}
      {%{tag: tag}, core} -> {[{:reply, tag, {:ok, term}} | events], core}
    end
  end

  defp service(:pong, term, _msg_id, core, events), do: bare_answer(core, term.msg_id, term, events)

  defp service(:future_salts, term, _msg_id, core, events) do
    salts = Salts.put_future(core.salts, term.salts, Core.server_now(core))
    bare_answer(%{core | salts: salts}, term.req_msg_id, term, events)
  end

  defp service(:msgs_state_info, term, _msg_id, core, events),
    do: bare_answer(core, term.req_msg_id, term, events)

  defp service(name, term, _msg_id, core, events)
       when name in [:destroy_session_ok, :destroy_session_none] do
    found =
      Enum.find(core.calls, fn {_id, c} ->
        c.method == :destroy_session and c.request.session_id == term.session_id
      end)

    case found do
      {id, _} -> bare_answer(core, id, term, events)
      nil -> {events, core}
    end
  end

  defp service(:msgs_ack, %{msg_ids: ids}, _msg_id, core, events),
    do: {events, Core.acked(core, ids)}

  defp service(:bad_server_salt, term, _msg_id, core, events) do
    core = %{core | salts: Salts.put_current(core.salts, term.new_server_salt)}
    core = Core.reissue(core, term.bad_msg_id)
    core = maybe_fetch_salts(core)
    {[{:salt_changed, term.new_server_salt} | events], core}
  end

  defp service(:bad_msg_notification, %{error_code: code} = term, msg_id, core, events)
       when code in [16, 17] do
    if clock_claim_holds?(code, term.bad_msg_id, msg_id) do
      core = Core.sync_clock(core, msg_id) |> Core.reissue(term.bad_msg_id)
      {[{:clock_fixed, div(core.time_offset_ns, 1_000_000_000)} | events], core}
    else
      {[{:dropped, :clock_claim_mismatch} | events], bump(core, dropped: 1)}
    end
  end

  defp service(:bad_msg_notification, %{error_code: code} = term, _msg_id, core, events)
       when code in [19, 20] do
    {events, Core.reissue(core, term.bad_msg_id)}
  end

  defp service(:bad_msg_notification, %{error_code: code}, _msg_id, core, events)
       when code in [32, 33] do
    {[{:session_reset, {:bad_msg, code}} | events], Core.reset_session(core)}
  end

  defp service(:bad_msg_notification, %{error_code: code} = term, _msg_id, core, events) do
    ids = Map.get(core.containers, term.bad_msg_id, [term.bad_msg_id])

    Enum.reduce(ids, {events, core}, fn id, {events, core} ->
      case Core.take_call(core, id) do
        {%{tag: {:internal, _, _}}, core} -> {events, core}
        {%{tag: tag}, core} -> {[{:reply, tag, {:error, {:bad_msg, code}}} | events], core}
        {nil, core} -> {events, core}
      end
    end)
  end

  defp service(:new_session_created, term, _msg_id, core, events) do
    core = %{core | salts: Salts.put_current(core.salts, term.server_salt)}

    # A container's msg_id comes after those of its messages: when the session's first message
    # was a container, the messages inside it were not lost.
    in_first =
      for {cid, ids} <- core.containers,
          cid >= term.first_msg_id,
          id <- ids,
          into: MapSet.new(),
          do: id

    lost =
      for {id, _} <- core.sent, id < term.first_msg_id, not MapSet.member?(in_first, id), do: id

    core = lost |> Enum.sort() |> Enum.reduce(core, &Core.reissue(&2, &1))
    core = maybe_fetch_salts(core)
    {[{:session_created, term} | events], core}
  end

  defp service(:msgs_state_req, %{msg_ids: ids}, msg_id, core, events) do
    info = for id <- ids, into: <<>>, do: <<state_of(core, id)>>
    body = TL.encode!(%{_: :msgs_state_info, req_msg_id: msg_id, info: info})
    {_id, core} = Core.enqueue(core, body, false)
    {events, core}
  end

  defp service(:msg_resend_req, %{msg_ids: ids}, _msg_id, core, events) do
    resend = for id <- ids, out = core.sent[id], out != nil, do: out
    outbox = :queue.join(core.outbox, :queue.from_list(resend))
    {events, %{core | outbox: outbox}}
  end

  defp service(:msgs_all_info, %{msg_ids: ids, info: info}, _msg_id, core, events) do
    core =
      ids
      |> Enum.zip(:binary.bin_to_list(info))
      |> Enum.reduce(core, fn {id, status}, core ->
        case status &&& 7 do
          s when s in [1, 2, 3] -> if ours?(core, id), do: Core.reissue(core, id), else: core
          4 -> Core.acked(core, [id])
          _ -> core
        end
      end)

    {events, core}
  end

  defp service(:msg_detailed_info, term, _msg_id, core, events) do
    core = Core.acked(core, [term.msg_id])
    {events, answer_known(core, term.answer_msg_id)}
  end

  defp service(:msg_new_detailed_info, term, _msg_id, core, events),
    do: {events, answer_known(core, term.answer_msg_id)}

  defp service(_name, term, _msg_id, core, events), do: {[{:update, term} | events], core}

  # The server says it has an answer for us: acknowledge it if we have it, else ask for it.
  defp answer_known(core, answer_id) do
    if Seen.member?(core.history, answer_id) do
      Core.ack(core, answer_id)
    else
      body = TL.encode!(%{_: :msg_resend_req, msg_ids: [answer_id]})
      {_id, core} = Core.enqueue(core, body, true)
      core
    end
  end

  # msgs_state_info statuses: 4 = received, 1 = nothing known.
  defp state_of(core, id), do: if(Seen.member?(core.history, id), do: 4, else: 1)

  @doc "Queues `get_future_salts` when fewer than two future salts are known and none is asked for."
  @spec maybe_fetch_salts(Core.t()) :: Core.t()
  def maybe_fetch_salts(core) do
    asking? = Enum.any?(core.calls, fn {_, c} -> match?({:internal, :future_salts, _}, c.tag) end)

    if not asking? and Salts.need_more?(core.salts, Core.server_now(core)),
      do: Core.internal_call(core, %{_: :get_future_salts, num: 8}, :future_salts),
      else: core
  end

  defp drop(core, reason, events), do: {[{:dropped, reason} | events], bump(core, dropped: 1)}

  defp bump(core, counts) do
    stats = Enum.reduce(counts, core.stats, fn {k, n}, s -> Map.update!(s, k, &(&1 + n)) end)
    %{core | stats: stats}
  end
end
