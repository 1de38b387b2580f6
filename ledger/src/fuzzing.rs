//! What the fuzz targets (`fuzz/`, see docs/fuzzing.md) reach beyond the public API: the
//! canonical reader, the signature rule and the record log's segment scan are crate-private,
//! and the targets compare them with the strict parser, ed25519-dalek and a reference.
//!
//! Only builds with `--cfg fuzzing` (cargo-fuzz sets it) have this module, so the public API
//! of every other build stays as it is.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::canonical::decode::Cursor;
use crate::signature::{SignatureCheck, verify_strict_each};

pub use crate::store::log::fuzzing::{SegmentVerdict, scan_segment_bytes};

/// The value the canonical reader reads from `bytes`, if they are one whole canonical value.
pub fn read_canonical_value(bytes: &[u8]) -> Option<Value> {
    let mut cursor = Cursor::new(bytes)?;
    let value = cursor.value()?;
    cursor.at_end().then_some(value)
}

/// One signature to check, its message in parts hashed in order, as the ledger passes them.
pub struct Check<'a> {
    /// The key said to have signed.
    pub key: &'a VerifyingKey,
    /// The message, in parts.
    pub message: &'a [&'a [u8]],
    /// The signature.
    pub signature: &'a Signature,
}

/// The ledger's verdict on each check, all of them checked together as a list, the way the
/// ledger checks an entry's signatures.
pub fn verify_strict_list(checks: &[Check<'_>]) -> Vec<bool> {
    let checks: Vec<SignatureCheck<'_>> = checks
        .iter()
        .map(|check| SignatureCheck { key: check.key, message: check.message, signature: check.signature })
        .collect();
    verify_strict_each(&checks)
}
