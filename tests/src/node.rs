//! A consortium site on disk and a started `salvage node`.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;

use crate::http::{self, Answer};

/// The resolver base URL the test nodes print into QR codes.
pub const PUBLIC_URL: &str = "https://passports.jelgava.example";

/// A temporary directory holding the demo consortium's genesis and the keys
/// of some of its members, as `<member>.pem` with mode 0600.
pub struct Site {
    /// The directory; removed when the site is dropped.
    pub dir: tempfile::TempDir,
    /// The demo consortium whose genesis is on disk.
    pub fixture: Fixture,
}

impl Site {
    /// A site with the keys of `members` written out.
    ///
    /// # Panics
    ///
    /// When the temporary directory cannot be written.
    pub fn new(members: &[&str]) -> Site {
        Self::of(Fixture::new(), members)
    }

    /// A site of the demo consortium on a format-2 ledger, which withholds
    /// restricted values ([`Fixture::withholding`]).
    pub fn withholding(members: &[&str]) -> Site {
        Self::of(Fixture::withholding(), members)
    }

    /// A site of the demo consortium on a ledger that allocates GIAIs
    /// ([`Fixture::allocating`]).
    pub fn allocating(members: &[&str]) -> Site {
        Self::of(Fixture::allocating(), members)
    }

    /// A site of the demo consortium on a ledger of the second rules (docs/rules.md §11), with
    /// a waste handler ([`Fixture::waste_rules`]).
    pub fn waste_rules(members: &[&str]) -> Site {
        Self::of(Fixture::waste_rules(), members)
    }

