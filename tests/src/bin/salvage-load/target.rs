//! The node under load: one started for the run on a fresh site, or one
//! already running somewhere.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use salvage_ledger::testkit::Fixture;
use salvage_tests::cluster::Cluster;
use salvage_tests::node::{Running, Site};

use crate::LoadError;

/// The operator whose key the started node signs checkpoints with.
const OPERATOR: &str = "city-of-jelgava";

/// The node the scenarios load.
pub struct Target {
    /// `host:port` of each node: one, or every node of a consortium.
    addresses: Vec<String>,
    /// The node this program started, if it did; stopped at the end.
    started: Option<Started>,
    /// Distinguishes this run's item GIAIs from earlier runs' on the same ledger
    /// (empty for a fresh ledger).
    tag: String,
    /// Whether the ledger is of format 2, whose registrations withhold their
    /// restricted values (docs/format.md §13).
    restricted: bool,
}

/// What this program started over a fresh ledger.
enum Started {
    /// One node.
    Node {
        /// The running process.
        running: Running,
        /// Its genesis, key, log and data directory; removed when dropped.
        site: Box<Site>,
    },
    /// A consortium of three replicating nodes (stopped when dropped).
    Cluster(Box<Cluster>),
}

impl Target {
    /// Starts `salvage node` on a fresh site with the demo consortium's genesis
    /// (of format 2 if `restricted`). `binary` defaults to the one
    /// [`salvage_tests::salvage_binary`] finds.
    pub fn start(binary: Option<&Path>, restricted: bool) -> Result<Target, LoadError> {
        let binary = binary.map_or_else(salvage_tests::salvage_binary, Path::to_path_buf);
        if !binary.is_file() {
            return Err(LoadError::Setup(format!(
                "{} does not exist: build it with `cargo build --release -p salvage-cli`",
                binary.display()
            )));
        }
        let site = if restricted { Site::withholding(&[OPERATOR]) } else { Site::new(&[OPERATOR]) };
        let running = Running::start(node_command(&site, &binary)?);
        Ok(Target {
            addresses: vec![running.address.clone()],
            started: Some(Started::Node { running, site: Box::new(site) }),
            tag: String::new(),
            restricted,
        })
    }

    /// Starts a consortium of three `salvage node` processes replicating on
    /// this machine (the `salvage` beside this program), on a format-2 ledger if
    /// `restricted`, and waits for a leader; the clients spread over the three nodes.
    pub fn start_cluster(restricted: bool) -> Result<Target, LoadError> {
        if !salvage_tests::salvage_binary().is_file() {
            return Err(LoadError::Setup("build the node first: `cargo build --release -p salvage-cli`".to_owned()));
        }
        let cluster = if restricted { Cluster::start_withholding() } else { Cluster::start() };
        let addresses = cluster.running().into_iter().map(|index| cluster.node(index).address.clone()).collect();
        Ok(Target { addresses, started: Some(Started::Cluster(Box::new(cluster))), tag: String::new(), restricted })
    }

    /// A node already listening at `url` (`http://host:port`, no path), over the
    /// demo consortium's ledger (of format 2 if `restricted`).
    pub fn remote(url: &str, restricted: bool) -> Result<Target, LoadError> {
        let address = url.strip_prefix("http://").unwrap_or(url).trim_end_matches('/');
        if address.is_empty() || address.contains('/') {
            return Err(LoadError::Setup(format!("--node takes http://host:port, not {url:?}")));
        }
        // Items registered by an earlier run would be idempotent re-submissions, not new entries.
        let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        Ok(Target {
            addresses: vec![address.to_owned()],
            started: None,
            tag: base36(seconds % 36u64.pow(5)),
            restricted,
        })
    }

    /// Whether registrations withhold restricted values (a format-2 ledger).
    pub fn restricted(&self) -> bool {
        self.restricted
    }

    /// The demo consortium of the node's ledger: [`Fixture::withholding`] on a
    /// format-2 ledger, else [`Fixture::new`].
    pub fn fixture(&self) -> Fixture {
        if self.restricted { Fixture::withholding() } else { Fixture::new() }
    }

    /// `host:port` of the (first) node.
    pub fn address(&self) -> &str {
        &self.addresses[0]
    }

    /// `host:port` of every node the clients spread over.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// The node's process id, if this program started one node (to read its CPU time).
    pub fn pid(&self) -> Option<u32> {
        match self.started.as_ref()? {
            Started::Node { running, .. } => Some(running.pid()),
            Started::Cluster(_) => None,
        }
    }

    /// The process ids of every node this program started.
    pub fn pids(&self) -> Vec<u32> {
        match &self.started {
            Some(Started::Node { running, .. }) => vec![running.pid()],
            Some(Started::Cluster(cluster)) => cluster.running().into_iter().map(|i| cluster.node(i).pid()).collect(),
            None => Vec::new(),
        }
    }

    /// The GIAI of the `number`th item of a scenario whose items are named by `series`
    /// (four capital letters). The company prefix is Latvia's 475 plus four digits.
    pub fn giai(&self, series: &str, number: usize) -> String {
        format!("{}{number:07}", self.giai_stem(series))
    }

    /// What every GIAI of `series` starts with, before its seven-digit number.
    pub fn giai_stem(&self, series: &str) -> String {
        format!("4750001{series}{}-", self.tag)
    }

    /// Stops a started node with SIGTERM, as an operator would, and says so if it
    /// did not stop cleanly.
    pub fn stop(self) {
        match self.started {
            Some(Started::Node { running, site }) => {
                let (status, _) = running.terminate();
                if !status.success() {
                    let log = std::fs::read_to_string(site.path("node.log")).unwrap_or_default();
                    eprintln!("salvage-load: the node stopped with {status}; it logged:\n{log}");
                }
            }
            Some(Started::Cluster(mut cluster)) => {
                for index in cluster.running() {
                    let (status, _) = cluster.take(index).terminate();
                    if !status.success() {
                        eprintln!(
                            "salvage-load: node {} stopped with {status}; see {}",
                            index + 1,
                            cluster.log_path(index).display()
                        );
                    }
                }
            }
            None => {}
        }
    }
}

/// `salvage node` over the site, as `Site::node` builds it, but with `binary`,
/// warnings only, and the log in `node.log` (an unread stderr pipe would fill
/// up and stall the node).
fn node_command(site: &Site, binary: &Path) -> Result<Command, LoadError> {
    let log = File::create(site.path("node.log"))
        .map_err(|error| LoadError::Setup(format!("cannot create the node's log: {error}")))?;
    let mut command = site.node_with(binary, OPERATOR);
    command.env("RUST_LOG", "warn").stderr(log);
    Ok(command)
}

/// `n` in base 36, capital letters (GS1 character set 82 allows them).
fn base36(mut n: u64) -> String {
    let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut text = Vec::new();
    loop {
        text.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    text.reverse();
    String::from_utf8(text).unwrap_or_default()
}
