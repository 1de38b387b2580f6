//! The HTTP server: one ledger, served to members, buyers and auditors.
//!
//! `serve` serves a [`Node`] on a listener until `shutdown` resolves, then
//! stops accepting connections and lets requests in flight (commits among
//! them) finish; [`crate::run`] assembles the node from its config and calls
//! it. Tests that need no process call the [`router`] of a [`Node::new`].
//!
//! Every handler lives in the file of the resource it serves. The ledger is
//! synchronous (its `submit` returns after an `fdatasync`), so handlers read it
//! on tokio's blocking pool through `Node::ledger`, never on the reactor, and
//! submit through the commit queue (`commits`), whose threads hand many
//! requests' entries to the ledger at once, or, on a consortium node, through
//! the [`Consortium`] wing, which orders them with the other nodes first.

mod actions;
mod admission;
mod app;
mod attachments;
pub(crate) mod blocking;
mod bulk;
mod cache;
pub(crate) mod checkpoints;
pub(crate) mod commits;
mod connections;
mod disclosures;
mod doc_types;
mod entries;
mod epc;
mod epcis;
pub(crate) mod error;
mod impact;
mod items;
mod ledger_reads;
mod member_requests;
mod member_views;
mod metrics;
mod open_files;
mod openapi;
mod ranges;
mod request;
pub(crate) mod request_id;
mod resolver;
mod status;
mod submission;
pub(crate) mod tls;
mod well_known;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use salvage_ledger::ident::Giai;
use salvage_ledger::operator::Operator;
use salvage_ledger::refusal::{Refusal, RefusalCode};
use salvage_ledger::store::Ledger;
use tokio::net::TcpListener;

use crate::consortium::Consortium;
use crate::consortium::replication::Batch;
use crate::provenance::{LocaleError, Locales};
use crate::witness::WitnessError;
use checkpoints::Checkpoints;

pub use connections::{ConnectionLimits, MIN_BODY_RATE, SHUTDOWN_GRACE};
pub use error::{ApiError, refusal_status};
pub use open_files::fit_connections;

/// The most files a consortium node asks the other nodes for while admitting one submission.
const MAX_FETCHED_PER_SUBMISSION: usize = 32;

