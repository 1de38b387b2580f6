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
//! Verification follows the signed-note rules: a signature whose (name, key ID) pair matches no
//! known verifier is counted as unknown and ignored; a known one is checked with Ed25519
//! `verify_strict`, which also refuses small-order keys and malleable signatures.
//!
//! Specifications: <https://c2sp.org/signed-note> and <https://c2sp.org/tlog-checkpoint>.
//! The reference implementation is `golang.org/x/mod/sumdb/note`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// The most signatures a note may carry.
///
/// The signed-note spec asks verifiers to bound the work a note can demand (and to accept at
/// least 16); 100 is the bound the reference implementation uses, well above the number of
/// consortium nodes that cosign a checkpoint.
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte the signed-note spec assigns to Ed25519.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

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
        hex::encode(.key_hash)
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
    /// A verifier key (`<name>+<key ID hex>+<base64(0x01 ‖ key)>`) or a public key is unusable.
    #[error("bad verifier key: {reason}")]
    BadVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
}

/// A tree head: which log, how many leaves, and the Merkle root over them.
///
/// INVARIANT: `origin` is non-empty and has no control character (so no newline); every
/// extension line is non-empty and has no control character. Hence [`Checkpoint::body`] is
/// always a valid note text that [`Checkpoint::parse_body`] reads back to an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: [u8; 32],
    extensions: Vec<String>,
}

impl Checkpoint {
    /// Builds a checkpoint without extension lines.
    ///
    /// Fails with [`CheckpointError::BadOrigin`] when the origin is empty or holds a control
    /// character, because either would make the note text unparseable.
    pub fn new(
        origin: impl Into<String>,
        size: u64,
        root: [u8; 32],
    ) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        check_origin(&origin)?;
        Ok(Self {
            origin,
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Appends an extension line after the root hash.
    ///
    /// The tlog-checkpoint spec discourages extensions because monitors cannot audit them;
    /// they are supported so that checkpoints from other logs can be read and re-serialised.
    pub fn with_extension(mut self, line: impl Into<String>) -> Result<Self, CheckpointError> {
        let line = line.into();
        check_extension(&line, FIRST_EXTENSION_LINE + self.extensions.len())?;
        self.extensions.push(line);
        Ok(self)
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle root over the first [`Checkpoint::size`] leaves.
    pub fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The extension lines, in order (usually none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text that signatures cover: `origin\nsize\nbase64(root)\n` followed by one
    /// line per extension.
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Parses a note text as a checkpoint body, strictly.
    ///
    /// Only the canonical form is accepted (no leading zeros, canonical padded base64, final
    /// newline, no empty line), so `parse_body(t)?.body() == t`: signatures verified against
    /// [`Checkpoint::body`] cover exactly the bytes that were received.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        check_no_control_characters(text, 1)?;
        let Some(content) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MalformedNote {
                line: line_count(text).max(1),
                reason: "the note text does not end in a newline",
            });
        };
        let mut lines = content.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MalformedNote {
                line: line_count(text) + 1,
                reason: "a checkpoint body needs an origin, a tree size and a root hash line",
            });
        };
        check_origin(origin)?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for (index, line) in lines.enumerate() {
            check_extension(line, FIRST_EXTENSION_LINE + index)?;
            extensions.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// A named Ed25519 key that signs notes.
#[derive(Debug, Clone, Copy)]
pub struct NoteSigner<'a> {
    /// The key name written in the signature line (for Salvage, the operator member's id).
    pub name: &'a str,
    /// The secret key.
    pub key: &'a SigningKey,
}

impl NoteSigner<'_> {
    /// The verifier matching this signer, to hand to whoever checks its signatures.
    pub fn verifier(&self) -> Result<NoteVerifier, CheckpointError> {
        NoteVerifier::new(self.name, self.key.verifying_key())
    }
}

/// A known, trusted key: a key name and an Ed25519 public key.
///
/// INVARIANT: `name` is a valid key name, `key` is canonically encoded and not of small
/// order, and `key_hash == key_hash(&name, &key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    key_hash: [u8; 4],
}

