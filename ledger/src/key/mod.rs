//! Ed25519 keys: the public keys that sign entries ([`PublicKey`]), where a real signing
//! key comes from ([`generate_signing_key`]), and how one is read from its file ([`KeyFile`]).
//!
//! A public key is read once per signature of every entry and record, so decoding it is
//! memoised per thread, in a memo that keys made up by anyone cannot take over (`memo`). A
//! signing key for real use is only ever made from the operating system's randomness here;
//! the deterministic keys of `testkit` (a cargo feature) are for tests and examples, and
//! anyone can derive them.

mod file;
mod memo;

use std::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex::{parse_lower_hex, to_lower_hex};
use crate::refusal::{Refusal, RefusalCode};

pub use file::{KeyFile, KeyFileError};

/// An Ed25519 public key that decodes to a curve point.
///
/// Whether the key is weak (of small order) is checked where keys are admitted
/// to membership ([`PublicKey::parse_for_membership`]), not on every signature:
/// `verify_strict` refuses signatures by weak keys anyway.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 64 lowercase hex digits of a compressed Edwards point.
    pub fn from_hex(text: &str) -> Result<Self, Refusal> {
        let bytes = parse_lower_hex::<32>(text)
            .map_err(|e| Refusal::new(RefusalCode::KeyInvalid, format!("public key {text:?}: {e}")))?;
        Self::from_bytes(&bytes)
            .ok_or_else(|| Refusal::new(RefusalCode::KeyInvalid, format!("public key {text} is not an Ed25519 point")))
    }

    /// The key with this compressed encoding, if it is a curve point: the check
    /// [`PublicKey::from_hex`] makes once the hex is decoded.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        memo::decompress(bytes).map(PublicKey)
    }

    /// Parses a key that is to become a member's key: a point has one spelling, and weak
    /// keys are refused.
    ///
    /// A point can be spelled in more than one way: `y` is read modulo p = 2^255 − 19, so
    /// `y + p` spells the same point as `y` where it fits in 255 bits, and the sign bit of
    /// `x` means nothing when `x` = 0. RFC 8032 refuses those spellings when it decodes;
    /// ed25519-dalek's decompression accepts them. A member's key must be the one spelling
    /// the point's own encoding gives back, so that comparing keys by their bytes (who owns
    /// a key, whether one signs twice) compares points.
    pub fn parse_for_membership(text: &str) -> Result<Self, Refusal> {
        let key = Self::from_hex(text)?;
        let canonical = key.0.to_edwards().compress();
        if canonical.as_bytes() != key.as_bytes() {
            return Err(Refusal::new(
                RefusalCode::KeyNonCanonical,
                format!(
                    "public key {text} is not the canonical encoding of its point, which is {}",
                    to_lower_hex(canonical.as_bytes())
                ),
            ));
        }
        if key.0.is_weak() {
            return Err(Refusal::new(
                RefusalCode::KeyWeak,
                format!("public key {text} is weak (small order) and cannot be used"),
            ));
        }
        Ok(key)
    }

    /// The key of a signing key.
    pub fn of(signing_key: &SigningKey) -> Self {
        PublicKey(signing_key.verifying_key())
    }

    /// The underlying ed25519-dalek key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// The 32 bytes of the compressed point.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Lowercase hex, as on the wire.
    pub fn to_hex(&self) -> String {
        to_lower_hex(self.0.as_bytes())
    }

    /// Whether the key is of small order.
    pub fn is_weak(&self) -> bool {
        self.0.is_weak()
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        PublicKey::from_hex(&text).map_err(|r| serde::de::Error::custom(r.message))
    }
}