    fn of(fixture: Fixture, members: &[&str]) -> Site {
        let site = Site { dir: tempdir(), fixture };
        let genesis = serde_json::to_vec_pretty(&site.fixture.genesis.to_value()).unwrap_or_default();
        write(&site.path("genesis.json"), &genesis);
        for member in members {
            let pem = Fixture::key(member).to_pkcs8_pem(LineEnding::LF).unwrap_or_else(|error| panic!("{error}"));
            let path = site.path(&format!("{member}.pem"));
            write(&path, pem.as_bytes());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|error| panic!("chmod {}: {error}", path.display()));
        }
        site
    }

    /// The `salvage` binary as a member's terminal at this site runs it: in the site's directory,
    /// talking to `node`, with none of the test's own `SALVAGE_*` settings.
    pub fn salvage(&self, node: &Running) -> Command {
        let mut command = crate::salvage_command();
        command.current_dir(self.dir.path()).env("SALVAGE_NODE", format!("http://{}", node.address));
        command
    }

    /// [`Site::salvage`], signing with `member`'s key file.
    pub fn salvage_as(&self, node: &Running, member: &str) -> Command {
        let mut command = self.salvage(node);
        command.env("SALVAGE_KEY", self.path(&format!("{member}.pem")));
        command
    }

    /// A path inside the site.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `salvage node` on a free port over `data/`, signing with `<operator>.pem`.
    pub fn node(&self, operator: &str) -> Command {
        self.node_with(&crate::salvage_binary(), operator)
    }

    /// [`Site::node`] with another `salvage` binary (the load generator's choice).
    pub fn node_with(&self, binary: &std::path::Path, operator: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .arg("node")
            .arg("--genesis")
            .arg(self.path("genesis.json"))
            .arg("--data")
            .arg(self.path("data"))
            .arg("--key")
            .arg(self.path(&format!("{operator}.pem")))
            .args(["--listen", "127.0.0.1:0", "--public-url", PUBLIC_URL])
            .env_remove("SALVAGE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// What a node prints on stdout once it listens, before its address.
const ANNOUNCEMENT: &str = "salvage node listening on http://";

/// A started node and the address it printed. Dropping it kills the process.
pub struct Running {
    child: Child,
    /// `host:port` the node listens on.
    pub address: String,
}

impl Running {
    /// Spawns `command` and waits for the line announcing the address
    /// (skipping any lines printed before it).
    ///
    /// # Panics
    ///
    /// When the process cannot start or its first line is not the announcement
    /// (the panic message holds what it logged).
    pub fn start(mut command: Command) -> Running {
        let mut child = command.spawn().unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        let Some(stdout) = child.stdout.take() else { panic!("stdout of the node is not piped") };
        // `salvage demo` prints what it seeded first; the announcement ends it.
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|read| read > 0) && !line.starts_with(ANNOUNCEMENT) {
            line.clear();
        }
        let Some(address) = line.trim().strip_prefix(ANNOUNCEMENT) else {
            let _ = child.kill();
            let mut log = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut log);
            }
            panic!("the node did not announce its address; it printed {line:?} and logged:\n{log}");
        };
        Running { address: address.to_owned(), child }
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    ///
    /// # Panics
    ///
    /// When `/proc/PID/status` cannot be read or has no `VmHWM` line.
    pub fn peak_memory(&self) -> u64 {
        self.memory("VmHWM")
    }

    /// The process's resident memory now (`VmRSS`), in bytes.
    ///
    /// # Panics
    ///
    /// When `/proc/PID/status` cannot be read or has no `VmRSS` line.
    pub fn resident_memory(&self) -> u64 {
        self.memory("VmRSS")
    }

    /// A memory figure of `/proc/PID/status` (given in KiB there), in bytes.
    fn memory(&self, field: &str) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"));
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{path} has no {field}:\n{status}"));
        kib * 1024
    }

    /// Lowers the peak resident memory to what is resident now (Linux resets
    /// `VmHWM` on `5` written to `/proc/PID/clear_refs`), so that
    /// [`Running::peak_memory`] then tells the peak of what follows alone.
    ///
    /// # Panics
    ///
    /// When the file cannot be written.
    pub fn reset_peak_memory(&self) {
        let path = format!("/proc/{}/clear_refs", self.pid());
        std::fs::write(&path, "5").unwrap_or_else(|error| panic!("writing {path}: {error}"));
    }

    /// One HTTP/1.1 request with a JSON body.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        http::request(&self.address, method, path, &[("Content-Type", "application/json")], body)
    }

    /// A GET and its answer.
    pub fn get(&self, path: &str) -> Answer {
        http::request(&self.address, "GET", path, &[], b"")
    }

    /// `GET /v1/items/{giai}/disclosures`, signed now by `member`'s fixture key
    /// (RFC 9421, as the CLI signs it) with a fresh nonce.
    pub fn read_disclosures(&self, giai: &str, member: &str) -> Answer {
        self.signed("GET", &format!("/v1/items/{giai}/disclosures"), member, b"")
    }

    /// A request to `target` (a path with an optional `?query`), signed now by
    /// `member`'s fixture key (RFC 9421, as the CLI signs it) with a fresh nonce.
    pub fn signed(&self, method: &str, target: &str, member: &str, body: &[u8]) -> Answer {
        let [(input_name, input), (signature_name, signature)] = self.signature_headers(method, target, member);
        http::request(&self.address, method, target, &[(input_name, &input), (signature_name, &signature)], body)
    }

    /// The `Signature-Input` and `Signature` headers of a request to `target`
    /// signed now by `member`'s fixture key, for requests sent some other way.
    pub fn signature_headers(&self, method: &str, target: &str, member: &str) -> [(&'static str, String); 2] {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let signed_target = salvage_node::member_auth::SignedTarget { method, authority: &self.address, path, query };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let nonce = salvage_node::member_auth::fresh_nonce().unwrap_or_else(|error| panic!("{error}"));
        let signature = salvage_node::member_auth::sign(&signed_target, &Fixture::key(member), now, &nonce);
        [("Signature-Input", signature.signature_input), ("Signature", signature.signature)]
    }

    /// A GET whose answer must be 200 with a JSON body.
    ///
    /// # Panics
    ///
    /// On any other answer.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let answer = self.get(path);
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
        answer.json()
    }

    /// Submits entries as one JSON array.
    pub fn submit(&self, entries: &[SignedEntry]) -> Answer {
        let body = serde_json::Value::Array(entries.iter().map(SignedEntry::to_value).collect());
        self.request("POST", "/v1/entries", &serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Submits one entry on its own (not in an array).
    pub fn submit_one(&self, entry: &SignedEntry) -> Answer {
        self.request("POST", "/v1/entries", &serde_json::to_vec(&entry.to_value()).unwrap_or_default())
    }

    /// Sends `signal` (a `kill` name such as `STOP` or `CONT`) and returns at once.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn signal(&self, signal: &str) {
        if let Err(error) = self.try_signal(signal) {
            panic!("{error}");
        }
    }

    /// Sends `signal` as [`Running::signal`] does, or says why it could not.
    pub fn try_signal(&self, signal: &str) -> Result<(), String> {
        let pid = self.child.id();
        match Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("kill -{signal} {pid} failed: {status}")),
            Err(error) => Err(format!("kill -{signal} {pid}: {error}")),
        }
    }

    /// Sends `signal` (a `kill` name such as `TERM` or `KILL`), waits for the
    /// process to end and returns its exit status and what it logged.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn stop_with(mut self, signal: &str) -> (ExitStatus, String) {
        self.signal(signal);
        let exit = self.child.wait().unwrap_or_else(|error| panic!("waiting for the node: {error}"));
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut log);
        }
        (exit, log)
    }

    /// Sends SIGTERM, the operator's way to stop a node.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.stop_with("TERM")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Already reaped after `stop_with`; otherwise a test failed midway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|error| panic!("cannot create a temporary directory: {error}"))
}

fn write(path: &std::path::Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}
