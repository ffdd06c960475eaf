defmodule MTProto.TestServerDetailedInfoTest do
  use MTProto.TestServerCase, async: true

  # A request answered with `size` random bytes, then sent again as it was (a client that lost
  # the answer); returns what came back the second time.
  defp answered_then_repeated(size, until) do
    result = :crypto.strong_rand_bytes(size)
    server = start_server(handlers: %{"help.getCdnConfig": fn _, _ -> {:ok, {:raw, result}} end})
    client = inited(server)
    {request, client} = C.message(client, %{_: :"help.getCdnConfig"})
    client = C.send_message(client, request)
    {%{msg_id: answer_id, term: %{raw: ^result}}, _, client} = C.answer(client, request.msg_id)
    client = C.send_message(client, request)
    {again, seen, client} = C.recv_until(client, until)

    %{
      result: result,
      request: request,
      answer_id: answer_id,
      again: again,
      seen: seen,
      client: client
    }
  end

  test "a duplicate request with a large stored answer gets msg_detailed_info; msg_resend_req brings the answer" do
    %{
      result: result,
      request: request,
      answer_id: answer_id,
      again: info,
      seen: seen,
      client: client
    } = answered_then_repeated(20_000, &match?(%{term: %{_: :msg_detailed_info}}, &1))

    # Not run again, not resent whole.
    refute Enum.any?(seen, &match?(%{term: %{_: :rpc_result}}, &1))

    assert info.term == %{
             _: :msg_detailed_info,
             msg_id: request.msg_id,
             answer_msg_id: answer_id,
             bytes: byte_size(Message.encode_rpc_result(request.msg_id, result)),
             status: 0
           }

    {_, client} = C.send_term(client, %{_: :msg_resend_req, msg_ids: [answer_id]})
    {again, _, _} = C.answer(client, request.msg_id)
    assert %{msg_id: ^answer_id, term: %{_: :rpc_result, raw: ^result}} = again
  end

  test "a duplicate request with a small stored answer gets the answer again" do
    %{result: result, answer_id: answer_id, again: again} =
      answered_then_repeated(100, &match?(%{term: %{_: :rpc_result}}, &1))

    assert %{msg_id: ^answer_id, term: %{_: :rpc_result, raw: ^result}} = again
  end
end
