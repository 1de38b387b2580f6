//! Verification: sorting a note's signatures into valid, invalid and unknown against a set of
//! trusted keys, as the signed-note rules prescribe.
//!
//! It works on any note text, not only checkpoint bodies, which is what lets the tests check it
//! against the Go reference implementation's vectors.

use ed25519_dalek::Signature;

use super::signature::{NoteSignature, cosignature_message};
use super::{MAX_COSIGNATURE_TIMESTAMP, NoteVerifier};

/// The outcome of checking a note's signatures (plain ones and cosignatures) against a set of
/// known verifiers.
///
/// A node that both signs and cosigns a note appears twice in `valid`; use
/// [`VerifiedSigners::signers`] to count distinct nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifiedSigners {
    /// Key names of known signers whose signatures verify, in note order.
    pub valid: Vec<String>,
    /// Key names of known signers whose signatures do not verify, in note order.
    pub invalid: Vec<String>,
    /// How many signatures came from keys no verifier knows.
    pub unknown: usize,
}

impl VerifiedSigners {
    /// Whether the note may be trusted under the signed-note rules: at least one known
    /// signature verifies and no known signature fails (a failing one means someone is
    /// presenting a forged or altered note).
    pub fn accepted(&self) -> bool {
        !self.valid.is_empty() && self.invalid.is_empty()
    }

    /// The distinct key names among `valid`, sorted, so that a caller can count how many of
    /// the `n` consortium nodes vouch for the note ("k of n") without counting a node that
    /// both signed and cosigned it twice.
    pub fn signers(&self) -> Vec<String> {
        let mut names = self.valid.clone();
        names.sort();
        names.dedup();
        names
    }
}

/// Sorts each signature over `text` into valid, invalid or unknown.
///
/// A plain signature is matched only by plain verifiers and checked over `text`; a cosignature
/// only by cosigner verifiers and checked over its `cosignature/v1` message.
pub(super) fn verify_text(text: &str, signatures: &[NoteSignature], verifiers: &[NoteVerifier]) -> VerifiedSigners {
    let mut outcome = VerifiedSigners::default();
    for signature in signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| {
                v.name() == signature.name
                    && v.key_hash() == signature.key_hash
                    && v.is_cosigner() == signature.timestamp.is_some()
            })
            .peekable();
        if matching.peek().is_none() {
            outcome.unknown += 1;
            continue;
        }
        let ed25519_signature = Signature::from_bytes(&signature.signature);
        let message = match signature.timestamp {
            None => Some(text.to_owned()),
            // A hand-built cosignature with an out-of-range timestamp has no valid message.
            Some(timestamp) if timestamp > MAX_COSIGNATURE_TIMESTAMP => None,
            Some(timestamp) => Some(cosignature_message(text, timestamp)),
        };
        // A (name, key ID) collision between two trusted keys can only come from the trusted
        // list itself, so a signature verifying under any of the matching keys is accepted.
        let verifies = message.is_some_and(|message| {
            matching.any(|v| v.verifying_key().verify_strict(message.as_bytes(), &ed25519_signature).is_ok())
        });
        if verifies {
            outcome.valid.push(signature.name.clone());
        } else {
            outcome.invalid.push(signature.name.clone());
        }
    }
    outcome
}
