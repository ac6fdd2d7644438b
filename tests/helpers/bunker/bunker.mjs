// A NIP-46 remote signer ("bunker") for tests: NDK's own backend (`NDKNip46Backend` from the
// npm `@nostr-dev-kit/ndk`) holding one user key, on relays at 127.0.0.1 only.
//
//   node bunker.mjs --relay ws://127.0.0.1:PORT --key HEX [--secret S]
//                   [--policy allow|deny|approve] [--delay-ms N] [--offer nostrconnect://...]
//
// Prints `READY <bunker://...>` once listening, then one `REQ <method>` line per request it
// handled (`REQ sign_event <kind>` for signatures) (the Python side counts round trips from there). Policies: `allow` everything,
// `deny` everything but ping, `approve`: a client's first request gets an `auth_url`
// challenge and waits until a line `approve` arrives on stdin. `--delay-ms` holds every
// answer back (a slow signer). `--offer` takes up a client's nostrconnect:// offer. Stops on
// SIGTERM or when stdin closes (its parent died).

import { parseArgs } from "node:util";
import { createInterface } from "node:readline";

import WebSocket from "ws";

globalThis.WebSocket ??= WebSocket; // Node 20 has no global WebSocket; NDK expects one

const { default: NDK, NDKNip46Backend, NDKPrivateKeySigner } = await import("@nostr-dev-kit/ndk");

const { values: args } = parseArgs({
  options: {
    relay: { type: "string", multiple: true },
    key: { type: "string" },
    secret: { type: "string" },
    policy: { type: "string", default: "allow" },
    "delay-ms": { type: "string", default: "0" },
    offer: { type: "string" },
  },
});
for (const url of args.relay) {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`refusing a relay off this machine: ${url}`);
  }
}
const delayMs = Number(args["delay-ms"]);
const approved = new Set();
let approve = null;
let approval = new Promise((resolve) => (approve = resolve));

const stdin = createInterface({ input: process.stdin });
stdin.on("line", (line) => {
  if (line.trim() === "approve") {
    approve();
    approval = new Promise((resolve) => (approve = resolve));
  }
});
stdin.on("close", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));

const ndk = new NDK({ explicitRelayUrls: args.relay });
// Not `await ndk.connect(timeout)`: with a loopback relay it sits out the whole timeout.
const connected = new Promise((resolve) => ndk.pool.once("relay:connect", resolve));
ndk.connect();
await connected;
const signer = new NDKPrivateKeySigner(args.key);
const user = await signer.user();
let backend;

async function permit({ id, pubkey, method, params }) {
  if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
  const kind = method === "sign_event" ? ` ${params.kind}` : "";
  process.stdout.write(`REQ ${method}${kind}\n`);
  if (method === "connect" && args.secret && params !== args.secret) return false;
  if (args.policy === "deny") return method === "ping";
  if (args.policy === "approve" && !approved.has(pubkey)) {
    const waiting = approval;
    await backend.rpc.sendResponse(id, pubkey, "auth_url", 24133, "http://127.0.0.1/approve");
    await waiting;
    approved.add(pubkey);
  }
  return true;
}

backend = new NDKNip46Backend(ndk, signer, permit, args.relay);
// NDK refuses any connect token by default; the permit callback checks ours instead.
backend.applyToken = async () => {};
const answering = new Promise((resolve) => {
  if (backend.rpc.pool.connectedRelays().length) resolve();
  else backend.rpc.pool.once("relay:connect", resolve);
});
await backend.start();
await answering; // answers go out through the backend's own connection
await new Promise((resolve) => setTimeout(resolve, 100)); // let the REQ reach the relay

if (args.offer) {
  // nostrconnect:// flow: answer the client's key with its secret, unasked.
  const offer = new URL(args.offer.replace("nostrconnect://", "http://"));
  const client = offer.hostname;
  const secret = offer.searchParams.get("secret");
  await backend.rpc.sendResponse(Math.random().toString(36).slice(2), client, secret);
}

const query = args.relay.map((r) => `relay=${encodeURIComponent(r)}`);
if (args.secret) query.push(`secret=${encodeURIComponent(args.secret)}`);
process.stdout.write(`READY bunker://${user.pubkey}?${query.join("&")}\n`);
