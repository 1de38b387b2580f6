//! The signed note: a checkpoint body, a blank line and signature lines, as the C2SP
//! signed-note spec frames them; signing, cosigning (plain signatures and `cosignature/v1`
//! cosignatures), and parsing the signature block.
//!
//! This is the layer that turns text into a [`SignedCheckpoint`] and back; checking the
//! signatures against known keys is left to [`super::verify`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _};

use super::keys::{check_key_name, key_name_problem};
use super::signature::{NoteSignature, cosignature_message};
use super::verify::{VerifiedSigners, verify_text};
use super::{
    Checkpoint, CheckpointError, MAX_COSIGNATURE_TIMESTAMP, MAX_SIGNATURES, NoteSigner, NoteVerifier,
    check_no_control_characters, cosignature_key_hash, key_hash, line_count,
};

/// A checkpoint with its signatures, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The signed tree head.
    pub checkpoint: Checkpoint,
    /// The signatures over `checkpoint.body()`, in note order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedCheckpoint {
    /// Signs a checkpoint, producing a note with one signature.
    pub fn sign(checkpoint: Checkpoint, signer: &NoteSigner) -> Result<Self, CheckpointError> {
        let signature = sign_text(&checkpoint.body(), signer)?;
        Ok(Self { checkpoint, signatures: vec![signature] })
    }

    /// Adds one more signature over the same body, after the existing ones.
    ///
    /// Refuses a second signature by the same key (name and key ID), so no cosigner can be
    /// counted twice, and refuses to grow the note past [`MAX_SIGNATURES`]. The same name with
    /// a different key (a rotated key) is accepted.
    pub fn cosign(&mut self, signer: &NoteSigner) -> Result<(), CheckpointError> {
        check_key_name(signer.name)?;
        let hash = key_hash(signer.name, &signer.key.verifying_key());
        self.check_room_for(signer.name, hash)?;
        let signature = sign_text(&self.checkpoint.body(), signer)?;
        self.signatures.push(signature);
        Ok(())
    }

    /// Adds a C2SP `cosignature/v1` cosignature made at `timestamp` (POSIX seconds), after the
    /// existing signatures.
    ///
    /// This is how a consortium node that did not produce the checkpoint vouches for it: the
    /// signature covers `cosignature/v1\ntime <timestamp>\n` followed by the note text, and the
    /// line carries the cosigner key ID ([`cosignature_key_hash`]), so verifiers built with
    /// [`NoteVerifier::cosigner`] check it. A node may add both a plain signature and a
    /// cosignature, since their key IDs differ. Refuses a second cosignature by the same key
    /// (name and cosigner key ID), a timestamp above [`MAX_COSIGNATURE_TIMESTAMP`], and growing
    /// the note past [`MAX_SIGNATURES`].
    pub fn add_cosignature(&mut self, signer: &NoteSigner, timestamp: u64) -> Result<(), CheckpointError> {
        check_key_name(signer.name)?;
        if timestamp > MAX_COSIGNATURE_TIMESTAMP {
            return Err(CheckpointError::CosignatureTimestampTooLarge { timestamp });
        }
        let hash = cosignature_key_hash(signer.name, &signer.key.verifying_key());
        self.check_room_for(signer.name, hash)?;
        let signature = cosign_text(&self.checkpoint.body(), signer, timestamp)?;
        self.signatures.push(signature);
        Ok(())
    }

    /// Refuses a signature by a key (name and key ID) that already signs the note, so no signer
    /// is counted twice, and a signature that would take the note past [`MAX_SIGNATURES`].
    fn check_room_for(&self, name: &str, hash: [u8; 4]) -> Result<(), CheckpointError> {
        if self.signatures.iter().any(|existing| existing.name == name && existing.key_hash == hash) {
            let body_lines = line_count(&self.checkpoint.body());
            return Err(CheckpointError::DuplicateSigner {
                name: name.to_owned(),
                key_hash: hash,
                line: body_lines + 2 + self.signatures.len(),
            });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures { count: self.signatures.len() + 1, max: MAX_SIGNATURES });
        }
        Ok(())
    }

    /// The signed note: the body, a blank line, then one signature line per signature in the
    /// order they were added. The output is deterministic, so a parsed note re-serialises to
    /// the identical text.
    pub fn to_note(&self) -> String {
        let mut note = self.checkpoint.body();
        note.push('\n');
        for signature in &self.signatures {
            note.push_str(&signature_line(signature));
        }
        note
    }

    /// Parses a signed checkpoint note, strictly and without panicking on any input.
    ///
    /// Refuses anything but the canonical form: control characters (CR included), a missing
    /// blank line or final newline, no signature, more than [`MAX_SIGNATURES`] signatures,
    /// signatures that are neither a key ID and a 64-byte Ed25519 signature (68 bytes) nor a key
    /// ID, an 8-byte timestamp and a 64-byte signature (76 bytes, a `cosignature/v1`),
    /// cosignature timestamps above [`MAX_COSIGNATURE_TIMESTAMP`], and repeated signers.
    /// Signatures are not checked here; call [`SignedCheckpoint::verify`].
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        let frame = frame_note(note)?;
        let checkpoint = Checkpoint::parse_body(frame.text)?;
        let signatures = parse_signature_block(&frame)?;
        Ok(Self { checkpoint, signatures })
    }

    /// Checks every signature against the known verifiers.
    ///
    /// A signature whose name and key ID match no verifier is only counted as unknown, as the
    /// signed-note spec requires; it stays in the note. A matching one is checked with
    /// `verify_strict` — a plain signature over [`Checkpoint::body`], a cosignature over the
    /// `cosignature/v1` message built from its timestamp and the body — and listed as valid or
    /// invalid by key name. Plain verifiers only match plain signatures and cosigner verifiers
    /// only cosignatures.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> VerifiedSigners {
        verify_text(&self.checkpoint.body(), &self.signatures, verifiers)
    }
}

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The length of `base64(4-byte key ID ‖ 64-byte signature)` with padding.
const SIGNATURE_BASE64_LEN: usize = 92;

