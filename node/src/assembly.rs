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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::{ConfigError, NodeConfig};
use crate::consortium::replication::{ConsortiumNode, ReplicationError};
use crate::consortium::{Consortium, Peers};
use crate::server::checkpoints::Checkpoints;
use crate::server::{self, ConnectionLimits, Node, NodeError, Submissions};

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
        index_caught_up = report.index_caught_up,
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
        let submissions = if config.peers.is_empty() {
            Node::local_submissions(&ledger)?
        } else {
            let peers = Peers {
                nodes: consortium_nodes(&config, checkpoints.operator().member().as_str(), address),
                join: config.join,
            };
            let raft_dir = config.data_dir.join("raft");
            Submissions::Consortium(
                Consortium::start(Arc::clone(&ledger), Arc::clone(&checkpoints), &raft_dir, peers).await?,
            )
        };
        let node = Arc::new(Node::assemble(
            ledger,
            checkpoints,
            submissions,
            &config.public_url().to_string(),
            config.body_limit.bytes(),
        )?);
        ready(address);
        tracing::info!(%address, public_url = %config.public_url(), "serving");
        let limits = ConnectionLimits { client_timeout: config.client_timeout.duration(), max_connections };
        let served = server::serve(listener, Arc::clone(&node), limits, shutdown).await;
        if let Some(consortium) = node.consortium() {
            consortium.stop().await;
        }
        served.map_err(io("serving HTTP"))?;
        tracing::info!("stopped: requests in flight finished");
        Ok(())
    })
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
