//! `salvage node` as operators run it: the real binary, a real port, real signals.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use salvage_ledger::testkit::Fixture;
use salvage_tests::node::{Running, Site};
use salvage_tests::{salvage_binary, salvage_command};

#[test]
fn a_node_serves_accepts_entries_stops_on_sigterm_and_reopens_its_ledger() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let node = Running::start(site.node("city-of-jelgava"));
    assert_eq!(node.get("/healthz").status, 200);
    let entry = site.fixture.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 beam", 180.0);
    let receipt = node.submit_one(&entry);
    assert_eq!(receipt.status, 201, "{}", receipt.text());
    let (exit, log) = node.terminate();
    assert!(exit.success(), "a SIGTERM is a clean stop: {exit:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");

    // Started again on the same directory, it serves the same ledger.
    let node = Running::start(site.node("city-of-jelgava"));
    let status_json = node.get_json("/v1/status");
    assert_eq!(status_json["size"], 2, "{status_json}");
    assert_eq!(status_json["node"], "city-of-jelgava");
    assert_eq!(status_json["format"], 1, "a genesis without a format is format 1");
    let page = node.get("/8004/4750001BEAM-0001");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("HEA 160 beam"));
    node.terminate();
}

#[test]
fn a_node_stopped_the_moment_it_announces_its_address_stops_cleanly() {
    // Scripts (and these tests) send SIGTERM as soon as the address is printed: the handler must
    // already be in place then, or the signal's default action kills the node mid-start.
    let site = Site::new(&["city-of-jelgava"]);
    for attempt in 0..20 {
        let (exit, log) = Running::start(site.node("city-of-jelgava")).terminate();
        assert!(exit.success(), "attempt {attempt}: {exit}\n{log}");
        assert!(log.contains("stopped: requests in flight finished"), "attempt {attempt}: {log}");
    }
}

#[test]
fn a_key_that_is_no_operator_or_a_foreign_data_directory_is_refused_with_a_reason() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let output = site.node("baltic-demolition").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("baltic-demolition") && stderr.contains("not an operator"), "{stderr}");
    assert!(!site.path("data").exists(), "nothing was created for a refused start");

    // A data directory holding another consortium's ledger.
    let other = Fixture::named("Another consortium");
    salvage_ledger::store::Ledger::create(&site.path("data"), other.genesis.clone()).unwrap();
    let output = site.node("city-of-jelgava").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(site.path("data").to_str().unwrap()), "{stderr}");

    // A missing setting names its flag.
    let output =
        Command::new(salvage_binary()).args(["node", "--data", "x"]).env_remove("SALVAGE_CONFIG").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--genesis"));
}

#[test]
fn settings_come_from_the_file_then_salvage_variables_then_flags() {
    let site = Site::new(&["city-of-jelgava"]);
    let config = site.path("node.toml");
    let toml = format!(
        "genesis = {:?}\ndata = {:?}\nkey = {:?}\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://file.example\"\nbody_limit = \"4 MiB\"\n",
        site.path("genesis.json"),
        site.path("data"),
        site.path("city-of-jelgava.pem"),
    );
    std::fs::write(&config, toml).unwrap();
    let entry = site.fixture.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 beam", 180.0);
    let entry_body = serde_json::to_vec(&entry.to_value()).unwrap();

    // The node started with the config named by SALVAGE_CONFIG, variables and flags.
    let start = |variables: &[(&str, &str)], flags: &[&str]| {
        let mut command = salvage_command();
        command.arg("node").args(flags).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.env("SALVAGE_CONFIG", &config).envs(variables.iter().copied());
        let node = Running::start(command);
        assert_eq!(node.request("POST", "/v1/entries", &entry_body).status, 201);
        node
    };
    let resolver_base = |node: &Running| {
        let linkset = node.get_json("/8004/4750001BEAM-0001?linkType=all");
        linkset["linkset"][0]["anchor"].as_str().unwrap().to_owned()
    };

    let node = start(&[], &[]);
    assert!(resolver_base(&node).starts_with("https://file.example/"), "{}", resolver_base(&node));
    node.terminate();

    let node = start(&[("SALVAGE_PUBLIC_URL", "https://environment.example"), ("SALVAGE_BODY_LIMIT", "2 KiB")], &[]);
    assert!(resolver_base(&node).starts_with("https://environment.example/"), "the variable overrides the file");
    let too_large = node.request("POST", "/v1/entries", &[b' '; 3000]);
    assert_eq!(too_large.status, 413, "SALVAGE_BODY_LIMIT overrides the file's 4 MiB");
    node.terminate();

    let node =
        start(&[("SALVAGE_PUBLIC_URL", "https://environment.example")], &["--public-url", "https://flag.example"]);
    assert!(resolver_base(&node).starts_with("https://flag.example/"), "the flag overrides the variable");
    node.terminate();

    // A bad value names where it came from.
    let mut command = Command::new(salvage_binary());
    command.arg("node").env("SALVAGE_CONFIG", &config).env("SALVAGE_BODY_LIMIT", "lots");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lots") && stderr.contains("body limit"), "{stderr}");
}