/// The length of `base64(4-byte key ID ‖ 8-byte timestamp ‖ 64-byte signature)` with padding,
/// a `cosignature/v1` line.
const COSIGNATURE_BASE64_LEN: usize = 104;

/// A signed note cut into its text and its signature block, framing checked.
pub(super) struct NoteFrame<'a> {
    /// The note text, including its final newline.
    pub(super) text: &'a str,
    /// The signature lines, each ending in a newline; non-empty.
    signature_block: &'a str,
    /// The 1-based note line of the first signature line.
    first_signature_line: usize,
}

/// Checks the signed-note framing and splits the text from the signatures at the last blank
/// line, as the spec prescribes.
pub(super) fn frame_note(note: &str) -> Result<NoteFrame<'_>, CheckpointError> {
    check_no_control_characters(note, 1)?;
    let Some((before_blank, signature_block)) = note.rsplit_once("\n\n") else {
        return Err(CheckpointError::MalformedNote {
            line: line_count(note).max(1),
            reason: "no blank line separates the note text from the signatures",
        });
    };
    let Some((text, _)) = note.split_at_checked(before_blank.len() + 1) else {
        return Err(CheckpointError::MalformedNote {
            line: 1,
            reason: "the note text could not be cut at its final newline",
        });
    };
    let first_signature_line = line_count(text) + 2;
    if signature_block.is_empty() {
        return Err(CheckpointError::MalformedNote {
            line: first_signature_line,
            reason: "no signature line follows the blank line",
        });
    }
    if !signature_block.ends_with('\n') {
        return Err(CheckpointError::MalformedNote {
            line: first_signature_line + line_count(signature_block),
            reason: "the note does not end in a newline",
        });
    }
    let count = line_count(signature_block);
    if count > MAX_SIGNATURES {
        return Err(CheckpointError::TooManySignatures { count, max: MAX_SIGNATURES });
    }
    Ok(NoteFrame { text, signature_block, first_signature_line })
}

/// Parses every signature line of a framed note, refusing repeated signers.
pub(super) fn parse_signature_block(frame: &NoteFrame<'_>) -> Result<Vec<NoteSignature>, CheckpointError> {
    let mut signatures: Vec<NoteSignature> = Vec::new();
    for (index, line) in frame.signature_block.split_terminator('\n').enumerate() {
        let line_number = frame.first_signature_line + index;
        let signature = parse_signature_line(line, line_number)?;
        if signatures.iter().any(|seen| seen.name == signature.name && seen.key_hash == signature.key_hash) {
            return Err(CheckpointError::DuplicateSigner {
                name: signature.name,
                key_hash: signature.key_hash,
                line: line_number,
            });
        }
        signatures.push(signature);
    }
    Ok(signatures)
}

