//! Burrow's mls-rs interop peer.
//!
//! `mls-rs-peer serve` speaks the JSON-lines protocol of `shared/interop/PROTOCOL.md` on
//! stdin/stdout (many named clients in one process). `mls-rs-peer bench --suite 1 --sizes
//! 1024,8192 --reps 7` runs the scenario of `bench/mls_bench.py` in-process and prints one
//! JSON line of milliseconds per group size, as `bench/ts_mls_bench.mjs` does for ts-mls.

mod bench;
mod client;

use std::io::{self, BufRead, Write};

use serde_json::{json, Map, Value};

use client::Peer;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(),
        Some("bench") => {
            if let Err(e) = bench::run(&args[1..]) {
                eprintln!("bench failed: {e}");
                std::process::exit(1);
            }
        }
        Some("version") => println!("mls-rs {}", client::MLS_RS_VERSION),
        _ => {
            eprintln!("usage: mls-rs-peer serve | bench [--suite N] [--sizes A,B] [--reps R] | version");
            std::process::exit(2);
        }
    }
}

fn serve() {
    let mut peer = Peer::default();
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (response, quit) = answer(&mut peer, &line);
        let text = serde_json::to_string(&response).unwrap_or_else(|_| "{\"ok\":false}".into());
        if writeln!(stdout, "{text}").and_then(|_| stdout.flush()).is_err() || quit {
            break;
        }
    }
}

/// One request line in, one response object out (and whether to stop).
fn answer(peer: &mut Peer, line: &str) -> (Value, bool) {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return (json!({"ok": false, "error": format!("bad JSON: {e}")}), false),
    };
    let op = request.get("op").and_then(Value::as_str).unwrap_or("").to_string();
    let mut response = match peer.handle(&op, &request) {
        Ok(Value::Object(fields)) => {
            let mut out = Map::new();
            out.insert("ok".into(), Value::Bool(true));
            out.extend(fields);
            Value::Object(out)
        }
        Ok(_) => json!({"ok": true}),
        Err(error) => json!({"ok": false, "error": error}),
    };
    if let (Some(id), Value::Object(out)) = (request.get("id"), &mut response) {
        out.insert("id".into(), id.clone());
    }
    (response, op == "quit")
}
