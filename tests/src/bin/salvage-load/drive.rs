//! Keep-alive HTTP/1.1 clients and the timed run that drives them.
//!
//! Every client owns one connection (hyper's `http1` client over a tokio
//! `TcpStream`) and sends its next request as soon as the previous answer is
//! read: a closed loop, so the node's throughput is what it can sustain, and
//! latency is measured under that load. Requests come ready-made from a
//! [`Workload`]; the clients only send, time and check them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::LoadError;
use crate::cpu;

/// How long the run lasts and with how many clients.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Concurrent clients, one connection each.
    pub clients: usize,
    /// Load before measuring starts.
    pub warmup: Duration,
    /// How long requests are measured.
    pub duration: Duration,
}

/// Where a run's requests come from, and what their answers must be.
pub trait Workload: Send + Sync + 'static {
    /// The next request for a client, or `None` when the workload is used up.
    /// `seed` is the client's own random state.
    fn next(&self, seed: &mut u64) -> Option<Request<Full<Bytes>>>;

    /// What is wrong with the answer to a request for `uri`, or `None` if it is
    /// what the scenario expects.
    fn check(&self, uri: &Uri, status: StatusCode, content_type: &str) -> Option<String>;
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latency of every request started in the measured window, in nanoseconds, sorted.
    pub latencies: Vec<u64>,
    /// Answers in the measured window that were as expected.
    pub expected: u64,
    /// From the start of the measured window to the last measured answer.
    pub measured: Duration,
    /// Unexpected answers during the whole run (warm-up included) by what was
    /// wrong, with how many and the first one's body.
    pub unexpected: BTreeMap<String, (u64, String)>,
    /// Whether the workload ran out before the time was up.
    pub exhausted: bool,
    /// Cores the node used during the measured window, if its process is known.
    pub node_cores: Option<f64>,
    /// Cores this program used during the measured window.
    pub generator_cores: Option<f64>,
    /// Cores the whole machine was busy during the measured window (the node,
    /// this program, the kernel's work for them, and anything else running).
    pub machine_cores: Option<f64>,
}

/// One keep-alive HTTP/1.1 connection to the node.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// An answer, read to its end.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`, or "".
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

impl Connection {
    /// Connects to `address` (`host:port`).
    pub async fn open(address: &str) -> Result<Connection, LoadError> {
        let failed = |error: &dyn std::fmt::Display| LoadError::Connection(format!("{address}: {error}"));
        let stream = TcpStream::connect(address).await.map_err(|e| failed(&e))?;
        stream.set_nodelay(true).map_err(|e| failed(&e))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| failed(&e))?;
        // The connection task ends when the sender is dropped or the node closes it.
        tokio::spawn(connection);
        Ok(Connection { sender })
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, LoadError> {
        let failed = |error: hyper::Error| LoadError::Connection(error.to_string());
        self.sender.ready().await.map_err(failed)?;
        let response = self.sender.send_request(request).await.map_err(failed)?;
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        let body = response.into_body().collect().await.map_err(failed)?.to_bytes();
        Ok(Answer { status, content_type, body })
    }
}

/// Drives `workload` against the nodes at `addresses` (client `i` talks to
/// node `i mod n`) as `plan` says. `node_pid` is the node's process, if known,
/// to report the cores it used.
pub async fn drive(
    addresses: &[String],
    plan: &Plan,
    workload: Arc<dyn Workload>,
    node_pid: Option<u32>,
) -> Result<Tally, LoadError> {
    // Every connection is open before the clock starts.
    let mut connections = Vec::with_capacity(plan.clients);
    for client in 0..plan.clients {
        connections.push(Connection::open(&addresses[client % addresses.len()]).await?);
    }
    let start = Instant::now();
    let window = Window { from: start + plan.warmup, until: start + plan.warmup + plan.duration };
    let probe = tokio::spawn(cpu_during(window, node_pid));
    let clients: Vec<_> = connections
        .into_iter()
        .zip(1u64..)
        .map(|(connection, number)| tokio::spawn(client(connection, Arc::clone(&workload), window, number)))
        .collect();
    let mut tally = Tally::default();
    let mut last_answer = window.from;
    for client in clients {
        let outcome =
            client.await.map_err(|error| LoadError::Connection(format!("a client task failed: {error}")))??;
        tally.latencies.extend(outcome.latencies);
        tally.expected += outcome.expected;
        tally.exhausted |= outcome.exhausted;
        if let Some(answered) = outcome.last_answer {
            last_answer = last_answer.max(answered);
        }
        for (problem, (count, body)) in outcome.unexpected {
            let entry = tally.unexpected.entry(problem).or_insert((0, body));
            entry.0 += count;
        }
    }
    tally.latencies.sort_unstable();
    tally.measured = last_answer - window.from;
    // The probe reads at the end of the window; if the run ended early, its reading is later.
    let cores = if tally.exhausted { Cores::default() } else { probe.await.unwrap_or_default() };
    (tally.node_cores, tally.generator_cores, tally.machine_cores) = (cores.node, cores.generator, cores.machine);
    if tally.exhausted && tally.latencies.is_empty() {
        return Err(LoadError::Setup("the workload ran out during the warm-up: prepare more requests".to_owned()));
    }
    Ok(tally)
}

/// The measured part of a run: requests started in `from..until` count.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    until: Instant,
}

/// What one client saw.
#[derive(Default)]
struct ClientOutcome {
    latencies: Vec<u64>,
    expected: u64,
    unexpected: BTreeMap<String, (u64, String)>,
    exhausted: bool,
    last_answer: Option<Instant>,
}

/// One client's closed loop: send, wait for the answer, check it, repeat until
/// the window closes or the workload is used up.
async fn client(
    mut connection: Connection,
    workload: Arc<dyn Workload>,
    window: Window,
    number: u64,
) -> Result<ClientOutcome, LoadError> {
    let mut outcome = ClientOutcome::default();
    let mut seed = number.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    loop {
        let sent = Instant::now();
        if sent >= window.until {
            break;
        }
        let Some(request) = workload.next(&mut seed) else {
            outcome.exhausted = true;
            break;
        };
        let uri = request.uri().clone();
        let answer = connection.send(request).await?;
        let answered = Instant::now();
        let problem = workload.check(&uri, answer.status, &answer.content_type);
        if let Some(problem) = problem {
            let sample = String::from_utf8_lossy(&answer.body[..answer.body.len().min(2000)]).into_owned();
            outcome.unexpected.entry(problem).or_insert((0, sample)).0 += 1;
        } else if sent >= window.from {
            outcome.expected += 1;
        }
        if sent >= window.from {
            outcome.latencies.push(u64::try_from((answered - sent).as_nanos()).unwrap_or(u64::MAX));
            outcome.last_answer = Some(answered);
        }
    }
    Ok(outcome)
}

/// Cores used on average during the measured window.
#[derive(Debug, Default)]
struct Cores {
    node: Option<f64>,
    generator: Option<f64>,
    machine: Option<f64>,
}

/// Cores used by the node, by this program and by the machine during the window.
async fn cpu_during(window: Window, node_pid: Option<u32>) -> Cores {
    tokio::time::sleep_until(window.from).await;
    let before = (node_pid.and_then(cpu::used), cpu::own(), cpu::machine());
    tokio::time::sleep_until(window.until).await;
    let after = (node_pid.and_then(cpu::used), cpu::own(), cpu::machine());
    let wall = window.until - window.from;
    Cores {
        node: cpu::cores(before.0, after.0, wall),
        generator: cpu::cores(before.1, after.1, wall),
        machine: cpu::cores(before.2, after.2, wall),
    }
}