/// Parses `— <name> <base64(key ID ‖ signature)>` or, for a cosignature,
/// `— <name> <base64(key ID ‖ timestamp ‖ signature)>` (without its newline).
fn parse_signature_line(line: &str, line_number: usize) -> Result<NoteSignature, CheckpointError> {
    let bad = |reason| CheckpointError::BadSignatureLine { line: line_number, reason };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| bad("a signature line must start with an em dash (U+2014) and a space"))?;
    let (name, encoded) =
        rest.split_once(' ').ok_or_else(|| bad("no space separates the key name from the signature"))?;
    key_name_problem(name).map_or(Ok(()), |reason| Err(bad(reason)))?;
    let is_cosignature = match encoded.len() {
        SIGNATURE_BASE64_LEN => false,
        COSIGNATURE_BASE64_LEN => true,
        _ => {
            return Err(bad("the signature must be base64 of a 4-byte key ID and a 64-byte Ed25519 \
                 signature (92 characters), or of a 4-byte key ID, an 8-byte timestamp and a \
                 64-byte Ed25519 signature for a cosignature/v1 (104 characters)"));
        }
    };
    let decoded = BASE64.decode(encoded).map_err(|_| bad("the signature is not canonical standard base64"))?;
    let Some((key_hash, rest)) = decoded.split_first_chunk::<4>() else {
        return Err(bad("the signature is shorter than its 4-byte key ID"));
    };
    let (timestamp, signature) = if is_cosignature {
        let Some((timestamp, signature)) = rest.split_first_chunk::<8>() else {
            return Err(bad("the cosignature is shorter than its 8-byte timestamp"));
        };
        let timestamp = u64::from_be_bytes(*timestamp);
        if timestamp > MAX_COSIGNATURE_TIMESTAMP {
            return Err(bad("the cosignature timestamp is greater than 2^63-1, which cosignature/v1 forbids"));
        }
        (Some(timestamp), signature)
    } else {
        (None, rest)
    };
    let signature: &[u8; 64] = signature.try_into().map_err(|_| bad("an Ed25519 signature must be 64 bytes"))?;
    Ok(NoteSignature { name: name.to_owned(), key_hash: *key_hash, timestamp, signature: *signature })
}

/// Formats one signature line, newline included: 68 decoded bytes for a plain signature, 76
/// (with the big-endian timestamp after the key ID) for a cosignature.
pub(super) fn signature_line(signature: &NoteSignature) -> String {
    let mut raw = Vec::with_capacity(76);
    raw.extend_from_slice(&signature.key_hash);
    if let Some(timestamp) = signature.timestamp {
        raw.extend_from_slice(&timestamp.to_be_bytes());
    }
    raw.extend_from_slice(&signature.signature);
    format!("{SIGNATURE_PREFIX}{} {}\n", signature.name, BASE64.encode(raw))
}

/// Signs a note text with a named key.
pub(super) fn sign_text(text: &str, signer: &NoteSigner) -> Result<NoteSignature, CheckpointError> {
    check_key_name(signer.name)?;
    let signature: Signature = signer.key.sign(text.as_bytes());
    Ok(NoteSignature {
        name: signer.name.to_owned(),
        key_hash: key_hash(signer.name, &signer.key.verifying_key()),
        timestamp: None,
        signature: signature.to_bytes(),
    })
}

/// Makes a `cosignature/v1` cosignature of a note text at `timestamp` with a named key.
///
/// The caller checks the timestamp bound; this only signs.
pub(super) fn cosign_text(text: &str, signer: &NoteSigner, timestamp: u64) -> Result<NoteSignature, CheckpointError> {
    check_key_name(signer.name)?;
    let signature: Signature = signer.key.sign(cosignature_message(text, timestamp).as_bytes());
    Ok(NoteSignature {
        name: signer.name.to_owned(),
        key_hash: cosignature_key_hash(signer.name, &signer.key.verifying_key()),
        timestamp: Some(timestamp),
        signature: signature.to_bytes(),
    })
}
