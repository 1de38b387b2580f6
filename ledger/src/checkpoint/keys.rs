//! Named Ed25519 keys: [`NoteSigner`] for signing, [`NoteVerifier`] for checking plain
//! signatures or `cosignature/v1` cosignatures, the key IDs of both kinds ([`key_hash`],
//! [`cosignature_key_hash`]) and the rules for key names.
//!
//! Keys are kept apart from notes because verifiers are configured from text (`vkey` strings)
//! long before any note arrives.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::{COSIGNATURE_V1_TYPE, CheckpointError, ED25519_SIGNATURE_TYPE};

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

    /// The verifier of this signer's `cosignature/v1` cosignatures (those made with
    /// [`super::SignedCheckpoint::add_cosignature`]).
    pub fn cosigner_verifier(&self) -> Result<NoteVerifier, CheckpointError> {
        NoteVerifier::cosigner(self.name, self.key.verifying_key())
    }
}

/// Which kind of signature a [`NoteVerifier`] checks.
///
/// The kind decides the key ID, the type byte of the text form and the signed message, and a
/// verifier only ever matches signatures of its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VerifierKind {
    /// A plain signed-note Ed25519 signature (type 0x01) over the note text.
    Note,
    /// A C2SP `cosignature/v1` Ed25519 cosignature (type 0x04) over the timestamped message.
    Cosigner,
}

impl VerifierKind {
    /// The signature type byte of this kind.
    fn type_byte(self) -> u8 {
        match self {
            Self::Note => ED25519_SIGNATURE_TYPE,
            Self::Cosigner => COSIGNATURE_V1_TYPE,
        }
    }

    /// The key ID of `key` under `name` for this kind.
    fn key_hash(self, name: &str, key: &VerifyingKey) -> [u8; 4] {
        typed_key_hash(name, self.type_byte(), key)
    }
}

/// A known, trusted key: a key name and an Ed25519 public key, either for plain signed-note
/// signatures ([`NoteVerifier::new`]) or for `cosignature/v1` cosignatures
/// ([`NoteVerifier::cosigner`]).
///
/// INVARIANT: `name` is a valid key name, `key` is canonically encoded and not of small
/// order, and `key_hash == kind.key_hash(&name, &key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    key_hash: [u8; 4],
    kind: VerifierKind,
}

