//! The mls-rs half of `bench/mls_bench.py`: the same scenario, timed in-process.
//!
//! The steps and what they include are described in mls_bench.py (and mirrored by
//! bench/ts_mls_bench.mjs): KeyPackages are made outside the timed regions; every timed step
//! includes encoding (sender) or decoding (receiver) of the MLSMessage bytes. Handshakes are
//! PrivateMessages, every commit has an UpdatePath, the Welcome carries the ratchet tree.

use std::collections::HashMap;

use mls_rs::{ExtensionList, Group, MlsMessage};
use serde_json::json;

use crate::client::{err, Cfg, Member};

const POPULATE_FROM: usize = 16; // copath subtrees of at least this many leaves get a commit

struct Args {
    suite: u16,
    sizes: Vec<usize>,
    reps: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args { suite: 1, sizes: vec![2, 16, 128], reps: 5 };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--suite" => out.suite = value.parse().map_err(err)?,
            "--reps" => out.reps = value.parse().map_err(err)?,
            "--sizes" => {
                out.sizes = value.split(',').map(|s| s.parse().map_err(err)).collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(out)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    run_size(2, args.suite, 1)?; // warm-up: lazy statics and caches
    for &n in &args.sizes {
        println!("{}", run_size(n, args.suite, args.reps)?);
    }
    Ok(())
}

/// A point in time on the bench's clock: CPU time of this process (the default; robust on a
/// shared machine, and mls-rs runs on one thread here) or wall time (BENCH_CLOCK=wall).
#[derive(Clone, Copy)]
struct Instant(f64);

impl Instant {
    fn now() -> Self {
        if std::env::var("BENCH_CLOCK").as_deref() == Ok("wall") {
            return Instant(WALL.with(|t| t.elapsed().as_secs_f64()));
        }
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime only writes the timespec it is given.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        Instant(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
    }
}

thread_local! {
    static WALL: std::time::Instant = std::time::Instant::now();
}

fn ms(start: Instant) -> f64 {
    (Instant::now().0 - start.0) * 1000.0
}

fn log(n: usize, what: &str) {
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("mls-rs N={n}: {what}");
    }
}

/// A path commit by `group`, merged; its MLSMessage bytes.
fn commit_bytes(group: &mut Group<Cfg>) -> Result<Vec<u8>, String> {
    let output = group.commit_builder().build().map_err(err)?;
    let bytes = output.commit_message.to_bytes().map_err(err)?;
    group.apply_pending_commit().map_err(err)?;
    Ok(bytes)
}

fn receive(group: &mut Group<Cfg>, bytes: &[u8]) -> Result<(), String> {
    let message = MlsMessage::from_bytes(bytes).map_err(err)?;
    group.process_incoming_message(message).map_err(err)?;
    Ok(())
}

fn run_size(n: usize, suite: u16, reps: usize) -> Result<serde_json::Value, String> {
    let mut tracked = vec![1];
    let mut leaf = POPULATE_FROM;
    while leaf < n {
        tracked.push(leaf);
        leaf *= 2;
    }
    // Only tracked members join, so only their clients (holding the KeyPackage private
    // keys) are kept; the others are needed for their KeyPackage alone.
    let mut joiners: HashMap<usize, Member> = HashMap::new();
    let mut kps = Vec::with_capacity(n - 1);
    for i in 1..n {
        let member = Member::new(&format!("member-{i}"), suite)?;
        kps.push(member.key_package()?);
        if tracked.contains(&i) {
            joiners.insert(i, member);
        }
    }
    let creator = Member::new("creator", suite)?;

    let start = Instant::now();
    let mut group = creator
        .client
        .create_group_with_id(format!("bench-{n}").into_bytes(), ExtensionList::new(), ExtensionList::new(), None)
        .map_err(err)?;
    let mut builder = group.commit_builder();
    for kp in kps {
        builder = builder.add_member(kp).map_err(err)?;
    }
    let output = builder.build().map_err(err)?;
    output.commit_message.to_bytes().map_err(err)?;
    let welcome = output.welcome_messages.first().ok_or("no Welcome")?.to_bytes().map_err(err)?;
    group.apply_pending_commit().map_err(err)?;
    let create = ms(start);

    let mut members: HashMap<usize, Group<Cfg>> = HashMap::from([(0, group)]);
    let mut join = Vec::new();
    for &leaf in &tracked {
        let client = &joiners[&leaf].client;
        let start = Instant::now();
        let message = MlsMessage::from_bytes(&welcome).map_err(err)?;
        let (joined, _) = client.join_group(None, &message, None).map_err(err)?;
        join.push(ms(start));
        members.insert(leaf, joined);
    }
    log(n, "created and joined");

    // A side branch, then discarded: the creator drops its pending commit, leaf 1 a copy.
    let creator_group = members.get_mut(&0).expect("creator");
    let fresh = creator_group.commit_builder().build().map_err(err)?;
    let fresh = fresh.commit_message.to_bytes().map_err(err)?;
    creator_group.clear_pending_commit();
    let mut commit_fresh = Vec::new();
    for _ in 0..reps {
        let mut copy = members[&1].clone();
        let start = Instant::now();
        receive(&mut copy, &fresh)?;
        commit_fresh.push(ms(start));
    }

    let committers: Vec<usize> = tracked.iter().rev().copied().filter(|&l| l > 1).collect();
    for (i, &committer) in committers.iter().enumerate() {
        let bytes = commit_bytes(members.get_mut(&committer).expect("tracked"))?;
        for other in [0, 1].iter().chain(&committers[i + 1..]) {
            receive(members.get_mut(other).expect("tracked"), &bytes)?;
        }
        log(n, &format!("populated by leaf {committer}"));
    }

    let mut commit = Vec::new();
    for _ in 0..reps {
        let bytes = commit_bytes(members.get_mut(&0).expect("creator"))?;
        let start = Instant::now();
        receive(members.get_mut(&1).expect("leaf 1"), &bytes)?;
        commit.push(ms(start));
    }

    let payload = vec![0x61u8; 1024];
    let mut message = Vec::new();
    for _ in 0..reps * 20 {
        let start = Instant::now();
        let sent = members.get_mut(&0).expect("creator").encrypt_application_message(&payload, vec![]).map_err(err)?;
        let bytes = sent.to_bytes().map_err(err)?;
        let received = members
            .get_mut(&1)
            .expect("leaf 1")
            .process_incoming_message(MlsMessage::from_bytes(&bytes).map_err(err)?)
            .map_err(err)?;
        message.push(ms(start));
        match received {
            mls_rs::group::ReceivedMessage::ApplicationMessage(app) if app.data() == payload => {}
            _ => return Err("message lost".into()),
        }
    }
    Ok(json!({
        "n": n, "create": create, "join": join, "commit_fresh": commit_fresh,
        "commit": commit, "message": message,
    }))
}
