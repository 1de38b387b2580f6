//! The acceptance rule for Ed25519 signatures: `verify_strict`, computed
//! without its most expensive steps.
//!
//! ed25519-dalek's `VerifyingKey::verify_strict(m, sig)` is, in its own code:
//! parse `s` (refusing a non-canonical one), decompress `R` (refusing a string
//! that is no point), refuse `R` or the key `A` of small order, then recompute
//! `R' = [s]B − [k]A` and accept iff the encoding of `R'` equals the signature's
//! `R` bytes. Its plain `verify` does the first and the last step only.
//!
//! When the last step succeeds, the signature's `R` bytes are the canonical
//! encoding of a point (they equal an encoding the library computed), so they
//! decompress, and that point is of small order exactly when the bytes are one
//! of the fourteen small-order encodings ([`is_small_order_encoding`]). So
//!
//! `verify_strict(m, sig)` ⇔ `¬A.is_weak() ∧ ¬small_order_encoding(R) ∧ verify(m, sig)`,
//!
//! which this module computes from the library's parts: the key's
//! `is_weak`, the table of small-order encodings, and `verify`'s own steps (the
//! canonical `s`, the challenge `k = SHA-512(R ‖ A ‖ M) mod ℓ`, `R'` by
//! `vartime_double_scalar_mul_basepoint`, and `R'`'s encoding compared with the
//! `R` bytes). This spares the square root that decompressing `R` costs.
//!
//! [`verify_strict_each`] gives every signature of a list the verdict
//! `verify_strict` would give it alone. Only the last step is shared: encoding
//! `R'` needs the inverse of its `Z` coordinate, and the inverses of a whole
//! list's `Z`s cost one field inversion and three multiplications each
//! (Montgomery's trick, curve25519-dalek's `compress_batch_alloc`), where one
//! inversion per signature took about a sixth of a verification. Every
//! signature's equation is still checked on its own, exactly; this is not the
//! probabilistic batch verification the design keeps out of acceptance. The
//! tests check single signatures and lists against ed25519-dalek's `verify_strict`,
//! including on the crafted signatures where `verify` and `verify_strict`
//! differ.

mod small_order;
#[cfg(test)]
pub(crate) mod torsion;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

pub(crate) use small_order::is_small_order_encoding;

/// One signature to check: by `key`, over the concatenation of `message`'s parts.
pub(crate) struct SignatureCheck<'a> {
    /// The key that is said to have signed.
    pub key: &'a VerifyingKey,
    /// The signed message, in parts that are hashed in order (so that a
    /// context prefix need not be copied in front of the statement).
    pub message: &'a [&'a [u8]],
    /// The signature.
    pub signature: &'a Signature,
}

