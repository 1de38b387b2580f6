//! Who may call a consortium node's peer routes: a request must carry a
//! `Salvage-Raft-Auth` signature by an operator of the consortium, as the
//! ledger's members say (read at most once a second).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use salvage_ledger::custody::Member;
use serde::de::DeserializeOwned;

use super::Consortium;
use super::replication::Raft;
use super::replication::auth::{self, AUTH_HEADER};
use crate::server::blocking::on_ledger;
use crate::server::error::ApiError;
use crate::throttle::Throttle;

/// How long the operators read from the ledger are trusted before being read
/// again: a revoked operator key is refused at most this long after its revocation.
const OPERATORS_TTL: Duration = Duration::from_secs(1);

/// The consortium's members as last read, for checking Raft requests quickly.
#[derive(Default)]
pub(crate) struct OperatorCache {
    members: std::sync::Mutex<Option<(Instant, Arc<Vec<Member>>)>>,
}

/// Checks the request's signature and decodes its body; returns this node's
/// Raft, the sending operator's member id and the message.
pub(crate) async fn authenticated<T: DeserializeOwned>(
    consortium: &Consortium,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Raft, String, T), ApiError> {
    let members = operators(consortium).await?;
    let header = headers.get(AUTH_HEADER).and_then(|value| value.to_str().ok());
    let sender = auth::verify(header, uri.path(), body, &members, SystemTime::now()).map_err(|e| {
        // Anyone can send these: the log gets a bounded number of lines.
        static LOGGED: Throttle = Throttle::new(5);
        if let Some(suppressed) = LOGGED.admit() {
            tracing::warn!(error = %e, path = uri.path(), suppressed, "refused a Raft request");
        }
        ApiError::new(StatusCode::UNAUTHORIZED, "raft.unauthenticated", e.to_string())
    })?;
    let request = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("raft.malformed", format!("the Raft message from {sender} does not decode: {e}"))
    })?;
    Ok((consortium.replica.raft.clone(), sender, request))
}

/// The consortium's members, read from the ledger at most once a second.
pub(crate) async fn operators(consortium: &Consortium) -> Result<Arc<Vec<Member>>, ApiError> {
    if let Ok(cached) = consortium.operators.members.lock()
        && let Some((read, members)) = cached.as_ref()
        && read.elapsed() < OPERATORS_TTL
    {
        return Ok(Arc::clone(members));
    }
    let members = Arc::new(on_ledger(&consortium.ledger, |ledger| Ok(ledger.members()?)).await?);
    if let Ok(mut cached) = consortium.operators.members.lock() {
        *cached = Some((Instant::now(), Arc::clone(&members)));
    }
    Ok(members)
}
