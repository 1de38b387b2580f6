//! Three `salvage node` processes of one consortium, replicating on local ports.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::node::{PUBLIC_URL, Running, Site};

/// The operators whose nodes make up the test consortium.
pub const OPERATORS: [&str; 3] = ["regional-planning", "city-of-jelgava", "reuse-hub"];

/// A consortium of three nodes on this machine. Dropping it kills them.
pub struct Cluster {
    /// The site: genesis and keys; each node's data in `node1/` … `node3/`.
    pub site: Site,
    ports: Vec<u16>,
    nodes: Vec<Option<Running>>,
    // How many nodes make up the first membership: nodes 1 to `founders`.
    founders: usize,
    // The nodes started with `--join`.
    joining: Vec<bool>,
    // Environment variables every node is started with (fault injection).
    env: Vec<(String, String)>,
    // Held while the cluster lives: see `ONE_AT_A_TIME`.
    _turn: MutexGuard<'static, ()>,
}

/// Clusters of one test process run one at a time: three debug nodes per test
/// are enough for two cores, and several clusters at once could starve a
/// leader's heartbeats into needless elections.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What a node reports in `GET /v1/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    /// `leader`, `follower`, `candidate`, …
    pub role: String,
    /// The leader's member id, if known.
    pub leader: Option<String>,
    /// The operators whose nodes vote, as this node knows them.
    pub nodes: Vec<String>,
    /// The number of durable records.
    pub size: u64,
    /// The root of those records.
    pub root: String,
    /// The custody state digest after those records.
    pub state: String,
}

impl Cluster {
    /// Starts three nodes and waits until one leads.
    ///
    /// # Panics
    ///
    /// When a node does not start or no leader is elected within 20 s.
    pub fn start() -> Cluster {
        Cluster::start_founders(OPERATORS.len())
    }

    /// Starts the first `founders` nodes only, as a consortium of that many
    /// (each names the founders as its peers), and waits until one leads. The
    /// others can join later with [`Cluster::start_joining`].
    ///
    /// # Panics
    ///
    /// When a node does not start or no leader is elected within 20 s.
    pub fn start_founders(founders: usize) -> Cluster {
        Cluster::start_founders_with_env(founders, &[])
    }

    /// [`Cluster::start_founders`], every node started (and restarted) with the
    /// environment variables `env`, such as a node's fault-injection switches.
    ///
    /// # Panics
    ///
    /// When a node does not start or no leader is elected within 20 s.
    pub fn start_founders_with_env(founders: usize, env: &[(&str, &str)]) -> Cluster {
        Cluster::launch(Site::new, founders, env)
    }

    /// [`Cluster::start`] on a format-2 ledger, which withholds restricted values
    /// ([`Site::withholding`]).
    ///
    /// # Panics
    ///
    /// When a node does not start or no leader is elected within 20 s.
    pub fn start_withholding() -> Cluster {
        Cluster::launch(Site::withholding, OPERATORS.len(), &[])
    }

    fn launch(site: fn(&[&str]) -> Site, founders: usize, env: &[(&str, &str)]) -> Cluster {
        // A test that failed while holding the turn leaves nothing shared behind.
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let site = site(&OPERATORS);
        let ports = OPERATORS.iter().map(|_| free_port()).collect();
        let nodes = OPERATORS.iter().map(|_| None).collect();
        let env = env.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        let mut cluster =
            Cluster { site, ports, nodes, founders, joining: vec![false; OPERATORS.len()], env, _turn: turn };
        for index in 0..founders {
            cluster.start_node(index);
        }
        cluster.wait_for_leader(Duration::from_secs(20));
        cluster
    }

