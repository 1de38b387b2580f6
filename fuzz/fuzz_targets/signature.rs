//! The ledger's signature rule (`signature::verify_strict_each`) against ed25519-dalek's
//! `VerifyingKey::verify_strict`, on fuzz-chosen keys, messages and signatures: the two
//! verdicts must be equal for every signature, whatever else is in the list.
//!
//! Random bytes are almost never a valid signature, so most cases are built: a key `a·B + T`
//! (T one of the eight points of small order, often the identity), an `R` that is a nonce
//! point plus a small-order point, one of the fourteen small-order encodings or raw bytes, and
//! `s = r + k·a` computed as a signer would, then optionally spoiled (`s + ℓ`, a flipped bit).
//! These are the corners where `verify` and `verify_strict` differ.
#![no_main]

use arbitrary::Arbitrary;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use salvage_ledger::fuzzing::{Check, verify_strict_list};
use sha2::{Digest, Sha512};

/// At most this many signatures in one list, as an entry carries at most 16.
const MAX_CHECKS: usize = 16;

/// One signature to check: its key, nonce, `R`, `s` and message, each chosen one way or another.
#[derive(Debug, Arbitrary)]
struct Case {
    key: Key,
    nonce: [u8; 32],
    r: R,
    s: S,
    message: Vec<u8>,
    /// Where the message is cut into the two parts the ledger hashes in turn.
    split: u8,
}

#[derive(Debug, Arbitrary)]
enum Key {
    /// Any 32 bytes (most are no point and are skipped, as the ledger refuses them earlier).
    Bytes([u8; 32]),
    /// `a·B + T`: a secret scalar and a small-order point (index into the eight).
    Secret { a: [u8; 32], torsion: u8 },
}

#[derive(Debug, Arbitrary)]
enum R {
    /// `r·B + T` for the nonce `r` and a small-order point.
    Nonce { torsion: u8 },
    /// One of the fourteen encodings of small-order points.
    SmallOrder(u8),
    /// Any 32 bytes.
    Bytes([u8; 32]),
}

#[derive(Debug, Arbitrary)]
enum S {
    /// `r + k·a`, as a signer computes it.
    Signed,
    /// `r + k·a + ℓ`: the same value, not reduced, which `verify_strict` refuses.
    Unreduced,
    /// `r + k·a` with one bit flipped.
    FlippedBit(u8),
    /// Any 32 bytes.
    Bytes([u8; 32]),
}

fuzz_target!(|cases: Vec<Case>| {
    let built: Vec<(VerifyingKey, Vec<u8>, usize, Signature)> =
        cases.iter().take(MAX_CHECKS).filter_map(build).collect();
    let parts: Vec<[&[u8]; 2]> = built
        .iter()
        .map(|(_, message, split, _)| {
            let (head, tail) = message.split_at(*split);
            [head, tail]
        })
        .collect();
    let checks: Vec<Check<'_>> =
        built.iter().zip(&parts).map(|((key, _, _, signature), message)| Check { key, message, signature }).collect();
    let ledger = verify_strict_list(&checks);
    assert_eq!(ledger.len(), built.len(), "one verdict per signature");
    for ((key, message, _, signature), verdict) in built.iter().zip(ledger) {
        let dalek = key.verify_strict(message, signature).is_ok();
        assert_eq!(verdict, dalek, "key {:02x?}, signature {:02x?}", key.as_bytes(), signature.to_bytes());
    }
});

/// The key, message, split point and signature a case describes; `None` if its key bytes are
/// no point (the ledger never gets so far with them).
fn build(case: &Case) -> Option<(VerifyingKey, Vec<u8>, usize, Signature)> {
    let (key_bytes, a) = match &case.key {
        Key::Bytes(bytes) => (*bytes, Scalar::from_bytes_mod_order(*bytes)),
        Key::Secret { a, torsion } => {
            let a = Scalar::from_bytes_mod_order(*a);
            ((ED25519_BASEPOINT_POINT * a + small_order_point(*torsion)).compress().to_bytes(), a)
        }
    };
    let key = VerifyingKey::from_bytes(&key_bytes).ok()?;
    let r = Scalar::from_bytes_mod_order(case.nonce);
    let r_bytes = match &case.r {
        R::Nonce { torsion } => (ED25519_BASEPOINT_POINT * r + small_order_point(*torsion)).compress().to_bytes(),
        R::SmallOrder(index) => SMALL_ORDER_ENCODINGS[usize::from(*index) % SMALL_ORDER_ENCODINGS.len()],
        R::Bytes(bytes) => *bytes,
    };
    let k = {
        let digest: [u8; 64] =
            Sha512::new().chain_update(r_bytes).chain_update(key_bytes).chain_update(&case.message).finalize().into();
        Scalar::from_bytes_mod_order_wide(&digest)
    };
    let signed = r + k * a;
    let s_bytes = match &case.s {
        S::Signed => signed.to_bytes(),
        S::Unreduced => add_group_order(signed.to_bytes()),
        S::FlippedBit(bit) => {
            let mut bytes = signed.to_bytes();
            bytes[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
            bytes
        }
        S::Bytes(bytes) => *bytes,
    };
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(&s_bytes);
    let split = usize::from(case.split).min(case.message.len());
    Some((key, case.message.clone(), split, Signature::from_bytes(&signature)))
}

/// `s + ℓ` as 32 little-endian bytes (it fits: `s < ℓ < 2^253`).
fn add_group_order(s: [u8; 32]) -> [u8; 32] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

/// One of the eight points of small order, by index mod 8 (0 is the identity).
fn small_order_point(index: u8) -> EdwardsPoint {
    // The canonical encodings of the eight: y = 1 (identity), y = p − 1, y = 0 (two signs of x)
    // and the four of order 8.
    const CANONICAL: [usize; 8] = [4, 8, 0, 1, 10, 11, 12, 13];
    let encoding = SMALL_ORDER_ENCODINGS[CANONICAL[usize::from(index) % 8]];
    CompressedEdwardsY(encoding).decompress().unwrap_or_default()
}

/// Every 32-byte string that decompresses to a point of small order (the list the ledger
/// keeps in `signature/small_order.rs`, where a test derives it from the curve).
const SMALL_ORDER_ENCODINGS: [[u8; 32]; 14] = [
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("0100000000000000000000000000000000000000000000000000000000000080"),
    hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

const fn hex32(text: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let text = text.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(text[2 * i]) << 4) | digit(text[2 * i + 1]);
        i += 1;
    }
    out
}
