//! A node is a public server: what one machine's worth of hostile clients can
//! make it do, against the real `salvage node`. Every request's memory and
//! answer stay a small multiple of its size, and the node keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::passport;
use salvage_tests::node::{Running, Site};
use serde_json::json;

const OPERATOR: &str = "city-of-jelgava";

/// The node's peak resident memory so far, in bytes (`VmHWM`).
fn peak_memory(node: &Running) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid())).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn no_submission_costs_more_than_a_small_multiple_of_its_size() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let before = peak_memory(&node);

    // Two million tiny non-entries in 4 MB: refused by count before parsing.
    let mut ones = vec![b'['];
    for _ in 0..2_000_000 {
        ones.extend_from_slice(b"1,");
    }
    *ones.last_mut().unwrap() = b']';
    assert!(ones.len() < 4 * 1024 * 1024);
    let answer = node.request("POST", "/v1/entries", &ones);
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(answer.error_code(), "http.too_many_entries");
    assert!(answer.body.len() < 1024, "{} bytes", answer.body.len());

    // A thousand non-entries, the most one submission carries: each gets its
    // own outcome, and the answer stays near the size of the request.
    let thousand = format!("[{}]", vec!["1"; 1000].join(","));
    let answer = node.request("POST", "/v1/entries", thousand.as_bytes());
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(answer.json()["error"]["details"].as_array().unwrap().len(), 1000);
    assert!(answer.body.len() < 200 * thousand.len(), "{} bytes", answer.body.len());

    // A thousand entries that each quote a 3 KB key: what is quoted is cut short.
    let long_key = "ab".repeat(1500);
    let one = json!({"statement": {}, "signatures": [{"key": long_key, "sig": "00"}]}).to_string();
    let quoting = format!("[{}]", vec![one.as_str(); 1000].join(","));
    let answer = node.request("POST", "/v1/entries", quoting.as_bytes());
    assert!(answer.status >= 400, "{}", answer.status);
    assert!(answer.body.len() < quoting.len(), "{} bytes answered to {}", answer.body.len(), quoting.len());

    // A passport with a hundred thousand schema violations, signed by a member:
    // the refusal counts them all (one more for the array's length) and lists
    // the first few.
    let mut bad = passport("4750001BEAM-0001", "beam", 10.0);
    bad["materials"] = json!(vec![1; 100_000]);
    let entry =
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": "4750001BEAM-0001", "passport": bad}));
    let answer = node.submit_one(&entry);
    assert_eq!(answer.status, 422, "{}", &answer.text()[..500.min(answer.text().len())]);
    let error = &answer.json()["error"];
    assert!(error["message"].as_str().unwrap().contains("100001 place"), "{error}");
    assert!(error["details"].as_array().unwrap().len() <= 20, "{}", error["details"]);
    assert!(answer.body.len() < 16 * 1024, "{} bytes", answer.body.len());

    // All of it cost well under what two million refusals did (6 GB).
    let grown = peak_memory(&node).saturating_sub(before);
    assert!(grown < 256 * 1024 * 1024, "the node grew by {} MiB", grown >> 20);
    assert_eq!(node.get("/healthz").status, 200);
    assert_eq!(node.get_json("/v1/status")["size"], 1);
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
    assert!(!log.contains('\u{1b}'), "no colour escapes in a log that is no terminal: {log}");
}

/// Reads from `stream` until the node closes it or answers; `None` if it
/// stays open and silent for `patience` (far longer than the node's timeouts).
fn read_until_closed(stream: &mut std::net::TcpStream, patience: std::time::Duration) -> Option<Vec<u8>> {
    use std::io::Read;
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(received),
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return Some(received),
            Err(_) => return None,
        }
    }
}

