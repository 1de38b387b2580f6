//! Authenticating traffic between consortium nodes, both ways (docs/format.md §12).
//!
//! Every request a node sends another carries a `Salvage-Raft-Auth` header:
//!
//! ```text
//! <sender> <destination> <unix ms> <nonce hex> <body blake3 hex> <signature hex>
//! ```
//!
//! where the signature is Ed25519 by one of the sending operator's keys over
//!
//! ```text
//! salvage-raft/v2\n<sender>\n<destination>\n<unix ms>\n<nonce hex>\n<path>\n<body blake3 hex>
//! ```
//!
//! Everything but the body's hash is checked from the header alone, before a
//! byte of the body is read ([`Claim::verify`]): the sender is an operator of
//! the consortium with that active key, the destination is the receiving node's
//! own operator, the time lies within [`MAX_SKEW`] of the receiver's clock and
//! the nonce was not seen before from that sender ([`SeenNonces`]). The body is
//! then read, up to the route's limit, and its hash compared ([`Claim::check_body`]).
//!
//! A `200` answer carries a `Salvage-Raft-Answer` header, `<responder>
//! <signature hex>`, by an active key of the answering operator over
//!
//! ```text
//! salvage-raft-answer/v2\n<responder>\n<sender>\n<nonce hex>\n<path>\n<answer body blake3 hex>
//! ```
//!
//! so an answer binds the request it answers: nobody on the path can fake a
//! vote, an acknowledgement or a receipt, nor hand one request's answer to another.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signature, Signer, SigningKey};
use salvage_ledger::custody::{Member, Role};
use salvage_ledger::entry::PublicKey;

/// The header that carries a request's authentication.
pub const AUTH_HEADER: &str = "salvage-raft-auth";

/// The header that carries an answer's signature.
pub const ANSWER_HEADER: &str = "salvage-raft-answer";

/// How far a request's time may lie from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(30);

/// The domain separation label of signed requests.
const CONTEXT: &str = "salvage-raft/v2";

/// The domain separation label of signed answers.
const ANSWER_CONTEXT: &str = "salvage-raft-answer/v2";

/// How many nonces a node remembers at most: far more than the requests its
/// peers send in [`SEEN_FOR`] (a few hundred a second), so the bound is met
/// only by a peer gone mad, whose requests are then refused, not remembered.
const MAX_SEEN: usize = 1 << 20;

/// How long a nonce is remembered: a request is stale [`MAX_SKEW`] after its
/// time, and its time is at most [`MAX_SKEW`] before its arrival.
const SEEN_FOR: Duration = Duration::from_secs(2 * MAX_SKEW.as_secs());

/// Signs this node's outgoing requests and answers as its operator.
#[derive(Clone)]
pub struct RequestSigner {
    member: String,
    key: SigningKey,
}

/// A request's `Salvage-Raft-Auth` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The sending operator's member id.
    pub sender: String,
    /// The operator whose node the request is for.
    pub destination: String,
    /// When it was signed, in Unix milliseconds.
    pub millis: u64,
    /// Chosen at random by the sender, once per request.
    pub nonce: Nonce,
    body_hash: [u8; 32],
    signature: Signature,
}

/// A request's nonce: 16 random bytes.
pub type Nonce = [u8; 16];

/// Why an incoming request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carries no authentication header.
    #[error("the request carries no {AUTH_HEADER} header; only consortium nodes may send Raft messages")]
    Missing,
    /// The header is not the six fields of docs/format.md §12.
    #[error("the {AUTH_HEADER} header is malformed: {0}")]
    Malformed(String),
    /// The request is meant for another node.
    #[error("the request is addressed to {0}'s node, not this one")]
    Misdirected(String),
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
    /// The request was received before.
    #[error("this request from {0} was received before (a replay)")]
    Replayed(String),
    /// The body is not the one the header signs.
    #[error("the body does not match the hash the {AUTH_HEADER} header signs")]
    BodyMismatch,
}