    /// Starts node `index` with `--join` and every node as its peer: it waits
    /// to be added by the admins' `node.add`.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn start_joining(&mut self, index: usize) {
        self.joining[index] = true;
        self.start_node(index);
    }

    /// The URL at which node `index` is reached.
    pub fn url(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[index])
    }

    /// The command that runs node `index` (0-based).
    pub fn command(&self, index: usize) -> Command {
        let mut command = Command::new(crate::salvage_binary());
        command
            .arg("node")
            .arg("--genesis")
            .arg(self.site.path("genesis.json"))
            .arg("--data")
            .arg(self.data_dir(index))
            .arg("--key")
            .arg(self.site.path(&format!("{}.pem", OPERATORS[index])))
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[index]), "--public-url", PUBLIC_URL])
            .env_remove("SALVAGE_CONFIG")
            .env("RUST_LOG", "info,openraft=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        // A founder names the founders; a joining node names every node.
        let peers = if self.joining[index] { OPERATORS.len() } else { self.founders };
        for (operator, port) in OPERATORS.iter().zip(&self.ports).take(peers) {
            command.arg("--peer").arg(format!("{operator}=http://127.0.0.1:{port}"));
        }
        if self.joining[index] {
            command.arg("--join");
        }
        command
    }

    /// Node `index`'s data directory.
    pub fn data_dir(&self, index: usize) -> PathBuf {
        self.site.path(&format!("node{}", index + 1))
    }

    /// Node `index`'s log file (its stderr, appended across restarts).
    pub fn log_path(&self, index: usize) -> PathBuf {
        self.site.path(&format!("node{}.log", index + 1))
    }

    /// Starts (or restarts) node `index`.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn start_node(&mut self, index: usize) {
        self.start_node_with_env(index, &[]);
    }

    /// Starts (or restarts) node `index` with the environment variables `env`
    /// besides the cluster's, such as a fault-injection switch of its own.
    ///
    /// # Panics
    ///
    /// When it does not start.
    pub fn start_node_with_env(&mut self, index: usize, env: &[(&str, &str)]) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path(index))
            .unwrap_or_else(|error| panic!("cannot open the node's log: {error}"));
        let mut command = self.command(index);
        command.envs(env.iter().copied()).stderr(log);
        // The node logs to its file, not to the pipe `Running::start` quotes when the node
        // does not start: quote the file's end instead.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Running::start(command))) {
            Ok(running) => self.nodes[index] = Some(running),
            Err(_) => {
                let log = std::fs::read_to_string(self.log_path(index)).unwrap_or_default();
                // Backtrace frames aside, so that a panic's message is among the lines shown.
                let lines: Vec<&str> = log
                    .lines()
                    .filter(|line| {
                        let line = line.trim_start();
                        !line.starts_with("at ") && line.split(':').next().is_none_or(|n| n.parse::<u32>().is_err())
                    })
                    .collect();
                let tail = lines[lines.len().saturating_sub(60)..].join("\n");
                panic!("node {} did not start; the end of its log:\n{tail}", index + 1);
            }
        }
    }

    /// The running node `index`.
    ///
    /// # Panics
    ///
    /// When it is not running.
    pub fn node(&self, index: usize) -> &Running {
        self.nodes[index].as_ref().unwrap_or_else(|| panic!("node {} is not running", index + 1))
    }

    /// Takes node `index` out of the cluster's hands, e.g. to kill it.
    ///
    /// # Panics
    ///
    /// When it is not running.
    pub fn take(&mut self, index: usize) -> Running {
        self.nodes[index].take().unwrap_or_else(|| panic!("node {} is not running", index + 1))
    }

    /// The indexes of the nodes running.
    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&index| self.nodes[index].is_some()).collect()
    }

    /// Node `index`'s status, or `None` if it does not answer.
    pub fn status(&self, index: usize) -> Option<NodeStatus> {
        let node = self.nodes[index].as_ref()?;
        let answer = crate::http::try_request(&node.address, "GET", "/v1/status", &[], b"").ok()?;
        if answer.status != 200 {
            return None;
        }
        let status = answer.json();
        Some(NodeStatus {
            role: status["role"].as_str()?.to_owned(),
            leader: status["leader"].as_str().map(str::to_owned),
            nodes: status["nodes"]
                .as_array()
                .map(|nodes| nodes.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            size: status["size"].as_u64()?,
            root: status["root"].as_str()?.to_owned(),
            state: status["state"].as_str()?.to_owned(),
        })
    }

    /// Waits until one running node leads and every running node names it;
    /// returns its index.
    ///
    /// # Panics
    ///
    /// When that does not happen within `timeout`.
    pub fn wait_for_leader(&self, timeout: Duration) -> usize {
        let started = Instant::now();
        loop {
            let statuses: Vec<(usize, Option<NodeStatus>)> =
                self.running().into_iter().map(|index| (index, self.status(index))).collect();
            let leaders: Vec<usize> = statuses
                .iter()
                .filter(|(_, s)| s.as_ref().is_some_and(|s| s.role == "leader"))
                .map(|(i, _)| *i)
                .collect();
            if let [leader] = leaders[..] {
                let agreed = statuses
                    .iter()
                    .all(|(_, s)| s.as_ref().is_some_and(|s| s.leader.as_deref() == Some(OPERATORS[leader])));
                if agreed {
                    return leader;
                }
            }
            assert!(started.elapsed() < timeout, "no leader agreed on within {timeout:?}: {statuses:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every running node holds at least `size` records and all
    /// report the same size and root; returns them.
    ///
    /// # Panics
    ///
    /// When that does not happen within `timeout`.
    pub fn wait_converged(&self, size: u64, timeout: Duration) -> (u64, String) {
        let started = Instant::now();
        loop {
            let statuses: Vec<Option<NodeStatus>> =
                self.running().into_iter().map(|index| self.status(index)).collect();
            if let Some(Some(first)) = statuses.first()
                && first.size >= size
                && statuses.iter().all(|s| s.as_ref().is_some_and(|s| (s.size, &s.root) == (first.size, &first.root)))
            {
                return (first.size, first.root.clone());
            }
            assert!(
                started.elapsed() < timeout,
                "the nodes did not converge on {size} records within {timeout:?}: {statuses:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A port that was free a moment ago, outside the range the kernel hands to outgoing connections.
fn free_port() -> u16 {
    // Below the kernel's range of ephemeral ports: a node binds its port only
    // when it starts, and a port from that range could meanwhile be handed to
    // one of the running nodes' own outgoing connections.
    const LOWEST: u32 = 20_000;
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let span = ephemeral.saturating_sub(LOWEST).max(1);
    // Each call tries the ports after the last one handed out, starting at a
    // spot that differs per process, so that no port is handed out twice.
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % span,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span {
        let port = LOWEST + NEXT.fetch_add(1, Ordering::Relaxed) % span;
        if let Ok(port) = u16::try_from(port)
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("cannot find a free port between {LOWEST} and {ephemeral}")
}

/// A `Salvage-Raft-Auth` header of docs/format.md §12, built from the
/// documentation alone, and its nonce: an Ed25519 signature by `sender`'s key
/// over `salvage-raft/v2\n<sender>\n<destination>\n<unix ms>\n<nonce>\n<path>\n<hex blake3 of the body>`.
pub fn raft_auth(sender: &str, destination: &str, path: &str, body: &[u8]) -> (String, String) {
    use ed25519_dalek::Signer;
    static REQUESTS: AtomicU32 = AtomicU32::new(0);
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_millis());
    // Unique per request: the time, this process and a counter.
    let seed = format!("{millis} {} {}", std::process::id(), REQUESTS.fetch_add(1, Ordering::Relaxed));
    let nonce = hex::encode(&blake3::hash(seed.as_bytes()).as_bytes()[..16]);
    let body_hash = blake3::hash(body).to_hex();
    let message = format!("salvage-raft/v2\n{sender}\n{destination}\n{millis}\n{nonce}\n{path}\n{body_hash}");
    let signature = salvage_ledger::testkit::Fixture::key(sender).sign(message.as_bytes());
    (format!("{sender} {destination} {millis} {nonce} {body_hash} {}", hex::encode(signature.to_bytes())), nonce)
}

/// The Raft node id of operator `member`, as docs/format.md §12 defines it.
pub fn node_id(member: &str) -> u64 {
    let hash = blake3::hash(format!("salvage-raft-node/v1\n{member}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

/// A vote request from `candidate`'s node, for term 1: older than any term a
/// running consortium is in, so it is answered (refused) without disturbing it.
pub fn vote_from(candidate: &str) -> Vec<u8> {
    let leader_id = serde_json::json!({"term": 1, "node_id": node_id(candidate)});
    let vote = serde_json::json!({"vote": {"leader_id": leader_id, "committed": false}, "last_log_id": null});
    vote.to_string().into_bytes()
}
