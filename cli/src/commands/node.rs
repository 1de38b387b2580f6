//! `salvage node`: serve one ledger over HTTP until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use salvage_node::config::{BaseUrl, BodyLimit, NodeConfig, Overrides, Peer, parse_listen};
use salvage_node::replication::{self, ConsortiumNode, auth::RequestSigner};
use salvage_node::server::{self, Node};
use tokio::net::TcpListener;

/// Serve a ledger: the HTTP API, the Digital Link resolver and the provenance pages.
///
/// Settings come from the config file, then SALVAGE_* environment variables, then flags;
/// see the README for the file format.
#[derive(Debug, Args)]
pub struct NodeCommand {
    /// The TOML config file.
    #[arg(long, env = "SALVAGE_CONFIG")]
    config: Option<PathBuf>,
    /// The consortium's signed genesis (JSON).
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: Option<PathBuf>,
    /// The ledger's data directory (created on first start).
    #[arg(long, env = "SALVAGE_DATA")]
    data: Option<PathBuf>,
    /// The address to listen on, IP:PORT (port 0 picks a free one).
    #[arg(long, env = "SALVAGE_LISTEN", value_parser = parse_listen)]
    listen: Option<SocketAddr>,
    /// The operator's Ed25519 key, PKCS#8 PEM.
    #[arg(long, env = "SALVAGE_KEY")]
    key: Option<PathBuf>,
    /// The public base URL of the resolver, printed in every QR code.
    #[arg(long, env = "SALVAGE_PUBLIC_URL")]
    public_url: Option<BaseUrl>,
    /// The largest request body accepted, e.g. 4194304 or "4 MiB".
    #[arg(long, env = "SALVAGE_BODY_LIMIT")]
    body_limit: Option<BodyLimit>,
    /// Another consortium node, MEMBER=URL (repeatable).
    #[arg(long = "peer", env = "SALVAGE_PEERS", value_delimiter = ',')]
    peers: Vec<Peer>,
    /// Join a running consortium (after the admins' `node.add`) instead of
    /// proposing the peers as the consortium's first set of nodes.
    #[arg(long, env = "SALVAGE_JOIN")]
    join: bool,
}

impl NodeCommand {
    /// Runs the node until it is told to stop.
    pub fn run(self) -> Result<()> {
        init_logging();
        let mut overrides = Overrides::default();
        overrides.genesis = self.genesis;
        overrides.data_dir = self.data;
        overrides.listen = self.listen;
        overrides.key = self.key;
        overrides.public_url = self.public_url;
        overrides.body_limit = self.body_limit;
        overrides.peers = (!self.peers.is_empty()).then_some(self.peers);
        overrides.join = self.join.then_some(true);
        let config = NodeConfig::load(self.config.as_deref(), &overrides)?;

        let genesis = config.read_genesis()?;
        // Refuse a key that is no operator before touching the data directory.
        config.read_key()?.identify(&genesis, genesis.founders())?;
        let (ledger, report) = config.open_ledger(&genesis)?;
        if let Some(cut) = &report.tail_cut {
            tracing::warn!(?cut, "cut a torn tail off the record log (kept in log/quarantine)");
        }
        // Keys may have been rotated since the genesis: check against the ledger's members.
        let members = ledger.members().context("reading the ledger's members")?;
        let operator = config.read_key()?.identify(&genesis, &members)?;
        tracing::info!(
            ledger = %genesis.ledger_id(),
            consortium = genesis.consortium(),
            operator = %operator.member(),
            size = report.size,
            index_caught_up = report.index_caught_up,
            "ledger open"
        );
        let operator =
            server::Operator { member: operator.member().as_str().to_owned(), key: operator.signing_key().clone() };

        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
        runtime.block_on(async move {
            let listener = TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let address = listener.local_addr().context("reading the listening address")?;
            let (public_url, body_limit) = (config.public_url().to_string(), config.body_limit.bytes());
            let node = if config.peers.is_empty() {
                Node::new(ledger, operator, &public_url, body_limit).context("setting up the node")?
            } else {
                // This node is one of the consortium's: the other nodes are its
                // peers, and it is listed with them at its listening address
                // unless the peers name it themselves.
                let mut nodes: Vec<ConsortiumNode> = config
                    .peers
                    .iter()
                    .map(|peer| ConsortiumNode { member: peer.member.as_str().to_owned(), url: peer.url.to_string() })
                    .collect();
                if !nodes.iter().any(|node| node.member == operator.member) {
                    nodes.push(ConsortiumNode { member: operator.member.clone(), url: format!("http://{address}") });
                }
                let signer = RequestSigner::new(operator.member.clone(), operator.key.clone());
                let ledger = Arc::new(ledger);
                let replica =
                    replication::start(Arc::clone(&ledger), &config.data_dir.join("raft"), signer, nodes, config.join)
                        .await
                        .context("starting replication")?;
                tracing::info!(
                    raft_id = replica.id,
                    peers = config.peers.len(),
                    "replicating with the consortium's other nodes"
                );
                Node::replicated(ledger, operator, &public_url, body_limit, replica).context("setting up the node")?
            };
            // One line on stdout, for people and for scripts that started it on port 0.
            announce!("salvage node listening on http://{address}");
            tracing::info!(%address, public_url = %config.public_url(), "serving");
            let node = Arc::new(node);
            server::run(listener, Arc::clone(&node), shutdown_signal()).await.context("serving HTTP")?;
            if let Some(replica) = node.replica() {
                // Stops Raft's tasks, so that nothing writes to the ledger or the Raft log after this.
                if let Err(error) = replica.raft.shutdown().await {
                    tracing::warn!(%error, "Raft did not stop cleanly");
                }
            }
            tracing::info!("stopped: requests in flight finished");
            Ok(())
        })
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub(super) async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted: shutting down"),
        () = terminate => tracing::info!("terminated: shutting down"),
    }
}

/// Structured logs on stderr; `RUST_LOG` chooses the level (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