impl NoteVerifier {
    /// Builds a verifier for `key` under `name`.
    ///
    /// Refuses invalid key names, and keys that are of small order or non-canonically encoded:
    /// `verify_strict` would reject every signature by the former, and the latter would give one
    /// point two key IDs.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, CheckpointError> {
        Self::with_kind(name, key, VerifierKind::Note)
    }

    /// Builds a verifier of `cosignature/v1` cosignatures by `key` under `name`.
    ///
    /// Its key ID is [`cosignature_key_hash`], and it only ever matches cosignatures, never
    /// plain signatures by the same key. The key checks are those of [`NoteVerifier::new`].
    pub fn cosigner(name: &str, key: VerifyingKey) -> Result<Self, CheckpointError> {
        Self::with_kind(name, key, VerifierKind::Cosigner)
    }

    /// Checks the name and key and builds a verifier of the given kind.
    fn with_kind(name: &str, key: VerifyingKey, kind: VerifierKind) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(CheckpointError::BadVerifierKey {
                reason: "the public key has small order, so no signature by it can be trusted",
            });
        }
        if key.to_edwards().compress().to_bytes() != key.to_bytes() {
            return Err(CheckpointError::BadVerifierKey { reason: "the public key is not canonically encoded" });
        }
        Ok(Self { key_hash: kind.key_hash(name, &key), name: name.to_owned(), key, kind })
    }

    /// Parses a verifier key in the standard text form
    /// `<name>+<key ID hex>+<base64(0x01 ‖ key)>`, as printed by `golang.org/x/mod/sumdb/note` and by [`NoteVerifier::to_vkey`],
    /// or a cosigner key `<name>+<key ID hex>+<base64(0x04 ‖ key)>`, which yields a verifier
    /// like [`NoteVerifier::cosigner`].
    ///
    /// The key ID must match the name, type and key, which catches a key pasted under the wrong
    /// name.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hash_hex), Some(key_base64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CheckpointError::BadVerifierKey { reason: "expected <name>+<key ID hex>+<base64 key>" });
        };
        check_key_name(name)?;
        let mut claimed_hash = [0u8; 4];
        // Not the wire's lowercase-only hex (`crate::hex`): the note tooling that writes
        // vkeys reads key IDs in either case, so a vkey from it is taken as it reads them.
        if hash_hex.len() != 8 || hex::decode_to_slice(hash_hex, &mut claimed_hash).is_err() {
            return Err(CheckpointError::BadVerifierKey { reason: "the key ID must be exactly 8 hexadecimal digits" });
        }
        let encoded = BASE64
            .decode(key_base64)
            .map_err(|_| CheckpointError::BadVerifierKey { reason: "the key is not canonical standard base64" })?;
        let Some((&signature_type, key_bytes)) = encoded.split_first() else {
            return Err(CheckpointError::BadVerifierKey { reason: "the key is empty" });
        };
        let kind = match signature_type {
            ED25519_SIGNATURE_TYPE => VerifierKind::Note,
            COSIGNATURE_V1_TYPE => VerifierKind::Cosigner,
            _ => {
                return Err(CheckpointError::BadVerifierKey {
                    reason: "the key's signature type byte is neither 0x01 (Ed25519) nor 0x04 \
                             (Ed25519 cosignature/v1)",
                });
            }
        };
        let key_bytes: &[u8; 32] = key_bytes
            .try_into()
            .map_err(|_| CheckpointError::BadVerifierKey { reason: "an Ed25519 public key must be 32 bytes" })?;
        let key = VerifyingKey::from_bytes(key_bytes)
            .map_err(|_| CheckpointError::BadVerifierKey { reason: "the key is not a valid Ed25519 point" })?;
        let verifier = Self::with_kind(name, key, kind)?;
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
        encoded.push(self.kind.type_byte());
        encoded.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, crate::hex::to_lower_hex(self.key_hash), BASE64.encode(encoded))
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

    /// Whether this verifier checks `cosignature/v1` cosignatures (built by
    /// [`NoteVerifier::cosigner`] or read from a 0x04 key) rather than plain signatures.
    pub fn is_cosigner(&self) -> bool {
        self.kind == VerifierKind::Cosigner
    }
}

/// The signed-note key ID of an Ed25519 key:
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[..4]`.
///
/// The name is hashed in so that one key used under two names yields two IDs.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    typed_key_hash(name, ED25519_SIGNATURE_TYPE, key)
}

/// The `cosignature/v1` key ID of an Ed25519 key:
/// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[..4]`.
///
/// The different type byte gives a cosigner key an ID distinct from [`key_hash`] of the same
/// key, so a verifier can tell from the signature line which kind of signature to expect.
pub fn cosignature_key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    typed_key_hash(name, COSIGNATURE_V1_TYPE, key)
}

/// `SHA-256(name ‖ 0x0A ‖ type ‖ 32-byte public key)[..4]`, the key ID for either type.
fn typed_key_hash(name: &str, signature_type: u8, key: &VerifyingKey) -> [u8; 4] {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', signature_type])
        .chain_update(key.as_bytes())
        .finalize()
        .into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

/// Checks a key name, for signers and verifiers.
pub(super) fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    match key_name_problem(name) {
        None => Ok(()),
        Some(reason) => Err(CheckpointError::KeyNameInvalid { name: name.to_owned(), reason }),
    }
}

/// Why a key name is invalid, if it is: it must be non-empty, without Unicode white space,
/// plus sign or control character.
pub(super) fn key_name_problem(name: &str) -> Option<&'static str> {
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
