//! `salvage node` as operators run it: the real binary, a real port, real signals.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::testkit::Fixture;

const SALVAGE: &str = env!("CARGO_BIN_EXE_salvage");

struct Site {
    dir: tempfile::TempDir,
    fixture: Fixture,
}

impl Site {
    fn new() -> Site {
        let site = Site { dir: tempfile::tempdir().unwrap(), fixture: Fixture::new() };
        std::fs::write(site.path("genesis.json"), serde_json::to_vec_pretty(&site.fixture.genesis.to_value()).unwrap()).unwrap();
        for member in ["city-of-jelgava", "baltic-demolition"] {
            let pem = Fixture::key(member).to_pkcs8_pem(LineEnding::LF).unwrap();
            let path = site.path(&format!("{member}.pem"));
            std::fs::write(&path, pem.as_bytes()).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        site
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn node(&self, key: &str) -> Command {
        let mut command = Command::new(SALVAGE);
        command
            .arg("node")
            .args(["--genesis", self.path("genesis.json").to_str().unwrap()])
            .args(["--data", self.path("data").to_str().unwrap()])
            .args(["--key", self.path(key).to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(["--public-url", "https://passports.jelgava.example"])
            .env_remove("SALVAGE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// A started node and the address it printed.
struct Running {
    child: Child,
    address: String,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("salvage node listening on http://").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        Running { child, address }
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
        (status, body)
    }

    /// Sends SIGTERM and returns the exit status and what the node logged.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut log = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
        (exit, log)
    }
}

#[test]
fn a_node_serves_accepts_entries_stops_on_sigterm_and_reopens_its_ledger() {
    let site = Site::new();
    let node = Running::start(site.node("city-of-jelgava.pem"));
    assert_eq!(node.request("GET", "/healthz", b"").0, 200);
    let entry = site.fixture.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 beam", 180.0);
    let (status, receipt) = node.request("POST", "/v1/entries", &serde_json::to_vec(&entry.to_value()).unwrap());
    assert_eq!(status, 201, "{receipt}");
    let (exit, log) = node.terminate();
    assert!(exit.success(), "a SIGTERM is a clean stop: {exit:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");

    // Started again on the same directory, it serves the same ledger.
    let node = Running::start(site.node("city-of-jelgava.pem"));
    let (status, body) = node.request("GET", "/v1/status", b"");
    assert_eq!(status, 200);
    let status_json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_json["size"], 2, "{body}");
    assert_eq!(status_json["node"], "city-of-jelgava");
    let (status, page) = node.request("GET", "/8004/4750001BEAM-0001", b"");
    assert_eq!(status, 200);
    assert!(page.contains("HEA 160 beam"));
    node.terminate();
}

#[test]
fn a_key_that_is_no_operator_or_a_foreign_data_directory_is_refused_with_a_reason() {
    let site = Site::new();
    let output = site.node("baltic-demolition.pem").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("baltic-demolition") && stderr.contains("not an operator"), "{stderr}");
    assert!(!site.path("data").exists(), "nothing was created for a refused start");

    // A data directory holding another consortium's ledger.
    let other = Fixture::named("Another consortium");
    salvage_ledger::store::Ledger::create(&site.path("data"), other.genesis.clone()).unwrap();
    let output = site.node("city-of-jelgava.pem").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(site.path("data").to_str().unwrap()), "{stderr}");

    // A missing setting names its flag.
    let output = Command::new(SALVAGE).args(["node", "--data", "x"]).env_remove("SALVAGE_CONFIG").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--genesis"));
}

