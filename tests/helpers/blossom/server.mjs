// A Blossom server (BUD-01 GET/HEAD, BUD-02 PUT /upload, DELETE, HEAD /upload) for tests,
// built on the npm `blossom-server-sdk` (blob storage and its SQLite metadata store) with
// `@noble/curves` for BIP-340 signatures. Binds 127.0.0.1 only.
//
//   node server.mjs --port 0 --dir DIR [--max-size BYTES]
//
// Prints `READY http://127.0.0.1:<port>` once listening. Stops on SIGTERM or when its
// parent dies. Blobs live in DIR/blobs (files named by their sha256) and DIR/meta.db.

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { once } from "node:events";
import { finished, pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

import { schnorr } from "@noble/curves/secp256k1";
import { BlossomSQLite } from "blossom-server-sdk/metadata/sqlite";
import { LocalStorage } from "blossom-server-sdk/storage/local";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    dir: { type: "string" },
    "max-size": { type: "string", default: String(200 * 1024 * 1024) },
  },
});
const maxSize = Number(args["max-size"]);
const blobDir = path.join(args.dir, "blobs");
const tmpDir = path.join(args.dir, "incoming");
await mkdir(tmpDir, { recursive: true });
const storage = new LocalStorage(blobDir);
await storage.setup();
const metadata = new BlossomSQLite(path.join(args.dir, "meta.db"));
const HASH = /^\/([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?$/;

class HttpError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

function serializeId(event) {
  const data = JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
  return createHash("sha256").update(data, "utf8").digest("hex");
}

// BUD-01: `Authorization: Nostr <base64 kind 24242 event>`; `t` names the verb, `expiration`
// lies in the future, and `x` (when asked for) covers the blob.
function authorize(req, verb, sha256) {
  const header = req.headers.authorization ?? "";
  if (!header.startsWith("Nostr ")) throw new HttpError(401, "missing authorization");
  let event;
  try {
    event = JSON.parse(Buffer.from(header.slice(6).trim(), "base64").toString("utf8"));
  } catch {
    throw new HttpError(401, "authorization is not a base64 JSON event");
  }
  const now = Math.floor(Date.now() / 1000);
  const tag = (name) => (event.tags ?? []).filter((t) => t[0] === name).map((t) => t[1]);
  if (event.kind !== 24242) throw new HttpError(401, "authorization must be kind 24242");
  if (serializeId(event) !== event.id) throw new HttpError(401, "authorization id mismatch");
  let valid = false;
  try {
    valid = schnorr.verify(event.sig, event.id, event.pubkey);
  } catch {
    valid = false;
  }
  if (!valid) throw new HttpError(401, "invalid authorization signature");
  if (event.created_at > now + 60) throw new HttpError(401, "authorization is from the future");
  const expiration = Number(tag("expiration")[0]);
  if (!(expiration > now)) throw new HttpError(401, "authorization expired");
  if (!tag("t").includes(verb)) throw new HttpError(401, `authorization is not for ${verb}`);
  if (sha256 && !tag("x").includes(sha256)) throw new HttpError(401, "authorization does not cover this blob");
  return event.pubkey;
}

function descriptor(req, blob) {
  const url = `http://${req.headers.host}/${blob.sha256}`;
  return { url, sha256: blob.sha256, size: blob.size, type: blob.type, uploaded: blob.uploaded };
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data), ...headers });
  res.end(data);
}

async function upload(req, res) {
  const declared = req.headers["x-sha-256"];
  const pubkey = authorize(req, "upload", declared);
  const length = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(length) && length > maxSize) throw new HttpError(413, "blob too large");
  const tmp = path.join(tmpDir, `${process.pid}-${Date.now()}-${Math.random()}`);
  const hash = createHash("sha256");
  let size = 0;
  const out = createWriteStream(tmp);
  try {
    try {
      for await (const chunk of req) {
        size += chunk.length;
        if (size > maxSize) throw new HttpError(413, "blob too large");
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, "drain");
      }
    } finally {
      out.end();
      await finished(out);
    }
    const sha256 = hash.digest("hex");
    if (declared && declared !== sha256) throw new HttpError(409, "body does not match X-SHA-256");
    authorize(req, "upload", sha256);
    const type = req.headers["content-type"] || "application/octet-stream";
    if (!(await storage.hasBlob(sha256))) await storage.writeBlob(sha256, createReadStream(tmp));
    if (!metadata.hasBlob(sha256)) metadata.addBlob({ sha256, size, type, uploaded: Math.floor(Date.now() / 1000) });
    if (!metadata.hasOwner(sha256, pubkey)) metadata.addOwner(sha256, pubkey);
    // writeBlob resolves when its input ended, not when the file is flushed: wait for that.
    while ((await storage.getBlobSize(sha256)) < size) await new Promise((r) => setTimeout(r, 5));
    send(res, 200, descriptor(req, metadata.getBlob(sha256)));
  } finally {
    await rm(tmp, { force: true });
  }
}

async function serveBlob(req, res, sha256) {
  if (!(await storage.hasBlob(sha256)) || !metadata.hasBlob(sha256)) throw new HttpError(404, "blob not found");
  const blob = metadata.getBlob(sha256);
  const size = (await stat(path.join(blobDir, storage.getBlobFilename(sha256)))).size;
  const headers = { "Content-Type": blob.type ?? "application/octet-stream", "Accept-Ranges": "bytes" };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { "Content-Range": `bytes */${size}` });
      return res.end();
    }
    status = 206;
    headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  }
  headers["Content-Length"] = end - start + 1;
  res.writeHead(status, headers);
  if (req.method === "HEAD") return res.end();
  await pipeline(createReadStream(path.join(blobDir, storage.getBlobFilename(sha256)), { start, end }), res);
}

async function remove(req, res, sha256) {
  const pubkey = authorize(req, "delete", sha256);
  if (!metadata.hasOwner(sha256, pubkey)) throw new HttpError(403, "not an owner of this blob");
  // A test server: the owner's delete removes the blob for everyone.
  metadata.removeOwner(sha256, pubkey);
  await storage.removeBlob(sha256);
  metadata.removeBlob(sha256);
  send(res, 200, { deleted: sha256 });
}

async function handle(req, res) {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname === "/upload" && req.method === "PUT") return upload(req, res);
  if (url.pathname === "/upload" && req.method === "HEAD") {
    const length = Number(req.headers["x-content-length"] ?? 0);
    if (length > maxSize) throw new HttpError(413, "blob too large");
    authorize(req, "upload", req.headers["x-sha-256"]);
    res.writeHead(200);
    return res.end();
  }
  const match = HASH.exec(url.pathname);
  if (match && (req.method === "GET" || req.method === "HEAD")) return serveBlob(req, res, match[1]);
  if (match && req.method === "DELETE") return remove(req, res, match[1]);
  throw new HttpError(404, "not found");
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (res.headersSent) return res.destroy();
    // An upload refused before its body was read: answer, then drop the connection
    // instead of reading the rest.
    const close = req.complete ? {} : { Connection: "close" };
    if (!req.complete) res.on("finish", () => req.destroy());
    send(res, status, { message: err.message }, { "X-Reason": err.message, ...close });
  });
});
server.listen(Number(args.port), "127.0.0.1", () => {
  console.log(`READY http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500).unref();
