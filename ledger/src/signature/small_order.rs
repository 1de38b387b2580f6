//! The encodings of small-order Edwards points, so that a signature's `R` of
//! small order can be refused without decompressing it.
//!
//! `verify_strict` refuses a signature whose `R` decompresses to a point of
//! small order. Ed25519's curve has exactly eight such points (the 8-torsion
//! subgroup), and an encoding names a point by its `y` coordinate, read modulo
//! p = 2^255 − 19 from the low 255 bits, and the sign of `x` in the top bit.
//! So the encodings that decompress to a small-order point are the `y` of each
//! torsion point, or `y + p` where that still fits in 255 bits (only for
//! `y` < 19: 0 and 1), each with either sign bit: fourteen in all. The test at
//! the bottom derives them from the curve and proves the list complete.

/// Every 32-byte string that curve25519-dalek decompresses to a point of small order.
pub(super) const SMALL_ORDER_ENCODINGS: [[u8; 32]; 14] = [
    // y = 0: the two points of order 4, and y = p, its non-canonical spelling.
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    // y = 1: the identity (x = 0 with either sign bit), and y = p + 1.
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("0100000000000000000000000000000000000000000000000000000000000080"),
    hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    // y = p − 1: the point of order 2 (x = 0 with either sign bit).
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    // The four points of order 8: two values of y, each with two signs of x.
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// Whether `encoding` decompresses to a point of small order.
///
/// Exactly `CompressedEdwardsY(encoding).decompress().is_some_and(|p| p.is_small_order())`,
/// at the cost of fourteen 32-byte comparisons instead of a square root in the field.
pub(crate) fn is_small_order_encoding(encoding: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.contains(encoding)
}

/// Decodes 64 hex digits at compile time; a malformed literal fails the build.
const fn hex32(text: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let text = text.as_bytes();
    assert!(text.len() == 64, "expected 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(text[2 * i]) << 4) | digit(text[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::traits::{Identity, IsIdentity};
    use proptest::prelude::*;

    fn decompresses_to_small_order(encoding: &[u8; 32]) -> bool {
        CompressedEdwardsY(*encoding).decompress().is_some_and(|p| p.is_small_order())
    }

    /// [2^k] P by doubling (the scalar type cannot hold multiples of ℓ).
    fn times_power_of_two(point: EdwardsPoint, k: u32) -> EdwardsPoint {
        (0..k).fold(point, |acc, _| acc + acc)
    }

    /// p = 2^255 − 19, little-endian.
    fn field_prime() -> [u8; 32] {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    }

    /// Adds two 255-bit little-endian numbers; `None` if the sum needs bit 255.
    fn add_255(a: &[u8; 32], b: &[u8; 32]) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(a[i]) + u16::from(b[i]) + carry;
            out[i] = sum as u8;
            carry = sum >> 8;
        }
        (carry == 0 && out[31] & 0x80 == 0).then_some(out)
    }

    /// The proof of completeness. The curve's group is Z/8 × Z/ℓ, so its points of
    /// small order are the eight multiples of any point of order 8. Decompression
    /// reads `y` modulo p from the low 255 bits and picks the sign of `x` from the
    /// top bit, so an encoding of a small-order point has the low 255 bits `y` or
    /// `y + p` (when below 2^255) of one of those eight points, and either top bit.
    /// Every such candidate is checked against decompression, and the table must be
    /// exactly the candidates that decompress to a small-order point.
    #[test]
    fn the_table_is_exactly_the_encodings_of_small_order_points() {
        // A point of order 8: the 8-torsion part of a point of the curve, found by
        // multiplying a non-prime-order point by ℓ. The basepoint plus a torsion point
        // from the curve library would do, but deriving one keeps the proof self-made.
        let order_8 = (0u8..=255)
            .filter_map(|b| {
                let mut encoding = [0u8; 32];
                encoding[0] = b;
                encoding[1] = 3;
                CompressedEdwardsY(encoding).decompress()
            })
            // ℓ·P = 2^252·P + c·P with ℓ = 2^252 + c: the scalar type would reduce ℓ itself to 0.
            .map(|point| times_power_of_two(point, 252) + point * curve25519_dalek::Scalar::from(ELL_MINUS_2_252))
            .find(|t| !times_power_of_two(*t, 2).is_identity())
            .expect("some small y gives a point with an order-8 component");
        assert!(times_power_of_two(order_8, 3).is_identity());
        let torsion: Vec<EdwardsPoint> = (0..8)
            .scan(EdwardsPoint::identity(), |acc, _| {
                let point = *acc;
                *acc += order_8;
                Some(point)
            })
            .collect();
        for (i, a) in torsion.iter().enumerate() {
            for b in &torsion[i + 1..] {
                assert_ne!(a, b, "the multiples of an order-8 point are eight distinct points");
            }
        }

        let mut candidates = Vec::new();
        for point in &torsion {
            let mut y = point.compress().to_bytes();
            y[31] &= 0x7f;
            let spellings = [Some(y), add_255(&y, &field_prime())];
            for spelling in spellings.into_iter().flatten() {
                for sign in [0u8, 0x80] {
                    let mut candidate = spelling;
                    candidate[31] |= sign;
                    candidates.push(candidate);
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        let small: Vec<[u8; 32]> = candidates.iter().copied().filter(decompresses_to_small_order).collect();
        assert_eq!(small.len(), candidates.len(), "every candidate decompresses to a small-order point");
        let mut table = SMALL_ORDER_ENCODINGS.to_vec();
        table.sort();
        assert_eq!(table, small);
        assert!(!is_small_order_encoding(ED25519_BASEPOINT_POINT.compress().as_bytes()));
    }

    /// The group order ℓ minus 2^252.
    const ELL_MINUS_2_252: u128 = 27742317777372353535851937790883648493;

    proptest! {
        /// Away from the table, the lookup agrees with decompression on any bytes.
        #[test]
        fn the_lookup_agrees_with_decompression(encoding in any::<[u8; 32]>()) {
            prop_assert_eq!(is_small_order_encoding(&encoding), decompresses_to_small_order(&encoding));
        }
    }
}
