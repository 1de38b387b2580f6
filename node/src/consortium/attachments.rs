//! Every consortium node holds every attachment an applied record names
//! (docs/format.md §15): a node that lacks one asks the other nodes for it by
//! digest, `POST /v1/raft/attachment`, signed and answered like Raft's
//! messages, checks that the bytes have the digest, and keeps asking with
//! back-off until it has it. The files it lacks are the attachment store's
//! `missing` list, which [`crate::attachments::Attachments::follow`] fills as
//! records are applied, including those a snapshot brought.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use salvage_ledger::attachment::{AttachmentDigest, sniff};
use serde::{Deserialize, Serialize};

use super::Consortium;
use super::callers::{SMALL_BODY_LIMIT, Speaker, receive};
use super::replication::network::PeerConnections;
use crate::server::error::ApiError;

/// The peer route that hands out attachments.
pub(crate) const ATTACHMENT_PATH: &str = "/v1/raft/attachment";

/// How often the fetcher looks for missing files.
const ROUND: Duration = Duration::from_millis(500);

/// How many missing files one round asks for.
const PER_ROUND: usize = 8;

/// How many missing files one round reads to find those due.
const PAGE: usize = 64;

/// How many back-off timers the fetcher keeps before it drops the expired ones.
const MAX_WAITING: usize = 100_000;

/// The longest wait before asking again for a file no node gave.
const MAX_BACK_OFF: Duration = Duration::from_secs(300);

/// How long one node may take to send a file.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// What a node asks another for.
#[derive(Debug, Serialize, Deserialize)]
struct Wanted {
    blake3: String,
}

/// `POST /v1/raft/attachment`: another node of the group asks for a file.
pub(crate) async fn hand_out(
    State(consortium): State<Arc<Consortium>>,
    request: Request,
) -> Result<Response, ApiError> {
    let call = receive(&consortium, request, SMALL_BODY_LIMIT).await?;
    let wanted: Wanted = call.decode()?;
    call.speaks_as(&consortium, Speaker::Node)?;
    let digest = AttachmentDigest::parse(&wanted.blake3)
        .ok_or_else(|| ApiError::bad_request("attachment.malformed", "not a BLAKE3 digest"))?;
    let attachments = Arc::clone(&consortium.attachments);
    let bytes = tokio::task::spawn_blocking(move || match attachments.store().held(&digest) {
        Ok(Some(_)) => attachments.store().read(&digest).map(Some),
        Ok(None) => Ok(None),
        Err(error) => Err(error),
    })
    .await
    .map_err(|e| ApiError::internal(format!("a read task failed: {e}")))?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let Some(bytes) = bytes else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "attachment.unknown",
            format!("this node does not hold {digest}"),
        ));
    };
    call.answer_bytes(&consortium, bytes, "application/octet-stream")
}

/// Fetches missing files from the other nodes until the node stops.
pub(crate) async fn fetch_missing(consortium: Arc<Consortium>) {
    let peers = PeerConnections::new(consortium.replica.signer.clone(), Arc::clone(&consortium.replica.roster));
    // When each file that no node gave may be asked for again, and how long it waited last.
    let mut waits: HashMap<AttachmentDigest, (Instant, Duration)> = HashMap::new();
    // Where the walk round the missing files is: a page of them a round.
    let mut after: Option<AttachmentDigest> = None;
    loop {
        tokio::time::sleep(ROUND).await;
        let attachments = Arc::clone(&consortium.attachments);
        let from = after;
        let missing = tokio::task::spawn_blocking(move || attachments.store().missing(from.as_ref(), PAGE)).await;
        let missing = match missing {
            Ok(Ok(missing)) => missing,
            Ok(Err(error)) => {
                tracing::error!(%error, "reading the missing attachments");
                continue;
            }
            Err(_) => return,
        };
        after = if missing.len() < PAGE { None } else { missing.last().copied() };
        // Bounded: a file no longer missing is forgotten when the walk passes where it was.
        if waits.len() > MAX_WAITING {
            let now = Instant::now();
            waits.retain(|_, (next, _)| *next > now);
        }
        let now = Instant::now();
        let due: Vec<AttachmentDigest> = missing
            .into_iter()
            .filter(|digest| waits.get(digest).is_none_or(|(next, _)| *next <= now))
            .take(PER_ROUND)
            .collect();
        for digest in due {
            if fetch(&consortium, &peers, digest).await {
                waits.remove(&digest);
            } else {
                let wait = waits.get(&digest).map_or(Duration::from_secs(1), |(_, last)| (*last * 2).min(MAX_BACK_OFF));
                waits.insert(digest, (Instant::now() + wait, wait));
            }
        }
    }
}

/// Asks each other node in turn for `digest` and keeps the first copy that has it.
pub(crate) async fn fetch(consortium: &Consortium, peers: &PeerConnections, digest: AttachmentDigest) -> bool {
    let attachments = Arc::clone(&consortium.attachments);
    // Uploaded meanwhile, or named again after it came.
    if let Ok(Ok(Some(_))) = tokio::task::spawn_blocking({
        let attachments = Arc::clone(&attachments);
        move || attachments.store().held(&digest)
    })
    .await
    {
        let _ = tokio::task::spawn_blocking(move || attachments.store().found(&digest)).await;
        return true;
    }
    let operator = consortium.checkpoints.operator().member().as_str().to_owned();
    let nodes: Vec<_> = consortium.group_nodes().into_iter().filter(|node| node.member != operator).collect();
    let Ok(body) = serde_json::to_vec(&Wanted { blake3: digest.to_hex() }) else { return false };
    let limit = usize::try_from(attachments.limit()).unwrap_or(usize::MAX);
    for node in nodes {
        let asked = peers.post_limited(&node, ATTACHMENT_PATH, body.clone(), limit);
        let bytes = match tokio::time::timeout(FETCH_TIMEOUT, asked).await {
            Ok(Ok((StatusCode::OK, bytes))) => bytes,
            Ok(Ok((status, _))) => {
                tracing::debug!(%digest, peer = %node, %status, "the node does not give the attachment");
                continue;
            }
            Ok(Err(error)) => {
                tracing::debug!(%digest, peer = %node, %error, "asking for an attachment");
                continue;
            }
            Err(_) => continue,
        };
        if AttachmentDigest::of(&bytes) != digest || sniff(&bytes).is_none() {
            tracing::warn!(%digest, peer = %node, "a node sent bytes that are not the attachment asked for");
            continue;
        }
        let attachments = Arc::clone(&attachments);
        match tokio::task::spawn_blocking(move || attachments.store().put(&bytes)).await {
            Ok(Ok(_)) => {
                tracing::info!(%digest, peer = %node, "fetched an attachment");
                return true;
            }
            Ok(Err(error)) => tracing::error!(%digest, %error, "storing a fetched attachment"),
            Err(_) => return false,
        }
    }
    false
}
