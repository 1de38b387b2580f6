//! What the tests that run `salvage node` share: a site with a genesis and
//! member keys on disk, and a started node spoken to over plain HTTP/1.1.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;

pub const SALVAGE: &str = env!("CARGO_BIN_EXE_salvage");

/// A temporary directory holding the demo consortium's genesis and the keys
/// of a few members, as `<member>.pem` with mode 0600.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub fixture: Fixture,
}

impl Site {
    pub fn new(members: &[&str]) -> Site {
        let site = Site { dir: tempfile::tempdir().unwrap(), fixture: Fixture::new() };
        std::fs::write(site.path("genesis.json"), serde_json::to_vec_pretty(&site.fixture.genesis.to_value()).unwrap()).unwrap();
        for member in members {
            let pem = Fixture::key(member).to_pkcs8_pem(LineEnding::LF).unwrap();
            let path = site.path(&format!("{member}.pem"));
            std::fs::write(&path, pem.as_bytes()).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        site
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `salvage node` on a free port over `data/`, signing with `<key_member>.pem`.
    pub fn node(&self, key_member: &str) -> Command {
        let mut command = Command::new(SALVAGE);
        command
            .arg("node")
            .args(["--genesis", self.path("genesis.json").to_str().unwrap()])
            .args(["--data", self.path("data").to_str().unwrap()])
            .args(["--key", self.path(&format!("{key_member}.pem")).to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .args(["--public-url", "https://passports.jelgava.example"])
            .env_remove("SALVAGE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// A started node and the address it printed. Dropping it kills the process.
pub struct Running {
    child: Child,
    pub address: String,
}

impl Running {
    pub fn start(mut command: Command) -> Running {
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("salvage node listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Running { child, address }
    }

    /// One HTTP/1.1 request; the status and the body of the answer.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
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

    /// Submits entries as one JSON array; the status and the body of the answer.
    pub fn submit(&self, entries: &[SignedEntry]) -> (u16, String) {
        let body = serde_json::Value::Array(entries.iter().map(SignedEntry::to_value).collect());
        self.request("POST", "/v1/entries", &serde_json::to_vec(&body).unwrap())
    }

    /// Sends SIGTERM and returns the exit status and what the node logged.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut log = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
        (exit, log)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Already reaped after `terminate`; otherwise a test failed midway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
