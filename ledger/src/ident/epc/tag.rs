//! Tag encodings: a pure identity with the filter value and binary scheme a
//! tag carries, as EPC tag URI (TDS §12) and as binary EPC in hexadecimal
//! (TDS §14, §15.1).

use std::fmt;
use std::str::FromStr;

use super::bits::{BitReader, BitWriter, hex_nibbles, nibbles_to_bytes};
use super::identity::{Kind, split_components};
use super::partition::{self, Partition};
use super::text::{digits_value, is_cset82, parse_number};
use super::{EpcError, EpcScheme, Filter, GiaiIdentity, GraiIdentity, PureIdentity, SglnIdentity, SgtinIdentity};

/// The serial field of SGTIN-96 and GRAI-96 (TDS §14.5.1.1, §14.5.4.1).
const SERIAL_BITS: u32 = 38;
/// The extension field of SGLN-96 (TDS §14.5.3.1).
const EXTENSION_BITS: u32 = 41;

/// An EPC as a tag carries it: binary scheme, filter value and pure identity.
// INVARIANT: the identity is of the kind the scheme encodes, and each of its
// fields fits the scheme's binary layout (numeric serial, asset reference or
// extension without leading zeros and within its bits for the 96-bit schemes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagEncoding {
    scheme: EpcScheme,
    filter: Filter,
    identity: PureIdentity,
}

impl TagEncoding {
    /// The tag encoding of `identity` in `scheme`, refused when the identity
    /// is of another kind or one of its fields does not fit the scheme, e.g. an
    /// SGTIN-96 serial that is not a number below 2^38 without leading zeros.
    pub fn new(scheme: EpcScheme, filter: Filter, identity: PureIdentity) -> Result<TagEncoding, EpcError> {
        check_fits(scheme, &identity)?;
        Ok(TagEncoding { scheme, filter, identity })
    }

    /// The tag encoding of `identity` in the scheme this module chooses for
    /// it: SGTIN-96, GRAI-96 or SGLN-96, and for a GIAI the compact GIAI-96
    /// when its asset reference is a number that fits, otherwise GIAI-202,
    /// which holds every GIAI.
    pub fn encode(identity: PureIdentity, filter: Filter) -> Result<TagEncoding, EpcError> {
        let scheme = match &identity {
            PureIdentity::Sgtin(_) => EpcScheme::Sgtin96,
            PureIdentity::Grai(_) => EpcScheme::Grai96,
            PureIdentity::Sgln(_) => EpcScheme::Sgln96,
            PureIdentity::Giai(_) if check_fits(EpcScheme::Giai96, &identity).is_ok() => EpcScheme::Giai96,
            PureIdentity::Giai(_) => EpcScheme::Giai202,
        };
        TagEncoding::new(scheme, filter, identity)
    }

    /// Decodes a binary EPC given in hexadecimal of either case, as read from
    /// the EPC memory bank from bit 20h on (TDS §14.4): 24 digits for the
    /// 96-bit schemes, 52 for GIAI-202, whose last 6 padding bits must be zero.
    pub fn from_hex(hex: &str) -> Result<TagEncoding, EpcError> {
        let nibbles = hex_nibbles(hex)?;
        let header = match nibbles.as_slice() {
            [high, low, ..] => (high << 4) | low,
            _ => return Err(EpcError::HexTooShort { found: nibbles.len() }),
        };
        let scheme = EpcScheme::from_header(header).ok_or(EpcError::UnknownHeader { header })?;
        if nibbles.len() != scheme.hex_length() {
            return Err(EpcError::HexLength {
                scheme,
                expected: scheme.hex_length(),
                found: nibbles.len(),
                bits: scheme.bit_length(),
            });
        }
        let bytes = nibbles_to_bytes(&nibbles);
        let mut reader = BitReader::new(&bytes);
        reader.read(8);
        // Three bits are at most 7, so the casts below cannot truncate.
        let filter = Filter::new((reader.read(3) & 0b111) as u8)?;
        let partition_value = (reader.read(3) & 0b111) as u8;
        let partition = partition::by_value(scheme, partition_value)
            .ok_or(EpcError::Partition { scheme, partition: partition_value })?;
        let identity = decode_identity(scheme, partition, &mut reader)?;
        if !reader.rest_is_zero() {
            return Err(EpcError::Padding { scheme, field: "EPC in its last 16-bit word" });
        }
        TagEncoding::new(scheme, filter, identity)
    }

