//! Members' signed requests (RFC 9421, [`crate::member_auth`]), as every route a member signs
//! reads them: the signature checked from the headers alone, then the member whose active key
//! made it, once its nonce is admitted. Refusals are `401` whatever the request names, so a
//! stranger learns nothing; `503` when the node remembers too many recent requests.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use salvage_ledger::custody::Member;
use salvage_ledger::entry::PublicKey;

use super::{ApiError, Node};
use crate::member_auth::{self, Claim, MemberAuthError, SignedTarget};

/// Checks the request's signature from its headers alone.
pub(super) fn authenticate(method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Claim, ApiError> {
    let authority = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    let target = SignedTarget { method: method.as_str(), authority, path: uri.path(), query: uri.query() };
    // A header sent on several lines is one list (RFC 9110 §5.3).
    let joined = |name: &str| -> Option<Vec<u8>> {
        let mut values = headers.get_all(name).iter().peekable();
        values.peek()?;
        Some(values.map(|value| value.as_bytes()).collect::<Vec<_>>().join(&b", "[..]))
    };
    let input = joined(member_auth::SIGNATURE_INPUT_HEADER);
    let signature = joined(member_auth::SIGNATURE_HEADER);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default();
    member_auth::verify(&target, input.as_deref(), signature.as_deref(), now).map_err(|error| refused(&error))
}

/// The member whose active key made `claim`, once its nonce is admitted.
pub(super) async fn admit_member(node: &Arc<Node>, claim: Claim) -> Result<Member, ApiError> {
    let seen = Arc::clone(&node.seen_requests);
    node.ledger(move |ledger| {
        let members = ledger.members()?;
        let member = members
            .into_iter()
            .find(|member| member.active_keys().any(|key| *key == claim.key))
            .ok_or_else(|| refused(&unknown_key(&claim.key)))?;
        seen.admit(&claim, Instant::now()).map_err(|error| refused(&error))?;
        Ok(member)
    })
    .await
}

/// The member who signed the request: [`authenticate`], then [`admit_member`].
pub(super) async fn signed_by_member(
    node: &Arc<Node>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Member, ApiError> {
    let claim = authenticate(method, uri, headers)?;
    admit_member(node, claim).await
}

/// The answer to a request that failed authentication.
pub(super) fn refused(error: &MemberAuthError) -> ApiError {
    let status = match error {
        MemberAuthError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    ApiError::new(status, error.code(), error.message())
}

/// A well-signed request by a key that is no member's active key.
pub(super) fn unknown_key(key: &PublicKey) -> MemberAuthError {
    MemberAuthError::UnknownKey(key.to_hex())
}
