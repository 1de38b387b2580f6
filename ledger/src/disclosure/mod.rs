//! Restricted values as salted digests (ledger format 2, docs/format.md §13).
//!
//! A contractor marks passport fields `restricted` because they are personal
//! data or trade secrets: the donor building's address, a client's name, a
//! price. Hiding them from the page while signing them into a public log
//! cannot work, so on a format-2 ledger a restricted value never enters the
//! signed statement. In its place the body's `_sd` array lists the digest of a
//! [`Disclosure`]: a random salt, the value's place in the body (an RFC 6901
//! JSON Pointer) and the value, after SD-JWT (RFC 9901 §4.2). The signature
//! covers the digests, so every record, bundle and audit verifies without a
//! single disclosure; whoever holds one can prove that value and no other.
//!
//! - [`withhold`] takes a whole body and makes the body to sign and its
//!   disclosures (the CLI, before signing);
//! - [`reveal`] puts disclosures back into a signed body and checks that they
//!   are exactly the ones it calls for (a node, before it validates the whole
//!   body against the schema and the rules);
//! - [`restricted_places`] says which places of a body are restricted;
//! - [`withheld_values`] checks a signed body without its disclosures (a
//!   public audit, a bundle);
//! - [`DisclosedEntry`] is a signed entry with its disclosures, as they travel.
//!
//! This module is pure: where disclosures are stored and who may read them is
//! the node's business.

mod envelope;
pub(crate) mod places;
mod reveal;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::canonical;
use crate::digest::hash_newtype;
use crate::refusal::{Refusal, RefusalCode};

pub use envelope::DisclosedEntry;
pub(crate) use envelope::is_canonical_envelope;
pub use places::{Place, restricted_places};
pub use reveal::{belongs, reveal, withheld_values, withhold};

/// The prefix hashed before a disclosure's canonical bytes, so that no other
/// hash of the project can be passed off as a disclosure digest.
pub const DIGEST_CONTEXT: &[u8] = b"salvage-disclosure/v1\n";

/// The name of the member of a body that lists its disclosures' digests (as
/// SD-JWT's, RFC 9901 §4.2.4.1).
pub const DIGESTS_MEMBER: &str = "_sd";

/// The most digests one body may list (decoys included).
pub const MAX_DIGESTS: usize = 1000;

/// A salt: 16 bytes (128 bits, the least RFC 9901 §9.3 allows), written as 32
/// lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; 16]);

impl Salt {
    /// A fresh salt from the operating system's random source.
    pub fn random() -> Result<Salt, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Salt(bytes))
    }

    /// A salt with these bytes (tests and worked examples).
    pub fn from_bytes(bytes: [u8; 16]) -> Salt {
        Salt(bytes)
    }

    /// The 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        crate::hex::to_lower_hex(self.0)
    }
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A salt is as secret as its value: never in logs.
        f.write_str("Salt(…)")
    }
}

/// One restricted value: `[salt, place, value]`, where the place is a JSON
/// Pointer into the statement's body. Two disclosures are equal when their
/// canonical bytes are (so `60.0` and `60` are one value, as their digests say).
#[derive(Clone)]
pub struct Disclosure {
    salt: Salt,
    place: Place,
    value: Value,
}

impl Disclosure {
    /// A disclosure of `value` at `place` under `salt`.
    pub fn new(salt: Salt, place: Place, value: Value) -> Disclosure {
        Disclosure { salt, place, value }
    }

    /// Reads a disclosure as it travels: the JSON array `[salt, pointer, value]`.
    pub fn from_value(value: &Value) -> Result<Disclosure, Refusal> {
        let malformed = |why: &str| {
            Refusal::new(
                RefusalCode::DisclosureMalformed,
                format!("a disclosure is a JSON array [salt, pointer, value]: {why}"),
            )
        };
        let Value::Array(parts) = value else { return Err(malformed("this is no array")) };
        let [salt, pointer, value] = parts.as_slice() else {
            return Err(malformed(&format!("this array holds {} elements", parts.len())));
        };
        let salt = salt
            .as_str()
            .and_then(|salt| crate::hex::parse_lower_hex::<16>(salt).ok())
            .ok_or_else(|| malformed("the salt is not 32 lowercase hex digits"))?;
        let pointer = pointer.as_str().ok_or_else(|| malformed("the pointer is not a string"))?;
        let place = Place::parse(pointer).map_err(|why| malformed(&why))?;
        canonical::check_numbers(value).map_err(|error| malformed(&error.to_string()))?;
        Ok(Disclosure { salt: Salt(salt), place, value: value.clone() })
    }

    /// The disclosure as it travels and is hashed: `[salt, pointer, value]`.
    pub fn to_value(&self) -> Value {
        Value::Array(vec![Value::String(self.salt.to_hex()), Value::String(self.place.to_string()), self.value.clone()])
    }

    /// The canonical bytes (RFC 8785) of [`Disclosure::to_value`].
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::value_to_canonical_bytes(&self.to_value())
    }

    /// The canonical JSON (RFC 8785) of a list of disclosures, `[d1,d2,…]`,
    /// as envelopes and snapshot lines carry them.
    pub fn canonical_list(disclosures: &[Disclosure]) -> Vec<u8> {
        let mut bytes = vec![b'['];
        for (index, disclosure) in disclosures.iter().enumerate() {
            if index > 0 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(&disclosure.canonical_bytes());
        }
        bytes.push(b']');
        bytes
    }

    /// `blake3(DIGEST_CONTEXT ‖ JCS([salt, pointer, value]))`.
    pub fn digest(&self) -> DisclosureDigest {
        let mut hasher = blake3::Hasher::new();
        hasher.update(DIGEST_CONTEXT);
        hasher.update(&self.canonical_bytes());
        DisclosureDigest(*hasher.finalize().as_bytes())
    }

    /// Where in the body the value belongs.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl PartialEq for Disclosure {
    fn eq(&self, other: &Disclosure) -> bool {
        self.salt == other.salt && self.place == other.place && self.canonical_bytes() == other.canonical_bytes()
    }
}

impl std::fmt::Debug for Disclosure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is what must not leak: a debug print names the place only.
        write!(f, "Disclosure({})", self.place)
    }
}

hash_newtype! {
    /// The digest of a disclosure, listed in the body's `_sd`.
    DisclosureDigest
}