/// A fresh signing key from the operating system's random number generator: how a member,
/// an operator or the CLI's `key new` makes a key that protects something.
pub fn generate_signing_key() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn generated_keys_differ() {
        let (a, b) = (generate_signing_key().unwrap(), generate_signing_key().unwrap());
        assert_ne!(PublicKey::of(&a), PublicKey::of(&b));
    }

    #[test]
    fn keys_are_decompressed_once_per_thread_and_non_points_are_refused() {
        let remembered = || {
            let (probation, protected) = memo::segments();
            probation + protected
        };
        let before = remembered();
        let key = PublicKey::of(&key(200));
        assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        let misses = memo::misses();
        assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        assert_eq!(memo::misses(), misses, "the second time, the key comes from the memo");
        assert_eq!(remembered(), (before + 1).min(memo::CAPACITY));
        // Not a curve point: y = 2 has no x on Ed25519.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(PublicKey::from_hex(&hex::encode(not_a_point)).is_err());
        assert_eq!(PublicKey::from_bytes(&not_a_point), None);
        assert_eq!(remembered(), (before + 1).min(memo::CAPACITY), "a non-point is not remembered");
        // The memo stops growing at its bound but still answers.
        for n in 0..memo::CAPACITY as u32 + 8 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&n.to_le_bytes());
            let key = PublicKey::of(&SigningKey::from_bytes(&seed));
            assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        }
        let (probation, protected) = memo::segments();
        assert_eq!(probation, memo::PROBATION, "keys seen once fill probation, and no more");
        assert!(protected >= 1, "the key asked for twice is still protected");
        assert!(remembered() <= memo::CAPACITY);
    }

    /// Distinct curve points, each the encoding of a valid key that nobody holds: what a
    /// hostile client can send in entries, as many as it likes.
    fn junk_keys() -> impl Iterator<Item = [u8; 32]> {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
        let mut point = ED25519_BASEPOINT_POINT * curve25519_dalek::Scalar::from(0x5a1_u64);
        std::iter::repeat_with(move || {
            point += ED25519_BASEPOINT_POINT;
            point.compress().to_bytes()
        })
    }

    /// Parses `bytes` and says whether this thread had to decompress them.
    fn parse_misses(bytes: &[u8; 32]) -> bool {
        let before = memo::misses();
        let key = PublicKey::from_bytes(bytes).expect("a curve point");
        assert_eq!(key.as_bytes(), bytes);
        memo::misses() > before
    }

    #[test]
    fn made_up_keys_neither_lock_member_keys_out_of_the_memo_nor_evict_them() {
        // A thread of its own, whose memo starts empty whatever ran before on the test's.
        std::thread::spawn(|| {
            let members: Vec<[u8; 32]> = (0..4).map(|n| *PublicKey::of(&key(100 + n)).as_bytes()).collect();
            let mut junk = junk_keys();
            // Made-up keys first: a memo that kept the first keys it saw is now full of them.
            for bytes in junk.by_ref().take(1000) {
                assert!(parse_misses(&bytes));
            }
            // Then the members' keys, each used after every ten made-up keys, among thousands more:
            // each is decompressed when first seen, and answered from the memo ever after.
            let mut member_misses = 0;
            for _ in 0..400 {
                for bytes in junk.by_ref().take(10) {
                    assert!(parse_misses(&bytes), "made-up keys are seen once each");
                }
                member_misses += members.iter().filter(|bytes| parse_misses(bytes)).count();
            }
            assert_eq!(member_misses, members.len(), "each member key is decompressed once, when first seen");
            // A long run of made-up keys with no member signing meanwhile evicts none of them.
            for bytes in junk.by_ref().take(5 * memo::CAPACITY) {
                assert!(parse_misses(&bytes));
            }
            assert_eq!(members.iter().filter(|bytes| parse_misses(bytes)).count(), 0);
            // What the memo holds: a full probation of made-up keys, and the members' keys protected.
            let (probation, protected) = memo::segments();
            assert_eq!((probation, protected), (memo::PROBATION, members.len()));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn weak_keys_are_refused_for_membership() {
        // The identity point (0, 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = hex::encode(identity);
        assert!(PublicKey::from_hex(&weak).is_ok());
        assert_eq!(PublicKey::parse_for_membership(&weak).unwrap_err().code, RefusalCode::KeyWeak);
        let strong = PublicKey::of(&key(3)).to_hex();
        assert!(PublicKey::parse_for_membership(&strong).is_ok());
    }

    #[test]
    fn only_the_canonical_spelling_of_a_point_can_become_a_members_key() {
        let p_plus = |y: u8| {
            // y + p = y + 2^255 − 19, in 255 bits for y < 19.
            let mut bytes = [0xff; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            bytes
        };
        // Every y + p that spells a point that is not weak: the same point as y, spelled otherwise.
        let mut refused = 0;
        for y in 0..19u8 {
            for sign in [0u8, 0x80] {
                let mut bytes = p_plus(y);
                bytes[31] |= sign;
                let Some(key) = PublicKey::from_bytes(&bytes) else { continue };
                let mut canonical = [0u8; 32];
                canonical[0] = y;
                // x = 0 only at y = 1 here (the identity), where the sign bit means nothing.
                canonical[31] = if y == 1 { 0 } else { sign };
                assert_eq!(key.0.to_edwards(), VerifyingKey::from_bytes(&canonical).unwrap().to_edwards());
                let refusal = PublicKey::parse_for_membership(&hex::encode(bytes)).unwrap_err();
                assert_eq!(refusal.code, RefusalCode::KeyNonCanonical, "{}", refusal.message);
                assert!(refusal.message.contains(&hex::encode(canonical)), "{}", refusal.message);
                if !key.is_weak() {
                    // Its canonical spelling is a member's key like any other.
                    assert!(PublicKey::parse_for_membership(&hex::encode(canonical)).is_ok());
                    refused += 1;
                }
            }
        }
        // y = 3, 4, 5, 6, 9, 10, 14, 15, 16 and 18 are points that are not weak, with either sign.
        assert_eq!(refused, 20);
        // x = 0 with the sign bit set: the identity and the point of order 2, respelled.
        for canonical in [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ] {
            let mut bytes = hex::decode(canonical).unwrap();
            bytes[31] |= 0x80;
            let refusal = PublicKey::parse_for_membership(&hex::encode(bytes)).unwrap_err();
            assert_eq!(refusal.code, RefusalCode::KeyNonCanonical);
            assert_eq!(PublicKey::parse_for_membership(canonical).unwrap_err().code, RefusalCode::KeyWeak);
        }
        // Real keys are canonical.
        for seed in 0..32 {
            let key = PublicKey::of(&key(seed));
            assert_eq!(PublicKey::parse_for_membership(&key.to_hex()), Ok(key));
        }
    }
}