/// Why a peer's answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The answer carries no signature.
    #[error("the answer carries no {ANSWER_HEADER} header")]
    Missing,
    /// The header is not `<responder> <signature hex>`.
    #[error("the {ANSWER_HEADER} header is malformed")]
    Malformed,
    /// Another operator answered than the one asked.
    #[error("the answer is signed by {answered}, not by {asked}, whose node was asked")]
    OtherResponder {
        /// The operator asked.
        asked: String,
        /// The operator the header names.
        answered: String,
    },
    /// No active key of the responder signed this answer to this request.
    #[error("the answer's signature does not verify under any active key of {0} for this request")]
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

    /// The header value authenticating a request to `destination`'s node at
    /// `path` with `body`, signed at `now` with a fresh random nonce; and that nonce.
    pub fn sign(
        &self,
        destination: &str,
        path: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, Nonce), getrandom::Error> {
        let mut nonce = Nonce::default();
        getrandom::fill(&mut nonce)?;
        Ok((self.sign_with(destination, path, body, now, nonce), nonce))
    }

    /// [`RequestSigner::sign`] with a given nonce (for the worked example).
    fn sign_with(&self, destination: &str, path: &str, body: &[u8], now: SystemTime, nonce: Nonce) -> String {
        let millis = unix_millis(now);
        let body_hash = blake3::hash(body);
        let nonce = hex::encode(nonce);
        let signed = request_message(&self.member, destination, millis, &nonce, path, &body_hash.to_hex());
        let signature = self.key.sign(signed.as_bytes());
        format!(
            "{} {destination} {millis} {nonce} {} {}",
            self.member,
            body_hash.to_hex(),
            hex::encode(signature.to_bytes())
        )
    }

    /// The `Salvage-Raft-Answer` header value of answer `body` to the request `claim`, at `path`.
    pub fn sign_answer(&self, claim: &Claim, path: &str, body: &[u8]) -> String {
        let signed = answer_message(&self.member, &claim.sender, &claim.nonce, path, body);
        format!("{} {}", self.member, hex::encode(self.key.sign(signed.as_bytes()).to_bytes()))
    }
}

impl Claim {
    /// Parses a `Salvage-Raft-Auth` header value.
    pub fn parse(header: Option<&str>) -> Result<Claim, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let fields: Vec<&str> = header.splitn(7, ' ').collect();
        let [sender, destination, millis, nonce, body_hash, signature] = fields[..] else {
            return Err(AuthError::Malformed("expected six fields separated by single spaces".to_owned()));
        };
        let malformed = |what: &str| AuthError::Malformed(what.to_owned());
        if sender.is_empty() || destination.is_empty() {
            return Err(malformed("the sender and the destination must not be empty"));
        }
        let millis = millis.parse().map_err(|_| malformed("the time is not a number of milliseconds"))?;
        let nonce = fixed_hex::<16>(nonce).ok_or_else(|| malformed("the nonce is not 32 lowercase hex digits"))?;
        let body_hash =
            fixed_hex::<32>(body_hash).ok_or_else(|| malformed("the body hash is not 64 lowercase hex digits"))?;
        let signature = fixed_hex::<64>(signature)
            .map(|bytes| Signature::from_bytes(&bytes))
            .ok_or_else(|| malformed("the signature is not 128 lowercase hex digits"))?;
        Ok(Claim {
            sender: sender.to_owned(),
            destination: destination.to_owned(),
            millis,
            nonce,
            body_hash,
            signature,
        })
    }

    /// Checks all the header can tell, before the body is read: that the
    /// request is for `own` operator's node, that its sender is an operator
    /// among `members` whose active key signed it, that it is fresh, and not
    /// a request `seen` before (which is not yet noted: see [`SeenNonces::note`]).
    pub fn verify(
        &self,
        path: &str,
        own: &str,
        members: &[Member],
        seen: &SeenNonces,
        now: SystemTime,
    ) -> Result<(), AuthError> {
        if self.destination != own {
            return Err(AuthError::Misdirected(self.destination.clone()));
        }
        let operator = members
            .iter()
            .find(|m| m.id.as_str() == self.sender && m.has_role(Role::Operator))
            .ok_or_else(|| AuthError::NotOperator(self.sender.clone()))?;
        let now = unix_millis(now);
        if now.abs_diff(self.millis) > MAX_SKEW.as_millis() as u64 {
            return Err(AuthError::Stale { signed: self.millis, now });
        }
        let signed = request_message(
            &self.sender,
            &self.destination,
            self.millis,
            &hex::encode(self.nonce),
            path,
            &hex::encode(self.body_hash),
        );
        let verifies = |key: &PublicKey| key.verifying_key().verify_strict(signed.as_bytes(), &self.signature).is_ok();
        if !operator.active_keys().any(verifies) {
            return Err(AuthError::BadSignature(self.sender.clone()));
        }
        if seen.contains(self) {
            return Err(AuthError::Replayed(self.sender.clone()));
        }
        Ok(())
    }

    /// Checks that `body` is the one the header signs.
    pub fn check_body(&self, body: &[u8]) -> Result<(), AuthError> {
        if blake3::hash(body).as_bytes() == &self.body_hash { Ok(()) } else { Err(AuthError::BodyMismatch) }
    }
}

