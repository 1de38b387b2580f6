//! The one place a node is put together: from a checked [`NodeConfig`], a
//! listener and a shutdown signal to a serving node, and back to a clean stop.
//!
//! `salvage node` and `salvage demo` both come here, so a node started either
//! way is the same node. The order matters and is the same every time: the key
//! is checked against the genesis before the data directory is touched, the
//! ledger is opened (or created), the key is checked again against the
//! ledger's current members (keys may have been rotated since the genesis),
//! then a standalone node starts its commit queue, or a consortium node its
//! [`Consortium`] wing; only then does the node say it is ready and serve.
//! A node configured with a TLS certificate reads and checks it with the key,
//! before the data directory too, and serves HTTPS, reloading the certificate
//! on `SIGHUP`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::attachments::Attachments;
use crate::config::{ConfigError, NodeConfig};
use crate::consortium::replication::{ConsortiumNode, ReplicationError};
use crate::consortium::{Consortium, Peers};
use crate::server::checkpoints::Checkpoints;
use crate::server::tls::Tls;
use crate::server::{self, ConnectionLimits, Node, NodeError, Submissions};

/// How often a node reads its newest records for the attachments they name, and for who holds
/// what (members' own lists).
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The config's files (genesis, key, data directory) are not what a node needs.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The node could not be set up around its ledger.
    #[error("setting up the node: {0}")]
    Node(#[from] NodeError),
    /// The consortium's Raft could not start.
    #[error("starting replication: {0}")]
    Replication(#[from] ReplicationError),
    /// The process may not open enough files to serve.
    #[error("{0}")]
    OpenFiles(String),
    /// The check of the stored index, run while the node served, found the log or the index
    /// changed behind the ledger's back; the node stopped serving.
    #[error("{0}")]
    StoredStateDamaged(String),
    /// The async runtime, the listener or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What the node was doing.
        context: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Runs a node until `shutdown` resolves: opens its ledger, starts a
/// standalone node or its part in the consortium, calls `ready` with the
/// address it serves on, serves on `listener`, and once `shutdown` resolved and
/// the requests in flight are answered, stops Raft (on a consortium node) so
/// that nothing writes to the ledger after it returns.
///
/// Builds its own multi-threaded tokio runtime, so it must not be called from
/// within one.
pub fn run(
    config: NodeConfig,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), RunError> {
    let genesis = config.read_genesis()?;
    // Refuse a key that is no operator before touching the data directory.
    config.identify_operator(&genesis, genesis.founders())?;
    let tls = config.tls.clone().map(Tls::load).transpose().map_err(ConfigError::from)?.map(Arc::new);
    let (ledger, report) = config.open_ledger(&genesis)?;
    if let Some(cut) = &report.tail_cut {
        if cut.never_acknowledged {
            tracing::warn!(
                ?cut,
                "cut a torn tail off the record log: these bytes were never acknowledged, as the log's acknowledged mark shows (kept in log/quarantine)"
            );
        } else {
            tracing::warn!(
                ?cut,
                "cut a torn tail off the record log, which had no acknowledged mark yet: no valid record follows the damage, as after a crash (kept in log/quarantine)"
            );
        }
    }
    if let Some(reason) = &report.index_rebuilt {
        tracing::warn!(reason, records = report.replayed, "rebuilt the index and custody state from the record log");
    }
    if report.disclosures_missing > 0 {
        tracing::warn!(
            records = report.disclosures_missing,
            "records withhold restricted values whose disclosures this node's private store does not hold (DATA/private \
             lost or restored without it): they were checked publicly, and members cannot read those values from this node"
        );
    }
    let members =
        ledger.members().map_err(|source| ConfigError::Ledger { data_dir: config.data_dir.clone(), source })?;
    let operator = config.identify_operator(&genesis, &members)?;
    tracing::info!(
        ledger = %genesis.ledger_id(),
        consortium = genesis.consortium(),
        operator = %operator.member(),
        size = report.size,
        replayed = report.replayed,
        "ledger open"
    );

    // Fitted before the node serves anyone, so a limit too low refuses to start.
    let max_connections = server::fit_connections(config.max_connections.count()).map_err(RunError::OpenFiles)?;
    let io = |context| move |source| RunError::Io { context, source };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io("starting the runtime"))?;
    runtime.block_on(async move {
        listener.set_nonblocking(true).map_err(io("preparing the listener"))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(io("preparing the listener"))?;
        let address = listener.local_addr().map_err(io("reading the listening address"))?;
        let ledger = Arc::new(ledger);
        let checkpoints = Checkpoints::open(&ledger, operator).map_err(NodeError::from)?;
        let attachments = Arc::new(
            Attachments::open(&ledger.dir().join("attachments"), config.attachment_limit.bytes())
                .map_err(NodeError::from)?,
        );
        let submissions = if config.peers.is_empty() {
            Node::local_submissions(&ledger)?
        } else {
            let peers = Peers {
                nodes: consortium_nodes(&config, checkpoints.operator().member().as_str(), address),
                join: config.join,
            };
            let raft_dir = config.data_dir.join("raft");
            Submissions::Consortium(
                Consortium::start(
                    Arc::clone(&ledger),
                    Arc::clone(&checkpoints),
                    &raft_dir,
                    peers,
                    Arc::clone(&attachments),
                )
                .await?,
            )
        };
        let checked = Arc::clone(&ledger);
        let node = Arc::new(Node::assemble(
            ledger,
            checkpoints,
            submissions,
            &config.public_url().to_string(),
            config.body_limit.bytes(),
            Arc::clone(&attachments),
        )?);
        attachments.follow_in_the_background(Arc::clone(&checked), FOLLOW_EVERY);
        node.holdings().follow_in_the_background(Arc::clone(&checked), FOLLOW_EVERY);
        // A signal handler that `shutdown` installs on its first poll (as tokio's do) must be in
        // place before anyone learns the address and may send SIGTERM, which would otherwise kill
        // the process mid-start instead of stopping it cleanly.
        let mut shutdown = Box::pin(shutdown);
        let requested = std::future::poll_fn(|cx| std::task::Poll::Ready(shutdown.as_mut().poll(cx).is_ready())).await;
        // Likewise SIGHUP's handler, whose default would end the process.
        if let Some(tls) = &tls {
            tls.reload_on_hangup().map_err(io("listening for SIGHUP"))?;
        }
        ready(address);
        tracing::info!(%address, public_url = %config.public_url(), https = tls.is_some(), "serving");
        let damage = Arc::new(Damage::default());
        check_stored_state_in_the_background(checked, Arc::clone(&damage));
        let stop = {
            let damage = Arc::clone(&damage);
            async move {
                tokio::select! {
                    () = async { if !requested { shutdown.await } } => {}
                    () = damage.found.notified() => {}
                }
            }
        };
        let limits = ConnectionLimits { client_timeout: config.client_timeout.duration(), max_connections };
        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
        let served = server::serve(listener, Arc::clone(&node), limits, acceptor, stop).await;
        if let Some(consortium) = node.consortium() {
            consortium.stop().await;
        }
        served.map_err(io("serving HTTP"))?;
        if let Some(reason) = damage.reason() {
            return Err(RunError::StoredStateDamaged(reason));
        }
        tracing::info!("stopped: requests in flight finished");
        Ok(())
    })
}

/// What the background check of the stored state found wrong, if anything.
#[derive(Default)]
struct Damage {
    reason: std::sync::Mutex<Option<String>>,
    found: tokio::sync::Notify,
}

impl Damage {
    fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|reason| reason.clone())
    }
}