    /// The binary EPC in uppercase hexadecimal, padded with zero bits to whole
    /// 16-bit words as the EPC memory bank holds it (TDS §15.1.1).
    pub fn to_hex(&self) -> String {
        let mut writer = BitWriter::default();
        let partition = self.partition();
        writer.push(u64::from(self.scheme.header()), 8);
        writer.push(u64::from(self.filter.value()), 3);
        writer.push(u64::from(partition.value), 3);
        writer.push(digits_value(self.identity.company_prefix().as_str()), partition.prefix_bits);
        // The invariant guarantees that the numbers parse; 0 is never reached.
        let number = |field: &'static str, value: &str| parse_number(self.scheme, field, value, u64::MAX).unwrap_or(0);
        match &self.identity {
            PureIdentity::Sgtin(sgtin) => {
                writer.push(digits_value(sgtin.item_reference()), partition.other_bits);
                writer.push(number("serial", sgtin.serial()), SERIAL_BITS);
            }
            PureIdentity::Grai(grai) => {
                writer.push(digits_value(grai.asset_type()), partition.other_bits);
                writer.push(number("serial", grai.serial()), SERIAL_BITS);
            }
            PureIdentity::Sgln(sgln) => {
                writer.push(digits_value(sgln.location_reference()), partition.other_bits);
                writer.push(number("extension", sgln.extension()), EXTENSION_BITS);
            }
            PureIdentity::Giai(giai) if self.scheme == EpcScheme::Giai96 => {
                writer.push(number("asset reference", giai.asset_reference()), partition.other_bits);
            }
            PureIdentity::Giai(giai) => {
                // TDS §14.3 "String" partition encoding: 7-bit ASCII codes,
                // then zero bits up to the field's width.
                for code in giai.asset_reference().bytes() {
                    writer.push(u64::from(code), 7);
                }
                let used = giai.asset_reference().len() * 7;
                writer.push_zeros((partition.other_bits as usize).saturating_sub(used));
            }
        }
        let digits = self.scheme.hex_length();
        writer.push_zeros((digits * 4).saturating_sub(writer.len()));
        writer.to_hex(digits)
    }

    /// Parses an EPC tag URI (TDS §12), e.g.
    /// `urn:epc:tag:sgtin-96:3.0614141.812345.6789`: the scheme name, the
    /// filter value as one digit 0 to 7, then the pure identity's components,
    /// which must fit the scheme.
    pub fn from_tag_uri(uri: &str) -> Result<TagEncoding, EpcError> {
        let unknown = || EpcError::UnknownUri { uri: uri.to_owned() };
        let rest = uri.strip_prefix("urn:epc:tag:").ok_or_else(unknown)?;
        let (name, body) = rest.split_once(':').ok_or_else(unknown)?;
        let scheme = EpcScheme::ALL.into_iter().find(|scheme| scheme.tag_uri_name() == name).ok_or_else(unknown)?;
        let kind = kind_of(scheme);
        let parts = split_components(uri, tag_uri_kind(scheme), kind.tag_layout(), kind.tag_components(), body)?;
        let (filter, components) = parts.split_first().ok_or_else(unknown)?;
        let filter = match filter.as_bytes() {
            [digit @ b'0'..=b'7'] => Filter::new(digit - b'0')?,
            _ => return Err(EpcError::Filter { found: (*filter).to_owned() }),
        };
        let identity = kind.identity_of(components)?;
        TagEncoding::new(scheme, filter, identity)
    }

