//! One signature line of a signed note, as data: who signed (key name and key ID), when for a
//! cosignature, and the signature bytes; and the message a `cosignature/v1` cosignature signs.
//!
//! Both the note layer (which writes and parses these lines) and verification (which checks
//! them) need this, so it sits below both and imports neither.

/// One signature line of a note, verified or not.
///
/// It is either a plain signed-note Ed25519 signature over the note text (`timestamp` is
/// `None`) or a C2SP `cosignature/v1` cosignature over the timestamped cosignature message
/// (`timestamp` is `Some`).
///
/// Notes produced by [`SignedCheckpoint::parse`](super::SignedCheckpoint::parse),
/// [`SignedCheckpoint::sign`](super::SignedCheckpoint::sign),
/// [`SignedCheckpoint::cosign`](super::SignedCheckpoint::cosign) and
/// [`SignedCheckpoint::add_cosignature`](super::SignedCheckpoint::add_cosignature) only hold
/// valid key names and timestamps; a hand-built signature with an invalid name or a timestamp
/// above [`MAX_COSIGNATURE_TIMESTAMP`](super::MAX_COSIGNATURE_TIMESTAMP) would serialise into
/// a note that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID, matched together with the name against known verifiers:
    /// [`key_hash`](super::key_hash) for a plain signature,
    /// [`cosignature_key_hash`](super::cosignature_key_hash) for a cosignature.
    pub key_hash: [u8; 4],
    /// The cosigning time in POSIX seconds for a `cosignature/v1` cosignature, `None` for a
    /// plain signature. It is part of what a cosignature signs, so it cannot be altered without
    /// invalidating the signature; the line carries it as 8 big-endian bytes between the key ID
    /// and the signature.
    pub timestamp: Option<u64>,
    /// The Ed25519 signature: over the note text for a plain signature, over the
    /// `cosignature/v1` message (see [`super`]) for a cosignature.
    pub signature: [u8; 64],
}

/// The message a `cosignature/v1` cosignature signs:
/// `cosignature/v1\ntime <timestamp in decimal>\n` followed by the note text (final newline
/// included).
pub(super) fn cosignature_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}
