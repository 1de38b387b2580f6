//! `hostile`: honest clients submit to a three-node consortium while one
//! machine's worth of attackers does what issue 23 reproduced, all at once:
//!
//! - **amplification**: 4 MB bodies of two million tiny non-entries (`[1,1,…]`);
//! - **stalling**: connections whose headers never finish, and uploads that
//!   stop after a few bytes, reopened as soon as the node lets them go;
//! - **junk for Raft**: 40 concurrent submissions of a thousand
//!   canonical-looking entries of about 4 KB each, whose signatures do not verify.
//!
//! The honest clients run twice, undisturbed and then under attack, each with
//! entries of their own. Reported: both throughputs and their ratio (the issue
//! asks for at least 80 %), whether the leader or the term changed, and the
//! nodes' peak memory (at most 1 GiB asked).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Uri};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::testkit::{Fixture, passport};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::LoadError;
use crate::drive::{Connection, Plan};
use crate::report::Report;
use crate::scenario;
use crate::target::Target;

/// Connections per node whose headers never finish.
const STALLED_PER_NODE: usize = 100;

/// Uploads per node that stop after a few bytes.
const STALLED_UPLOADS_PER_NODE: usize = 10;

/// Concurrent senders of bodies of tiny non-entries.
const AMPLIFIERS: usize = 2;

/// Concurrent senders of junk entries, as the reproduction had.
const JUNK_SENDERS: usize = 40;

/// What the attack did and what it cost the honest clients.
struct Outcome {
    calm: Report,
    attacked: Report,
    attacks: u64,
    leader_before: (String, u64),
    leader_after: (String, u64),
    peak_memory: Vec<u64>,
}

/// Runs the scenario on a consortium `target` and prints its report.
pub async fn hostile(target: &Target, plan: &Plan, entries: usize, json_output: bool) -> Result<bool, LoadError> {
    let pids = target.pids();
    if target.addresses().len() < 3 || pids.len() < 3 {
        return Err(LoadError::Setup("`hostile` needs the consortium it starts: run it with --cluster".to_owned()));
    }
    let leader_before = leader(target)?;
    let calm = scenario::submit_series(target, plan, entries, "CALM").await?;
    let stop = Arc::new(AtomicBool::new(false));
    let attacks = Arc::new(AtomicU64::new(0));
    let mut attackers = JoinSet::new();
    let junk = Bytes::from(junk_entries());
    let ones = Bytes::from(tiny_non_entries());
    for (index, address) in target.addresses().iter().enumerate() {
        for _ in 0..STALLED_PER_NODE {
            attackers.spawn(stall(
                address.clone(),
                b"POST /v1/entries HTTP/1.1\r\nHost: node\r\n".to_vec(),
                stop.clone(),
            ));
        }
        for _ in 0..STALLED_UPLOADS_PER_NODE {
            let upload = b"POST /v1/entries HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[{\"a\":1},".to_vec();
            attackers.spawn(stall(address.clone(), upload, stop.clone()));
        }
        for _ in 0..AMPLIFIERS {
            attackers.spawn(flood(address.clone(), ones.clone(), stop.clone(), attacks.clone()));
        }
        // The junk goes to every node; the went to followers, whose
        // forwarding to the leader is what Raft would have carried.
        for _ in (0..JUNK_SENDERS).filter(|sender| sender % 3 == index) {
            attackers.spawn(flood(address.clone(), junk.clone(), stop.clone(), attacks.clone()));
        }
    }
    // Let the attack take hold before the honest clients start.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attacked = scenario::submit_series(target, plan, entries, "HOST").await;
    stop.store(true, Ordering::Relaxed);
    attackers.abort_all();
    let attacked = attacked?;
    let leader_after = leader(target)?;
    let peak_memory = pids.iter().map(|pid| peak_memory(*pid)).collect();
    let outcome =
        Outcome { calm, attacked, attacks: attacks.load(Ordering::Relaxed), leader_before, leader_after, peak_memory };
    outcome.print(json_output);
    Ok(outcome.passed())
}

impl Outcome {
    fn ratio(&self) -> f64 {
        let calm = self.calm.per_second();
        if calm > 0.0 { self.attacked.per_second() / calm } else { 0.0 }
    }

    fn passed(&self) -> bool {
        self.ratio() >= 0.8
            && self.leader_before == self.leader_after
            && self.peak_memory.iter().all(|bytes| *bytes < 1 << 30)
            && self.calm.unexpected_total() == 0
    }

