//! What a member states: the signed part of an entry, and its canonical bytes (what every
//! signature covers and the entry id hashes).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::id::{EntryId, LedgerId};
use super::kind::Kind;
use super::timestamp::Timestamp;
use crate::canonical;

/// What a member states: the signed part of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The ledger this statement is for; absent only in the genesis.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub ledger: Option<LedgerId>,
    /// What the statement does.
    pub kind: Kind,
    /// When the signer made the statement.
    pub time: Timestamp,
    /// The kind's body, validated against the kind's JSON Schema.
    pub body: Value,
}

impl Statement {
    /// The RFC 8785 canonical bytes of the statement.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Written member by member, in JCS key order, rather than through a
        // serde round trip that would copy the body first: every submission
        // pays for this. A test holds it equal to the generic encoding.
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"body\":");
        canonical::write_value(&self.body, &mut out);
        out.extend_from_slice(b",\"kind\":");
        canonical::write_string(self.kind.as_str(), &mut out);
        if let Some(ledger) = &self.ledger {
            out.extend_from_slice(b",\"ledger\":");
            canonical::write_string(&ledger.to_hex(), &mut out);
        }
        out.extend_from_slice(b",\"time\":");
        canonical::write_string(self.time.as_str(), &mut out);
        out.push(b'}');
        out
    }

    /// The id of any entry carrying this statement.
    pub fn id(&self) -> EntryId {
        EntryId(*blake3::hash(&self.canonical_bytes()).as_bytes())
    }
}

/// Deserialises a field that, when present, must hold a value (never `null`):
/// a `null` would vanish on re-encoding and change the signed bytes.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}
