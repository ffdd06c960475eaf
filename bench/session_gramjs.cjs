// gramjs (npm `telegram`) doing what bench/session_bench.exs measures for mtproto, against the
// same test datacenter: handshake time, calls/s on one client (sequential, 100 in flight),
// memory per idle client. Run by session_bench.exs:
//   node --expose-gc bench/session_gramjs.cjs HOST PORT KEY.pem FINGERPRINT HANDSHAKES SEQ CALLS IDLE ROUNDS
// with GRAMJS_NODE_MODULES pointing at bench/.node/node_modules.
// gramjs trusts only Telegram's keys: the test datacenter's public key is added to its table.
"use strict";
const path = require("path");
const crypto = require("crypto");
const fs = require("fs");

const nm = process.env.GRAMJS_NODE_MODULES;
const { TelegramClient, Api } = require(path.join(nm, "telegram"));
const { StringSession } = require(path.join(nm, "telegram/sessions"));
const { _serverKeys } = require(path.join(nm, "telegram/crypto/RSA"));
const bigInt = require(path.join(nm, "big-integer"));
const { ConnectionTCPFull } = require(path.join(nm, "telegram/network"));
const { Logger } = require(path.join(nm, "telegram/extensions"));

const [host, port, pemFile, fingerprint, handshakes, sequential, calls, idle, rounds] = process.argv.slice(2);

function trustKey() {
  const jwk = crypto.createPublicKey(fs.readFileSync(pemFile)).export({ format: "jwk" });
  const n = bigInt(Buffer.from(jwk.n, "base64url").toString("hex"), 16);
  _serverKeys.set(bigInt(fingerprint).toString(), { n, e: 65537 });
}

// gramjs dials port 80 (443 with WSS) whatever the session says: point it at the test DC.
class LocalConnection extends ConnectionTCPFull {
  constructor(opts) {
    super({ ...opts, port: Number(port) });
  }
}

function newClient(session) {
  const client = new TelegramClient(session || new StringSession(""), 1, "0123456789abcdef0123456789abcdef", {
    connection: LocalConnection,
    connectionRetries: 1,
    receiveUpdates: false,
    baseLogger: new Logger(process.env.GRAMJS_LOG || "none"),
  });
  client.setLogLevel(process.env.GRAMJS_LOG || "none");
  client.session.setDC(2, host, 443); // the port is LocalConnection's (StringSession keeps an int16)
  return client;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  trustKey();
  const times = [];
  for (let i = 0; i < Number(handshakes); i++) {
    const c = newClient();
    const t = now();
    await c.connect(); // handshake, then invokeWithLayer(initConnection(help.getConfig))
    times.push(now() - t);
    await c.destroy();
  }
  times.sort((a, b) => a - b);
  const handshakeMs = times[Math.floor(times.length / 2)];
  console.log(`gramjs: handshake (connect) median ${handshakeMs.toFixed(2)} ms over ${handshakes}`);

  const client = newClient();
  await client.connect();
  const req = () => new Api.help.GetNearestDc();
  for (let i = 0; i < 500; i++) await client.invoke(req());
  // Best of `rounds`, as for mtproto (a shared, noisy machine).
  const best = async (round) => {
    let top = 0;
    for (let r = 0; r < Number(rounds || 1); r++) top = Math.max(top, await round());
    return top;
  };
  const seq = await best(async () => {
    const t = now();
    for (let i = 0; i < Number(sequential); i++) await client.invoke(req());
    return Number(sequential) / ((now() - t) / 1000);
  });
  console.log(`gramjs: ${seq.toFixed(0)} sequential calls/s`);

  const total = Number(calls);
  const inFlight = await best(async () => {
    let next = 0;
    const t = now();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < total) {
          next++;
          await client.invoke(req());
        }
      })
    );
    return total / ((now() - t) / 1000);
  });
  console.log(`gramjs: ${inFlight.toFixed(0)} calls/s with 100 in flight (${total} calls)`);

  // Idle clients sharing the key (no handshake each), connected, then left alone.
  const key = client.session.getAuthKey();
  global.gc();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const before = mem();
  const rssBefore = process.memoryUsage().rss;
  const idleClients = [];
  for (let i = 0; i < Number(idle); i++) {
    const s = new StringSession("");
    s.setDC(2, host, 443);
    s.setAuthKey(key);
    const c = newClient(s);
    idleClients.push(c);
  }
  for (let i = 0; i < idleClients.length; i += 100) {
    await Promise.all(idleClients.slice(i, i + 100).map((c) => c.connect()));
  }
  await new Promise((r) => setTimeout(r, 1000));
  global.gc();
  const idleKib = (mem() - before) / idleClients.length / 1024;
  const idleRssKib = (process.memoryUsage().rss - rssBefore) / idleClients.length / 1024;
  console.log(`gramjs: ${idleKib.toFixed(1)} KiB per idle client (${idleClients.length} clients, JS heap + external), ${idleRssKib.toFixed(1)} KiB of OS RSS`);
  console.log(
    `RESULT handshake_ms=${handshakeMs} sequential=${seq} in_flight=${inFlight} idle_kib=${idleKib} idle_rss_kib=${idleRssKib} idle_n=${idleClients.length}`
  );
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
