//! Signatures that `verify_strict` refuses and a batch equation may accept, made the way
//! only a key's own holder can: an honest signature whose `R` carries a small-order part.
//!
//! With nonce `r`, `R = [r]B + T` for a point `T` of order 2, 4 or 8, `k = SHA-512(R ‖ A ‖ M)`
//! over that `R`, and `s = r + k·a`. Then `[s]B − [k]A = [r]B = R − T`: the equation misses
//! only by `T`. `verify_strict` (and plain `verify`) compare `[s]B − [k]A` with `R` exactly and
//! refuse; a cofactored check (`[8]` on both sides) would accept. A cofactorless batch
//! equation sums `z·([s]B − [k]A − R)` over its signatures for some 128-bit `z` of each,
//! which here leaves `z·T`: zero whenever the order of `T` divides `z`, which happens for a
//! half, a quarter or an eighth of the possible `z`. ed25519-dalek derives the `z` from the
//! batch's own content, so the holder can even try nonces until a batch accepts.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, SigningKey};
use sha2::{Digest, Sha512};

/// The orders a small-order component of `R` can have (the identity aside).
pub(crate) const ORDERS: [u8; 3] = [2, 4, 8];

/// A point of order `order` (1, 2, 4 or 8) from curve25519-dalek's table of the
/// 8-torsion, whose `i`-th point is `[i]` times a point of order 8.
pub(crate) fn point_of_order(order: u8) -> EdwardsPoint {
    match order {
        1 => EIGHT_TORSION[0],
        2 => EIGHT_TORSION[4],
        4 => EIGHT_TORSION[2],
        8 => EIGHT_TORSION[1],
        _ => panic!("the 8-torsion has no point of order {order}"),
    }
}

/// `key`'s signature over `message` with `torsion` added to `R` as the module doc says, the
/// nonce derived from `nonce_seed` (different seeds, different signatures).
pub(crate) fn sign_with_torsion(
    key: &SigningKey,
    message: &[u8],
    nonce_seed: &[u8],
    torsion: &EdwardsPoint,
) -> Signature {
    let nonce = Scalar::from_bytes_mod_order_wide(&Sha512::digest(nonce_seed).into());
    let r = (ED25519_BASEPOINT_POINT * nonce + torsion).compress().to_bytes();
    let public = key.verifying_key().to_bytes();
    let digest: [u8; 64] = Sha512::new().chain_update(r).chain_update(public).chain_update(message).finalize().into();
    let k = Scalar::from_bytes_mod_order_wide(&digest);
    let s = nonce + k * key.to_scalar();
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&r);
    bytes[32..].copy_from_slice(s.as_bytes());
    Signature::from_bytes(&bytes)
}