    /// The canonical EPC tag URI, e.g. `urn:epc:tag:giai-96:3.0614141.5678`.
    pub fn to_tag_uri(&self) -> String {
        format!("urn:epc:tag:{}:{}.{}", self.scheme.tag_uri_name(), self.filter, self.identity.uri_body())
    }

    /// The canonical pure identity URI, e.g. `urn:epc:id:giai:0614141.5678`.
    pub fn to_pure_uri(&self) -> String {
        self.identity.to_uri()
    }

    /// The GS1 keys as AI and value pairs (see [`PureIdentity::to_ai_pairs`]).
    pub fn to_ai_pairs(&self) -> Vec<(String, String)> {
        self.identity.to_ai_pairs()
    }

    /// The binary scheme.
    pub fn scheme(&self) -> EpcScheme {
        self.scheme
    }

    /// The filter value.
    pub fn filter(&self) -> Filter {
        self.filter
    }

    /// The pure identity.
    pub fn identity(&self) -> &PureIdentity {
        &self.identity
    }

    /// The pure identity, giving up the tag encoding.
    pub fn into_identity(self) -> PureIdentity {
        self.identity
    }

    /// The partition row for the identity's company prefix, which every
    /// identity has (6 to 12 digits), so the fallback row is never used.
    fn partition(&self) -> Partition {
        let digits = self.identity.company_prefix().digits();
        partition::by_prefix_digits(self.scheme, digits).unwrap_or(partition::table(self.scheme)[0])
    }
}

impl fmt::Display for TagEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_tag_uri())
    }
}

impl FromStr for TagEncoding {
    type Err = EpcError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        TagEncoding::from_tag_uri(uri)
    }
}

/// The kind of pure identity a scheme encodes.
fn kind_of(scheme: EpcScheme) -> Kind {
    match scheme {
        EpcScheme::Sgtin96 => Kind::Sgtin,
        EpcScheme::Sgln96 => Kind::Sgln,
        EpcScheme::Grai96 => Kind::Grai,
        EpcScheme::Giai96 | EpcScheme::Giai202 => Kind::Giai,
    }
}

/// The tag URI kind for messages.
fn tag_uri_kind(scheme: EpcScheme) -> &'static str {
    match scheme {
        EpcScheme::Sgtin96 => "urn:epc:tag:sgtin-96",
        EpcScheme::Sgln96 => "urn:epc:tag:sgln-96",
        EpcScheme::Grai96 => "urn:epc:tag:grai-96",
        EpcScheme::Giai96 => "urn:epc:tag:giai-96",
        EpcScheme::Giai202 => "urn:epc:tag:giai-202",
    }
}

/// The largest number `bits` bits hold.
fn max_value(bits: u32) -> u64 {
    if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 }
}

/// Refuses an identity of another kind than `scheme` encodes, or with a
/// field that does not fit the scheme (TDS §14.3.1 for the numeric fields).
fn check_fits(scheme: EpcScheme, identity: &PureIdentity) -> Result<(), EpcError> {
    let prefix_digits = identity.company_prefix().digits();
    let partition = partition::by_prefix_digits(scheme, prefix_digits)
        .ok_or(EpcError::CompanyPrefixLength { prefix: identity.company_prefix().to_string(), found: prefix_digits })?;
    match (scheme, identity) {
        (EpcScheme::Sgtin96, PureIdentity::Sgtin(sgtin)) => {
            parse_number(scheme, "serial", sgtin.serial(), max_value(SERIAL_BITS)).map(drop)
        }
        (EpcScheme::Grai96, PureIdentity::Grai(grai)) => {
            parse_number(scheme, "serial", grai.serial(), max_value(SERIAL_BITS)).map(drop)
        }
        (EpcScheme::Sgln96, PureIdentity::Sgln(sgln)) => {
            parse_number(scheme, "extension", sgln.extension(), max_value(EXTENSION_BITS)).map(drop)
        }
        (EpcScheme::Giai96, PureIdentity::Giai(giai)) => {
            parse_number(scheme, "asset reference", giai.asset_reference(), max_value(partition.other_bits)).map(drop)
        }
        (EpcScheme::Giai202, PureIdentity::Giai(giai)) => {
            let reference = giai.asset_reference();
            if reference.len() > partition.other_digits {
                return Err(EpcError::TooLong {
                    field: "asset reference",
                    value: reference.to_owned(),
                    found: reference.len(),
                    max: partition.other_digits,
                });
            }
            Ok(())
        }
        _ => Err(EpcError::SchemeMismatch { scheme, identity: identity.to_uri() }),
    }
}

