//! Bit strings, most significant bit first, as TDS §14 lays EPCs out, and
//! their hexadecimal form.
//!
//! This hex is not the wire format's (`crate::hex`): an EPC's hex is what a tag
//! reader prints, written in uppercase and read in either case, a nibble at a
//! time (a 96-bit tag is 24 digits, but other lengths need not be whole bytes),
//! with errors that name the offending character's position for the EPC error
//! type. The ledger's hex is lowercase only, whole bytes, fixed lengths.

use super::EpcError;

/// Appends fields of up to 64 bits to a bit string.
#[derive(Debug, Default)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    length: usize,
}

impl BitWriter {
    /// Appends the `width` low bits of `value`, most significant first. Bits
    /// of `value` above `width` are ignored; callers have range-checked it.
    pub(super) fn push(&mut self, value: u64, width: u32) {
        for shift in (0..width.min(64)).rev() {
            let bit = (value >> shift) & 1 == 1;
            if self.length.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if bit && let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> (self.length % 8);
            }
            self.length += 1;
        }
    }

    /// Appends `count` zero bits.
    pub(super) fn push_zeros(&mut self, count: usize) {
        for _ in 0..count {
            self.push(0, 1);
        }
    }

    /// The number of bits written so far.
    pub(super) fn len(&self) -> usize {
        self.length
    }

    /// The bit string as uppercase hexadecimal, zero-padded to `digits` digits.
    pub(super) fn to_hex(&self, digits: usize) -> String {
        let mut hex: String = self.bytes.iter().map(|byte| format!("{byte:02X}")).collect();
        while hex.len() < digits {
            hex.push('0');
        }
        hex.truncate(digits);
        hex
    }
}

/// Reads fields of up to 64 bits from a bit string.
#[derive(Debug)]
pub(super) struct BitReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `bytes`.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, position: 0 }
    }

    /// Reads the next `width` bits as an unsigned integer; bits past the end
    /// read as zero, which callers rule out by checking lengths first.
    pub(super) fn read(&mut self, width: u32) -> u64 {
        let mut value = 0u64;
        for _ in 0..width.min(64) {
            let byte = self.bytes.get(self.position / 8).copied().unwrap_or(0);
            let bit = (byte >> (7 - self.position % 8)) & 1;
            value = (value << 1) | u64::from(bit);
            self.position += 1;
        }
        value
    }

    /// Whether every bit from the current position to the end is zero.
    pub(super) fn rest_is_zero(&self) -> bool {
        let mut reader = BitReader { bytes: self.bytes, position: self.position };
        let total = self.bytes.len() * 8;
        while reader.position < total {
            if reader.read(1) != 0 {
                return false;
            }
        }
        true
    }
}

/// Reads hexadecimal digits of either case into nibbles, refusing anything else.
pub(super) fn hex_nibbles(hex: &str) -> Result<Vec<u8>, EpcError> {
    hex.chars()
        .enumerate()
        .map(|(index, character)| {
            character
                .to_digit(16)
                .and_then(|digit| u8::try_from(digit).ok())
                .ok_or(EpcError::HexDigit { position: index + 1, character })
        })
        .collect()
}

/// Joins nibbles into bytes, high nibble first; an odd last nibble becomes the
/// high half of a last byte.
pub(super) fn nibbles_to_bytes(nibbles: &[u8]) -> Vec<u8> {
    nibbles
        .chunks(2)
        .map(|pair| {
            let high = pair.first().copied().unwrap_or(0);
            let low = pair.get(1).copied().unwrap_or(0);
            (high << 4) | (low & 0x0F)
        })
        .collect()
}
