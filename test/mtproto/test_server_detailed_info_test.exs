defmodule MTProto.TestServerDetailedInfoTest do
  use MTProto.TestServerCase, async: true

  defp server_with_result(size) do
    result = :crypto.strong_rand_bytes(size)
    server = start_server(handlers: %{"help.getCdnConfig": fn _, _ -> {:ok, {:raw, result}} end})
    {server, result}
  end

  test "a duplicate request with a large stored answer gets msg_detailed_info; msg_resend_req brings the answer" do
    {server, result} = server_with_result(20_000)
    client = inited(server)
    {request, client} = C.message(client, %{_: :"help.getCdnConfig"})
    client = C.send_message(client, request)
    {%{msg_id: answer_id, term: %{raw: ^result}}, _, client} = C.answer(client, request.msg_id)

    # The same message again (a client that lost the answer): not run again, not resent whole.
    client = C.send_message(client, request)
    {info, seen, client} = C.recv_until(client, &match?(%{term: %{_: :msg_detailed_info}}, &1))
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
    {server, result} = server_with_result(100)
    client = inited(server)
    {request, client} = C.message(client, %{_: :"help.getCdnConfig"})
    client = C.send_message(client, request)
    {%{msg_id: answer_id}, _, client} = C.answer(client, request.msg_id)
    client = C.send_message(client, request)
    {again, _, _} = C.answer(client, request.msg_id)
    assert %{msg_id: ^answer_id, term: %{_: :rpc_result, raw: ^result}} = again
  end
end
