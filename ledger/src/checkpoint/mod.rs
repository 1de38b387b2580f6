//! Checkpoints of the ledger's Merkle tree, as C2SP `tlog-checkpoint` bodies
//! inside C2SP `signed-note` envelopes with Ed25519 signatures.
//!
//! A checkpoint commits to the whole ledger at one tree size. Operators sign it and the other
//! consortium nodes cosign it, so a holder of a proof bundle can check offline that the root
//! its inclusion proofs lead to is the one the consortium agreed on. Using the public C2SP
//! formats (rather than a home-grown one) lets standard transparency-log tooling — witnesses,
//! monitors, `golang.org/x/mod/sumdb/note` — read and verify our checkpoints unchanged.
//!
//! # Format
//!
//! ```text
//! salvage/ledger-7f3a
//! 3
//! 8bQXr7CVY6w3anxeGXc0X8f/s9wXBxmo3MCsTYNPCOE=
//!
//! — operator-a kuXvL+1BTL6BB6Yf6S2kkob5FQ6bPoo5WA/6a6FcGn1GGytmONAVYbUJMAh4Ks2QVKtL1UOxmBx+rs0HzEU10xbb+QM=
//! — operator-b SKIcp0f5tb1tY8GLyPp9i1XjzuATrXdWuS1kJjtqFp8/c4A/Ppl6eivSluq1zPHsmao003xlCnL+x/+BfAwNzXLiqQo=
//! ```
//!
//! The **note text** (the checkpoint body) is everything up to and including the newline
//! before the blank line; it is the exact byte string every signature covers:
//!
//! 1. the origin, naming the log (`salvage/<ledger id>`);
//! 2. the tree size in decimal, without leading zeros (`0` for the empty tree);
//! 3. the root hash in standard, padded base64;
//! 4. optional, non-empty extension lines.
//!
//! After the blank line come one or more **signature lines**: an em dash (U+2014), a space,
//! the key name, a space, and `base64(key ID ‖ Ed25519 signature)`. The 4-byte key ID is
//! `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[..4]` (see [`key_hash`]); together with the
//! key name it tells a verifier which of its known keys to try. The whole note is UTF-8 with
//! no control characters other than newline, and ends in a newline.
//!
//! Verifiers are configured with keys in the standard text form
//! `<name>+<key ID hex>+<base64(0x01 ‖ public key)>`, read by [`NoteVerifier::from_vkey`];
//! the key of `operator-a` above is
//! `operator-a+92e5ef2f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c`.
//!
//! ## Cosignatures
//!
//! Consortium nodes that did not produce a checkpoint vouch for it with **cosignatures** in the
//! C2SP `tlog-cosignature/v1` format (Ed25519 variant). A cosignature line has the same shape as
//! a signature line, `— <key name> base64(key ID ‖ timestamp ‖ Ed25519 signature)`, where the
//! timestamp is the cosigning time in POSIX seconds as a big-endian `u64` no greater than
//! 2^63−1, so the decoded signature is 4 + 8 + 64 = 76 bytes instead of 4 + 64 = 68. The key
//! ID uses the cosignature type byte 0x04: `SHA-256(key name ‖ 0x0A ‖ 0x04 ‖ public key)[..4]`
//! (see [`cosignature_key_hash`]), so one Ed25519 key has distinct plain and cosigner IDs and a
//! signature of one kind can never be taken for the other. The signed message is not the note
//! text itself but
//!
//! ```text
//! cosignature/v1
//! time <timestamp in decimal, without leading zeros>
//! <the note text, final newline included>
//! ```
//!
//! which binds the time into the signature. Cosigner keys have the text form
//! `<name>+<key ID hex>+<base64(0x04 ‖ public key)>` ([`NoteVerifier::cosigner`] builds one).
//! A node may both sign and cosign one note; [`VerifiedSigners::signers`] counts it once.
//!
//! Verification follows the signed-note rules: a signature whose (name, key ID) pair matches no
//! known verifier of its kind (plain or cosigner) is counted as unknown and ignored; a known one
//! is checked with Ed25519 `verify_strict`, which also refuses small-order keys and malleable
//! signatures.
//!
//! Specifications: <https://c2sp.org/signed-note>, <https://c2sp.org/tlog-checkpoint> and
//! <https://c2sp.org/tlog-cosignature>.
//! The reference implementation is `golang.org/x/mod/sumdb/note`.

// The body, the keys, a signature line, the signed note and verification each have a
// submodule; the note uses verification, and both use the signature line, never the other
// way round. The note-text rules that both the body parser and the note framing apply (no
// control characters, line numbers for error positions) stay here, next to the error type
// they report.
mod body;
mod keys;
mod note;
mod signature;
mod verify;