impl NoteVerifier {
    /// Builds a verifier for `key` under `name`.
    ///
    /// Refuses invalid key names, and keys that are of small order or non-canonically encoded:
    /// `verify_strict` would reject every signature by the former, and the latter would give one
    /// point two key IDs.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the public key has small order, so no signature by it can be trusted",
            });
        }
        if key.to_edwards().compress().to_bytes() != key.to_bytes() {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the public key is not canonically encoded",
            });
        }
        Ok(Self {
            key_hash: key_hash(name, &key),
            name: name.to_owned(),
            key,
        })
    }

    /// Parses a verifier key in the standard text form
    /// `<name>+<key ID hex>+<base64(0x01 ‖ key)>`, as printed by `golang.org/x/mod/sumdb/note` and by [`NoteVerifier::to_vkey`].
    ///
    /// The key ID must match the name and key, which catches a key pasted under the wrong name.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hash_hex), Some(key_base64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(CheckpointError::BadVerifierKey {
                reason: "expected <name>+<key ID hex>+<base64 key>",
            });
        };
        check_key_name(name)?;
        let mut claimed_hash = [0u8; 4];
        if hash_hex.len() != 8 || hex::decode_to_slice(hash_hex, &mut claimed_hash).is_err() {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the key ID must be exactly 8 hexadecimal digits",
            });
        }
        let encoded = BASE64
            .decode(key_base64)
            .map_err(|_| CheckpointError::BadVerifierKey {
                reason: "the key is not canonical standard base64",
            })?;
        let Some((&signature_type, key_bytes)) = encoded.split_first() else {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the key is empty",
            });
        };
        if signature_type != ED25519_SIGNATURE_TYPE {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the key's signature type byte is not 0x01 (Ed25519)",
            });
        }
        let key_bytes: &[u8; 32] =
            key_bytes
                .try_into()
                .map_err(|_| CheckpointError::BadVerifierKey {
                    reason: "an Ed25519 public key must be 32 bytes",
                })?;
        let key =
            VerifyingKey::from_bytes(key_bytes).map_err(|_| CheckpointError::BadVerifierKey {
                reason: "the key is not a valid Ed25519 point",
            })?;
        let verifier = Self::new(name, key)?;
        if verifier.key_hash != claimed_hash {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the key ID does not match the key name and public key",
            });
        }
        Ok(verifier)
    }

    /// The verifier key in the standard text form that [`NoteVerifier::from_vkey`] reads.
    pub fn to_vkey(&self) -> String {
        let mut encoded = Vec::with_capacity(33);
        encoded.push(ED25519_SIGNATURE_TYPE);
        encoded.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_hash),
            BASE64.encode(encoded)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID that signature lines by this key carry.
    pub fn key_hash(&self) -> [u8; 4] {
        self.key_hash
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// The signed-note key ID of an Ed25519 key:
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[..4]`.
///
/// The name is hashed in so that one key used under two names yields two IDs.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ED25519_SIGNATURE_TYPE])
        .chain_update(key.as_bytes())
        .finalize()
        .into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

/// One signature line of a note, verified or not.
///
/// Notes produced by [`SignedCheckpoint::parse`], [`SignedCheckpoint::sign`] and
/// [`SignedCheckpoint::cosign`] only hold valid key names; a hand-built signature with an
/// invalid name would serialise into a note that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID, matched together with the name against known verifiers.
    pub key_hash: [u8; 4],
    /// The Ed25519 signature over the note text.
    pub signature: [u8; 64],
}

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
        Ok(Self {
            checkpoint,
            signatures: vec![signature],
        })
    }

    /// Adds one more signature over the same body, after the existing ones.
    ///
    /// Refuses a second signature by the same key (name and key ID), so no cosigner can be
    /// counted twice, and refuses to grow the note past [`MAX_SIGNATURES`]. The same name with
    /// a different key (a rotated key) is accepted.
    pub fn cosign(&mut self, signer: &NoteSigner) -> Result<(), CheckpointError> {
        check_key_name(signer.name)?;
        let hash = key_hash(signer.name, &signer.key.verifying_key());
        if self
            .signatures
            .iter()
            .any(|existing| existing.name == signer.name && existing.key_hash == hash)
        {
            let body_lines = line_count(&self.checkpoint.body());
            return Err(CheckpointError::DuplicateSigner {
                name: signer.name.to_owned(),
                key_hash: hash,
                line: body_lines + 2 + self.signatures.len(),
            });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures {
                count: self.signatures.len() + 1,
                max: MAX_SIGNATURES,
            });
        }
        let signature = sign_text(&self.checkpoint.body(), signer)?;
        self.signatures.push(signature);
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
    /// signatures that are not exactly a key ID and a 64-byte Ed25519 signature, and repeated
    /// signers. Signatures are not checked here; call [`SignedCheckpoint::verify`].
    pub fn parse(note: &str) -> Result<Self, CheckpointError> {
        let frame = frame_note(note)?;
        let checkpoint = Checkpoint::parse_body(frame.text)?;
        let signatures = parse_signature_block(&frame)?;
        Ok(Self {
            checkpoint,
            signatures,
        })
    }

    /// Checks every signature against the known verifiers.
    ///
    /// A signature whose name and key ID match no verifier is only counted as unknown, as the
    /// signed-note spec requires; it stays in the note. A matching one is checked with
    /// `verify_strict` over [`Checkpoint::body`] and listed as valid or invalid by key name.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> VerifiedSigners {
        verify_text(&self.checkpoint.body(), &self.signatures, verifiers)
    }
}

/// The outcome of checking a note's signatures against a set of known verifiers.
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
}

/// The note line holding the first extension: after origin, size and root.
const FIRST_EXTENSION_LINE: usize = 4;

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The length of `base64(4-byte key ID ‖ 64-byte signature)` with padding.
const SIGNATURE_BASE64_LEN: usize = 92;

/// The length of `base64(32-byte root)` with padding.
const ROOT_BASE64_LEN: usize = 44;

/// A signed note cut into its text and its signature block, framing checked.
struct NoteFrame<'a> {
    /// The note text, including its final newline.
    text: &'a str,
    /// The signature lines, each ending in a newline; non-empty.
    signature_block: &'a str,
    /// The 1-based note line of the first signature line.
    first_signature_line: usize,
}

/// Checks the signed-note framing and splits the text from the signatures at the last blank
/// line, as the spec prescribes.
fn frame_note(note: &str) -> Result<NoteFrame<'_>, CheckpointError> {
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
        return Err(CheckpointError::TooManySignatures {
            count,
            max: MAX_SIGNATURES,
        });
    }
    Ok(NoteFrame {
        text,
        signature_block,
        first_signature_line,
    })
}

/// Parses every signature line of a framed note, refusing repeated signers.
fn parse_signature_block(frame: &NoteFrame<'_>) -> Result<Vec<NoteSignature>, CheckpointError> {
    let mut signatures: Vec<NoteSignature> = Vec::new();
    for (index, line) in frame.signature_block.split_terminator('\n').enumerate() {
        let line_number = frame.first_signature_line + index;
        let signature = parse_signature_line(line, line_number)?;
        if signatures
            .iter()
            .any(|seen| seen.name == signature.name && seen.key_hash == signature.key_hash)
        {
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

/// Parses `— <name> <base64(key ID ‖ signature)>` (without its newline).
fn parse_signature_line(line: &str, line_number: usize) -> Result<NoteSignature, CheckpointError> {
    let bad = |reason| CheckpointError::BadSignatureLine {
        line: line_number,
        reason,
    };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| bad("a signature line must start with an em dash (U+2014) and a space"))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| bad("no space separates the key name from the signature"))?;
    key_name_problem(name).map_or(Ok(()), |reason| Err(bad(reason)))?;
    if encoded.len() != SIGNATURE_BASE64_LEN {
        return Err(bad(
            "the signature must be base64 of a 4-byte key ID and a 64-byte Ed25519 signature \
             (92 characters)",
        ));
    }
    let decoded = BASE64
        .decode(encoded)
        .map_err(|_| bad("the signature is not canonical standard base64"))?;
    let Some((key_hash, signature)) = decoded.split_first_chunk::<4>() else {
        return Err(bad("the signature is shorter than its 4-byte key ID"));
    };
    let signature: &[u8; 64] = signature
        .try_into()
        .map_err(|_| bad("an Ed25519 signature must be 64 bytes"))?;
    Ok(NoteSignature {
        name: name.to_owned(),
        key_hash: *key_hash,
        signature: *signature,
    })
}

/// Formats one signature line, newline included.
fn signature_line(signature: &NoteSignature) -> String {
    let mut raw = [0u8; 68];
    let (hash_part, signature_part) = raw.split_at_mut(4);
    hash_part.copy_from_slice(&signature.key_hash);
    signature_part.copy_from_slice(&signature.signature);
    format!(
        "{SIGNATURE_PREFIX}{} {}\n",
        signature.name,
        BASE64.encode(raw)
    )
}

/// Signs a note text with a named key.
fn sign_text(text: &str, signer: &NoteSigner) -> Result<NoteSignature, CheckpointError> {
    check_key_name(signer.name)?;
    let signature: Signature = signer.key.sign(text.as_bytes());
    Ok(NoteSignature {
        name: signer.name.to_owned(),
        key_hash: key_hash(signer.name, &signer.key.verifying_key()),
        signature: signature.to_bytes(),
    })
}

/// Sorts each signature over `text` into valid, invalid or unknown.
fn verify_text(
    text: &str,
    signatures: &[NoteSignature],
    verifiers: &[NoteVerifier],
) -> VerifiedSigners {
    let mut outcome = VerifiedSigners::default();
    for signature in signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| v.name == signature.name && v.key_hash == signature.key_hash)
            .peekable();
        if matching.peek().is_none() {
            outcome.unknown += 1;
            continue;
        }
        let ed25519_signature = Signature::from_bytes(&signature.signature);
        // A (name, key ID) collision between two trusted keys can only come from the trusted
        // list itself, so a signature verifying under any of the matching keys is accepted.
        let verifies = matching.any(|v| {
            v.key
                .verify_strict(text.as_bytes(), &ed25519_signature)
                .is_ok()
        });
        if verifies {
            outcome.valid.push(signature.name.clone());
        } else {
            outcome.invalid.push(signature.name.clone());
        }
    }
    outcome
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

/// Checks an origin line.
fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() {
        return Err(CheckpointError::BadOrigin {
            reason: "the origin is empty",
        });
    }
    if origin.chars().any(|c| c < ' ') {
        return Err(CheckpointError::BadOrigin {
            reason: "the origin contains a control character (a newline would split the body)",
        });
    }
    Ok(())
}

/// Parses the tree size: ASCII decimal digits, no sign, no leading zero unless it is `0`.
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::BadSize {
            reason: "the tree size is empty",
        });
    }
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckpointError::BadSize {
            reason: "the tree size must be ASCII decimal digits only",
        });
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(CheckpointError::BadSize {
            reason: "the tree size has a leading zero",
        });
    }
    line.parse().map_err(|_| CheckpointError::BadSize {
        reason: "the tree size does not fit in 64 bits",
    })
}

/// Parses the root hash: canonical padded standard base64 of exactly 32 bytes.
fn parse_root(line: &str) -> Result<[u8; 32], CheckpointError> {
    if line.len() != ROOT_BASE64_LEN {
        return Err(CheckpointError::BadRoot {
            reason: "the root hash must be base64 of 32 bytes (44 characters)",
        });
    }
    let decoded = BASE64.decode(line).map_err(|_| CheckpointError::BadRoot {
        reason: "the root hash is not canonical standard base64",
    })?;
    decoded
        .as_slice()
        .try_into()
        .map_err(|_| CheckpointError::BadRoot {
            reason: "the root hash does not decode to 32 bytes",
        })
}

/// Checks an extension line, reported at note line `line_number`.
fn check_extension(line: &str, line_number: usize) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::BadExtension {
            line: line_number,
            reason: "extension lines must not be empty (an empty line ends the note text)",
        });
    }
    if line.chars().any(|c| c < ' ') {
        return Err(CheckpointError::BadExtension {
            line: line_number,
            reason: "the extension line contains a control character",
        });
    }
    Ok(())
}

/// Checks a key name, for signers and verifiers.
fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    match key_name_problem(name) {
        None => Ok(()),
        Some(reason) => Err(CheckpointError::KeyNameInvalid {
            name: name.to_owned(),
            reason,
        }),
    }
}

/// Why a key name is invalid, if it is: it must be non-empty, without Unicode white space,
/// plus sign or control character.
fn key_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a key name must not be empty")
    } else if name.chars().any(char::is_whitespace) {
        Some("a key name must not contain white space")
    } else if name.contains('+') {
        Some("a key name must not contain a plus sign (U+002B)")
    } else if name.chars().any(char::is_control) {
        Some("a key name must not contain a control character")
    } else {
        None
    }
}

/// The number of newline-terminated lines in `text` (a trailing partial line not counted).
fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, which is what tests are for"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORIGIN: &str = "salvage/ledger-7f3a";

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn root(seed: u8) -> [u8; 32] {
        let mut root = [0u8; 32];
        for (i, byte) in root.iter_mut().enumerate() {
            *byte = seed.wrapping_mul(31).wrapping_add(i as u8);
        }
        root
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint::new(ORIGIN, 3, root(7)).unwrap()
    }

    /// A note signed by `operator-a` (seed 1) and cosigned by `operator-b` (seed 2).
    fn cosigned() -> (SignedCheckpoint, Vec<NoteVerifier>) {
        let (a, b) = (signing_key(1), signing_key(2));
        let signer_a = NoteSigner {
            name: "operator-a",
            key: &a,
        };
        let signer_b = NoteSigner {
            name: "operator-b",
            key: &b,
        };
        let mut signed = SignedCheckpoint::sign(checkpoint(), &signer_a).unwrap();
        signed.cosign(&signer_b).unwrap();
        let verifiers = vec![signer_a.verifier().unwrap(), signer_b.verifier().unwrap()];
        (signed, verifiers)
    }

    fn fake_signature_line(name: &str) -> String {
        format!("— {name} {}\n", BASE64.encode([9u8; 68]))
    }

    #[test]
    fn body_has_the_tlog_checkpoint_layout() {
        let checkpoint = Checkpoint::new("example.com/log", 0, [0u8; 32]).unwrap();
        assert_eq!(
            checkpoint.body(),
            "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        );
        let extended = checkpoint.with_extension("ext one").unwrap();
        assert_eq!(
            extended.body(),
            "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\n"
        );
        assert_eq!(Checkpoint::parse_body(&extended.body()).unwrap(), extended);
    }

    #[test]
    fn round_trip_sign_note_parse_verify() {
        let key = signing_key(1);
        let signer = NoteSigner {
            name: "operator-a",
            key: &key,
        };
        let signed = SignedCheckpoint::sign(checkpoint(), &signer).unwrap();
        let note = signed.to_note();
        assert!(note.starts_with(&format!("{}\n— operator-a ", checkpoint().body())));
        assert!(note.ends_with('\n'));

        let parsed = SignedCheckpoint::parse(&note).unwrap();
        assert_eq!(parsed, signed);
        assert_eq!(parsed.to_note(), note);
        assert_eq!(parsed.checkpoint.origin(), ORIGIN);
        assert_eq!(parsed.checkpoint.size(), 3);
        assert_eq!(parsed.checkpoint.root(), &root(7));

        let outcome = parsed.verify(&[signer.verifier().unwrap()]);
        assert_eq!(outcome.valid, vec!["operator-a".to_owned()]);
        assert!(outcome.invalid.is_empty());
        assert_eq!(outcome.unknown, 0);
        assert!(outcome.accepted());
    }

    #[test]
    fn cosigned_note_verifies_both_signers_in_order() {
        let (signed, verifiers) = cosigned();
        let note = signed.to_note();
        let parsed = SignedCheckpoint::parse(&note).unwrap();
        assert_eq!(parsed.to_note(), note);
        let names: Vec<_> = parsed.signatures.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["operator-a", "operator-b"]);
        let outcome = parsed.verify(&verifiers);
        assert_eq!(outcome.valid, ["operator-a", "operator-b"]);
        assert!(outcome.accepted());
    }

    #[test]
    fn cosign_refuses_the_same_key_twice_but_accepts_a_rotated_key() {
        let (mut signed, _) = cosigned();
        let a = signing_key(1);
        let again = NoteSigner {
            name: "operator-a",
            key: &a,
        };
        let error = signed.cosign(&again).unwrap_err();
        assert!(matches!(
            error,
            CheckpointError::DuplicateSigner { ref name, line: 7, .. } if name == "operator-a"
        ));
        assert_eq!(signed.signatures.len(), 2);

        let rotated = signing_key(3);
        let rotated_signer = NoteSigner {
            name: "operator-a",
            key: &rotated,
        };
        signed.cosign(&rotated_signer).unwrap();
        let outcome = signed.verify(&[rotated_signer.verifier().unwrap()]);
        assert_eq!(outcome.valid, ["operator-a"]);
        assert_eq!(outcome.unknown, 2);
    }

    #[test]
    fn signer_with_invalid_name_is_refused() {
        let key = signing_key(1);
        for name in ["", "two words", "a+b", "tab\there", "nbsp\u{a0}x"] {
            let signer = NoteSigner { name, key: &key };
            assert!(
                matches!(
                    SignedCheckpoint::sign(checkpoint(), &signer),
                    Err(CheckpointError::KeyNameInvalid { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn verifier_with_a_different_key_does_not_count_the_signature() {
        let (signed, _) = cosigned();
        let other = signing_key(9);
        let wrong = NoteVerifier::new("operator-a", other.verifying_key()).unwrap();
        let outcome = signed.verify(&[wrong]);
        // The key ID differs, so per the spec the signature is unknown to this verifier.
        assert!(outcome.valid.is_empty());
        assert_eq!(outcome.unknown, 2);
        assert!(!outcome.accepted());
    }

    #[test]
    fn signature_by_another_key_under_a_known_key_id_is_invalid() {
        let (mut signed, verifiers) = cosigned();
        let impostor = signing_key(9);
        let forged = impostor.sign(signed.checkpoint.body().as_bytes());
        signed.signatures[0].signature = forged.to_bytes();
        let parsed = SignedCheckpoint::parse(&signed.to_note()).unwrap();
        let outcome = parsed.verify(&verifiers);
        assert_eq!(outcome.valid, ["operator-b"]);
        assert_eq!(outcome.invalid, ["operator-a"]);
        assert!(!outcome.accepted());
    }

    #[test]
    fn changing_any_body_field_invalidates_every_signature() {
        let (signed, verifiers) = cosigned();
        let note = signed.to_note();
        let root_line = BASE64.encode(root(7));
        let mut other_root = root(7);
        other_root[31] ^= 1;
        let tampered = [
            note.replacen("\n3\n", "\n4\n", 1),
            note.replacen(&root_line, &BASE64.encode(other_root), 1),
            note.replacen(ORIGIN, "salvage/ledger-7f3b", 1),
        ];
        for tampered_note in tampered {
            assert_ne!(tampered_note, note);
            let parsed = SignedCheckpoint::parse(&tampered_note).unwrap();
            let outcome = parsed.verify(&verifiers);
            assert!(outcome.valid.is_empty(), "{tampered_note}");
            assert_eq!(outcome.invalid, ["operator-a", "operator-b"]);
        }
    }

    #[test]
    fn unknown_signers_are_counted_and_preserved() {
        let (signed, verifiers) = cosigned();
        let witness = signing_key(4);
        let mut witnessed = signed.clone();
        witnessed
            .cosign(&NoteSigner {
                name: "witness.example/w1",
                key: &witness,
            })
            .unwrap();
        let parsed = SignedCheckpoint::parse(&witnessed.to_note()).unwrap();
        let outcome = parsed.verify(&verifiers);
        assert_eq!(outcome.valid, ["operator-a", "operator-b"]);
        assert_eq!(outcome.unknown, 1);
        assert!(outcome.accepted());
        assert_eq!(parsed.signatures.len(), 3);
        assert_eq!(parsed.to_note(), witnessed.to_note());

        let nobody = parsed.verify(&[]);
        assert_eq!(nobody.unknown, 3);
        assert!(!nobody.accepted());
    }

    #[test]
    fn malformed_notes_are_refused() {
        let (signed, _) = cosigned();
        let note = signed.to_note();
        let body = signed.checkpoint.body();
        let sig_a = signature_line(&signed.signatures[0]);
        let sig_b = signature_line(&signed.signatures[1]);
        let b64_a = sig_a
            .trim_end()
            .rsplit_once(' ')
            .map(|(_, b64)| b64.to_owned())
            .unwrap();

        type Check = fn(&CheckpointError) -> bool;
        let malformed: Check = |e| matches!(e, CheckpointError::MalformedNote { .. });
        let bad_sig: Check = |e| matches!(e, CheckpointError::BadSignatureLine { .. });
        let bad_size: Check = |e| matches!(e, CheckpointError::BadSize { .. });
        let bad_root: Check = |e| matches!(e, CheckpointError::BadRoot { .. });
        let bad_origin: Check = |e| matches!(e, CheckpointError::BadOrigin { .. });
        let bad_ext: Check = |e| matches!(e, CheckpointError::BadExtension { .. });
        let duplicate: Check = |e| matches!(e, CheckpointError::DuplicateSigner { .. });

        let cases: Vec<(&str, String, Check)> = vec![
            ("body only", body.clone(), malformed),
            ("body and blank line", format!("{body}\n"), malformed),
            ("no blank line", format!("{body}{sig_a}"), malformed),
            (
                "no final newline",
                note.trim_end_matches('\n').to_owned(),
                malformed,
            ),
            ("trailing blank line", format!("{note}\n"), malformed),
            ("CR line endings", note.replace('\n', "\r\n"), malformed),
            ("control char in text", format!("\u{1}{note}"), malformed),
            (
                "tab in signature",
                note.replacen("— operator-a ", "— operator-a\t", 1),
                malformed,
            ),
            (
                "text after signatures",
                format!("{note}Unexpected line.\n"),
                bad_sig,
            ),
            (
                "hyphen not em dash",
                note.replacen("— operator-a", "- operator-a", 1),
                bad_sig,
            ),
            (
                "no space after dash",
                note.replacen("— operator-a", "—operator-a", 1),
                bad_sig,
            ),
            (
                "space in key name",
                note.replacen("— operator-a", "— operator a", 1),
                bad_sig,
            ),
            (
                "plus in key name",
                note.replacen("— operator-a", "— operator+a", 1),
                bad_sig,
            ),
            (
                "missing signature",
                note.replacen(&format!(" {b64_a}"), "", 1),
                bad_sig,
            ),
            ("empty signature", note.replacen(&b64_a, "", 1), bad_sig),
            (
                "bad base64",
                note.replacen(&b64_a, &b64_a.replacen('=', "!", 1), 1),
                bad_sig,
            ),
            (
                "signature too short",
                note.replacen(&b64_a, &BASE64.encode([1u8; 67]), 1),
                bad_sig,
            ),
            (
                "signature too long",
                note.replacen(&b64_a, &BASE64.encode([1u8; 72]), 1),
                bad_sig,
            ),
            (
                "duplicate signer",
                format!("{body}\n{sig_a}{sig_b}{sig_a}"),
                duplicate,
            ),
            (
                "leading zero in size",
                note.replacen("\n3\n", "\n03\n", 1),
                bad_size,
            ),
            ("signed size", note.replacen("\n3\n", "\n+3\n", 1), bad_size),
            (
                "size overflow",
                note.replacen("\n3\n", "\n18446744073709551616\n", 1),
                bad_size,
            ),
            (
                "root not base64",
                note.replacen(&BASE64.encode(root(7)), &"*".repeat(44), 1),
                bad_root,
            ),
            (
                "root too short",
                note.replacen(&BASE64.encode(root(7)), &BASE64.encode([1u8; 31]), 1),
                bad_root,
            ),
            (
                "root unpadded",
                note.replacen(
                    &BASE64.encode(root(7)),
                    BASE64.encode(root(7)).trim_end_matches('='),
                    1,
                ),
                bad_root,
            ),
            ("origin missing", note.replacen(ORIGIN, "", 1), bad_origin),
            (
                "empty size line",
                format!("{ORIGIN}\n\n{}\n\n{sig_a}", BASE64.encode(root(7))),
                bad_size,
            ),
            (
                "only two body lines",
                format!("{ORIGIN}\n3\n\n{sig_a}"),
                malformed,
            ),
            (
                "empty extension line",
                format!("{body}\nx\n\n{sig_a}"),
                bad_ext,
            ),
            (
                "replacement character for em dash",
                note.replacen("—", "\u{fffd}", 1),
                bad_sig,
            ),
        ];
        for (label, input, expected) in cases {
            match SignedCheckpoint::parse(&input) {
                Err(ref error) if expected(error) => {}
                other => panic!("{label}: unexpected {other:?}"),
            }
        }
        // An extension of a single space is valid, if discouraged, and survives a round trip.
        let spaced = format!("{body} \n\n{sig_a}");
        assert_eq!(SignedCheckpoint::parse(&spaced).unwrap().to_note(), spaced);
        // Extension lines that could not be parsed back cannot be built either.
        assert!(matches!(
            checkpoint().with_extension(""),
            Err(CheckpointError::BadExtension { line: 4, .. })
        ));
        assert!(bad_ext(&checkpoint().with_extension("a\nb").unwrap_err()));
    }

    #[test]
    fn signature_limit_is_one_hundred() {
        let body = checkpoint().body();
        let lines = |n: usize| -> String {
            (0..n)
                .map(|i| fake_signature_line(&format!("w{i}")))
                .collect()
        };
        let at_limit = format!("{body}\n{}", lines(MAX_SIGNATURES));
        assert_eq!(
            SignedCheckpoint::parse(&at_limit).unwrap().signatures.len(),
            MAX_SIGNATURES
        );
        let over = format!("{body}\n{}", lines(MAX_SIGNATURES + 1));
        assert_eq!(
            SignedCheckpoint::parse(&over).unwrap_err(),
            CheckpointError::TooManySignatures {
                count: 101,
                max: 100
            }
        );

        let mut full = SignedCheckpoint::parse(&at_limit).unwrap();
        let key = signing_key(1);
        assert!(matches!(
            full.cosign(&NoteSigner {
                name: "one-more",
                key: &key
            }),
            Err(CheckpointError::TooManySignatures { count: 101, .. })
        ));
    }

    #[test]
    fn parse_body_enforces_canonical_fields() {
        let root_line = BASE64.encode(root(1));
        let ok = |size: &str| Checkpoint::parse_body(&format!("o\n{size}\n{root_line}\n"));
        assert_eq!(ok("0").unwrap().size(), 0);
        assert_eq!(ok("18446744073709551615").unwrap().size(), u64::MAX);
        for bad in ["00", "01", "-1", "+1", " 1", "1 ", "1_000", "١", "0x10"] {
            assert!(
                matches!(ok(bad), Err(CheckpointError::BadSize { .. })),
                "{bad:?}"
            );
        }
        // Non-zero trailing bits give a second spelling of the same bytes; refused so that
        // re-serialising a parsed body reproduces the signed bytes.
        let zero_root = BASE64.encode([0u8; 32]);
        let non_canonical = zero_root.replacen("A=", "B=", 1);
        assert_eq!(BASE64.decode(&zero_root).unwrap(), [0u8; 32]);
        assert!(matches!(
            Checkpoint::parse_body(&format!("o\n1\n{non_canonical}\n")),
            Err(CheckpointError::BadRoot { .. })
        ));
        assert!(matches!(
            Checkpoint::parse_body(&format!("o\n1\n{root_line}")),
            Err(CheckpointError::MalformedNote { line: 2, .. })
        ));
        assert!(matches!(
            Checkpoint::parse_body(&format!("o\n1\n{root_line}\n\n")),
            Err(CheckpointError::BadExtension { line: 4, .. })
        ));
        assert!(matches!(
            Checkpoint::parse_body(""),
            Err(CheckpointError::MalformedNote { line: 1, .. })
        ));
    }

    #[test]
    fn new_refuses_bad_origins() {
        for origin in ["", "a\nb", "a\rb", "tab\t"] {
            assert!(
                matches!(
                    Checkpoint::new(origin, 1, [0; 32]),
                    Err(CheckpointError::BadOrigin { .. })
                ),
                "{origin:?}"
            );
        }
        // The spec only recommends URL-like origins, so spaces and pluses are allowed.
        assert!(Checkpoint::new("a log+1", 1, [0; 32]).is_ok());
    }

    #[test]
    fn error_messages_say_where() {
        let (signed, _) = cosigned();
        let note = signed.to_note().replacen("\n3\n", "\n03\n", 1);
        let message = SignedCheckpoint::parse(&note).unwrap_err().to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("leading zero"), "{message}");

        let note = format!("{}— bad+name x\n", signed.to_note());
        let message = SignedCheckpoint::parse(&note).unwrap_err().to_string();
        assert!(message.contains("line 7"), "{message}");
    }

    #[test]
    fn verifier_keys_round_trip_and_reject_bad_keys() {
        let key = signing_key(5);
        let verifier = NoteVerifier::new("operator-a", key.verifying_key()).unwrap();
        let vkey = verifier.to_vkey();
        assert!(vkey.starts_with(&format!("operator-a+{}+", hex::encode(verifier.key_hash()))));
        assert_eq!(NoteVerifier::from_vkey(&vkey).unwrap(), verifier);

        for name in ["", "a b", "a+b", "a\u{2003}b"] {
            assert!(matches!(
                NoteVerifier::new(name, key.verifying_key()),
                Err(CheckpointError::KeyNameInvalid { .. })
            ));
        }
        // The identity point has small order; verify_strict would refuse all its signatures.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        assert!(matches!(
            NoteVerifier::new("weak", weak),
            Err(CheckpointError::BadVerifierKey { .. })
        ));
    }

    // Known-answer vectors from golang.org/x/mod/sumdb/note, file note_test.go (TestNewVerifier,
    // TestSign, TestOpen) and the package documentation in note.go, in the golang/mod repository.
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    #[test]
    fn known_answer_go_sumdb_note_vectors() {
        let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
        let enoch = NoteVerifier::from_vkey(ENOCH_VKEY).unwrap();
        assert_eq!(peter.name(), "PeterNeumann");
        assert_eq!(peter.key_hash(), [0xc7, 0x4f, 0x20, 0xa3]);
        assert_eq!(enoch.key_hash(), [0xaf, 0x0c, 0xfe, 0x78]);
        assert_eq!(peter.to_vkey(), PETER_VKEY);

        // The note text is not a checkpoint body, so go through the note-level layer.
        let note = format!("{PETER_TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        let frame = frame_note(&note).unwrap();
        assert_eq!(frame.text, PETER_TEXT);
        let signatures = parse_signature_block(&frame).unwrap();
        let outcome = verify_text(frame.text, &signatures, &[peter.clone(), enoch.clone()]);
        assert_eq!(outcome.valid, ["PeterNeumann", "EnochRoot"]);
        let only_peter = verify_text(frame.text, &signatures, std::slice::from_ref(&peter));
        assert_eq!(only_peter.valid, ["PeterNeumann"]);
        assert_eq!(only_peter.unknown, 1);
        let altered = PETER_TEXT.replace("cryptography", "cryptographY");
        let outcome = verify_text(&altered, &signatures, &[peter.clone(), enoch]);
        assert_eq!(outcome.invalid, ["PeterNeumann", "EnochRoot"]);

        // Ed25519 is deterministic, so signing with the published seed reproduces the line.
        let seed_bytes = BASE64
            .decode(PETER_SKEY.splitn(5, '+').last().unwrap())
            .unwrap();
        assert_eq!(seed_bytes[0], ED25519_SIGNATURE_TYPE);
        let seed: [u8; 32] = seed_bytes[1..].try_into().unwrap();
        let key = SigningKey::from_bytes(&seed);
        let signer = NoteSigner {
            name: "PeterNeumann",
            key: &key,
        };
        assert_eq!(signer.verifier().unwrap(), peter);
        let signature = sign_text(PETER_TEXT, &signer).unwrap();
        assert_eq!(signature_line(&signature), PETER_SIG);

        // The Go test's malformed messages are refused here too.
        let peter_sig_unterminated = PETER_SIG.trim_end_matches('\n');
        let bad = [
            PETER_TEXT.to_owned(),
            format!("{PETER_TEXT}\n"),
            format!("{PETER_TEXT}\n{peter_sig_unterminated}"),
            format!("\u{1}{PETER_TEXT}\n{PETER_SIG}"),
            format!(
                "{PETER_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            ),
            format!("{PETER_TEXT}\n{PETER_SIG}Unexpected line.\n"),
            format!("{PETER_TEXT}\n{}", PETER_SIG.repeat(101)),
        ];
        for note in bad {
            let parsed = frame_note(&note).and_then(|frame| parse_signature_block(&frame));
            assert!(parsed.is_err(), "{note:?}");
        }
    }

    #[test]
    fn mangled_verifier_keys_are_refused() {
        // Port of TestNewVerifier: every proper substring and every single-byte increment of
        // the published key must be refused.
        let bytes = PETER_VKEY.as_bytes();
        for start in 0..=bytes.len() {
            for end in start + 1..=bytes.len() {
                if start == 0 && end == bytes.len() {
                    continue;
                }
                let part = &PETER_VKEY[start..end];
                assert!(NoteVerifier::from_vkey(part).is_err(), "{part:?}");
            }
        }
        for i in 0..bytes.len() {
            let mut mangled = bytes.to_vec();
            mangled[i] += 1;
            let mangled = String::from_utf8(mangled).unwrap();
            assert!(NoteVerifier::from_vkey(&mangled).is_err(), "{mangled:?}");
        }
        // Wrong-length key and unknown algorithm, each with a key ID adjusted to match.
        assert!(
            NoteVerifier::from_vkey(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(matches!(
            NoteVerifier::from_vkey(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(CheckpointError::BadVerifierKey { .. })
        ));
    }

    #[test]
    fn known_answer_c2sp_tlog_checkpoint_example() {
        // The example from c2sp.org/tlog-checkpoint (C2SP/C2SP, tlog-checkpoint.md). Its public
        // key is not published, so only parsing and re-serialisation can be checked.
        let note = "example.com/behind-the-sofa\n\
                    20852163\n\
                    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                    \n\
                    — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        let parsed = SignedCheckpoint::parse(note).unwrap();
        assert_eq!(parsed.checkpoint.origin(), "example.com/behind-the-sofa");
        assert_eq!(parsed.checkpoint.size(), 20_852_163);
        assert_eq!(parsed.to_note(), note);
        let (_, verifiers) = cosigned();
        let outcome = parsed.verify(&verifiers);
        assert_eq!(outcome.unknown, 1);
        assert!(!outcome.accepted());
    }

    #[test]
    fn module_doc_example_is_genuine() {
        let module_source = include_str!("checkpoint.rs");
        let example: String = module_source
            .lines()
            .skip_while(|line| *line != "//! ```text")
            .skip(1)
            .take_while(|line| *line != "//! ```")
            .map(|line| format!("{}\n", line.trim_start_matches("//!").trim_start()))
            .collect();
        let parsed = SignedCheckpoint::parse(&example).unwrap();
        let (a, b) = (signing_key(1), signing_key(2));
        let signer_a = NoteSigner {
            name: "operator-a",
            key: &a,
        };
        let signer_b = NoteSigner {
            name: "operator-b",
            key: &b,
        };
        let mut resigned = SignedCheckpoint::sign(parsed.checkpoint.clone(), &signer_a).unwrap();
        resigned.cosign(&signer_b).unwrap();
        assert_eq!(resigned.to_note(), example);
        assert_eq!(
            signer_a.verifier().unwrap().to_vkey(),
            "operator-a+92e5ef2f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
        );
    }

    fn apply_mutations(note: &str, mutations: &[(usize, u8, u8)]) -> String {
        let mut bytes = note.as_bytes().to_vec();
        for &(position, kind, byte) in mutations {
            if bytes.is_empty() {
                break;
            }
            let at = position % bytes.len();
            match kind % 3 {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
            if let Ok(parsed) = SignedCheckpoint::parse(&text) {
                prop_assert_eq!(parsed.to_note(), text);
            }
        }

        #[test]
        fn parse_never_panics_on_note_like_text(text in "[a-z0-9+/=\n —\u{2014}\r]{0,200}") {
            if let Ok(parsed) = SignedCheckpoint::parse(&text) {
                prop_assert_eq!(parsed.to_note(), text);
            }
        }

        #[test]
        fn mutated_notes_parse_canonically_or_not_at_all(
            mutations in proptest::collection::vec(
                (any::<usize>(), any::<u8>(), prop_oneof![
                    any::<u8>(),
                    proptest::sample::select(b"0123456789AZaz+/=\n -".to_vec()),
                ]),
                1..4,
            )
        ) {
            let (signed, verifiers) = cosigned();
            let note = signed.to_note();
            let mutated = apply_mutations(&note, &mutations);
            if let Ok(parsed) = SignedCheckpoint::parse(&mutated) {
                prop_assert_eq!(parsed.to_note(), mutated);
                if parsed.checkpoint != signed.checkpoint {
                    prop_assert!(parsed.verify(&verifiers).valid.is_empty());
                }
            }
        }
    }
}
