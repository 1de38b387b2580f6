//! Records and the hash chain that links them.
//!
//! Every accepted entry becomes a record `{"seq", "prev", "accepted", "entry"}`.
//! Its leaf hash, blake3(0x00 ‖ JCS(record)), is both the record's Merkle leaf
//! and the `prev` of the next record, so the log is a hash chain whose every
//! link is also provable by Merkle inclusion.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::canonical::{self, MAX_SAFE_INTEGER, to_canonical_bytes};
use crate::digest::hash_newtype;
use crate::entry::{SignedEntry, Timestamp};
use crate::merkle::{Blake3Hasher, MerkleHasher};
use crate::refusal::{Refusal, RefusalCode};

hash_newtype! {
    /// blake3(0x00 ‖ JCS(record)): a record's Merkle leaf hash and the next record's `prev`.
    LeafHash
}

impl LeafHash {
    /// The `prev` of record 0: 32 zero bytes.
    pub const ZERO: LeafHash = LeafHash([0; 32]);
}

/// The position of a record in the ledger, from 0 (the genesis).
// INVARIANT: at most 2^53 − 1, so it survives every JSON implementation exactly.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seq(u64);

impl Seq {
    /// The genesis position.
    pub const GENESIS: Seq = Seq(0);

    /// A sequence number, if it is within the JSON-safe range.
    pub fn new(value: u64) -> Option<Seq> {
        (value <= MAX_SAFE_INTEGER).then_some(Seq(value))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The next position, if there is one.
    pub fn next(self) -> Option<Seq> {
        Seq::new(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl Serialize for Seq {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Seq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(deserializer)?;
        Seq::new(value).ok_or_else(|| serde::de::Error::custom(format!("seq {value} exceeds 2^53 − 1")))
    }
}

/// One accepted entry at its place in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Its position.
    pub seq: Seq,
    /// The leaf hash of the record before it, or [`LeafHash::ZERO`] for the genesis.
    pub prev: LeafHash,
    /// When the ledger accepted the entry.
    pub accepted: Timestamp,
    /// The signed entry as submitted.
    pub entry: SignedEntry,
}

impl Record {
    /// The RFC 8785 canonical bytes of the record: what the log stores and the leaf hashes.
    ///
    /// The statement's canonical bytes are already known (they were hashed into the
    /// entry id), so the record is spliced around them instead of re-encoding the
    /// whole passport: JCS orders the members `accepted`, `entry` (`signatures`,
    /// `statement`), `prev`, `seq`, and every other value here is a plain ASCII
    /// string or integer. A test checks the splice against the generic encoder.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let statement = self.entry.canonical_statement();
        let mut out = Vec::with_capacity(statement.len() + 240 + 180 * self.entry.signatures().len());
        out.extend_from_slice(b"{\"accepted\":");
        out.extend_from_slice(&to_canonical_bytes(&self.accepted));
        out.extend_from_slice(b",\"entry\":");
        self.entry.write_canonical(&mut out);
        out.extend_from_slice(b",\"prev\":\"");
        crate::hex::write_lower_hex(self.prev.as_bytes(), &mut out);
        out.extend_from_slice(b"\",\"seq\":");
        out.extend_from_slice(self.seq.get().to_string().as_bytes());
        out.push(b'}');
        out
    }

    /// The record's leaf hash.
    pub fn leaf_hash(&self) -> LeafHash {
        leaf_hash_of(&self.canonical_bytes())
    }

    /// Parses a record from JSON bytes, strictly.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Record, Refusal> {
        let value = canonical::parse_strict(bytes).map_err(Refusal::from)?;
        serde_json::from_value(value)
            .map_err(|e| Refusal::new(RefusalCode::EntryMalformed, format!("not a ledger record: {e}")))
    }
}

/// The leaf hash of a record's canonical bytes.
pub fn leaf_hash_of(canonical_record: &[u8]) -> LeafHash {
    LeafHash(Blake3Hasher::hash_leaf(canonical_record))
}

/// Why a sequence of records is not a valid chain.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A record is not at the position that follows its predecessor.
    #[error("record at position {position} says seq {found}")]
    OutOfOrder {
        /// Where the record stands.
        position: u64,
        /// The seq it carries.
        found: u64,
    },
    /// A record's `prev` is not the leaf hash of the record before it.
    #[error("record {seq} links to {found} but the record before it hashes to {expected}")]
    BrokenLink {
        /// The record whose link is wrong.
        seq: u64,
        /// The leaf hash of the record before it.
        expected: LeafHash,
        /// The `prev` it carries.
        found: LeafHash,
    },
}

