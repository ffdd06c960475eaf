# Writes the seed corpora of the fuzz targets (test/fuzz/corpus/<name>/) from the library
# itself: run from the repository root with `mix run test/fuzz/make_seeds.exs`.
alias MTProto.Crypto

write = fn name, seeds ->
  dir = Path.join("test/fuzz/corpus", name)
  File.mkdir_p!(dir)
  for {seed, i} <- Enum.with_index(seeds), do: File.write!(Path.join(dir, "seed#{i}"), seed)
end

# fuzz_msg_decrypt uses the auth key with bytes i*7+3
auth_key = for(i <- 0..255, into: <<>>, do: <<rem(i * 7 + 3, 256)>>)
plain = <<1::64, 2::64, 4::little-64, 1::little-32, 8::little-32, "abcdefgh">>
client = Crypto.encrypt_message(auth_key, :client, plain)
server = Crypto.encrypt_message(auth_key, :server, plain)
<<_id::binary-8, server_tail::binary>> = server
write.("msg_decrypt", [client, server, server_tail, :crypto.strong_rand_bytes(76) <> plain])

key = File.read!("test/fuzz/rsa_test_key.pem")
inner = :crypto.strong_rand_bytes(96)

write.("rsa_decrypt", [
  Crypto.rsa_pad_encrypt(inner, key),
  Crypto.rsa_legacy_encrypt(inner, key),
  <<96>> <> :crypto.strong_rand_bytes(32 + 235)
])

telegram = File.read!("test/vectors/telegram_2013_public_key.pem")
[entry] = :public_key.pem_decode(telegram)

spki =
  :public_key.pem_encode([
    :public_key.pem_entry_encode(:SubjectPublicKeyInfo, :public_key.pem_entry_decode(entry))
  ])

write.("rsa_pem", [telegram, spki, key, binary_part(telegram, 0, 200)])

samples = MTProto.Test.CryptoReference.samples()
g_a = binary_part(samples.answer, 304, 256)

write.("dh_params", [
  <<3, 1, 0>> <> Crypto.dh_prime() <> g_a,
  <<2, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9>>
])

write.("pq", [samples.pq, <<0, 0, 0, 0, 0, 0, 0, 15>>, <<255, 255, 255, 255, 255, 255, 255, 255>>])
