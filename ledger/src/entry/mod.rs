//! Signed entries: the statements clients submit, and their Ed25519 signatures.
//!
//! A signed entry is `{"statement": {...}, "signatures": [{"key", "sig"}, ...]}`.
//! Each signature is Ed25519 over `salvage-ledger/v1\n` followed by the RFC 8785
//! canonical bytes of the statement; the entry id is the blake3 hash of those
//! canonical bytes, so the same statement always has the same id however often
//! it is submitted or whoever signs it.

// The parts of an entry each have a file: its ids, its kind, its time and the statement they
// make up, and the canonical fast path of reading it; the signed entry itself is here. Public
// keys live in `crate::key`, which the ledger's other layers share.
mod id;
mod kind;
mod read;
mod statement;
mod timestamp;

pub use id::{EntryId, LedgerId};
pub use kind::Kind;
pub use read::CanonicalSubmission;
pub use statement::Statement;
pub use timestamp::Timestamp;

pub use crate::key::PublicKey;

use std::borrow::Borrow;
use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::canonical;
use crate::hex::{parse_lower_hex, write_lower_hex};
use crate::refusal::{Refusal, RefusalCode};
use crate::signature::SignatureCheck;

/// The bytes every signed message starts with, so that a Salvage signature can
/// never be replayed as a signature of another protocol (domain separation).
pub const SIGNING_CONTEXT: &[u8] = crate::SIGNING_CONTEXT_LABEL.as_bytes();

/// The most signatures one entry may carry; bounds the work of verifying it.
pub const MAX_SIGNATURES: usize = 16;

/// The bytes a signature covers: the signing context, then the canonical statement.
pub fn signing_message(canonical_statement: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + canonical_statement.len());
    message.extend_from_slice(SIGNING_CONTEXT);
    message.extend_from_slice(canonical_statement);
    message
}

/// One signature of a statement and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySignature {
    /// The signer's public key.
    pub key: PublicKey,
    /// The Ed25519 signature, 128 lowercase hex digits.
    #[serde(with = "signature_hex")]
    pub sig: Signature,
}

/// A statement with its signatures, as clients submit it.
// INVARIANT: `id` and `canonical` are derived from `statement` and kept in step
// by the constructors; the fields are private so nothing can change one alone.
// The one exception is `without_body_tree`, whose entry has a `null` body beside
// the canonical bytes of the real one: the ledger makes such entries only for
// its sequencer, which records them from their canonical bytes and drops them.
#[derive(Clone, PartialEq)]
pub struct SignedEntry {
    statement: Statement,
    signatures: Vec<EntrySignature>,
    canonical: Vec<u8>,
    id: EntryId,
}

impl SignedEntry {
    /// Builds an entry from a statement and its signatures (not yet verified).
    ///
    /// Floats with integral values in the body become the integers the canonical bytes hold,
    /// so the entry is the one those bytes read back to, whichever way the JSON spelled them.
    pub fn new(mut statement: Statement, signatures: Vec<EntrySignature>) -> Self {
        canonical::integral_floats_as_integers(&mut statement.body);
        let canonical = statement.canonical_bytes();
        let id = EntryId(*blake3::hash(&canonical).as_bytes());
        SignedEntry { statement, signatures, canonical, id }
    }

    /// Builds an entry from a statement whose canonical bytes the caller already
    /// holds, e.g. because it read them verbatim from a canonical record.
    ///
    /// The caller must guarantee that `canonical` is exactly
    /// `statement.canonical_bytes()`; debug builds check it.
    pub(crate) fn from_canonical_statement(
        statement: Statement,
        signatures: Vec<EntrySignature>,
        canonical: Vec<u8>,
    ) -> Self {
        debug_assert_eq!(canonical, statement.canonical_bytes(), "the canonical bytes must be the statement's");
        let id = EntryId(*blake3::hash(&canonical).as_bytes());
        SignedEntry { statement, signatures, canonical, id }
    }

    /// Signs a statement with one or more keys.
    pub fn sign(statement: Statement, keys: &[&SigningKey]) -> Result<Self, Refusal> {
        canonical::check_numbers(&statement.body).map_err(Refusal::from)?;
        let mut entry = Self::new(statement, Vec::new());
        let message = signing_message(&entry.canonical);
        entry.signatures =
            keys.iter().map(|key| EntrySignature { key: PublicKey::of(key), sig: key.sign(&message) }).collect();
        Ok(entry)
    }

