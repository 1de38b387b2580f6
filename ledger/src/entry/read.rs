//! Reading entries and submissions straight from their canonical bytes, the fast path of
//! replication (every node decodes every entry) and of submissions sent as they were signed;
//! and writing a submission in that form.
//!
//! A [`Cursor`] accepts only the canonical spelling, so what it reads is what the strict parser
//! would build; any other bytes get `None` here and the strict parser's verdict from the
//! callers, so a refusal reads the same whichever path the bytes took.

use ed25519_dalek::Signature;

use super::id::LedgerId;
use super::kind::Kind;
use super::statement::Statement;
use super::timestamp::Timestamp;
use super::{EntrySignature, SignedEntry};
use crate::canonical::decode::Cursor;
use crate::key::PublicKey;
use crate::refusal::Refusal;

/// The entries of a submission sent in the canonical encoding, as
/// [`SignedEntry::read_canonical_submission`] reads them.
#[derive(Debug)]
pub enum CanonicalSubmission {
    /// A body holding one entry.
    One(SignedEntry),
    /// A body holding a JSON array of entries (never empty).
    Many(Vec<SignedEntry>),
}

impl SignedEntry {
    /// Parses a signed entry from bytes that should already be its canonical
    /// JSON, as replicated batches carry them (every node of a consortium parses
    /// every entry, so this is on each node's hot path).
    ///
    /// The bytes are read straight into the entry by a cursor that accepts only
    /// the canonical spelling ([`crate::canonical`]'s `decode`), without serde's
    /// generic tree building, the duplicate-key scan of
    /// [`SignedEntry::from_json_bytes`] or encoding the statement again to check
    /// it: canonical JSON has no duplicate keys, no whitespace and one spelling
    /// per value, so nothing the strict parser would refuse can pass. Any other
    /// bytes go through [`SignedEntry::from_json_bytes`], so the verdict is always
    /// the strict one.
    pub fn from_canonical_json(bytes: &[u8]) -> Result<Self, Refusal> {
        match Self::read_canonical_whole(bytes) {
            Some(entry) => Ok(entry),
            None => Self::from_json_bytes(bytes),
        }
    }

    /// The entry, if `bytes` are its canonical encoding and nothing more.
    pub(super) fn read_canonical_whole(bytes: &[u8]) -> Option<SignedEntry> {
        let mut cursor = Cursor::new(bytes)?;
        let entry = Self::read_canonical(&mut cursor)?;
        cursor.at_end().then_some(entry)
    }

    /// Reads a submission sent as its entries were signed: one entry's canonical
    /// JSON, or a non-empty JSON array of them without whitespace (what
    /// [`SignedEntry::canonical_array`] writes). Such a body is read without the
    /// strict parser's tree and yields exactly the entries the strict parser
    /// would; `None` for any other body, valid or not, which the caller then
    /// parses strictly ([`SignedEntry::from_json_bytes`], or
    /// [`crate::canonical::parse_strict`] for an array).
    pub fn read_canonical_submission(bytes: &[u8]) -> Option<CanonicalSubmission> {
        let mut cursor = Cursor::new(bytes)?;
        let submission = if cursor.eat("[") {
            let mut entries = Vec::new();
            loop {
                entries.push(Self::read_canonical(&mut cursor)?);
                if cursor.eat("]") {
                    break CanonicalSubmission::Many(entries);
                }
                cursor.literal(",")?;
            }
        } else {
            CanonicalSubmission::One(Self::read_canonical(&mut cursor)?)
        };
        cursor.at_end().then_some(submission)
    }

    /// The canonical JSON of a JSON array of `entries`: what a client sends to
    /// submit them at once, read by a node without its strict parser
    /// ([`SignedEntry::read_canonical_submission`]).
    pub fn canonical_array(entries: &[SignedEntry]) -> Vec<u8> {
        let size: usize = entries.iter().map(|entry| entry.canonical_len_hint() + 1).sum();
        let mut out = Vec::with_capacity(size + 1);
        out.push(b'[');
        for (index, entry) in entries.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            entry.write_canonical(&mut out);
        }
        out.push(b']');
        out
    }

    /// Reads an entry at `cursor` if the text there is its canonical encoding:
    /// `{"signatures":[{"key":…,"sig":…},…],"statement":…}`. Its canonical
    /// statement is then the slice that holds it, hashed as it stands.
    pub(crate) fn read_canonical(cursor: &mut Cursor<'_>) -> Option<SignedEntry> {
        cursor.literal("{\"signatures\":[")?;
        let mut signatures = Vec::with_capacity(1);
        if !cursor.eat("]") {
            loop {
                cursor.literal("{\"key\":\"")?;
                let key = PublicKey::from_bytes(&cursor.hex::<32>()?)?;
                cursor.literal("\",\"sig\":\"")?;
                let sig = Signature::from_bytes(&cursor.hex::<64>()?);
                cursor.literal("\"}")?;
                signatures.push(EntrySignature { key, sig });
                if cursor.eat("]") {
                    break;
                }
                cursor.literal(",")?;
            }
        }
        cursor.literal(",\"statement\":")?;
        let start = cursor.position();
        let statement = Statement::read_canonical(cursor)?;
        let canonical = cursor.read_since(start)?.to_vec();
        cursor.literal("}")?;
        Some(Self::from_canonical_statement(statement, signatures, canonical))
    }
}

impl Statement {
    /// Reads a statement at `cursor` if the text there is its canonical
    /// encoding: `{"body":…,"kind":…,["ledger":…,]"time":…}`, the members in
    /// JCS order, as the statement's own deserialiser reads them.
    fn read_canonical(cursor: &mut Cursor<'_>) -> Option<Statement> {
        cursor.literal("{\"body\":")?;
        let body = cursor.value()?;
        cursor.literal(",\"kind\":\"")?;
        let kind: Kind = cursor.plain_string()?.parse().ok()?;
        let ledger = if cursor.eat(",\"ledger\":\"") {
            let id = LedgerId(cursor.hex::<32>()?);
            cursor.literal("\"")?;
            Some(id)
        } else {
            None
        };
        cursor.literal(",\"time\":\"")?;
        let time = Timestamp::parse(cursor.plain_string()?).ok()?;
        cursor.literal("}")?;
        Some(Statement { ledger, kind, time, body })
    }
}
