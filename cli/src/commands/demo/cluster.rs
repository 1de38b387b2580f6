//! `salvage demo --nodes N`: a demo consortium of several replicating nodes,
//! each its own `salvage node --config DIR/nodeI/node.toml` process.
//!
//! The first run creates the consortium (keys and genesis as for one node)
//! and a config per node: node I listens on ADDR's port + I − 1, keeps its
//! ledger in `DIR/nodeI/ledger`, logs to `DIR/nodeI/node.log` and names all
//! the nodes as its peers. Every node's attachment store gets the files the
//! inventory names before it starts (node 1 refuses entries naming files it
//! does not hold, and each node then serves them without fetching). The
//! nodes are started, elect a leader, and the inventory is submitted to node
//! 1 (which forwards it to the leader), so it is replicated like any submission. With `--exit` the nodes are then
//! stopped, leaving configs that start by hand.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::inventory;
use super::seed::{create_consortium, print_items, seed, store_assets};
use crate::client::NodeClient;
use crate::commands::write_file;

/// What a node prints once it listens.
const ANNOUNCEMENT: &str = "salvage node listening on http://";

/// How long the nodes may take to elect a leader.
const ELECTION_WAIT: Duration = Duration::from_secs(30);

/// Creates (on the first run) and runs a consortium of `nodes` nodes.
pub fn run(dir: &Path, listen: SocketAddr, nodes: usize, exit: bool) -> Result<()> {
    let addresses: Vec<SocketAddr> = (0..nodes)
        .map(|offset| {
            let port = listen.port().checked_add(offset as u16).filter(|_| listen.port() != 0);
            port.map(|port| SocketAddr::new(listen.ip(), port)).with_context(|| {
                format!(
                    "--listen {listen}: a consortium of {nodes} nodes needs {nodes} consecutive ports from a fixed one"
                )
            })
        })
        .collect::<Result<_>>()?;
    let public_url = format!("http://{}", addresses[0]);
    let fresh = !dir.join("genesis.json").exists();
    let seed_entries = if fresh {
        let (genesis, keys) = create_consortium(dir)?;
        write_configs(dir, &addresses, &public_url)?;
        for index in 0..nodes {
            store_assets(&ledger_dir(dir, index).join("attachments"))?;
        }
        Some(seed(&genesis, &keys)?)
    } else {
        announce!("reopening the demo consortium in {}", dir.display());
        None
    };
    let mut running = Vec::new();
    for index in 0..nodes {
        running.push(Node::start(dir, index)?);
    }
    let client = NodeClient::new(&format!("http://{}", running[0].address))?;
    wait_for_leader(&client)?;
    if let Some(entries) = seed_entries {
        let seeded = entries.len();
        seed_cluster(&client, &entries)?;
        announce!(
            "created the demo consortium in {}: {} members, {seeded} entries on {nodes} nodes",
            dir.display(),
            inventory::MEMBERS.len()
        );
    }
    print_items(dir, &public_url)?;
    for node in &running {
        announce!(
            "node {} ({}) listening on http://{}",
            node.index + 1,
            inventory::NODE_OPERATORS[node.index],
            node.address
        );
    }
    if exit {
        wait_until_level(&running)?;
        for node in running {
            node.stop()?;
        }
        let configs: Vec<String> = (0..nodes).map(|index| config_path(dir, index).display().to_string()).collect();
        announce!(
            "seeded and stopped; start each node with `salvage node --config FILE` for FILE in {}",
            configs.join(", ")
        );
        return Ok(());
    }
    wait_for_interrupt(|| announce!("serving; Ctrl-C stops every node"))?;
    for node in running {
        node.stop()?;
    }
    Ok(())
}

/// A node process started by the demo.
struct Node {
    index: usize,
    address: String,
    child: Child,
}

impl Node {
    /// Starts `salvage node --config DIR/nodeI/node.toml` and waits until it listens.
    fn start(dir: &Path, index: usize) -> Result<Node> {
        let log_path = dir.join(format!("node{}", index + 1)).join("node.log");
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let program = std::env::current_exe().context("cannot find this program to start the nodes")?;
        let mut child = Command::new(program)
            .arg("node")
            .arg("--config")
            .arg(config_path(dir, index))
            .env_remove("SALVAGE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start node {}", index + 1))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let Some(address) = line.trim().strip_prefix(ANNOUNCEMENT) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("node {} did not start; see {}", index + 1, log_path.display());
        };
        Ok(Node { index, address: address.to_owned(), child })
    }

    /// Stops the node as an operator would (SIGTERM) and waits for it.
    fn stop(mut self) -> Result<()> {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        if !sent.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        self.child.wait().with_context(|| format!("waiting for node {} to stop", self.index + 1))?;
        Ok(())
    }
}

