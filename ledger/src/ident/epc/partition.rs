//! The partition tables of the binary schemes (TDS §14.5: the SGTIN, SGLN,
//! GRAI, GIAI-96 and GIAI-202 partition tables). The 3-bit partition value says
//! how the bits after it are split between the company prefix and the field
//! that follows it, so that one binary layout serves company prefixes of 6 to
//! 12 digits.

use super::EpcScheme;

/// One row of a partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Partition {
    /// The 3-bit partition value, 0 to 6.
    pub(super) value: u8,
    /// The bits of the company prefix field ("M").
    pub(super) prefix_bits: u32,
    /// The digits of the company prefix ("L").
    pub(super) prefix_digits: usize,
    /// The bits of the field after the company prefix ("N").
    pub(super) other_bits: u32,
    /// The digits (or, for GIAI-202, the most characters) of that field ("K").
    /// For GIAI-96 it is the most digits a number below 2^N can have; the
    /// binding limit there is the number of bits.
    pub(super) other_digits: usize,
}

const fn row(value: u8, prefix_bits: u32, prefix_digits: usize, other_bits: u32, other_digits: usize) -> Partition {
    Partition { value, prefix_bits, prefix_digits, other_bits, other_digits }
}

/// SGTIN partition table: the other field is the indicator digit and item
/// reference, 13 digits together with the company prefix.
const SGTIN: [Partition; 7] = [
    row(0, 40, 12, 4, 1),
    row(1, 37, 11, 7, 2),
    row(2, 34, 10, 10, 3),
    row(3, 30, 9, 14, 4),
    row(4, 27, 8, 17, 5),
    row(5, 24, 7, 20, 6),
    row(6, 20, 6, 24, 7),
];

/// SGLN partition table: the other field is the location reference, 12 digits
/// together with the company prefix (so none for a 12-digit prefix).
const SGLN: [Partition; 7] = [
    row(0, 40, 12, 1, 0),
    row(1, 37, 11, 4, 1),
    row(2, 34, 10, 7, 2),
    row(3, 30, 9, 11, 3),
    row(4, 27, 8, 14, 4),
    row(5, 24, 7, 17, 5),
    row(6, 20, 6, 21, 6),
];

/// GRAI partition table: the other field is the asset type, 12 digits together
/// with the company prefix (so none for a 12-digit prefix).
const GRAI: [Partition; 7] = [
    row(0, 40, 12, 4, 0),
    row(1, 37, 11, 7, 1),
    row(2, 34, 10, 10, 2),
    row(3, 30, 9, 14, 3),
    row(4, 27, 8, 17, 4),
    row(5, 24, 7, 20, 5),
    row(6, 20, 6, 24, 6),
];

/// GIAI-96 partition table: the other field is the asset reference as an
/// integer of 42 to 62 bits.
const GIAI_96: [Partition; 7] = [
    row(0, 40, 12, 42, 13),
    row(1, 37, 11, 45, 14),
    row(2, 34, 10, 48, 15),
    row(3, 30, 9, 52, 16),
    row(4, 27, 8, 55, 17),
    row(5, 24, 7, 58, 18),
    row(6, 20, 6, 62, 19),
];

/// GIAI-202 partition table: the other field is the asset reference in 7-bit
/// characters, at most 30 characters together with the company prefix.
const GIAI_202: [Partition; 7] = [
    row(0, 40, 12, 148, 18),
    row(1, 37, 11, 151, 19),
    row(2, 34, 10, 154, 20),
    row(3, 30, 9, 158, 21),
    row(4, 27, 8, 161, 22),
    row(5, 24, 7, 164, 23),
    row(6, 20, 6, 168, 24),
];

/// The partition table of a scheme.
pub(super) fn table(scheme: EpcScheme) -> &'static [Partition; 7] {
    match scheme {
        EpcScheme::Sgtin96 => &SGTIN,
        EpcScheme::Sgln96 => &SGLN,
        EpcScheme::Grai96 => &GRAI,
        EpcScheme::Giai96 => &GIAI_96,
        EpcScheme::Giai202 => &GIAI_202,
    }
}

/// The row for a partition value, or `None` for 7 (and anything larger).
pub(super) fn by_value(scheme: EpcScheme, value: u8) -> Option<Partition> {
    table(scheme).iter().copied().find(|row| row.value == value)
}

/// The row for a company prefix of `digits` digits, or `None` outside 6..=12.
pub(super) fn by_prefix_digits(scheme: EpcScheme, digits: usize) -> Option<Partition> {
    table(scheme).iter().copied().find(|row| row.prefix_digits == digits)
}
