//! The HTTP server: one ledger, served to members, buyers and auditors.
//!
//! [`run`] serves a [`Node`] on a listener until `shutdown` resolves, then
//! stops accepting connections and lets requests in flight (commits among
//! them) finish. Tests bind a free port and pass their own shutdown signal.
//!
//! Every handler lives in the file of the resource it serves. The ledger is
//! synchronous (its `submit` returns after an `fdatasync`), so handlers read it
//! on tokio's blocking pool through [`Node::ledger`], never on the reactor, and
//! submit through the commit queue ([`commits`]), whose threads hand many
//! requests' entries to the ledger at once.

mod cache;
mod commits;
mod cosign;
mod entries;
mod epcis;
mod error;
mod items;
mod ledger_reads;
mod metrics;
mod openapi;
mod proposals;
mod raft;
mod request;
mod resolver;
mod status;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use ed25519_dalek::SigningKey;
use salvage_ledger::store::Ledger;
use tokio::net::TcpListener;

use crate::provenance::{LocaleError, Locales};
use crate::replication::{Batch, Replica};
use crate::witness::{Witness, WitnessError};

pub use error::{ApiError, refusal_status};

/// What a node serves: its ledger and the operator identity it signs with.
pub struct Node {
    ledger: Arc<Ledger>,
    submissions: Submissions,
    // `Some` when the node replicates with the other consortium nodes.
    replica: Option<Replica>,
    operators: raft::OperatorCache,
    operator: Operator,
    public_url: String,
    body_limit: usize,
    locales: Locales,
    metrics: metrics::Metrics,
    checkpoints: cache::CheckpointCache,
    pages: cache::PageCache,
    witness: Witness,
}

/// Why a [`Node`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// An embedded translation file of the provenance page is broken (a build defect).
    #[error("loading the provenance page's translations: {0}")]
    Locale(#[from] LocaleError),
    /// The operating system would not start the threads that commit submissions.
    #[error("cannot start the node's committer threads: {0}")]
    Threads(#[source] std::io::Error),
    /// The record of the last checkpoint this node signed could not be read.
    #[error("{0}")]
    Witness(#[from] WitnessError),
}

/// The consortium operator running this node: its member id and signing key.
/// The key signs the node's checkpoints.
pub struct Operator {
    /// The operator's member id, the key name in checkpoint signatures.
    pub member: String,
    /// The operator's Ed25519 key.
    pub key: SigningKey,
}

impl Node {
    /// A node serving `ledger` as `operator`; `public_url` is the resolver base
    /// printed in QR codes (no trailing slash) and `body_limit` the largest
    /// request body accepted, in bytes.
    ///
    /// Fails only if an embedded translation file is broken (a build defect) or
    /// the operating system refuses to start the node's committer threads.
    pub fn new(ledger: Ledger, operator: Operator, public_url: &str, body_limit: usize) -> Result<Node, NodeError> {
        let ledger = Arc::new(ledger);
        let submissions = Submissions::Local(commits::CommitQueue::start(&ledger).map_err(NodeError::Threads)?);
        Node::assemble(ledger, submissions, None, operator, public_url, body_limit)
    }

    /// A node of a replicated consortium: `ledger` is also `replica`'s state
    /// machine, and submissions are ordered through Raft. Must be called
    /// within the tokio runtime that runs Raft.
    pub fn replicated(
        ledger: Arc<Ledger>,
        operator: Operator,
        public_url: &str,
        body_limit: usize,
        replica: Replica,
    ) -> Result<Node, NodeError> {
        let submissions =
            Submissions::Replicated(proposals::ProposalQueue::start(replica.raft.clone(), replica.signer.clone()));
        Node::assemble(ledger, submissions, Some(replica), operator, public_url, body_limit)
    }

    /// What [`Node::new`] and [`Node::replicated`] share.
    fn assemble(
        ledger: Arc<Ledger>,
        submissions: Submissions,
        replica: Option<Replica>,
        operator: Operator,
        public_url: &str,
        body_limit: usize,
    ) -> Result<Node, NodeError> {
        let witness = Witness::open(&ledger.dir().join(WITNESS_FILE))?;
        Ok(Node {
            submissions,
            replica,
            operators: raft::OperatorCache::default(),
            ledger,
            operator,
            public_url: public_url.trim_end_matches('/').to_owned(),
            body_limit,
            locales: Locales::embedded()?,
            metrics: metrics::Metrics::new(),
            checkpoints: cache::CheckpointCache::default(),
            pages: cache::PageCache::new(cache::PAGE_BUDGET),
            witness,
        })
    }

    /// The node's part in Raft, if it replicates.
    pub fn replica(&self) -> Option<&Replica> {
        self.replica.as_ref()
    }

    /// Submits entries and waits for each one's outcome, once the accepted
    /// ones are durable (on a replicated node: committed by a quorum and
    /// applied here).
    pub(crate) async fn submit(
        &self,
        entries: Vec<salvage_ledger::entry::SignedEntry>,
    ) -> Result<commits::Outcomes, ApiError> {
        match &self.submissions {
            Submissions::Local(queue) => queue.submit(entries).await,
            Submissions::Replicated(queue) => {
                let json: Option<Vec<_>> = entries.iter().map(Batch::entry_json).collect();
                queue.submit(json.ok_or_else(|| ApiError::internal("an entry's canonical bytes are not JSON"))?).await
            }
        }
    }

    /// Runs `read` against the ledger on the blocking pool.
    pub(crate) async fn ledger<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Ledger) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let ledger = Arc::clone(&self.ledger);
        tokio::task::spawn_blocking(move || read(&ledger))
            .await
            .map_err(|e| ApiError::internal(format!("a ledger task failed: {e}")))?
    }

    /// The resolver base URL of the items' Digital Link URIs.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }
}