/// Writes `DIR/nodeI/node.toml` for every node.
fn write_configs(dir: &Path, addresses: &[SocketAddr], public_url: &str) -> Result<()> {
    let peers: String = addresses
        .iter()
        .zip(inventory::NODE_OPERATORS)
        .map(|(address, operator)| format!("\n[[peers]]\nmember = \"{operator}\"\nurl = \"http://{address}\"\n"))
        .collect();
    for (index, address) in addresses.iter().enumerate() {
        let node_dir = dir.join(format!("node{}", index + 1));
        std::fs::create_dir_all(&node_dir).with_context(|| format!("cannot create {}", node_dir.display()))?;
        let config = format!(
            "# Demo node {n}: `salvage node --config {path}`\ngenesis = \"../genesis.json\"\ndata = \"ledger\"\nkey = \"../keys/{operator}.pem\"\nlisten = \"{address}\"\npublic_url = {public_url:?}\n{peers}",
            n = index + 1,
            path = config_path(dir, index).display(),
            operator = inventory::NODE_OPERATORS[index],
        );
        write_file(&config_path(dir, index), config.as_bytes())?;
    }
    Ok(())
}

fn config_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("node{}", index + 1)).join("node.toml")
}

/// Node I's ledger directory, `data = "ledger"` in its config.
fn ledger_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("node{}", index + 1)).join("ledger")
}

/// Submits the demo's entries to node 1, again while leadership is still
/// settling after the first election (`node.unavailable`): re-submitted
/// entries that were recorded meanwhile answer their first receipts.
fn seed_cluster(client: &NodeClient, entries: &[salvage_ledger::disclosure::DisclosedEntry]) -> Result<()> {
    let started = Instant::now();
    loop {
        let outcomes = client.submit_disclosed(entries)?;
        let unavailable =
            outcomes.iter().any(|outcome| matches!(outcome, Err(refused) if refused.code == "node.unavailable"));
        if !unavailable {
            if let Some(Err(refused)) = outcomes.into_iter().find(Result::is_err) {
                bail!("the demo's own entry was refused ({refused}): a defect in the demo");
            }
            return Ok(());
        }
        if started.elapsed() > ELECTION_WAIT {
            bail!("the nodes kept changing leader for {} s; see the node.log files", ELECTION_WAIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until node 1 knows a leader.
fn wait_for_leader(client: &NodeClient) -> Result<()> {
    let started = Instant::now();
    loop {
        if let Ok(status) = client.get_json("/v1/status")
            && status["leader"].is_string()
        {
            return Ok(());
        }
        if started.elapsed() > ELECTION_WAIT {
            bail!("the nodes elected no leader within {} s; see the node.log files", ELECTION_WAIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until every node holds as many records as node 1, so that each
/// stopped node's ledger is complete.
fn wait_until_level(running: &[Node]) -> Result<()> {
    let clients =
        running.iter().map(|node| NodeClient::new(&format!("http://{}", node.address))).collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    loop {
        let sizes: Vec<Option<u64>> =
            clients.iter().map(|client| client.get_json("/v1/status").ok().and_then(|s| s["size"].as_u64())).collect();
        if sizes.iter().all(|size| size.is_some() && *size == sizes[0]) {
            return Ok(());
        }
        if started.elapsed() > ELECTION_WAIT {
            bail!(
                "the nodes did not all catch up within {} s (sizes {sizes:?}); see the node.log files",
                ELECTION_WAIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Calls `ready` once the signal handlers are in place (so a SIGTERM sent on
/// reading it stops the nodes cleanly), then blocks until Ctrl-C or SIGTERM.
fn wait_for_interrupt(ready: impl FnOnce()) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let mut signal = std::pin::pin!(crate::commands::serving::shutdown_signal());
        // tokio installs a signal handler on the first poll.
        if std::future::poll_fn(|cx| std::task::Poll::Ready(signal.as_mut().poll(cx).is_pending())).await {
            ready();
            signal.await;
        } else {
            ready();
        }
    });
    Ok(())
}
