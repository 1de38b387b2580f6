//! A signed entry with its disclosures, as a submission and a replicated
//! batch carry it (docs/format.md §13.6).

use serde_json::Value;

use super::{Disclosure, MAX_DIGESTS};
use crate::canonical;
use crate::entry::SignedEntry;
use crate::refusal::{Refusal, RefusalCode};

/// The member of an envelope that holds the disclosures.
const DISCLOSURES_MEMBER: &str = "disclosures";

/// The member of an envelope that holds the signed entry.
const ENTRY_MEMBER: &str = "entry";

/// `{"disclosures": [[salt, pointer, value], …], "entry": <signed entry>}`:
/// the disclosures travel beside the signed entry, never inside it, so the
/// signature covers only their digests.
#[derive(Debug, Clone)]
pub struct DisclosedEntry {
    /// The signed entry, whose body lists the disclosures' digests.
    pub entry: SignedEntry,
    /// The disclosures, in the order they came.
    pub disclosures: Vec<Disclosure>,
}

impl DisclosedEntry {
    /// Whether a submitted element is an envelope rather than a bare signed
    /// entry (which has no `disclosures` member).
    pub fn is_envelope(value: &Value) -> bool {
        value.get(DISCLOSURES_MEMBER).is_some()
    }

    /// Reads an envelope from a strictly parsed JSON value: an object of
    /// exactly `disclosures` (an array of at most 1000) and `entry`.
    pub fn from_value(value: Value) -> Result<DisclosedEntry, Refusal> {
        let malformed =
            |why: String| Refusal::new(RefusalCode::DisclosureMalformed, format!("an entry with disclosures: {why}"));
        let Value::Object(mut members) = value else {
            return Err(malformed("is not a JSON object".to_owned()));
        };
        if let Some(other) = members.keys().find(|key| *key != DISCLOSURES_MEMBER && *key != ENTRY_MEMBER) {
            return Err(malformed(format!("has the member {other:?}; only \"entry\" and \"disclosures\" belong here")));
        }
        let Some(Value::Array(listed)) = members.remove(DISCLOSURES_MEMBER) else {
            return Err(malformed("\"disclosures\" is missing or not an array".to_owned()));
        };
        if listed.len() > MAX_DIGESTS {
            return Err(malformed(format!("lists {} disclosures, more than {MAX_DIGESTS}", listed.len())));
        }
        let disclosures = listed.iter().map(Disclosure::from_value).collect::<Result<Vec<_>, _>>()?;
        let entry = members.remove(ENTRY_MEMBER).ok_or_else(|| malformed("\"entry\" is missing".to_owned()))?;
        Ok(DisclosedEntry { entry: SignedEntry::from_value(entry)?, disclosures })
    }

    /// Reads an envelope's bytes strictly (see [`crate::canonical`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<DisclosedEntry, Refusal> {
        Self::from_value(canonical::parse_strict(bytes).map_err(Refusal::from)?)
    }

    /// The envelope's canonical JSON (RFC 8785): `disclosures` sorts before
    /// `entry`, and each part is written canonically.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let entry = self.entry.canonical_bytes();
        let disclosures = Disclosure::canonical_list(&self.disclosures);
        let mut bytes = Vec::with_capacity(entry.len() + disclosures.len() + 32);
        bytes.extend_from_slice(b"{\"disclosures\":");
        bytes.extend_from_slice(&disclosures);
        bytes.extend_from_slice(b",\"entry\":");
        bytes.extend_from_slice(&entry);
        bytes.push(b'}');
        bytes
    }
}

/// Whether canonical bytes are an envelope's rather than a bare entry's
/// (whose first member is `signatures`).
pub(crate) fn is_canonical_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(b"{\"disclosures\":")
}