#[test]
fn a_standalone_node_has_no_peer_routes_and_refuses_them_before_reading_the_body() {
    let site = Site::new(&["city-of-jelgava"]);
    let node = Running::start(site.node("city-of-jelgava"));
    for path in ["/v1/raft/append", "/v1/raft/vote", "/v1/raft/snapshot", "/v1/raft/propose", "/v1/checkpoint/cosign"] {
        // The headers promise 64 MiB that never come: a node that read the
        // body before answering would not answer at all.
        let mut stream = TcpStream::connect(&node.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n{{",
            node.address
        );
        stream.write_all(head.as_bytes()).unwrap();
        let answer = read_answer(&mut stream).unwrap_or_else(|error| panic!("no answer to {path}: {error}"));
        assert!(answer.starts_with("HTTP/1.1 404 "), "{path}: {answer}");
        assert!(answer.contains("http.not_found"), "{path}: {answer}");
    }
    node.terminate();
}

/// Reads one HTTP answer whose body has a `Content-Length`, as text.
fn read_answer(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|length| length.parse::<usize>().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn the_attachment_limit_flag_bounds_uploads() {
    let site = Site::new(&["city-of-jelgava", "baltic-demolition"]);
    let mut command = site.node("city-of-jelgava");
    command.args(["--attachment-limit", "64KiB"]);
    let node = Running::start(command);

    let large = noise_jpeg(210);
    assert!(large.len() > 64 * 1024, "the large photo must exceed the limit: {} bytes", large.len());
    // Refused on its declared length, before its body is read; a client that sent the body could
    // see the connection closed under it, so send only the head and read the answer.
    let answer = declared_upload(&node, "baltic-demolition", large.len());
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(error["error"]["code"], "attachment.too_large", "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("65536 bytes"), "the message names the limit: {message}");

    let small = noise_jpeg(112);
    assert!((16 * 1024..64 * 1024).contains(&small.len()), "a photo under the limit: {} bytes", small.len());
    let stored = node.signed("POST", "/v1/attachments", "baltic-demolition", &small);
    assert_eq!(stored.status, 201, "{}", stored.text());
    assert_eq!(stored.json()["size"], small.len());
    node.terminate();
}

/// A JPEG, `side`×`side` pixels of noise at quality 95: noise does not compress, so the
/// file's size follows its area (some 2.4 bytes a pixel: 210 px some 110 KiB, 112 px some 30 KiB).
fn noise_jpeg(side: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        // xorshift64: any noise will do, the same every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95).encode_image(&image).unwrap();
    bytes
}

/// The answer to an upload signed by `member` that declares `length` bytes and sends none.
fn declared_upload(node: &Running, member: &str, length: usize) -> String {
    let mut stream = TcpStream::connect(&node.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("POST /v1/attachments HTTP/1.1\r\nHost: {}\r\nContent-Length: {length}\r\n", node.address);
    for (name, value) in node.signature_headers("POST", "/v1/attachments", member) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_answer(&mut stream).unwrap()
}