pub use body::Checkpoint;
pub use keys::{NoteSigner, NoteVerifier, cosignature_key_hash, key_hash};
pub use note::SignedCheckpoint;
pub use signature::NoteSignature;
pub use verify::VerifiedSigners;

/// The most signatures a note may carry.
///
/// The signed-note spec asks verifiers to bound the work a note can demand (and to accept at
/// least 16); 100 is the bound the reference implementation uses, well above the number of
/// consortium nodes that cosign a checkpoint.
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte the signed-note spec assigns to Ed25519.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// The signature type byte C2SP `tlog-cosignature` assigns to Ed25519 `cosignature/v1`.
///
/// It goes into cosigner key IDs and cosigner verifier keys in place of
/// [`ED25519_SIGNATURE_TYPE`], which keeps a cosignature and a plain signature by the same key
/// apart.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

/// The largest cosignature timestamp the `tlog-cosignature` spec allows, 2^63−1 seconds.
///
/// The spec caps it so that implementations storing time in a signed 64-bit integer read every
/// valid cosignature alike.
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = (1 << 63) - 1;

/// Everything that can be wrong with a checkpoint, a signed note or a note key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note breaks the signed-note framing: a forbidden control character, no blank line
    /// before the signatures, no signature line, a missing final newline, or a body with too
    /// few lines.
    #[error("malformed note at line {line}: {reason}")]
    MalformedNote {
        /// The 1-based line of the note where the problem was found.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The origin (line 1 of the body) is empty or contains a control character.
    #[error("bad checkpoint origin at line 1: {reason}")]
    BadOrigin {
        /// What is wrong.
        reason: &'static str,
    },
    /// The tree size (line 2 of the body) is not a canonical decimal `u64`.
    #[error("bad tree size at line 2: {reason}")]
    BadSize {
        /// What is wrong.
        reason: &'static str,
    },
    /// The root hash (line 3 of the body) is not canonical standard base64 of 32 bytes.
    #[error("bad root hash at line 3: {reason}")]
    BadRoot {
        /// What is wrong.
        reason: &'static str,
    },
    /// An extension line (line 4 onwards of the body) is empty or contains a control character.
    #[error("bad extension line at line {line}: {reason}")]
    BadExtension {
        /// The 1-based line of the note holding the extension.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature line does not have the form `— <key name> <base64(key ID ‖ signature)>`.
    #[error("bad signature line at line {line}: {reason}")]
    BadSignatureLine {
        /// The 1-based line of the note holding the signature.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The same key (same name and key ID) signs the note twice; a signer must not be counted
    /// twice towards a cosigning threshold.
    #[error(
        "key {name}+{} signs twice: the repeated signature is at line {line}, \
         and a note carries at most one signature per key",
        crate::hex::to_lower_hex(.key_hash)
    )]
    DuplicateSigner {
        /// The key name of the repeated signer.
        name: String,
        /// The key ID of the repeated signer.
        key_hash: [u8; 4],
        /// The 1-based line of the note where the repeated signature is (or would be).
        line: usize,
    },
    /// The note carries (or would carry) more than [`MAX_SIGNATURES`] signatures.
    #[error(
        "note carries {count} signatures, more than the limit of {max} that bounds \
         the work of verifying it"
    )]
    TooManySignatures {
        /// How many signatures the note has or would have.
        count: usize,
        /// The limit, [`MAX_SIGNATURES`].
        max: usize,
    },
    /// A signer's or verifier's key name is not a valid signed-note key name.
    #[error("key name {name:?} is invalid: {reason}")]
    KeyNameInvalid {
        /// The refused name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A cosignature timestamp is greater than [`MAX_COSIGNATURE_TIMESTAMP`], which the
    /// `tlog-cosignature` spec forbids.
    #[error(
        "cosignature timestamp {timestamp} is greater than 2^63-1, \
         the largest the cosignature/v1 format allows"
    )]
    CosignatureTimestampTooLarge {
        /// The refused timestamp, in POSIX seconds.
        timestamp: u64,
    },
    /// A verifier key (`<name>+<key ID hex>+<base64(0x01 or 0x04 ‖ key)>`) or a public key is
    /// unusable.
    #[error("bad verifier key: {reason}")]
    BadVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Refuses any ASCII control character other than newline, reporting its line.
fn check_no_control_characters(text: &str, first_line: usize) -> Result<(), CheckpointError> {
    let mut line = first_line;
    for character in text.chars() {
        if character == '\n' {
            line += 1;
        } else if character < ' ' {
            return Err(CheckpointError::MalformedNote {
                line,
                reason: "signed notes may not contain ASCII control characters other than \
                         newline (carriage returns and tabs included)",
            });
        }
    }
    Ok(())
}

/// The number of newline-terminated lines in `text` (a trailing partial line not counted).
fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test, which is what tests are for")]
mod tests;
