//! Why an EPC, in any of its forms, was refused.

use super::EpcScheme;

/// Why a hexadecimal EPC, an EPC URI, a set of GS1 AI pairs or a value meant
/// for one of them was refused. Field names in messages are the TDS's own
/// ("serial", "item reference", "asset type", …).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpcError {
    /// The hexadecimal EPC has a character that is not a hexadecimal digit.
    #[error("EPC hex has {character:?} at position {position}, which is not a hexadecimal digit")]
    HexDigit {
        /// The 1-based position of the character.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// The hexadecimal EPC is too short to hold even the 8-bit header.
    #[error("EPC hex has {found} digits, too few for the 2-digit header")]
    HexTooShort {
        /// The number of hexadecimal digits given.
        found: usize,
    },
    /// The hexadecimal EPC is not as long as the scheme its header names.
    #[error(
        "EPC hex has {found} digits, but its header names {scheme}, which takes exactly {expected} \
         ({bits} bits padded to whole 16-bit words)"
    )]
    HexLength {
        /// The scheme the header names.
        scheme: EpcScheme,
        /// The number of hexadecimal digits the scheme takes.
        expected: usize,
        /// The number of hexadecimal digits given.
        found: usize,
        /// The scheme's length in bits.
        bits: usize,
    },
    /// The header is not one of the schemes this module decodes.
    #[error(
        "EPC header 0x{header:02X} is not a scheme this module decodes \
         (SGTIN-96 0x30, SGLN-96 0x32, GRAI-96 0x33, GIAI-96 0x34, GIAI-202 0x38)"
    )]
    UnknownHeader {
        /// The first byte of the EPC.
        header: u8,
    },
    /// The 3-bit partition value is 7, which no partition table defines.
    #[error("{scheme} EPC has partition value {partition}; partition tables define only 0 to 6")]
    Partition {
        /// The scheme being decoded.
        scheme: EpcScheme,
        /// The partition value found.
        partition: u8,
    },
    /// A decoded numeric field holds a number with more digits than its
    /// partition gives it (TDS §14.4 partition table decoding).
    #[error("{scheme} EPC's {field} field holds {value}, more than the {digits} digits its partition allows")]
    FieldOverflow {
        /// The scheme being decoded.
        scheme: EpcScheme,
        /// The field's name.
        field: &'static str,
        /// The number the bits hold.
        value: u64,
        /// The number of decimal digits the field has in this partition.
        digits: usize,
    },
    /// A 7-bit character code of an encoded string is outside GS1 character set 82.
    #[error("{scheme} EPC's {field} has 7-bit code 0x{code:02X} as character {position}, outside GS1 character set 82")]
    EncodedCharacter {
        /// The scheme being decoded.
        scheme: EpcScheme,
        /// The field's name.
        field: &'static str,
        /// The 1-based position of the character.
        position: usize,
        /// The 7-bit code found.
        code: u8,
    },
    /// Bits after the end of an encoded string, or after the end of the EPC
    /// within its last 16-bit word, are not zero (TDS §14.4, §15.1.1).
    #[error("{scheme} EPC has non-zero bits after the end of its {field}; padding must be zero")]
    Padding {
        /// The scheme being decoded.
        scheme: EpcScheme,
        /// What the padding follows.
        field: &'static str,
    },
    /// The string is not one of the EPC URIs this module reads.
    #[error(
        "{uri:?} is not an EPC URI this module reads: expected urn:epc:id:sgtin|grai|giai|sgln: \
         or urn:epc:tag:sgtin-96|grai-96|giai-96|giai-202|sgln-96:"
    )]
    UnknownUri {
        /// The refused text.
        uri: String,
    },
    /// The URI has fewer dot-separated components than its scheme needs.
    #[error("{uri:?} lacks its {component}: an {kind} URI has the components {layout}")]
    MissingComponent {
        /// The refused URI.
        uri: String,
        /// The kind of URI, e.g. `urn:epc:id:sgtin`.
        kind: &'static str,
        /// The first component that is missing.
        component: &'static str,
        /// The components the URI should have, e.g. `CompanyPrefix.ItemReference.Serial`.
        layout: &'static str,
    },
    /// The filter value is not a single digit 0 to 7.
    #[error("filter value {found:?} is not a single digit 0 to 7")]
    Filter {
        /// The filter value given.
        found: String,
    },
    /// The company prefix has fewer than 6 or more than 12 digits.
    #[error("company prefix {prefix:?} has {found} digits; EPCs take GS1 company prefixes of 6 to 12 digits")]
    CompanyPrefixLength {
        /// The prefix given.
        prefix: String,
        /// Its number of characters.
        found: usize,
    },
    /// The company prefix length given for a GS1 key is outside 6..=12 or
    /// leaves no room in the key.
    #[error("a company prefix of {length} digits does not fit ({ai}) {value:?}: {reason}")]
    CompanyPrefixSplit {
        /// The application identifier of the key.
        ai: &'static str,
        /// The key's value.
        value: String,
        /// The prefix length given.
        length: usize,
        /// Why the length does not fit.
        reason: &'static str,
    },
    /// A field that takes only decimal digits has another character.
    #[error("{field} {value:?} has {character:?} at position {position}; it takes decimal digits only")]
    NotDigits {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
        /// The first character that is not a digit.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// A fixed-width numeric field does not have the number of digits the
    /// company prefix leaves for it.
    #[error(
        "{field} {value:?} has {found} digits, but a {prefix_digits}-digit company prefix leaves exactly \
         {expected} for it (the two together have {total})"
    )]
    ReferenceLength {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
        /// Its number of digits.
        found: usize,
        /// The number of digits it must have.
        expected: usize,
        /// The number of digits of the company prefix.
        prefix_digits: usize,
        /// The number of digits company prefix and field must have together.
        total: usize,
    },
    /// A field is empty but needs at least one character.
    #[error("{field} is empty; it needs at least one character")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A character outside GS1 character set 82.
    #[error("{field} {value:?} has {character:?} at position {position}, outside GS1 character set 82")]
    Character {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
        /// The offending character.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// A character of set 82 that a URI must write as a %-escape appears bare.
    #[error("{field} {value:?} has {character:?} at position {position}, which an EPC URI must write as a %-escape")]
    Unescaped {
        /// The field's name.
        field: &'static str,
        /// The URI component given.
        value: String,
        /// The character that must be escaped.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// A `%` in a URI component is not followed by two hexadecimal digits that
    /// name a character of GS1 character set 82.
    #[error(
        "{field} {value:?} has an invalid %-escape at position {position}; an escape is % and two hex digits naming a character of GS1 character set 82"
    )]
    Escape {
        /// The field's name.
        field: &'static str,
        /// The URI component given.
        value: String,
        /// The 1-based position of the `%`.
        position: usize,
    },
    /// A field has more characters than its GS1 key allows.
    #[error("{field} {value:?} has {found} characters; at most {max} are allowed")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
        /// Its number of characters.
        found: usize,
        /// The most allowed.
        max: usize,
    },
    /// A value that a 96-bit scheme holds as a number is not a decimal number.
    #[error("{field} {value:?} is not a decimal number, and {scheme} holds only numeric {field}s")]
    NotNumeric {
        /// The scheme asked for.
        scheme: EpcScheme,
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// A value that a scheme holds as a number has a leading zero, which the
    /// number would lose (TDS §14.3.1: only `0` itself may start with zero).
    #[error(
        "{field} {value:?} starts with a zero, and {scheme} holds only numbers without leading zeros (or 0 itself)"
    )]
    LeadingZero {
        /// The scheme asked for.
        scheme: EpcScheme,
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// A number is larger than its binary field holds.
    #[error("{field} {value} is larger than {max}, the most {scheme} holds in this field")]
    TooLarge {
        /// The scheme asked for.
        scheme: EpcScheme,
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: String,
        /// The largest value the field holds.
        max: u64,
    },
    /// The identity is of another kind than the scheme encodes, or the
    /// identity has no binary scheme here that holds it.
    #[error("{identity} cannot be encoded as {scheme}")]
    SchemeMismatch {
        /// The scheme asked for.
        scheme: EpcScheme,
        /// The kind of identity given, e.g. `SGTIN urn:epc:id:sgtin:…`.
        identity: String,
    },
    /// The AI pairs are not exactly one of the combinations an EPC identity
    /// corresponds to.
    #[error(
        "AI pairs ({found}) are not one EPC identity: expected (01)+(21), (8003), (8004), or (414) with optional (254)"
    )]
    AiCombination {
        /// The AIs given, comma-separated.
        found: String,
    },
    /// A GS1 key value does not have the length its AI requires.
    #[error("({ai}) {value:?} has {found} characters where {expected} are required")]
    KeyLength {
        /// The application identifier.
        ai: &'static str,
        /// The value given.
        value: String,
        /// Its number of characters.
        found: usize,
        /// What is required, e.g. `14 digits`.
        expected: &'static str,
    },
    /// A GS1 key's check digit is wrong.
    #[error("({ai}) {value:?} has a wrong check digit; the GS1 check digit of its digits is {expected}")]
    CheckDigit {
        /// The application identifier.
        ai: &'static str,
        /// The value given.
        value: String,
        /// The check digit it should have.
        expected: u8,
    },
    /// An AI 8003 value does not start with the zero pad digit of a GRAI.
    #[error("(8003) {value:?} must start with the pad digit 0 before the 13-digit GRAI")]
    GraiPadDigit {
        /// The value given.
        value: String,
    },
    /// An AI 8003 value has no serial; a GRAI without serial is no EPC (TDS §7.4).
    #[error("(8003) {value:?} has no serial component; only serialised GRAIs are EPCs")]
    GraiWithoutSerial {
        /// The value given.
        value: String,
    },
    /// AI 254 is `0`, which the SGLN reserves for "no extension" (TDS §7.3).
    #[error("(254) \"0\" is reserved: the SGLN extension 0 means that there is no AI 254")]
    ReservedExtension,
}
