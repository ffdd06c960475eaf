# Writes the seed corpus of fuzz_tl_decode (test/fuzz/corpus/tl_decode/): encoded valid objects
# of many constructors, methods and results, some gzipped. Run from the repo root:
#   MIX_ENV=test mix run test/fuzz/fuzz_tl_seeds.exs
Code.require_file("bench/tl_workload.exs")

alias MTProto.Bench.TLWorkload
alias MTProto.TL
alias MTProto.TL.Schema
alias MTProto.Test.TLGenerator

dir = "test/fuzz/corpus/tl_decode"
File.rm_rf!(dir)
File.mkdir_p!(dir)
:rand.seed(:exsss, {7, 7, 7})

entries =
  Enum.take_random(Schema.constructors(), 60) ++
    Enum.take_random(Schema.methods(), 30) ++
    Enum.map(
      [:msg_container, :future_salts, :resPQ, :channelFull, :user, :message],
      &Schema.entry/1
    )

seeds =
  for e <- entries, Schema.entry(e.name) == e do
    {Atom.to_string(e.name), TL.encode!(TLGenerator.term(e))}
  end

messages = TL.encode!(TLWorkload.messages())

seeds =
  seeds ++
    [
      {"workload_messages", messages},
      {"workload_send_message", TL.encode!(TLWorkload.send_message())},
      {"gzip_messages", TL.gzip(messages)},
      {"gzip_ping", TL.gzip(TL.encode!(%{_: :ping, ping_id: 1}))},
      # results typed by a method chosen by the first two bytes (see fuzz_tl_decode.c)
      {"vector_long", <<0, 0, 0x1CB5C415::little-32, 2::little-32, 1::little-64, 2::little-64>>}
    ]

for {name, bin} <- seeds do
  File.write!(Path.join(dir, String.replace(name, ".", "_")), bin)
end

IO.puts("#{length(seeds)} seeds in #{dir}")