    /// Parses a signed entry from JSON bytes, strictly (see [`crate::canonical`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, Refusal> {
        let value = canonical::parse_strict(bytes).map_err(Refusal::from)?;
        Self::from_value(value)
    }

    /// Decodes a signed entry from an already strictly parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, Refusal> {
        canonical::check_numbers(&value).map_err(Refusal::from)?;
        let value = match Self::moving_body(value) {
            Ok(entry) => return Ok(entry),
            Err(value) => value,
        };
        // A well-spelled signing key that is no curve point breaks its own rule,
        // `key.invalid`, which serde only knows as a malformed entry. Such keys are
        // noted before the value is consumed and decompressed only if decoding
        // fails, so that a good entry's keys are decompressed once, not twice.
        let spelled_keys: Vec<String> = value
            .get("signatures")
            .and_then(Value::as_array)
            .map(|signatures| {
                let keys = signatures.iter().filter_map(|signature| signature.get("key")?.as_str());
                keys.filter(|key| parse_lower_hex::<32>(key).is_ok()).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        match serde_json::from_value::<SignedEntryWire>(value) {
            Ok(wire) => Ok(Self::new(wire.statement, wire.signatures)),
            Err(error) => {
                for key in &spelled_keys {
                    PublicKey::from_hex(key)?;
                }
                Err(Refusal::new(RefusalCode::EntryMalformed, format!("not a signed entry: {error}")))
            }
        }
    }

    /// Decodes a value of exactly the wire's shape, moving its body into the
    /// statement: serde would rebuild the body's whole tree, which for a
    /// submission costs as much as parsing it did. Anything else (an unknown
    /// or missing member, a member serde refuses) gives the value back
    /// untouched, for serde to decode or to refuse with its own message.
    fn moving_body(mut value: Value) -> Result<Self, Value> {
        let decoded = (|| {
            let entry = value.as_object().filter(|entry| entry.len() == 2)?;
            let signatures = Vec::<EntrySignature>::deserialize(entry.get("signatures")?).ok()?;
            let statement = entry.get("statement")?.as_object()?;
            let ledger = statement.get("ledger").map(LedgerId::deserialize).transpose().ok()?;
            let members = 3 + usize::from(ledger.is_some());
            if statement.len() != members || !statement.contains_key("body") {
                return None;
            }
            let kind = Kind::deserialize(statement.get("kind")?).ok()?;
            let time = Timestamp::deserialize(statement.get("time")?).ok()?;
            Some((ledger, kind, time, signatures))
        })();
        let Some((ledger, kind, time, signatures)) = decoded else {
            return Err(value);
        };
        let body = match value.get_mut("statement").and_then(|statement| statement.get_mut("body")) {
            Some(body) => body.take(),
            None => return Err(value),
        };
        Ok(Self::new(Statement { ledger, kind, time, body }, signatures))
    }

    /// The statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The entry without its body's JSON tree (the body becomes `null`), for an
    /// entry whose only remaining use is to be recorded: the record is written
    /// from the canonical bytes, id and signatures, which stay.
    pub(crate) fn without_body_tree(mut self) -> SignedEntry {
        self.statement.body = Value::Null;
        self
    }

    /// The signatures, in the order given.
    pub fn signatures(&self) -> &[EntrySignature] {
        &self.signatures
    }

    /// The entry id.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// The canonical bytes of the statement.
    pub fn canonical_statement(&self) -> &[u8] {
        &self.canonical
    }

    /// Checks every signature under `verify_strict`'s rule; this decides acceptance.
    ///
    /// It does not check who the keys belong to: that depends on the ledger's
    /// membership and is the custody rules' job.
    pub fn verify_signatures(&self) -> Result<(), Refusal> {
        // One entry gets one verdict; were it missing, the entry would be refused, not let through.
        Self::verify_signatures_each(std::slice::from_ref(self)).pop().unwrap_or_else(|| {
            Err(Refusal::new(
                RefusalCode::SignatureInvalid,
                format!("the signatures of entry {} could not be checked", self.id),
            ))
        })
    }

    /// [`SignedEntry::verify_signatures`]'s verdict for each of `entries`, in
    /// order, with all their signatures checked in one list so that they share
    /// the field inversion of the last step (see [`crate::signature`]).
    /// The entries may be owned or borrowed (the audit's stay inside their records).
    pub(crate) fn verify_signatures_each<E: Borrow<SignedEntry>>(entries: &[E]) -> Vec<Result<(), Refusal>> {
        let entries: Vec<&SignedEntry> = entries.iter().map(Borrow::borrow).collect();
        let structure: Vec<Result<(), Refusal>> = entries.iter().map(|entry| entry.check_signature_set()).collect();
        let messages: Vec<[&[u8]; 2]> =
            entries.iter().map(|entry| [SIGNING_CONTEXT, entry.canonical.as_slice()]).collect();
        let checks: Vec<SignatureCheck<'_>> = entries
            .iter()
            .zip(&messages)
            .zip(&structure)
            .filter(|(_, structure)| structure.is_ok())
            .flat_map(|((entry, message), _)| {
                entry.signatures.iter().map(move |signature| SignatureCheck {
                    key: signature.key.verifying_key(),
                    message,
                    signature: &signature.sig,
                })
            })
            .collect();
        let mut verdicts = crate::signature::verify_strict_each(&checks).into_iter();
        entries
            .iter()
            .zip(structure)
            .map(|(entry, structure)| {
                structure?;
                // Each entry takes exactly its own verdicts, so the next starts at
                // its first; a missing verdict counts as a failed one.
                for (index, signature) in entry.signatures.iter().enumerate() {
                    if verdicts.next() != Some(true) {
                        // The rest of this entry's verdicts are skipped.
                        verdicts.by_ref().take(entry.signatures.len() - index - 1).for_each(drop);
                        return Err(Refusal::new(
                            RefusalCode::SignatureInvalid,
                            format!(
                                "signature {index} by key {} does not verify over entry {}",
                                signature.key, entry.id
                            ),
                        ));
                    }
                }
                Ok(())
            })
            .collect()
    }

    /// The structural checks on the signature list that need no cryptography.
    pub(crate) fn check_signature_set(&self) -> Result<(), Refusal> {
        if self.signatures.is_empty() {
            return Err(Refusal::new(RefusalCode::SignatureMissing, format!("entry {} carries no signature", self.id)));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(Refusal::new(
                RefusalCode::SignatureTooMany,
                format!(
                    "entry {} carries {} signatures; at most {MAX_SIGNATURES} are accepted",
                    self.id,
                    self.signatures.len()
                ),
            ));
        }
        let mut keys = std::collections::BTreeSet::new();
        for signature in &self.signatures {
            if !keys.insert(signature.key) {
                return Err(Refusal::new(
                    RefusalCode::SignatureDuplicate,
                    format!("key {} signs entry {} more than once", signature.key, self.id),
                ));
            }
        }
        Ok(())
    }

    /// The entry as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The RFC 8785 canonical bytes of the entry, `{"signatures":[…],"statement":…}`,
    /// spliced around the statement's canonical bytes (already known: they were
    /// hashed into the entry id) instead of re-encoding the passport. Every
    /// other value is a plain lowercase-hex string, so the splice is canonical.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.canonical_len_hint());
        self.write_canonical(&mut out);
        out
    }

    /// About how many bytes [`SignedEntry::write_canonical`] writes, a little
    /// more rather than less: the statement, the members' names and brackets,
    /// and each signature's key and signature in hex.
    fn canonical_len_hint(&self) -> usize {
        self.canonical_statement().len() + 40 + 180 * self.signatures.len()
    }

    /// Appends [`SignedEntry::canonical_bytes`] to `out`.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"signatures\":[");
        for (index, signature) in self.signatures.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"key\":\"");
            write_lower_hex(signature.key.verifying_key().as_bytes(), out);
            out.extend_from_slice(b"\",\"sig\":\"");
            write_lower_hex(&signature.sig.to_bytes(), out);
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"statement\":");
        out.extend_from_slice(self.canonical_statement());
        out.push(b'}');
    }
}

impl fmt::Debug for SignedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedEntry")
            .field("id", &self.id)
            .field("statement", &self.statement)
            .field("signatures", &self.signatures)
            .finish()
    }
}

impl Serialize for SignedEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            statement: &'a Statement,
            signatures: &'a [EntrySignature],
        }
        Borrowed { statement: &self.statement, signatures: &self.signatures }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SignedEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = SignedEntryWire::deserialize(deserializer)?;
        Ok(SignedEntry::new(wire.statement, wire.signatures))
    }
}

/// A signed entry as serde reads and writes it: the two members, nothing else.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedEntryWire {
    statement: Statement,
    signatures: Vec<EntrySignature>,
}

/// An Ed25519 signature as the wire spells it: 128 lowercase hex digits.
mod signature_hex {
    use ed25519_dalek::Signature;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &Signature, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::hex::to_lower_hex(sig.to_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Signature, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = crate::hex::parse_lower_hex::<64>(&text).map_err(serde::de::Error::custom)?;
        Ok(Signature::from_bytes(&bytes))
    }
}

#[cfg(test)]
mod tests;