/// Checks, while the node serves, what opening trusted without reading: the record log against
/// the index's leaf hashes and the index against its own summary (a file changed in place
/// shows only to a full read). On a difference the ledger stops answering and the node stops
/// with the reason; its next start rebuilds the index from the log, verifying every record.
fn check_stored_state_in_the_background(ledger: Arc<salvage_ledger::Ledger>, damage: Arc<Damage>) {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        match ledger.check_stored_state() {
            Ok(records) => tracing::info!(
                records,
                seconds = started.elapsed().as_secs_f64(),
                "checked the record log and the stored custody state against the index"
            ),
            Err(error) => {
                tracing::error!(%error, "the stored ledger differs from what was recorded: this node stops");
                if let Ok(mut reason) = damage.reason.lock() {
                    *reason = Some(format!(
                        "stopped: {error}. Starting again rebuilds the index from the record log, verifying every record"
                    ));
                }
                damage.found.notify_one();
            }
        }
    });
}

/// The consortium's nodes: the configured peers, and this node at its
/// listening address unless the peers name it themselves.
fn consortium_nodes(config: &NodeConfig, operator: &str, address: SocketAddr) -> Vec<ConsortiumNode> {
    let mut nodes: Vec<ConsortiumNode> = config
        .peers
        .iter()
        .map(|peer| ConsortiumNode { member: peer.member.as_str().to_owned(), url: peer.url.to_string() })
        .collect();
    if !nodes.iter().any(|node| node.member == operator) {
        nodes.push(ConsortiumNode { member: operator.to_owned(), url: format!("http://{address}") });
    }
    nodes
}