    fn print(&self, json_output: bool) {
        let peak_mib: Vec<u64> = self.peak_memory.iter().map(|bytes| bytes >> 20).collect();
        if json_output {
            let line = json!({
                "scenario": "hostile",
                "undisturbed_per_s": self.calm.per_second(),
                "attacked_per_s": self.attacked.per_second(),
                "ratio": self.ratio(),
                "attacked_unexpected": self.attacked.unexpected_total(),
                "attack_requests_answered": self.attacks,
                "leader_before": self.leader_before,
                "leader_after": self.leader_after,
                "node_peak_mib": peak_mib,
                "passed": self.passed(),
            });
            println!("{line}");
            return;
        }
        print!("{}", self.calm.to_text());
        print!("{}", self.attacked.to_text());
        println!(
            "hostile: {:.0} entries/s under attack, {:.0} undisturbed ({:.0} %); {} attack requests answered; \
             leader {} term {} before, {} term {} after; nodes' peak memory {peak_mib:?} MiB: {}",
            self.attacked.per_second(),
            self.calm.per_second(),
            100.0 * self.ratio(),
            self.attacks,
            self.leader_before.0,
            self.leader_before.1,
            self.leader_after.0,
            self.leader_after.1,
            if self.passed() { "passed" } else { "FAILED" },
        );
    }
}

/// The leader and term the first node reports.
fn leader(target: &Target) -> Result<(String, u64), LoadError> {
    let answer = salvage_tests::http::try_request(target.address(), "GET", "/v1/status", &[], b"")
        .map_err(|error| LoadError::Setup(format!("reading the status: {error}")))?;
    let status = answer.json();
    Ok((status["leader"].as_str().unwrap_or("none").to_owned(), status["term"].as_u64().unwrap_or(0)))
}

/// Keeps a connection open that sends `head` and then nothing, reopening it
/// whenever the node closes it, until `stop`.
async fn stall(address: String, head: Vec<u8>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(&address).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if stream.write_all(&head).await.is_err() {
            continue;
        }
        // Wait until the node lets go (it answers or closes), then come back.
        let mut buffer = [0u8; 1024];
        let _ = stream.read(&mut buffer).await;
    }
}

/// Posts `body` to `/v1/entries` again and again, on a fresh connection when
/// the node closes one, until `stop`; counts the answers.
async fn flood(address: String, body: Bytes, stop: Arc<AtomicBool>, answered: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut connection) = Connection::open(&address).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while !stop.load(Ordering::Relaxed) {
            let mut request = Request::new(Full::new(body.clone()));
            *request.method_mut() = Method::POST;
            *request.uri_mut() = Uri::from_static("/v1/entries");
            request.headers_mut().insert(header::HOST, HeaderValue::from_static("node"));
            request.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if connection.send(request).await.is_err() {
                break;
            }
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// About 4 MB of `[1,1,…]`.
fn tiny_non_entries() -> Vec<u8> {
    let mut body = Vec::with_capacity(4_000_002);
    body.push(b'[');
    for index in 0..2_000_000 {
        if index > 0 {
            body.push(b',');
        }
        body.push(b'1');
    }
    body.push(b']');
    body
}

/// A thousand canonical entries of about 4 KB each, every signature broken.
fn junk_entries() -> Vec<u8> {
    let fixture = Fixture::new();
    let key = Fixture::key("baltic-demolition");
    let entries: Vec<SignedEntry> = (0..1000)
        .filter_map(|number| {
            let giai = format!("4750001JUNK-{number:07}");
            let passport = passport(&giai, &"x".repeat(3500), 100.0);
            let statement = fixture.statement(Kind::ItemRegister, json!({"giai": giai, "passport": passport}));
            SignedEntry::sign(statement, &[&key]).ok()
        })
        .collect();
    let body = String::from_utf8(SignedEntry::canonical_array(&entries)).unwrap_or_default();
    // Each signature's first hex digit changed: still canonical, never valid.
    body.split("\"sig\":\"")
        .enumerate()
        .map(|(index, part)| if index == 0 { part.to_owned() } else { flip_first(part) })
        .collect::<Vec<_>>()
        .join("\"sig\":\"")
        .into_bytes()
}

/// `part` with its first character (a hex digit of a signature) changed.
fn flip_first(part: &str) -> String {
    let mut characters = part.chars();
    match characters.next() {
        Some('0') => format!("1{}", characters.as_str()),
        Some(_) => format!("0{}", characters.as_str()),
        None => String::new(),
    }
}

/// A process's peak resident memory (`VmHWM`), in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()).unwrap_or(0) * 1024
}
