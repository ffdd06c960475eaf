# Benchmarks of MTProto.Crypto (`make bench`). The machine is shared and noisy, so every figure
# is the best of several rounds, and AES-256-IGE is compared with OpenSSL's AES-256-CBC
# encryption (:crypto) measured in the same rounds: both are one sequential AES chain per
# block, so CBC encryption is the bound IGE can reach.
alias MTProto.Crypto

defmodule Bench do
  import Bitwise
  @rounds 7

  # Nanoseconds per call of `fun`, best of @rounds rounds of about `budget_ms` each.
  def ns_per_call(fun, budget_ms \\ 40) do
    n = calibrate(fun, budget_ms * 1_000_000)
    1..@rounds |> Enum.map(fn _ -> time(fun, n) / n end) |> Enum.min()
  end

  # Several functions measured round-robin (so a noisy moment hits all of them alike).
  def ns_per_call_together(funs, budget_ms \\ 40) do
    ns = Enum.map(funs, &calibrate(&1, budget_ms * 1_000_000))

    1..@rounds
    |> Enum.map(fn _ -> Enum.zip_with(funs, ns, fn f, n -> time(f, n) / n end) end)
    |> Enum.zip_with(& &1)
    |> Enum.map(&Enum.min/1)
  end

  defp calibrate(fun, budget_ns, n \\ 1) do
    t = time(fun, n)

    if t * 4 >= budget_ns or n >= 1 <<< 24,
      do: max(1, div(n * budget_ns, max(t, 1))),
      else: calibrate(fun, budget_ns, n * 4)
  end

  defp time(fun, n) do
    t0 = System.monotonic_time(:nanosecond)
    loop(fun, n)
    System.monotonic_time(:nanosecond) - t0
  end

  defp loop(_fun, 0), do: :ok

  defp loop(fun, n),
    do:
      (
        fun.()
        loop(fun, n - 1)
      )

  def mbps(bytes, ns), do: bytes / ns * 1000

  def table(header, rows) do
    widths =
      [header | rows]
      |> Enum.zip_with(& &1)
      |> Enum.map(fn col -> col |> Enum.map(&String.length/1) |> Enum.max() end)

    line = fn cells ->
      cells
      |> Enum.zip(widths)
      |> Enum.map_join(" | ", fn {c, w} -> String.pad_leading(c, w) end)
      |> then(&"| #{&1} |")
    end

    IO.puts(line.(header))
    IO.puts("|" <> Enum.map_join(widths, "|", &String.duplicate("-", &1 + 2)) <> "|")
    Enum.each(rows, &IO.puts(line.(&1)))
    IO.puts("")
  end

  def fmt(x, digits \\ 0), do: :erlang.float_to_binary(x / 1, decimals: digits)
end

import Bitwise
rand = &:crypto.strong_rand_bytes/1
key = rand.(32)
iv = rand.(32)
iv16 = rand.(16)

IO.puts(
  "AES-256-IGE (#{Crypto.aes_ige_default_impl()} path) vs OpenSSL AES-256-CBC encrypt (:crypto), same run\n"
)

rows =
  for {label, size} <- [{"64 B", 64}, {"1 KiB", 1024}, {"16 KiB", 16384}, {"1 MiB", 1 <<< 20}] do
    data = rand.(size)
    budget = if size >= 1 <<< 20, do: 120, else: 40

    [enc, dec, cbc] =
      Bench.ns_per_call_together(
        [
          fn -> Crypto.aes_ige_encrypt(data, key, iv) end,
          fn -> Crypto.aes_ige_decrypt(data, key, iv) end,
          fn -> :crypto.crypto_one_time(:aes_256_cbc, key, iv16, data, true) end
        ],
        budget
      )

    [
      label,
      Bench.fmt(Bench.mbps(size, enc)),
      Bench.fmt(Bench.mbps(size, dec)),
      Bench.fmt(Bench.mbps(size, cbc)),
      Bench.fmt(cbc / enc, 2),
      Bench.fmt(cbc / dec, 2)
    ]
  end

Bench.table(
  ["size", "IGE enc MB/s", "IGE dec MB/s", "CBC enc MB/s", "enc/CBC", "dec/CBC"],
  rows
)

# Per-call overhead at 64 B: the time of a call minus what 64 bytes cost at the 1 MiB rate.
small = rand.(64)
big = rand.(1 <<< 20)

[ige64, cbc64] =
  Bench.ns_per_call_together([
    fn -> Crypto.aes_ige_encrypt(small, key, iv) end,
    fn -> :crypto.crypto_one_time(:aes_256_cbc, key, iv16, small, true) end
  ])

[ige1m, cbc1m] =
  Bench.ns_per_call_together(
    [
      fn -> Crypto.aes_ige_encrypt(big, key, iv) end,
      fn -> :crypto.crypto_one_time(:aes_256_cbc, key, iv16, big, true) end
    ],
    120
  )

portable = Bench.ns_per_call(fn -> Crypto.aes_ige(:encrypt, :portable, big, key, iv) end, 120)

Bench.table(["64 B call", "ns per call", "overhead ns (call - 64 B of AES)"], [
  ["AES-256-IGE (NIF)", Bench.fmt(ige64), Bench.fmt(ige64 - 64 * ige1m / (1 <<< 20))],
  [":crypto AES-256-CBC", Bench.fmt(cbc64), Bench.fmt(cbc64 - 64 * cbc1m / (1 <<< 20))]
])

IO.puts("portable IGE path at 1 MiB: #{Bench.fmt(Bench.mbps(1 <<< 20, portable))} MB/s\n")