/// Checks a peer's `Salvage-Raft-Answer` header: the operator `asked` (with
/// `members`' active keys) answered `body` to the request that this node,
/// operator `sender`, sent to `path` with `nonce`.
pub fn verify_answer(
    header: Option<&str>,
    asked: &str,
    members: &[Member],
    request: (&str, &Nonce, &str),
    body: &[u8],
) -> Result<(), AnswerError> {
    let (sender, nonce, path) = request;
    let header = header.ok_or(AnswerError::Missing)?;
    let (responder, signature) = header.split_once(' ').ok_or(AnswerError::Malformed)?;
    let signature = fixed_hex::<64>(signature).map(|b| Signature::from_bytes(&b)).ok_or(AnswerError::Malformed)?;
    if responder != asked {
        return Err(AnswerError::OtherResponder { asked: asked.to_owned(), answered: responder.to_owned() });
    }
    let signed = answer_message(responder, sender, nonce, path, body);
    let verifies = |key: &PublicKey| key.verifying_key().verify_strict(signed.as_bytes(), &signature).is_ok();
    let operator = members.iter().find(|m| m.id.as_str() == asked && m.has_role(Role::Operator));
    if operator.is_some_and(|operator| operator.active_keys().any(verifies)) {
        Ok(())
    } else {
        Err(AnswerError::BadSignature(asked.to_owned()))
    }
}

/// The requests a node accepted lately, by sender and nonce, so that none is
/// accepted twice; each is forgotten once it would be refused as stale anyway.
#[derive(Default)]
pub struct SeenNonces {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    // INVARIANT: `set` holds exactly the keys of `order`; `order` is sorted by arrival.
    set: HashSet<(String, Nonce)>,
    order: VecDeque<(Instant, (String, Nonce))>,
}

impl SeenNonces {
    /// Whether the request was accepted before.
    fn contains(&self, claim: &Claim) -> bool {
        // A poisoned lock refuses everything rather than forgetting what it saw.
        self.seen.lock().map_or(true, |seen| seen.set.contains(&(claim.sender.clone(), claim.nonce)))
    }

    /// Notes the request as accepted at `now`; refuses it if it was noted
    /// before (two copies that arrived together) or if too many are noted.
    pub fn note(&self, claim: &Claim, now: Instant) -> Result<(), AuthError> {
        let replayed = || AuthError::Replayed(claim.sender.clone());
        let mut seen = self.seen.lock().map_err(|_| replayed())?;
        while let Some((noted, key)) = seen.order.front()
            && now.saturating_duration_since(*noted) > SEEN_FOR
        {
            let key = key.clone();
            seen.set.remove(&key);
            seen.order.pop_front();
        }
        if seen.set.len() >= MAX_SEEN {
            return Err(replayed());
        }
        let key = (claim.sender.clone(), claim.nonce);
        if !seen.set.insert(key.clone()) {
            return Err(replayed());
        }
        seen.order.push_back((now, key));
        Ok(())
    }
}

fn request_message(sender: &str, destination: &str, millis: u64, nonce: &str, path: &str, body_hash: &str) -> String {
    format!("{CONTEXT}\n{sender}\n{destination}\n{millis}\n{nonce}\n{path}\n{body_hash}")
}

fn answer_message(responder: &str, sender: &str, nonce: &Nonce, path: &str, body: &[u8]) -> String {
    format!("{ANSWER_CONTEXT}\n{responder}\n{sender}\n{}\n{path}\n{}", hex::encode(nonce), blake3::hash(body).to_hex())
}

/// `N` bytes written as exactly `2 * N` lowercase hex digits.
fn fixed_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(text).ok().and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests;