/// Decodes the fields after the partition value (TDS §14.4 and the coding
/// tables of §14.5).
fn decode_identity(
    scheme: EpcScheme,
    partition: Partition,
    reader: &mut BitReader<'_>,
) -> Result<PureIdentity, EpcError> {
    let prefix = read_digits(reader, scheme, "company prefix", partition.prefix_bits, partition.prefix_digits)?;
    Ok(match scheme {
        EpcScheme::Sgtin96 => {
            let item = read_digits(reader, scheme, "item reference", partition.other_bits, partition.other_digits)?;
            let serial = reader.read(SERIAL_BITS).to_string();
            PureIdentity::Sgtin(SgtinIdentity::new(&prefix, &item, &serial)?)
        }
        EpcScheme::Grai96 => {
            let asset_type = read_digits(reader, scheme, "asset type", partition.other_bits, partition.other_digits)?;
            let serial = reader.read(SERIAL_BITS).to_string();
            PureIdentity::Grai(GraiIdentity::new(&prefix, &asset_type, &serial)?)
        }
        EpcScheme::Sgln96 => {
            let location =
                read_digits(reader, scheme, "location reference", partition.other_bits, partition.other_digits)?;
            let extension = reader.read(EXTENSION_BITS).to_string();
            PureIdentity::Sgln(SglnIdentity::new(&prefix, &location, &extension)?)
        }
        EpcScheme::Giai96 => {
            let reference = reader.read(partition.other_bits).to_string();
            PureIdentity::Giai(GiaiIdentity::new(&prefix, &reference)?)
        }
        EpcScheme::Giai202 => {
            let reference = read_string(reader, scheme, partition.other_bits)?;
            PureIdentity::Giai(GiaiIdentity::new(&prefix, &reference)?)
        }
    })
}

/// Reads a fixed-width digit field (TDS §14.4 "Partition Table" decoding):
/// the integer must have at most `digits` digits and is written with leading
/// zeros to exactly that many; a field of no digits must hold 0.
fn read_digits(
    reader: &mut BitReader<'_>,
    scheme: EpcScheme,
    field: &'static str,
    bits: u32,
    digits: usize,
) -> Result<String, EpcError> {
    let value = reader.read(bits);
    let limit = u32::try_from(digits).ok().and_then(|digits| 10u64.checked_pow(digits)).unwrap_or(u64::MAX);
    if value >= limit {
        return Err(EpcError::FieldOverflow { scheme, field, value, digits });
    }
    Ok(if digits == 0 { String::new() } else { format!("{value:0digits$}") })
}

/// Reads a 7-bit character string of `bits` bits (TDS §14.4 "String"
/// partition decoding): characters up to the first all-zero code, every
/// character of set 82, and only zero bits after the end.
fn read_string(reader: &mut BitReader<'_>, scheme: EpcScheme, bits: u32) -> Result<String, EpcError> {
    let field = "asset reference";
    let mut text = String::new();
    let mut ended = false;
    for position in 1..=bits / 7 {
        // Seven bits are at most 127, so the cast cannot truncate.
        let code = (reader.read(7) & 0x7F) as u8;
        if ended || code == 0 {
            ended = true;
            if code != 0 {
                return Err(EpcError::Padding { scheme, field });
            }
            continue;
        }
        let character = char::from(code);
        if !is_cset82(character) {
            return Err(EpcError::EncodedCharacter { scheme, field, position: position as usize, code });
        }
        text.push(character);
    }
    if reader.read(bits % 7) != 0 {
        return Err(EpcError::Padding { scheme, field });
    }
    Ok(text)
}
