//! Ed25519 batch verification that takes each distinct public key once.
//!
//! Batch verification checks, for random 128-bit `z_i`,
//!
//! `[−Σ z_i s_i] B + Σ [z_i] R_i + Σ [z_i h_i] A_i = 0`, with `h_i = SHA-512(R_i ‖ A_i ‖ M_i)`,
//!
//! the equation `ed25519_dalek::verify_batch` checks. A ledger's signatures come
//! from a handful of member keys, so the last sum collapses to one term per
//! distinct key, `[Σ_{A_i = A} z_i h_i] A`: the multiscalar multiplication then
//! has about n + 1 points instead of 2n + 1, which roughly halves its cost.
//! The group element computed is the same one, term for term.
//!
//! The `z_i` are derived, as in `ed25519_dalek::verify_batch`, from a hash of
//! every input (here blake3 over each `h_i` and each `s_i`), so the verdict is
//! reproducible. As with any cofactorless batch equation, a signature that fails
//! `verify_strict` only by a small-order component may pass a batch with
//! probability up to 1/2; ed25519-dalek's batch function has the same property.

use std::collections::HashMap;
use std::iter::once;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// The blake3 key-derivation context of the `z_i`.
const Z_CONTEXT: &str = "salvage-ledger 2026 audit: ed25519 batch verification coefficients";

/// Whether the batch equation holds for signature `i` by `keys[i]` over
/// `messages[i]`, for every `i`. `false` also when the slices differ in length,
/// an `s` is not below the group order, or an `R` is not a curve point.
pub(super) fn verify_batch(messages: &[&[u8]], signatures: &[Signature], keys: &[VerifyingKey]) -> bool {
    if messages.len() != signatures.len() || keys.len() != signatures.len() {
        return false;
    }
    let mut transcript = blake3::Hasher::new_derive_key(Z_CONTEXT);
    let mut hrams = Vec::with_capacity(signatures.len());
    for ((message, signature), key) in messages.iter().zip(signatures).zip(keys) {
        let hram: [u8; 64] =
            Sha512::new().chain_update(signature.r_bytes()).chain_update(key.as_bytes()).chain_update(message).finalize().into();
        transcript.update(&hram);
        hrams.push(Scalar::from_bytes_mod_order_wide(&hram));
    }
    let mut s_values = Vec::with_capacity(signatures.len());
    for signature in signatures {
        transcript.update(signature.s_bytes());
        match Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes())) {
            Some(s) => s_values.push(s),
            None => return false,
        }
    }
    let mut coefficients = transcript.finalize_xof();
    let zs: Vec<Scalar> = (0..signatures.len())
        .map(|_| {
            let mut z = [0u8; 16];
            coefficients.fill(&mut z);
            Scalar::from(u128::from_le_bytes(z))
        })
        .collect();

    let basepoint_coefficient: Scalar = zs.iter().zip(&s_values).map(|(z, s)| z * s).sum();
    let mut key_index: HashMap<[u8; 32], usize> = HashMap::new();
    let mut key_points: Vec<EdwardsPoint> = Vec::new();
    let mut key_coefficients: Vec<Scalar> = Vec::new();
    for ((key, z), hram) in keys.iter().zip(&zs).zip(&hrams) {
        let index = *key_index.entry(*key.as_bytes()).or_insert_with(|| {
            key_points.push(key.to_edwards());
            key_coefficients.push(Scalar::ZERO);
            key_points.len() - 1
        });
        key_coefficients[index] += z * hram;
    }
    let rs = signatures.iter().map(|signature| CompressedEdwardsY(*signature.r_bytes()).decompress());
    let sum = EdwardsPoint::optional_multiscalar_mul(
        once(-basepoint_coefficient).chain(zs.iter().copied()).chain(key_coefficients),
        once(Some(ED25519_BASEPOINT_POINT)).chain(rs).chain(key_points.into_iter().map(Some)),
    );
    sum.is_some_and(|sum| sum.is_identity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    /// `n` signatures by three keys over distinct messages.
    fn batch(n: usize) -> (Vec<Vec<u8>>, Vec<Signature>, Vec<VerifyingKey>) {
        let signers: Vec<SigningKey> = (1..=3).map(|seed| SigningKey::from_bytes(&[seed; 32])).collect();
        let mut messages = Vec::new();
        let mut signatures = Vec::new();
        let mut keys = Vec::new();
        for i in 0..n {
            let signer = &signers[i % 3];
            let message = format!("salvage-ledger/v1\nstatement {i}").into_bytes();
            signatures.push(signer.sign(&message));
            keys.push(signer.verifying_key());
            messages.push(message);
        }
        (messages, signatures, keys)
    }

    fn both(messages: &[Vec<u8>], signatures: &[Signature], keys: &[VerifyingKey]) -> (bool, bool) {
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        (verify_batch(&refs, signatures, keys), ed25519_dalek::verify_batch(&refs, signatures, keys).is_ok())
    }

    #[test]
    fn valid_batches_pass_like_ed25519_dalek() {
        for n in [0, 1, 2, 7, 64, 300] {
            let (messages, signatures, keys) = batch(n);
            assert_eq!(both(&messages, &signatures, &keys), (true, true), "{n}");
        }
    }

    #[test]
    fn malformed_inputs_fail_like_ed25519_dalek() {
        let (messages, signatures, keys) = batch(9);
        // s + ℓ is the same scalar but not canonical: both refuse it.
        let ell = Scalar::ZERO - Scalar::ONE;
        let mut bytes = signatures[4].to_bytes();
        let mut s_plus_ell = [0u8; 32];
        let mut carry = 1u16; // (ℓ − 1) + 1 = ℓ, added to s byte by byte.
        for i in 0..32 {
            let sum = u16::from(bytes[32 + i]) + u16::from(ell.as_bytes()[i]) + carry;
            s_plus_ell[i] = sum as u8;
            carry = sum >> 8;
        }
        bytes[32..].copy_from_slice(&s_plus_ell);
        let mut changed = signatures.clone();
        changed[4] = Signature::from_bytes(&bytes);
        assert_eq!(both(&messages, &changed, &keys), (false, false));
        // An R that is not a curve point (y = 2).
        let mut bytes = signatures[2].to_bytes();
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        bytes[..32].copy_from_slice(&not_a_point);
        let mut changed = signatures.clone();
        changed[2] = Signature::from_bytes(&bytes);
        assert_eq!(both(&messages, &changed, &keys), (false, false));
        // Lengths that differ.
        assert!(!verify_batch(&[b"m".as_slice()], &signatures, &keys));
    }

    proptest! {
        /// Whichever signatures are spoiled, and however, both functions give the same verdict.
        #[test]
        fn verdicts_agree_with_ed25519_dalek(
            n in 1usize..40,
            spoil in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, any::<prop::sample::Index>()), 0..3),
        ) {
            let (mut messages, mut signatures, mut keys) = batch(n);
            for (which, how, at) in spoil {
                let i = which.index(n);
                match how {
                    0 => messages[i].push(b'!'),
                    1 => {
                        let mut bytes = signatures[i].to_bytes();
                        bytes[at.index(64)] ^= 1;
                        signatures[i] = Signature::from_bytes(&bytes);
                    }
                    2 => keys[i] = keys[(i + 1) % n],
                    _ => signatures[i] = signatures[(i + 1) % n],
                }
            }
            let (ours, theirs) = both(&messages, &signatures, &keys);
            prop_assert_eq!(ours, theirs);
        }
    }
}