# AES-256-CTR streams (obfuscated2's cipher): this project's stream (NIF) against OpenSSL's
# EVP AES-256-CTR behind :crypto.crypto_update, in the same rounds. Until 2026-11 the NIF
# stream was that same EVP code, so the ratio is new/old as well.
IO.puts(
  "AES-256-CTR stream (#{Crypto.aes_ige_default_impl()} path) vs OpenSSL EVP AES-256-CTR (:crypto), same run\n"
)

ctr_rows =
  for {label, size} <- [{"72 B", 72}, {"1 KiB", 1024}, {"16 KiB", 16384}, {"1 MiB", 1 <<< 20}] do
    data = rand.(size)
    ours = Crypto.aes_ctr_init(key, iv16)
    theirs = :crypto.crypto_init(:aes_256_ctr, key, iv16, true)
    budget = if size >= 1 <<< 20, do: 120, else: 40

    [nif, evp] =
      Bench.ns_per_call_together(
        [fn -> Crypto.aes_ctr_apply(ours, data) end, fn -> :crypto.crypto_update(theirs, data) end],
        budget
      )

    [
      label,
      Bench.fmt(nif),
      Bench.fmt(evp),
      Bench.fmt(Bench.mbps(size, nif)),
      Bench.fmt(Bench.mbps(size, evp)),
      Bench.fmt(evp / nif, 2)
    ]
  end

Bench.table(
  ["size", "ours ns", ":crypto ns", "ours MB/s", ":crypto MB/s", "speed ours/:crypto"],
  ctr_rows
)

# MTProto 2.0 messages (KDF, msg_key, IGE, checks) at typical sizes.
auth_key = rand.(256)

msg_rows =
  for size <- [64, 1024, 16384] do
    plain = <<rand.(24)::binary, 1::little-32, size::little-32, rand.(size)::binary>>
    packet = Crypto.encrypt_message(auth_key, :client, plain)

    [enc, dec] =
      Bench.ns_per_call_together([
        fn -> Crypto.encrypt_message(auth_key, :client, plain) end,
        fn -> Crypto.decrypt_message(auth_key, :client, packet) end
      ])

    ["#{size} B body", Bench.fmt(enc / 1000, 2), Bench.fmt(dec / 1000, 2)]
  end

Bench.table(["message", "encrypt_message us", "decrypt_message us"], msg_rows)

# Handshake math.
p = Crypto.dh_prime()
x = rand.(256)
g_a = Crypto.mod_pow(<<3>>, rand.(256), p)
telegram_key = File.read!("test/vectors/telegram_2013_public_key.pem")
pq = 0x17ED48941A08F981

:ok = Crypto.dh_check_prime(p, 3)

mod_pow_ns = Bench.ns_per_call(fn -> Crypto.mod_pow(<<3>>, x, p) end, 100)
crypto_mod_pow_ns = Bench.ns_per_call(fn -> :crypto.mod_pow(3, x, p) end, 100)
factor_ns = Bench.ns_per_call(fn -> Crypto.factorize(pq) end)

# Products of two random 31-bit primes (factorize/1 itself says which numbers are prime).
prime31 = fn prime31 ->
  n = (1 <<< 30) + :rand.uniform(1 <<< 30) - 1 ||| 1
  if Crypto.factorize(n) == {:error, :prime}, do: n, else: prime31.(prime31)
end

products = for _ <- 1..200, do: prime31.(prime31) * prime31.(prime31)

random_factor_ns =
  Bench.ns_per_call(fn -> Enum.each(products, &Crypto.factorize/1) end, 200) / length(products)

new_nonce = rand.(32)
server_nonce = rand.(16)
answer = rand.(592)
inner = rand.(96)
client_inner = rand.(336)

handshake = fn ->
  {:ok, {_p, _q}} = Crypto.factorize(pq)
  _ = Crypto.rsa_pad_encrypt(inner, telegram_key)
  {tmp_key, tmp_iv} = Crypto.tmp_aes_key_iv(new_nonce, server_nonce)
  _ = Crypto.aes_ige_decrypt(answer, tmp_key, tmp_iv)
  :ok = Crypto.dh_check_prime(p, 3)
  :ok = Crypto.dh_check_range(g_a, p)
  b = rand.(256)
  g_b = Crypto.mod_pow(<<3>>, b, p)
  :ok = Crypto.dh_check_range(g_b, p)
  auth_key = Crypto.mod_pow(g_a, b, p)
  _ = Crypto.aes_ige_encrypt(client_inner, tmp_key, tmp_iv)
  for n <- 1..3, do: Crypto.new_nonce_hash(new_nonce, auth_key, n)
  Crypto.auth_key_id(auth_key)
end

handshake_ns = Bench.ns_per_call(handshake, 200)

Bench.table(["handshake math", "time"], [
  ["2048-bit g^x mod p (NIF, dirty)", "#{Bench.fmt(mod_pow_ns / 1.0e6, 3)} ms"],
  [
    "2048-bit g^x mod p (:crypto.mod_pow, for reference)",
    "#{Bench.fmt(crypto_mod_pow_ns / 1.0e6, 3)} ms"
  ],
  ["factorize pq of the docs example (2^60)", "#{Bench.fmt(factor_ns / 1000, 1)} us"],
  [
    "factorize, mean over 200 products of two 31-bit primes",
    "#{Bench.fmt(random_factor_ns / 1000, 1)} us"
  ],
  ["one full set of client handshake math", "#{Bench.fmt(handshake_ns / 1.0e6, 2)} ms"]
])