/// What a node serves: its ledger and the operator identity it signs with.
pub struct Node {
    ledger: Arc<Ledger>,
    submissions: Submissions,
    checkpoints: Arc<Checkpoints>,
    public_url: String,
    body_limit: usize,
    /// Where large submissions are decoded and verified.
    bulk: bulk::BulkLane,
    /// The rate at which the large parts of bodies are read.
    bulk_bytes: bulk::BulkBytes,
    locales: Locales,
    metrics: metrics::Metrics,
    pages: cache::PageCache,
    /// Members' signed reads accepted lately, so that none is accepted twice.
    seen_requests: Arc<crate::member_auth::SeenRequests>,
    /// The photos and documents records name.
    attachments: Arc<crate::attachments::Attachments>,
    /// Upload bodies being read ([`attachments::CONCURRENT_UPLOADS`] at most).
    uploads: tokio::sync::Semaphore,
    /// Thumbnails being derived ([`attachments::CONCURRENT_THUMBNAILS`] at most).
    thumbnails: tokio::sync::Semaphore,
    /// Who holds what, is offered what and signed what, for members' own lists.
    holdings: Arc<crate::holdings::Holdings>,
    /// Impact reports: the one being computed and those kept.
    impact_reports: impact::ImpactReports,
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
    /// The attachment store could not be opened.
    #[error("opening the attachment store: {0}")]
    Attachments(#[from] salvage_ledger::attachment::AttachmentError),
    /// The members' holdings (`holdings.redb`) could not be opened.
    #[error("opening the members' holdings: {0}")]
    Holdings(#[from] crate::holdings::HoldingsError),
}

/// Where submissions go: this node's own commit queue, or its consortium.
pub(crate) enum Submissions {
    Local(commits::CommitQueue),
    Consortium(Arc<Consortium>),
}

impl Node {
    /// A standalone node serving `ledger` as `operator`; `public_url` is the
    /// resolver base printed in QR codes (no trailing slash) and `body_limit`
    /// the largest request body accepted, in bytes.
    ///
    /// Fails only if an embedded translation file is broken (a build defect),
    /// the witness file cannot be read, or the operating system refuses to
    /// start the node's committer threads.
    pub fn new(ledger: Ledger, operator: Operator, public_url: &str, body_limit: usize) -> Result<Node, NodeError> {
        let ledger = Arc::new(ledger);
        let checkpoints = Checkpoints::open(&ledger, operator)?;
        let submissions = Node::local_submissions(&ledger)?;
        let attachments = crate::attachments::Attachments::open(
            &ledger.dir().join("attachments"),
            salvage_ledger::attachment::DEFAULT_LIMIT,
        )?;
        Node::assemble(ledger, checkpoints, submissions, public_url, body_limit, Arc::new(attachments))
    }

    /// Submissions committed by this node alone, through its commit queue.
    pub(crate) fn local_submissions(ledger: &Arc<Ledger>) -> Result<Submissions, NodeError> {
        Ok(Submissions::Local(commits::CommitQueue::start(ledger).map_err(NodeError::Threads)?))
    }

    /// A node from its parts: [`Node::new`]'s, or a consortium node's.
    pub(crate) fn assemble(
        ledger: Arc<Ledger>,
        checkpoints: Arc<Checkpoints>,
        submissions: Submissions,
        public_url: &str,
        body_limit: usize,
        attachments: Arc<crate::attachments::Attachments>,
    ) -> Result<Node, NodeError> {
        let holdings = Arc::new(crate::holdings::Holdings::open(&ledger.dir().join("holdings.redb"))?);
        Ok(Node {
            holdings,
            attachments,
            uploads: tokio::sync::Semaphore::new(attachments::CONCURRENT_UPLOADS),
            thumbnails: tokio::sync::Semaphore::new(attachments::CONCURRENT_THUMBNAILS),
            submissions,
            checkpoints,
            ledger,
            public_url: public_url.trim_end_matches('/').to_owned(),
            body_limit,
            bulk: bulk::BulkLane::new(),
            bulk_bytes: bulk::BulkBytes::new(bulk::BULK_BYTES_PER_SECOND),
            locales: Locales::embedded()?,
            metrics: metrics::Metrics::new(),
            pages: cache::PageCache::new(cache::PAGE_BUDGET),
            seen_requests: Arc::default(),
            impact_reports: impact::ImpactReports::new(),
        })
    }

    /// The node's consortium wing, if it is one of a consortium's nodes.
    pub fn consortium(&self) -> Option<&Arc<Consortium>> {
        match &self.submissions {
            Submissions::Local(_) => None,
            Submissions::Consortium(consortium) => Some(consortium),
        }
    }

    /// Submits entries and waits for each one's outcome, once the accepted
    /// ones are durable (on a consortium node: committed by a quorum and
    /// applied here).
    pub(crate) async fn submit(&self, entries: Vec<commits::Submitted>) -> Result<commits::Outcomes, ApiError> {
        let (entries, slots) = self.check_attachments(entries).await?;
        if slots.iter().all(Option::is_none) {
            return self.submit_checked(entries).await;
        }
        let mut outcomes =
            if entries.is_empty() { Vec::new() } else { self.submit_checked(entries).await? }.into_iter();
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Some(refusal) => Err(refusal),
                None => outcomes
                    .next()
                    .unwrap_or_else(|| Err(Refusal::new(RefusalCode::EntryMalformed, "the node gave no outcome"))),
            })
            .collect())
    }

    /// The node's admission check of the attachments the entries name
    /// (docs/rules.md §9): the entries that pass, and for each entry taken
    /// its refusal or `None`.
    async fn check_attachments(
        &self,
        mut entries: Vec<commits::Submitted>,
    ) -> Result<(Vec<commits::Submitted>, Vec<Option<Refusal>>), ApiError> {
        use salvage_ledger::attachment::can_name;
        if !entries.iter().any(|(entry, _)| can_name(entry.statement().kind)) {
            let slots = vec![None; entries.len()];
            return Ok((entries, slots));
        }
        let attachments = Arc::clone(&self.attachments);
        // A consortium node first fetches what another node holds: a member may
        // upload to one node and submit to another.
        if let Some(consortium) = self.consortium() {
            let finder = Arc::clone(&attachments);
            let (entries_back, mut unheld) = tokio::task::spawn_blocking(move || {
                let mut unheld: Vec<_> = entries.iter().flat_map(|(entry, d)| finder.unheld(entry, d)).collect();
                unheld.sort();
                unheld.dedup();
                (entries, unheld)
            })
            .await
            .map_err(|e| ApiError::internal(format!("an attachment check failed: {e}")))?;
            entries = entries_back;
            // Bounded: the entries' signatures are not checked yet, so anyone could name files.
            unheld.truncate(MAX_FETCHED_PER_SUBMISSION);
            if !unheld.is_empty() {
                consortium.fetch_attachments(&unheld).await;
            }
        }
        tokio::task::spawn_blocking(move || {
            let mut passed = Vec::with_capacity(entries.len());
            let mut slots = Vec::with_capacity(entries.len());
            for (entry, disclosures) in entries {
                match attachments.check_references(&entry, &disclosures) {
                    Ok(()) => {
                        passed.push((entry, disclosures));
                        slots.push(None);
                    }
                    Err(refusal) => slots.push(Some(refusal)),
                }
            }
            (passed, slots)
        })
        .await
        .map_err(|e| ApiError::internal(format!("an attachment check failed: {e}")))
    }

    /// Submits entries that passed the node's own checks.
    async fn submit_checked(&self, entries: Vec<commits::Submitted>) -> Result<commits::Outcomes, ApiError> {
        match &self.submissions {
            Submissions::Local(queue) => queue.submit(entries).await,
            Submissions::Consortium(consortium) => {
                let entries_len = entries.len();
                // Only entries this node has verified go to Raft: what is
                // proposed is fsynced in every node's Raft log, so junk must
                // be refused here, at the cost of one more verification.
                let format = self.ledger.format();
                let verify = move || admission::verify_submission(format, entries);
                let verdicts = if entries_len <= admission::SMALL_SUBMISSION {
                    tokio::task::spawn_blocking(verify)
                        .await
                        .map_err(|e| ApiError::internal(format!("a verification task failed: {e}")))?
                } else {
                    self.bulk.run(verify).await?
                };
                let mut slots = Vec::with_capacity(verdicts.len());
                let mut proposed = Vec::with_capacity(verdicts.len());
                for verdict in verdicts {
                    match verdict.map(|verified| Batch::element_json(verified.entry(), verified.disclosures())) {
                        Ok(Some(json)) => {
                            proposed.push(json);
                            slots.push(None);
                        }
                        Ok(None) => slots.push(Some(Refusal::new(RefusalCode::EntryMalformed, "no canonical JSON"))),
                        Err(refusal) => slots.push(Some(refusal)),
                    }
                }
                let mut outcomes =
                    if proposed.is_empty() { Vec::new() } else { consortium.submit(proposed).await? }.into_iter();
                Ok(slots
                    .into_iter()
                    .map(|slot| match slot {
                        Some(refusal) => Err(refusal),
                        None => outcomes.next().unwrap_or_else(|| {
                            Err(Refusal::new(RefusalCode::EntryMalformed, "the consortium gave no outcome"))
                        }),
                    })
                    .collect())
            }
        }
    }

    /// Runs `read` against the ledger on the blocking pool.
    pub(crate) async fn ledger<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Ledger) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        blocking::on_ledger(&self.ledger, read).await
    }

    /// Whether the ledger knows the GIAI: an item, or a GIAI reserved for one.
    pub(crate) async fn knows(&self, giai: &Giai) -> Result<bool, ApiError> {
        let giai = giai.clone();
        self.ledger(move |ledger| Ok(ledger.item(&giai)?.is_some())).await
    }

    /// The resolver base URL of the items' Digital Link URIs.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The node's follower of who holds what, which the node keeps up in the background.
    pub(crate) fn holdings(&self) -> &Arc<crate::holdings::Holdings> {
        &self.holdings
    }
}

