// The ts-mls half of bench/mls_bench.py: the same scenario, timed in-process.
//
// mls_bench.py copies this file next to the installed ts-mls (.cache/ts-mls/) and runs
//   node ts_mls_bench.mjs --suite 1 --sizes 2,16,128 --reps 5
// It prints one JSON line per group size with times in milliseconds. Every timed step
// includes encoding (sender) or decoding (receiver) of the MLSMessage bytes, as on our side.
//
// The scenario is described in mls_bench.py; both sides run exactly the same steps.

import {
  createApplicationMessage,
  createCommit,
  createGroup,
  joinGroup,
  processMessage,
  getCiphersuiteImpl,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  encodeMlsMessage,
  decodeMlsMessage,
  acceptAll,
} from "ts-mls"
import { getCiphersuiteFromId } from "ts-mls/crypto/ciphersuite.js"

const POPULATE_FROM = 16 // copath subtrees of at least this many leaves get a commit
const enc = new TextEncoder()
// The clock of mls_bench.py: CPU time of this process by default (user + system, all of
// node's threads), wall time with BENCH_CLOCK=wall.
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const now = process.env.BENCH_CLOCK === "wall" ? () => performance.now() : cpuMs

function args() {
  const o = { suite: 1, sizes: [2, 16, 128], reps: 5 }
  const a = process.argv.slice(2)
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--suite") o.suite = Number(a[++i])
    else if (a[i] === "--sizes") o.sizes = a[++i].split(",").map(Number)
    else if (a[i] === "--reps") o.reps = Number(a[++i])
  }
  return o
}

const decode = (bytes) => decodeMlsMessage(bytes, 0)[0]
const welcomeBytes = (w) => encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: w })
const cred = (name) => ({ credentialType: "basic", identity: enc.encode(name) })

async function keyPackage(name, cs) {
  return generateKeyPackage(cred(name), defaultCapabilities(), defaultLifetime, [], cs)
}

async function commitBytes(state, cs, proposals = []) {
  const res = await createCommit({ state, cipherSuite: cs }, { extraProposals: proposals, ratchetTreeExtension: true })
  return { state: res.newState, commit: encodeMlsMessage(res.commit), welcome: res.welcome && welcomeBytes(res.welcome) }
}

async function processBytes(state, bytes, cs) {
  return (await processMessage(decode(bytes), state, emptyPskIndex, acceptAll, cs)).newState
}

const log = (...a) => { if (process.env.BENCH_VERBOSE) console.error(new Date().toISOString(), ...a) }

async function runSize(n, cs, reps) {
  const tracked = [1]
  for (let leaf = POPULATE_FROM; leaf < n; leaf *= 2) tracked.push(leaf)
  const kps = []
  for (let i = 1; i < n; i++) kps.push(await keyPackage("member-" + i, cs))
  const creatorKp = await keyPackage("creator", cs)
  const out = { n }

  let t = now()
  const group = await createGroup(enc.encode("bench-" + n), creatorKp.publicPackage, creatorKp.privatePackage, [], cs)
  const adds = kps.map((kp) => ({ proposalType: "add", add: { keyPackage: kp.publicPackage } }))
  const created = await commitBytes(group, cs, adds)
  out.create = now() - t

  const members = new Map([[0, created.state]])
  out.join = []
  for (const leaf of tracked) {
    const kp = kps[leaf - 1]
    t = now()
    const w = decode(created.welcome)
    const st = await joinGroup(w.welcome, kp.publicPackage, kp.privatePackage, emptyPskIndex, cs)
    out.join.push(now() - t)
    members.set(leaf, st)
  }
  log(n, "created and joined")

  // A side branch, then discarded: states are values, so leaf 0 and 1 keep their old ones.
  const fresh = await commitBytes(members.get(0), cs)
  out.commit_fresh = []
  for (let r = 0; r < Math.min(reps, 3); r++) {
    t = now()
    await processBytes(members.get(1), fresh.commit, cs)
    out.commit_fresh.push(now() - t)
  }
  log(n, "fresh commit done")

  // Leaves 16, 32, ..., N/2 commit. Each commit goes to the members that still need it:
  // leaves 0 and 1 and the committers still to come.
  let c
  const committers = tracked.filter((leaf) => leaf > 1).reverse()
  for (let i = 0; i < committers.length; i++) {
    c = await commitBytes(members.get(committers[i]), cs)
    for (const leaf of [0, 1, ...committers.slice(i + 1)])
      members.set(leaf, await processBytes(members.get(leaf), c.commit, cs))
    log(n, "populated by leaf", committers[i])
  }

  out.commit = []
  reps = n > 1024 ? Math.min(reps, 3) : reps
  for (let r = 0; r < reps; r++) {
    c = await commitBytes(members.get(0), cs)
    members.set(0, c.state)
    t = now()
    members.set(1, await processBytes(members.get(1), c.commit, cs))
    out.commit.push(now() - t)
  }

  const payload = new Uint8Array(1024).fill(0x61)
  out.message = []
  let a = members.get(0)
  let b = members.get(1)
  for (let r = 0; r < reps * 20; r++) {
    t = now()
    const m = await createApplicationMessage(a, payload, cs)
    a = m.newState
    const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: m.privateMessage })
    const res = await processMessage(decode(bytes), b, emptyPskIndex, acceptAll, cs)
    b = res.newState
    out.message.push(now() - t)
    if (res.kind !== "applicationMessage" || res.message.length !== 1024) throw new Error("message lost")
  }
  return out
}

async function main() {
  const o = args()
  const cs = await getCiphersuiteImpl(getCiphersuiteFromId(o.suite))
  await runSize(2, cs, 1) // warm-up: JIT and lazy imports
  for (const n of o.sizes) process.stdout.write(JSON.stringify(await runSize(n, cs, o.reps)) + "\n")
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