/// Checks that `record` follows a record whose leaf hash is `prev` at `position - 1`.
pub fn check_link(position: u64, prev: LeafHash, record: &Record) -> Result<(), ChainError> {
    check_seq_and_prev(position, prev, record.seq, record.prev)
}

/// [`check_link`] for a record known only by its `seq` and `prev` (the audit keeps
/// the entry elsewhere by then).
pub(crate) fn check_seq_and_prev(
    position: u64,
    prev: LeafHash,
    seq: Seq,
    record_prev: LeafHash,
) -> Result<(), ChainError> {
    if seq.get() != position {
        return Err(ChainError::OutOfOrder { position, found: seq.get() });
    }
    if record_prev != prev {
        return Err(ChainError::BrokenLink { seq: position, expected: prev, found: record_prev });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Kind, LedgerId, Statement};
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;
    use serde_json::json;

    fn record(seq: u64, prev: LeafHash, n: u64) -> Record {
        let statement = Statement {
            ledger: Some(LedgerId([1; 32])),
            kind: Kind::ItemReceive,
            time: Timestamp::parse("2026-11-23T10:00:00Z").unwrap(),
            body: json!({"giai": format!("4750001{n}")}),
        };
        let entry = SignedEntry::sign(statement, &[&SigningKey::from_bytes(&[9; 32])]).unwrap();
        Record { seq: Seq::new(seq).unwrap(), prev, accepted: Timestamp::parse("2026-11-23T10:00:01Z").unwrap(), entry }
    }

    #[test]
    fn leaf_hash_is_blake3_of_zero_byte_and_canonical_record() {
        let r = record(0, LeafHash::ZERO, 1);
        let mut input = vec![0u8];
        input.extend(r.canonical_bytes());
        assert_eq!(r.leaf_hash().0, *blake3::hash(&input).as_bytes());
        assert_eq!(Record::from_json_bytes(&r.canonical_bytes()).unwrap(), r);
    }

    #[test]
    fn spliced_canonical_bytes_equal_the_generic_encoder() {
        let mut r = record(12345, LeafHash([0xab; 32]), 7);
        r.entry = SignedEntry::sign(
            Statement {
                ledger: Some(LedgerId([3; 32])),
                kind: Kind::ItemAmend,
                time: Timestamp::parse("2026-11-23T10:00:00.123456Z").unwrap(),
                body: json!({"giai": "4750001X", "passport": {"name": "Ķieģeļu mūris \"A\" <vecais> \u{1f600}", "mass_kg": 12.5e3, "z": [1, -2.25, null, true]}}),
            },
            &[&SigningKey::from_bytes(&[9; 32]), &SigningKey::from_bytes(&[4; 32])],
        )
        .unwrap();
        assert_eq!(r.canonical_bytes(), to_canonical_bytes(&r));
        let genesis = record(0, LeafHash::ZERO, 1);
        assert_eq!(genesis.canonical_bytes(), to_canonical_bytes(&genesis));
    }

    #[test]
    fn seq_stays_in_the_json_safe_range() {
        assert!(Seq::new(MAX_SAFE_INTEGER).is_some());
        assert!(Seq::new(MAX_SAFE_INTEGER + 1).is_none());
        assert!(Seq::new(MAX_SAFE_INTEGER).unwrap().next().is_none());
        let text = format!("{{\"seq\":{},\"prev\":\"{}\"}}", MAX_SAFE_INTEGER + 1, "0".repeat(64));
        assert!(Record::from_json_bytes(text.as_bytes()).is_err());
    }

    proptest! {
        /// A chain built by linking each record to its predecessor's leaf hash
        /// verifies, and changing any one link or position breaks it exactly there.
        #[test]
        fn chains_link_and_breaks_are_found(len in 1usize..12, broken in 0usize..12, flip in 0usize..32) {
            let mut chain = Vec::new();
            let mut prev = LeafHash::ZERO;
            for i in 0..len {
                let r = record(i as u64, prev, i as u64);
                prev = r.leaf_hash();
                chain.push(r);
            }
            let mut prev = LeafHash::ZERO;
            for (i, r) in chain.iter().enumerate() {
                prop_assert_eq!(r.canonical_bytes(), to_canonical_bytes(r));
                prop_assert!(check_link(i as u64, prev, r).is_ok());
                prev = r.leaf_hash();
            }
            let broken = broken % len;
            chain[broken].prev.0[flip] ^= 1;
            let mut prev = LeafHash::ZERO;
            let mut first_error = None;
            for (i, r) in chain.iter().enumerate() {
                if check_link(i as u64, prev, r).is_err() && first_error.is_none() {
                    first_error = Some(i);
                }
                prev = r.leaf_hash();
            }
            prop_assert_eq!(first_error, Some(broken));
        }
    }
}