/// Each check's verdict under `verify_strict`'s rule, in order, as if it
/// were checked alone, with the encodings of the recomputed
/// points sharing one field inversion (see the module doc).
pub(crate) fn verify_strict_each(checks: &[SignatureCheck<'_>]) -> Vec<bool> {
    // INVARIANT: `recomputed[i]` is `Some(j)` exactly when check `i` passed
    // every step before the last, with `points[j]` its `R'`.
    let mut points = Vec::with_capacity(checks.len());
    let recomputed: Vec<Option<usize>> = checks
        .iter()
        .map(|check| {
            let point = recompute_r(check)?;
            points.push(point);
            Some(points.len() - 1)
        })
        .collect();
    let encodings = EdwardsPoint::compress_batch_alloc(&points);
    checks
        .iter()
        .zip(recomputed)
        .map(|(check, slot)| {
            slot.and_then(|index| encodings.get(index))
                .is_some_and(|encoding| encoding.as_bytes() == check.signature.r_bytes())
        })
        .collect()
}

/// `R' = [s]B − [k]A`, or `None` when the check fails before it: a weak key,
/// an `R` of small order or an `s` that is not canonical.
fn recompute_r(check: &SignatureCheck<'_>) -> Option<EdwardsPoint> {
    let SignatureCheck { key, message, signature } = check;
    if key.is_weak() || is_small_order_encoding(signature.r_bytes()) {
        return None;
    }
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))?;
    let mut hash = Sha512::new();
    hash.update(signature.r_bytes());
    hash.update(key.as_bytes());
    for part in message.iter() {
        hash.update(part);
    }
    let digest: [u8; 64] = hash.finalize().into();
    let k = Scalar::from_bytes_mod_order_wide(&digest);
    Some(EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-key.to_edwards(), &s))
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;
    use ed25519_dalek::{Signer, SigningKey, Verifier};
    use proptest::prelude::*;
    use sha2::{Digest, Sha512};

    use super::*;

    fn dalek_strict(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        key.verify_strict(message, signature).is_ok()
    }

    /// One signature alone, through [`verify_strict_each`].
    fn verify_strict(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        verify_strict_each(&[SignatureCheck { key, message: &[message], signature }]) == [true]
    }

    /// k = SHA-512(R ‖ A ‖ M) mod ℓ, as Ed25519 defines it.
    fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
        let digest: [u8; 64] = Sha512::new().chain_update(r).chain_update(a).chain_update(message).finalize().into();
        Scalar::from_bytes_mod_order_wide(&digest)
    }

    fn signature(r: &[u8; 32], s: &Scalar) -> Signature {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(r);
        bytes[32..].copy_from_slice(s.as_bytes());
        Signature::from_bytes(&bytes)
    }

    #[test]
    fn an_identity_r_that_plain_verify_accepts_is_refused() {
        // With R the identity and s = k·a, [s]B − [k]A is the identity: the
        // cofactorless equation holds, so `verify` accepts; `verify_strict` refuses
        // R of small order, and so must we.
        let a = Scalar::from_bytes_mod_order([7u8; 32]);
        let public = (ED25519_BASEPOINT_POINT * a).compress().to_bytes();
        let key = VerifyingKey::from_bytes(&public).unwrap();
        let r = EdwardsPoint::default().compress().to_bytes();
        let message = b"salvage-ledger/v1\n{\"kind\":\"item.transfer\"}";
        let crafted = signature(&r, &(challenge(&r, &public, message) * a));
        assert!(key.verify(message, &crafted).is_ok(), "the crafted signature must pass plain verify");
        assert!(!dalek_strict(&key, message, &crafted));
        assert!(!verify_strict(&key, message, &crafted));
    }

    #[test]
    fn a_small_order_key_that_plain_verify_accepts_is_refused() {
        // With A the identity, [s]B − [k]A = [s]B for any message: a "signature"
        // that `verify` accepts for everything. Weak keys are refused.
        let public = EdwardsPoint::default().compress().to_bytes();
        let key = VerifyingKey::from_bytes(&public).unwrap();
        let s = Scalar::from_bytes_mod_order([9u8; 32]);
        let r = (ED25519_BASEPOINT_POINT * s).compress().to_bytes();
        let crafted = signature(&r, &s);
        assert!(key.verify(b"anything", &crafted).is_ok(), "the crafted signature must pass plain verify");
        assert!(!dalek_strict(&key, b"anything", &crafted));
        assert!(!verify_strict(&key, b"anything", &crafted));
    }

    #[test]
    fn every_small_order_r_is_refused_like_verify_strict() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let valid = key.sign(b"message");
        for r in small_order::SMALL_ORDER_ENCODINGS {
            let mut bytes = valid.to_bytes();
            bytes[..32].copy_from_slice(&r);
            let tampered = Signature::from_bytes(&bytes);
            let verifying = key.verifying_key();
            assert_eq!(
                verify_strict(&verifying, b"message", &tampered),
                dalek_strict(&verifying, b"message", &tampered)
            );
            assert!(!verify_strict(&verifying, b"message", &tampered));
        }
    }

    #[test]
    fn a_small_order_part_in_r_is_refused_though_a_batch_equation_may_accept_it() {
        // The key's holder signs honestly but adds a point of order 2, 4 or 8 to R (see
        // `torsion`). verify_strict refuses every such signature, and so must we; the
        // cofactorless batch equation accepts some of them, which is why the audit, which
        // used it, could disagree with the acceptance rule.
        let key = SigningKey::from_bytes(&[8u8; 32]);
        let verifying = key.verifying_key();
        let message = b"salvage-ledger/v1\n{\"kind\":\"item.register\"}";
        for order in torsion::ORDERS {
            let t = torsion::point_of_order(order);
            let mut accepted_by_batch = 0;
            for n in 0..64u32 {
                let crafted = torsion::sign_with_torsion(&key, message, &[&[order][..], &n.to_le_bytes()].concat(), &t);
                assert!(!dalek_strict(&verifying, message, &crafted), "order {order}, nonce {n}");
                assert!(!verify_strict(&verifying, message, &crafted), "order {order}, nonce {n}");
                assert!(verifying.verify(message, &crafted).is_err(), "plain verify compares R exactly too");
                // Made by the holder: the cofactored equation [8]([s]B − [k]A − R) = 0 holds.
                let r = curve25519_dalek::edwards::CompressedEdwardsY(*crafted.r_bytes()).decompress().unwrap();
                let s = Scalar::from_canonical_bytes(*crafted.s_bytes()).unwrap();
                let k = challenge(crafted.r_bytes(), verifying.as_bytes(), message);
                let off_by = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-verifying.to_edwards(), &s) - r;
                assert!(!off_by.is_identity() && off_by.mul_by_cofactor().is_identity());
                if ed25519_dalek::verify_batch(&[message], &[crafted], &[verifying]).is_ok() {
                    accepted_by_batch += 1;
                }
            }
            assert!(accepted_by_batch > 0, "the batch equation accepted none of the order-{order} signatures");
        }
    }

    #[test]
    fn a_list_gets_each_signatures_own_verdict() {
        // Valid and refused signatures side by side: a refusal anywhere must not
        // move another's verdict, whatever the shared inversion does.
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let verifying = key.verifying_key();
        let valid = key.sign(b"one");
        let mut damaged = valid.to_bytes();
        damaged[40] ^= 1;
        let mut small_order_r = valid.to_bytes();
        small_order_r[..32].copy_from_slice(&small_order::SMALL_ORDER_ENCODINGS[0]);
        let mut unreduced_s = valid.to_bytes();
        unreduced_s[63] |= 0xf0;
        let weak = VerifyingKey::from_bytes(&EdwardsPoint::default().compress().to_bytes()).unwrap();
        let signatures = [
            valid,
            Signature::from_bytes(&damaged),
            key.sign(b"two"),
            Signature::from_bytes(&small_order_r),
            Signature::from_bytes(&unreduced_s),
            valid,
        ];
        let keys = [verifying, verifying, verifying, verifying, verifying, weak];
        let messages: [&[u8]; 6] = [b"one", b"one", b"two", b"one", b"one", b"one"];
        let parts: Vec<[&[u8]; 1]> = messages.iter().map(|message| [*message]).collect();
        let checks: Vec<SignatureCheck<'_>> =
            (0..6).map(|i| SignatureCheck { key: &keys[i], message: &parts[i], signature: &signatures[i] }).collect();
        let expected: Vec<bool> = (0..6).map(|i| dalek_strict(&keys[i], messages[i], &signatures[i])).collect();
        assert_eq!(expected, [true, false, true, false, false, false]);
        assert_eq!(verify_strict_each(&checks), expected);
        assert!(verify_strict_each(&[]).is_empty());
    }

    #[test]
    fn a_message_in_parts_is_the_message_whole() {
        let key = SigningKey::from_bytes(&[6u8; 32]);
        let signature = key.sign(b"salvage-ledger/v1\n{}");
        let verifying = key.verifying_key();
        let parts: [&[u8]; 2] = [b"salvage-ledger/v1\n", b"{}"];
        assert_eq!(
            verify_strict_each(&[SignatureCheck { key: &verifying, message: &parts, signature: &signature }]),
            [true]
        );
        let wrong: [&[u8]; 2] = [b"salvage-ledger/v1\n", b"{ }"];
        assert_eq!(
            verify_strict_each(&[SignatureCheck { key: &verifying, message: &wrong, signature: &signature }]),
            [false]
        );
    }

    proptest! {
        #[test]
        fn agrees_with_verify_strict_on_valid_and_damaged_signatures(
            seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..200),
            flip in proptest::option::of((0usize..64, 1u8..=255)),
            other_message in any::<bool>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let verifying = key.verifying_key();
            let mut bytes = key.sign(&message).to_bytes();
            if let Some((at, mask)) = flip {
                bytes[at] ^= mask;
            }
            let signature = Signature::from_bytes(&bytes);
            let checked: &[u8] = if other_message { b"another message" } else { &message };
            prop_assert_eq!(verify_strict(&verifying, checked, &signature), dalek_strict(&verifying, checked, &signature));
            if flip.is_none() && !other_message {
                prop_assert!(verify_strict(&verifying, checked, &signature));
            }
        }

        #[test]
        fn agrees_with_verify_strict_on_arbitrary_bytes(
            public in any::<[u8; 32]>(),
            signature in proptest::collection::vec(any::<u8>(), 64),
        ) {
            // Most random strings are no key at all; those that are must agree.
            if let Ok(key) = VerifyingKey::from_bytes(&public) {
                let bytes: [u8; 64] = signature.try_into().unwrap();
                let signature = Signature::from_bytes(&bytes);
                prop_assert_eq!(verify_strict(&key, b"m", &signature), dalek_strict(&key, b"m", &signature));
            }
        }

        #[test]
        fn a_list_agrees_with_verify_strict_one_by_one(
            signed in proptest::collection::vec((any::<[u8; 32]>(), any::<u8>(), proptest::option::of((0usize..64, 1u8..=255))), 0..12),
        ) {
            let keys: Vec<VerifyingKey> = signed.iter().map(|(seed, _, _)| SigningKey::from_bytes(seed).verifying_key()).collect();
            let messages: Vec<[u8; 1]> = signed.iter().map(|(_, message, _)| [*message]).collect();
            let signatures: Vec<Signature> = signed
                .iter()
                .zip(&messages)
                .map(|((seed, _, flip), message)| {
                    let mut bytes = SigningKey::from_bytes(seed).sign(message).to_bytes();
                    if let Some((at, mask)) = flip {
                        bytes[*at] ^= mask;
                    }
                    Signature::from_bytes(&bytes)
                })
                .collect();
            let parts: Vec<[&[u8]; 1]> = messages.iter().map(|message| [message.as_slice()]).collect();
            let checks: Vec<SignatureCheck<'_>> =
                (0..signed.len()).map(|i| SignatureCheck { key: &keys[i], message: &parts[i], signature: &signatures[i] }).collect();
            let expected: Vec<bool> = (0..signed.len()).map(|i| dalek_strict(&keys[i], &messages[i], &signatures[i])).collect();
            prop_assert_eq!(verify_strict_each(&checks), expected);
        }
    }
}
