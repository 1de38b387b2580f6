//! The acceptance rule for one Ed25519 signature: `verify_strict`, computed
//! without its most expensive step.
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
//! which [`verify_strict`] computes with the library's own `verify` and
//! `is_weak`, sparing the square root that decompressing `R` costs (about a
//! fifth of a verification). The tests check the two agree, including on the
//! crafted signatures where `verify` and `verify_strict` differ.

mod small_order;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

pub(crate) use small_order::is_small_order_encoding;

/// Whether `signature` is a valid signature by `key` over `message` under
/// `ed25519_dalek::VerifyingKey::verify_strict`'s rule (see the module doc).
pub(crate) fn verify_strict(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    !key.is_weak() && !is_small_order_encoding(signature.r_bytes()) && key.verify(message, signature).is_ok()
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;
    use sha2::{Digest, Sha512};

    use super::*;

    fn dalek_strict(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
        key.verify_strict(message, signature).is_ok()
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
            assert_eq!(verify_strict(&verifying, b"message", &tampered), dalek_strict(&verifying, b"message", &tampered));
            assert!(!verify_strict(&verifying, b"message", &tampered));
        }
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
    }
}