/// The file in the data directory that holds the last checkpoint the node signed.
const WITNESS_FILE: &str = "witness.json";

/// The largest Raft message a node takes: a few batches of submissions, or a
/// snapshot chunk, with room to spare.
const RAFT_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Where submissions go: this node's own commit queue, or Raft.
enum Submissions {
    Local(commits::CommitQueue),
    Replicated(proposals::ProposalQueue),
}

/// The routes of the API, for [`run`] and for tests that call the router directly.
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/healthz", get(status::healthz))
        .route("/v1/status", get(status::status))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::openapi))
        .route("/v1/entries", post(entries::submit))
        .route("/v1/records", get(ledger_reads::records))
        .route("/v1/records/{seq}", get(ledger_reads::record))
        .route("/v1/checkpoint", get(ledger_reads::checkpoint))
        .route("/v1/proof/inclusion", get(ledger_reads::inclusion_proof))
        .route("/v1/proof/consistency", get(ledger_reads::consistency_proof))
        .route("/v1/members", get(ledger_reads::members))
        .route("/v1/items/{giai}", get(items::item))
        .route("/v1/items/{giai}/bundle", get(items::bundle))
        .route("/v1/items/{giai}/qr.svg", get(items::qr_as_svg))
        .route("/v1/items/{giai}/qr.png", get(items::qr_as_png))
        .route("/v1/epcis", get(epcis::epcis))
        .route("/8004/{giai}", get(resolver::resolve))
        .route("/v1/raft/append", post(raft::append).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route("/v1/raft/vote", post(raft::vote))
        .route("/v1/raft/snapshot", post(raft::snapshot).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route(proposals::PROPOSE_PATH, post(raft::propose).layer(DefaultBodyLimit::max(RAFT_BODY_LIMIT)))
        .route(cosign::COSIGN_PATH, post(cosign::cosign))
        .fallback(status::not_found)
        .with_state(node)
}

/// Serves `node` on `listener` until `shutdown` resolves; requests in flight
/// are finished before it returns.
/// A replicated node also gathers its peers' cosignatures while it serves.
pub async fn run(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cosigning = node.replica.is_some().then(|| tokio::spawn(cosign::rounds(Arc::clone(&node))));
    let served = axum::serve(listener, router(node)).with_graceful_shutdown(shutdown).await;
    if let Some(cosigning) = cosigning {
        cosigning.abort();
    }
    served
}
