// gramjs (npm `telegram`) as the peer of bench/tl_bench.exs: decodes the same TL bytes with
// BinaryReader.tgReadObject and encodes the decoded object again with getBytes(), timing each.
//   node bench/tl_gramjs.cjs FILE MIN_MS   (GRAMJS_NODE_MODULES = bench/.node/node_modules)
// Prints JSON: {"decode_ns": per call, "encode_ns": per call, "bytes": encoded length}.
"use strict";
const path = require("path");
const fs = require("fs");
const nm = process.env.GRAMJS_NODE_MODULES;
const { BinaryReader } = require(path.join(nm, "telegram/extensions"));

const [file, minMs] = process.argv.slice(2);
const bytes = fs.readFileSync(file);

function decode() {
  return new BinaryReader(bytes).tgReadObject();
}

// Median of rounds, each round running for at least minMs / 10.
function time(fn) {
  for (let i = 0; i < 200; i++) fn(); // warm up the JIT
  const rounds = [];
  const deadline = process.hrtime.bigint() + BigInt(Number(minMs) * 1e6);
  while (rounds.length < 5 || process.hrtime.bigint() < deadline) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    while (t1 - t0 < BigInt(Number(minMs) * 1e5)) {
      fn();
      n++;
      t1 = process.hrtime.bigint();
    }
    rounds.push(Number(t1 - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)];
}

const obj = decode();
const again = obj.getBytes();
const decodeNs = time(decode);
const encodeNs = time(() => obj.getBytes());
process.stdout.write(JSON.stringify({ decode_ns: decodeNs, encode_ns: encodeNs, bytes: again.length,
  same_bytes: Buffer.compare(again, bytes) === 0 }) + "\n");