/// The routes of the API, for `serve` and for tests that call the router
/// directly; a consortium node's also take its peers' requests.
pub fn router(node: Arc<Node>) -> Router {
    let consortium = node.consortium().map(Consortium::routes);
    let api = Router::new()
        .route("/healthz", get(status::healthz))
        .route("/readyz", get(status::readyz))
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
        .route("/v1/members/{id}/items", get(member_views::items))
        .route("/v1/members/{id}/offers", get(member_views::offers))
        .route("/v1/members/{id}/entries", get(member_views::entries))
        .route("/v1/members/{id}/next-giai", get(member_views::next_giai))
        .route("/v1/items/{giai}", get(items::item))
        .route("/v1/items/{giai}/bundle", get(items::bundle))
        .route("/v1/items/{giai}/disclosures", get(disclosures::disclosures))
        .route("/v1/items/{giai}/actions", get(actions::actions))
        .route("/v1/items/{giai}/qr.svg", get(items::qr_as_svg))
        .route("/v1/items/{giai}/qr.png", get(items::qr_as_png))
        .route("/v1/epcis", get(epcis::epcis))
        .route("/v1/epc/{epc}", get(epc::lookup))
        .route("/reports/impact", get(impact::impact))
        .route("/v1/attachments", post(attachments::upload))
        .route("/v1/attachments/{blake3}", get(attachments::file))
        .route("/v1/attachments/{blake3}/thumbnail", get(attachments::thumbnail_file))
        .route("/8004/{giai}", get(resolver::resolve).options(resolver::preflight))
        .route("/.well-known/gs1resolver", get(well_known::gs1resolver).options(well_known::preflight))
        .route("/app", get(app::to_app))
        .route("/app/", get(app::page))
        .route("/app/key.svg", get(app::key_qr))
        .route("/app/check/passport", post(app::check_passport))
        .route("/app/{*path}", get(app::file))
        // Unknown paths, `/v1/raft/*` on a standalone node among them, are
        // answered without reading the request's body.
        .fallback(status::not_found)
        .with_state(node);
    let api = match consortium {
        Some(peers) => api.merge(peers),
        None => api,
    };
    api.layer(axum::middleware::from_fn(request_id::assign))
}

/// Serves `node` on `listener` within `limits` until `shutdown` resolves, over
/// TLS when given an acceptor; requests in flight are finished (for a bounded
/// time) before it returns.
pub(crate) async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, router(node), limits, tls, shutdown).await
}
