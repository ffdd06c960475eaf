defmodule MTProto.TestServerRobustnessTest do
  use MTProto.TestServerCase, async: true

  # Bodies that cannot fit the framing's 16 MiB packet limit, and do not compress.
  @too_big 16 * 1024 * 1024 + 1
  @big 9 * 1024 * 1024
  # A TL string this long still encodes, but the message carrying it is above the limit.
  @too_big_string 16 * 1024 * 1024 - 512

  defp incompressible(n), do: :crypto.strong_rand_bytes(n)

  defp still_serves(client) do
    {result, client} = C.call(client, %{_: :"help.getNearestDc"})
    assert %{_: :nearestDc} = result
    client
  end

  describe "handler results that cannot be sent become rpc_errors" do
    test "a result above the 16 MiB packet limit is 500 RESULT_TOO_LARGE; the connection stays" do
      raw = incompressible(@too_big)
      string = incompressible(@too_big_string)

      server =
        start_server(
          handlers: %{
            "help.getCdnConfig": fn _req, _ctx -> {:ok, {:raw, raw}} end,
            "help.getAppConfig": fn _req, _ctx ->
              {:ok, %{_: :"help.appConfig", hash: 1, config: %{_: :jsonString, value: string}}}
            end
          }
        )

      client = inited(server)
      {result, client} = C.call(client, %{_: :"help.getCdnConfig"}, 20_000)
      assert result == %{_: :rpc_error, error_code: 500, error_message: "RESULT_TOO_LARGE"}
      client = still_serves(client)
      {result, client} = C.call(client, %{_: :"help.getAppConfig", hash: 0}, 20_000)
      assert result == %{_: :rpc_error, error_code: 500, error_message: "RESULT_TOO_LARGE"}
      still_serves(client)
    end

    test "a large result that compresses below the limit is still sent (gzip_packed)" do
      server =
        start_server(
          handlers: %{
            "help.getCdnConfig": fn _req, _ctx ->
              {:ok, {:raw, :binary.copy(<<0>>, @too_big)}}
            end
          }
        )

      client = inited(server)
      {id, client} = C.send_term(client, %{_: :"help.getCdnConfig"})
      {%{term: %{raw: raw}}, _, client} = C.answer(client, id, 20_000)
      assert <<0x3072CFA1::little-32, _::binary>> = raw
      still_serves(client)
    end

    test "malformed handler values, raises, throws and exits are 500 INTERNAL" do
      big_message = String.duplicate("X", @too_big)

      handlers = %{
        "help.getCdnConfig": fn _req, _ctx -> {:error, 0x10000000000, "TOO_BIG_CODE"} end,
        "help.getAppConfig": fn _req, _ctx -> {:error, 400, big_message} end,
        "help.getSupport": fn _req, _ctx -> {:error, "400", "NOT_A_CODE"} end,
        "help.getTermsOfServiceUpdate": fn _req, _ctx -> throw(:oops) end,
        "help.getInviteText": fn _req, _ctx -> exit(:oops) end,
        "help.getSupportName": fn _req, _ctx -> raise "boom" end,
        "help.getPromoData": fn _req, _ctx -> {:ok, {:raw, :not_binary}} end,
        "help.getPremiumPromo": fn _req, _ctx -> :what end
      }

      server = start_server(handlers: handlers)
      client = inited(server)
      internal = %{_: :rpc_error, error_code: 500, error_message: "INTERNAL"}

      client =
        Enum.reduce(
          [
            %{_: :"help.getCdnConfig"},
            %{_: :"help.getAppConfig", hash: 0},
            %{_: :"help.getSupport"},
            %{_: :"help.getTermsOfServiceUpdate"},
            %{_: :"help.getInviteText"},
            %{_: :"help.getSupportName"},
            %{_: :"help.getPromoData"},
            %{_: :"help.getPremiumPromo"}
          ],
          client,
          fn request, client ->
            {result, client} = C.call(client, request, 20_000)
            assert {request._, result} == {request._, internal}
            client
          end
        )

      {result, _} = C.call(client, %{_: :ping, ping_id: 5})
      assert %{_: :pong, ping_id: 5} = result
    end
  end

  test "answers resent together that exceed the packet limit go out in several packets" do
    server =
      start_server(
        handlers: %{"help.getCdnConfig": fn _req, _ctx -> {:ok, {:raw, incompressible(@big)}} end}
      )

    client = inited(server)
    {id1, client} = C.send_term(client, %{_: :"help.getCdnConfig"})
    {%{msg_id: answer1, term: %{raw: raw1}}, _, client} = C.answer(client, id1, 20_000)
    {id2, client} = C.send_term(client, %{_: :"help.getCdnConfig"})
    {%{msg_id: answer2, term: %{raw: raw2}}, _, client} = C.answer(client, id2, 20_000)
    assert byte_size(raw1) == @big and byte_size(raw2) == @big

    # Both answers again, as a client that lost them asks: together they are ~18 MiB.
    {_, client} = C.send_term(client, %{_: :msg_resend_req, msg_ids: [answer1, answer2]})
    answered = fn id -> fn %{term: t} -> match?(%{_: :rpc_result, req_msg_id: ^id}, t) end end
    {%{term: %{raw: ^raw1}}, seen, client} = C.recv_until(client, answered.(id1), 20_000)

    client =
      if Enum.any?(seen, answered.(id2)) do
        client
      else
        {%{term: %{raw: ^raw2}}, _, client} = C.recv_until(client, answered.(id2), 20_000)
        client
      end

    still_serves(client)
  end

  test "an update above the packet limit is refused to the caller; the sessions keep working" do
    server = start_server()
    client = inited(server)
    update = %{_: :updateShort, update: %{_: :updateDcOptions, dc_options: []}, date: 0}

    huge = %{
      update
      | update: %{
          _: :updateServiceNotification,
          popup: false,
          type: "x",
          message: incompressible(@too_big_string),
          media: %{_: :messageMediaEmpty},
          entities: []
        }
    }

    assert_raise ArgumentError, fn -> TestServer.push_update(server, :all, huge) end
    assert TestServer.push_update(server, :all, update) == 1

    {%{term: %{_: :updateShort}}, _, client} =
      C.recv_until(client, &match?(%{term: %{_: :updateShort}}, &1))

    still_serves(client)
  end
end