#[test]
fn stalled_clients_are_let_go_and_cannot_keep_the_node_from_stopping() {
    use std::io::Write;
    use std::net::TcpStream;
    use std::time::Duration;

    let site = Site::new(&[OPERATOR]);
    let mut command = site.node(OPERATOR);
    command.args(["--client-timeout", "1", "--max-connections", "16"]);
    let node = Running::start(command);
    let patience = Duration::from_secs(20);
    let connect = || TcpStream::connect(&node.address).unwrap();
    // `count` connections that each send `start` of a request and no more.
    let stall = |count: usize, start: &[u8]| -> Vec<TcpStream> {
        (0..count)
            .map(|_| {
                let mut stream = connect();
                stream.write_all(start).unwrap();
                stream
            })
            .collect()
    };

    // Headers that never finish, sixteen times over: the node is full...
    let mut stalled = stall(16, b"GET /healthz HTTP/1.1\r\nHost: node\r\n");
    std::thread::sleep(Duration::from_millis(200));
    // ...so one more connection is closed at once, not queued...
    let mut turned_away = connect();
    turned_away.write_all(b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n").ok();
    let answer = read_until_closed(&mut turned_away, patience).expect("a connection over the limit is closed");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // ...and every stalled one is closed once its client timeout passes.
    for stream in &mut stalled {
        let answer = read_until_closed(stream, patience).expect("a connection whose headers stall is closed");
        assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    }
    assert_eq!(node.get("/healthz").status, 200, "the node serves again");

    // A keep-alive connection that stays idle after its answer is closed.
    let mut idle = connect();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n").unwrap();
    let answer = read_until_closed(&mut idle, patience).expect("an idle keep-alive connection is closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));

    // An upload that stalls after ten bytes of a 100 kB body is ended.
    let mut upload = connect();
    upload
        .write_all(b"POST /v1/entries HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"a\":1},")
        .unwrap();
    let answer = read_until_closed(&mut upload, patience).expect("a stalled upload is ended");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");

    // Stalled clients do not keep the node from stopping.
    let _stalled_again = stall(8, b"POST /v1/entries HTTP/1.1\r\nHost: node\r\nContent-Length: 9999\r\n\r\n[");
    std::thread::sleep(Duration::from_millis(200));
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn every_answer_names_its_request_and_errors_quote_the_id() {
    let site = Site::new(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let first = node.get("/v1/records/-1");
    let second = node.get("/v1/records/-1");
    assert_eq!(first.status, 400, "{}", first.text());
    let id = first.header("x-request-id").expect("an X-Request-Id header").to_owned();
    assert_eq!(first.json()["error"]["request_id"], id.as_str(), "the error quotes the id: {}", first.text());
    assert_ne!(second.header("x-request-id"), Some(id.as_str()), "each request has its own id");
    assert!(node.get("/healthz").header("x-request-id").is_some(), "answers that are no error carry it too");
    let missing = node.get("/v1/items/4750001NOPE-1");
    assert_eq!(missing.json()["error"]["request_id"], missing.header("x-request-id").unwrap());
}

/// `command` run under the shell's `ulimit` arguments `limits`.
fn under_ulimit(command: &std::process::Command, limits: &str) -> std::process::Command {
    let mut limited = std::process::Command::new("sh");
    limited.arg("-c").arg(format!("ulimit {limits} && exec \"$0\" \"$@\"")).arg(command.get_program());
    limited.args(command.get_args()).env_remove("SALVAGE_CONFIG");
    limited
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    limited
}

/// The soft and hard open-file limits of process `pid`.
fn open_file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|line| line.starts_with("Max open files")).unwrap();
    let numbers: Vec<u64> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    (numbers[0], numbers[1])
}

#[test]
fn the_open_file_limit_is_raised_to_fit_the_connections_or_the_connections_fitted_to_it() {
    let site = Site::new(&[OPERATOR]);
    // A low soft limit is raised to the 1024 connections plus the node's own files.
    let node = Running::start(under_ulimit(&site.node(OPERATOR), "-Sn 300"));
    let (soft, hard) = open_file_limits(node.pid());
    assert_eq!(soft, hard.min(1024 + 256), "soft {soft}, hard {hard}");
    let (exit, log) = node.terminate();
    assert!(exit.success(), "{log}");

    // A hard limit below that: fewer connections, and the log says so.
    let node = Running::start(under_ulimit(&site.node(OPERATOR), "-n 400"));
    assert_eq!(node.get("/healthz").status, 200);
    let (_, log) = node.terminate();
    assert!(log.contains("lowered_to=144") && log.contains("open-file limit"), "{log}");

    // Too low to serve at all: the node refuses to start and says what to do.
    let refused = under_ulimit(&site.node(OPERATOR), "-n 200").output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("open-file limit is 200") && stderr.contains("ulimit -n"), "{stderr}");
}
