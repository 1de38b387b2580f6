//! Authenticating Raft traffic between consortium nodes.
//!
//! Every Raft request a node sends carries a `Salvage-Raft-Auth` header:
//! `<member id> <unix milliseconds> <signature hex>`, where the signature is
//! Ed25519 by one of the operator's keys over
//!
//! ```text
//! salvage-raft/v1\n<member id>\n<unix milliseconds>\n<request path>\n<hex blake3 of the body>
//! ```
//!
//! The receiving node accepts it only if the member is an operator of the
//! consortium (as its own ledger says now), the key is one of that member's
//! active keys, the signature verifies under `verify_strict`, and the time lies
//! within [`MAX_SKEW`] of its own clock. So a process that is not a consortium
//! node cannot vote, append entries or install a snapshot; a request copied off
//! the wire can only be replayed for a short while, to the same path with the
//! same body, which Raft treats as the stale message it is.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signature, Signer, SigningKey};
use salvage_ledger::custody::{Member, Role};
use salvage_ledger::entry::PublicKey;

/// The header that carries a Raft request's authentication.
pub const AUTH_HEADER: &str = "salvage-raft-auth";

/// How far a request's time may lie from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(30);

/// The domain separation label of signed Raft requests.
const CONTEXT: &str = "salvage-raft/v1";

/// Signs this node's outgoing Raft requests as its operator.
#[derive(Clone)]
pub struct RequestSigner {
    member: String,
    key: SigningKey,
}

/// Why an incoming Raft request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carries no authentication header.
    #[error("the request carries no {AUTH_HEADER} header; only consortium nodes may send Raft messages")]
    Missing,
    /// The header is not `<member> <milliseconds> <signature hex>`.
    #[error("the {AUTH_HEADER} header is malformed: {0}")]
    Malformed(String),
    /// The member is not an operator of this consortium.
    #[error("{0} is not an operator of this consortium")]
    NotOperator(String),
    /// The request's time is too far from this node's clock.
    // The message, which the sender sees, leaves out this node's clock.
    #[error("the request was signed at {signed} ms, more than {} s away from this node's clock", MAX_SKEW.as_secs())]
    Stale {
        /// When it was signed, in Unix milliseconds.
        signed: u64,
        /// This node's clock, in Unix milliseconds.
        now: u64,
    },
    /// No active key of the member signed the request.
    #[error("the signature does not verify under any active key of {0}")]
    BadSignature(String),
}

impl RequestSigner {
    /// Signs as operator `member` with `key`.
    pub fn new(member: impl Into<String>, key: SigningKey) -> RequestSigner {
        RequestSigner { member: member.into(), key }
    }

    /// The operator's member id.
    pub fn member(&self) -> &str {
        &self.member
    }

    /// The header value authenticating a request to `path` with `body`, at `now`.
    pub fn sign(&self, path: &str, body: &[u8], now: SystemTime) -> String {
        let millis = unix_millis(now);
        let signature = self.key.sign(&message(&self.member, millis, path, body));
        format!("{} {millis} {}", self.member, hex::encode(signature.to_bytes()))
    }
}

/// Checks an incoming request's header against the consortium's `members`;
/// returns the sending operator's member id.
pub fn verify(
    header: Option<&str>,
    path: &str,
    body: &[u8],
    members: &[Member],
    now: SystemTime,
) -> Result<String, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let mut parts = header.split(' ');
    let (Some(member), Some(millis), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("expected three fields separated by single spaces".to_owned()));
    };
    let millis: u64 =
        millis.parse().map_err(|_| AuthError::Malformed(format!("{millis:?} is not a time in milliseconds")))?;
    let signature = hex::decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or_else(|| AuthError::Malformed("the signature is not 128 hex digits".to_owned()))?;
    let operator = members
        .iter()
        .find(|m| m.id.as_str() == member && m.has_role(Role::Operator))
        .ok_or_else(|| AuthError::NotOperator(member.to_owned()))?;
    let now = unix_millis(now);
    if now.abs_diff(millis) > MAX_SKEW.as_millis() as u64 {
        return Err(AuthError::Stale { signed: millis, now });
    }
    let signed = message(member, millis, path, body);
    let verifies = |key: &PublicKey| key.verifying_key().verify_strict(&signed, &signature).is_ok();
    if operator.active_keys().any(verifies) {
        Ok(member.to_owned())
    } else {
        Err(AuthError::BadSignature(member.to_owned()))
    }
}

/// The bytes a Raft request's signature covers.
fn message(member: &str, millis: u64, path: &str, body: &[u8]) -> Vec<u8> {
    format!("{CONTEXT}\n{member}\n{millis}\n{path}\n{}", blake3::hash(body).to_hex()).into_bytes()
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use salvage_ledger::testkit::Fixture;

    use super::*;

    fn members(fixture: &Fixture) -> Vec<Member> {
        salvage_ledger::custody::State::from_genesis(&fixture.genesis).unwrap().members().cloned().collect()
    }

    #[test]
    fn an_operators_signed_request_is_accepted_and_anything_else_refused() {
        let fixture = Fixture::new();
        let members = members(&fixture);
        let operator = members.iter().find(|m| m.has_role(Role::Operator)).unwrap();
        let signer = RequestSigner::new(operator.id.as_str(), Fixture::key(operator.id.as_str()));
        let now = SystemTime::now();
        let header = signer.sign("/v1/raft/vote", b"{\"vote\":1}", now);
        assert_eq!(
            verify(Some(&header), "/v1/raft/vote", b"{\"vote\":1}", &members, now).unwrap(),
            operator.id.as_str()
        );

        // Another body, another path, another time, another signer.
        let bad_signature = Err(AuthError::BadSignature(operator.id.as_str().to_owned()));
        assert_eq!(verify(Some(&header), "/v1/raft/vote", b"{\"vote\":2}", &members, now), bad_signature);
        assert_eq!(verify(Some(&header), "/v1/raft/append", b"{\"vote\":1}", &members, now), bad_signature);
        let later = now + MAX_SKEW + Duration::from_secs(1);
        assert!(matches!(
            verify(Some(&header), "/v1/raft/vote", b"{\"vote\":1}", &members, later),
            Err(AuthError::Stale { .. })
        ));
        assert_eq!(verify(None, "/v1/raft/vote", b"", &members, now), Err(AuthError::Missing));

        // A member that is no operator cannot sign Raft traffic, even with its own key.
        let contractor = members.iter().find(|m| !m.has_role(Role::Operator)).unwrap();
        let impostor = RequestSigner::new(contractor.id.as_str(), Fixture::key(contractor.id.as_str()));
        let header = impostor.sign("/v1/raft/vote", b"", now);
        assert_eq!(
            verify(Some(&header), "/v1/raft/vote", b"", &members, now),
            Err(AuthError::NotOperator(contractor.id.as_str().to_owned()))
        );

        // Someone claiming to be the operator with a key of its own.
        let stranger = RequestSigner::new(operator.id.as_str(), SigningKey::from_bytes(&[7; 32]));
        let header = stranger.sign("/v1/raft/vote", b"", now);
        assert_eq!(verify(Some(&header), "/v1/raft/vote", b"", &members, now), bad_signature);

        for malformed in ["", "a b", "a b c d", "op notanumber 00", "op 1 zz"] {
            assert!(
                matches!(verify(Some(malformed), "/", b"", &members, now), Err(AuthError::Malformed(_))),
                "{malformed:?}"
            );
        }
    }
}
