//! EPC pure identities and their URIs (TDS §6.3: `urn:epc:id:…`).

use std::fmt;
use std::str::FromStr;

use super::text::{escape, require_cset82, require_width, unescape};
use super::{CompanyPrefix, EpcError, gs1};

/// An EPC pure identity: what a tag names, without the filter value or binary
/// scheme a tag adds. Its text form is the pure identity URI.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PureIdentity {
    /// A serialised trade item, `urn:epc:id:sgtin:CompanyPrefix.ItemReference.Serial`.
    Sgtin(SgtinIdentity),
    /// A returnable asset, `urn:epc:id:grai:CompanyPrefix.AssetType.Serial`.
    Grai(GraiIdentity),
    /// An individual asset, `urn:epc:id:giai:CompanyPrefix.AssetReference`.
    Giai(GiaiIdentity),
    /// A location, `urn:epc:id:sgln:CompanyPrefix.LocationReference.Extension`.
    Sgln(SglnIdentity),
}

impl PureIdentity {
    /// Parses a pure identity URI (TDS §6.3.1, §6.3.3 to §6.3.5). Serials,
    /// asset references and extensions may carry %-escapes of either hex case;
    /// the seven characters `"` `%` `&` `/` `<` `>` `?` must be escaped.
    pub fn parse(uri: &str) -> Result<PureIdentity, EpcError> {
        let unknown = || EpcError::UnknownUri { uri: uri.to_owned() };
        let rest = uri.strip_prefix("urn:epc:id:").ok_or_else(unknown)?;
        let (name, body) = rest.split_once(':').ok_or_else(unknown)?;
        let kind = Kind::ALL.into_iter().find(|kind| kind.uri_name() == name).ok_or_else(unknown)?;
        let parts = split_components(uri, kind.pure_uri_kind(), kind.layout(), kind.components(), body)?;
        kind.identity_of(&parts)
    }

    /// The canonical pure identity URI: digits as given, and only the seven
    /// characters that must be escaped written as uppercase %-escapes.
    pub fn to_uri(&self) -> String {
        format!("urn:epc:id:{}:{}", self.kind().uri_name(), self.uri_body())
    }

    /// The GS1 company prefix of the identity.
    pub fn company_prefix(&self) -> &CompanyPrefix {
        match self {
            PureIdentity::Sgtin(sgtin) => &sgtin.company_prefix,
            PureIdentity::Grai(grai) => &grai.company_prefix,
            PureIdentity::Giai(giai) => &giai.company_prefix,
            PureIdentity::Sgln(sgln) => &sgln.company_prefix,
        }
    }

    /// The kind of identity, which chooses URI names and layouts.
    pub(super) fn kind(&self) -> Kind {
        match self {
            PureIdentity::Sgtin(_) => Kind::Sgtin,
            PureIdentity::Grai(_) => Kind::Grai,
            PureIdentity::Giai(_) => Kind::Giai,
            PureIdentity::Sgln(_) => Kind::Sgln,
        }
    }

    /// The dot-separated components after `urn:epc:id:<kind>:`, which the tag
    /// URI repeats after its filter value.
    pub(super) fn uri_body(&self) -> String {
        match self {
            PureIdentity::Sgtin(s) => format!("{}.{}.{}", s.company_prefix, s.item_reference, escape(&s.serial)),
            PureIdentity::Grai(g) => format!("{}.{}.{}", g.company_prefix, g.asset_type, escape(&g.serial)),
            PureIdentity::Giai(g) => format!("{}.{}", g.company_prefix, escape(&g.asset_reference)),
            PureIdentity::Sgln(s) => format!("{}.{}.{}", s.company_prefix, s.location_reference, escape(&s.extension)),
        }
    }
}

impl fmt::Display for PureIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

impl FromStr for PureIdentity {
    type Err = EpcError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        PureIdentity::parse(uri)
    }
}

/// A serialised GTIN (TDS §6.3.1): company prefix, indicator digit plus item
/// reference, and serial (the value of AI 21).
// INVARIANT: the item reference is 13 minus the prefix's digits decimal digits
// (the indicator digit first); the serial is 1..=20 characters of set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SgtinIdentity {
    company_prefix: CompanyPrefix,
    item_reference: String,
    serial: String,
}

impl SgtinIdentity {
    /// An SGTIN from its parts; the serial is the raw GS1 value, not
    /// URI-escaped. Company prefix and item reference must have 13 digits
    /// together.
    pub fn new(company_prefix: &str, item_reference: &str, serial: &str) -> Result<SgtinIdentity, EpcError> {
        let company_prefix = CompanyPrefix::parse(company_prefix)?;
        require_width("item reference", item_reference, company_prefix.digits(), 13)?;
        require_cset82("serial", serial, 20)?;
        Ok(SgtinIdentity { company_prefix, item_reference: item_reference.to_owned(), serial: serial.to_owned() })
    }

    /// The GS1 company prefix.
    pub fn company_prefix(&self) -> &CompanyPrefix {
        &self.company_prefix
    }

    /// The indicator digit followed by the item reference, as in the URI.
    pub fn item_reference(&self) -> &str {
        &self.item_reference
    }

    /// The serial, unescaped (the value of AI 21).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The GTIN-14 (AI 01): indicator digit, company prefix, item reference
    /// and check digit (TDS §7.1).
    pub fn gtin(&self) -> String {
        let (indicator, item) = self.item_reference.split_at(1.min(self.item_reference.len()));
        with_check_digit(format!("{indicator}{}{item}", self.company_prefix))
    }
}

/// A serialised GRAI (TDS §6.3.4): company prefix, asset type and serial.
// INVARIANT: the asset type is 12 minus the prefix's digits decimal digits
// (none for a 12-digit prefix); the serial is 1..=16 characters of set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraiIdentity {
    company_prefix: CompanyPrefix,
    asset_type: String,
    serial: String,
}

impl GraiIdentity {
    /// A GRAI from its parts; the serial is the raw GS1 value, not URI-escaped.
    /// Company prefix and asset type must have 12 digits together.
    pub fn new(company_prefix: &str, asset_type: &str, serial: &str) -> Result<GraiIdentity, EpcError> {
        let company_prefix = CompanyPrefix::parse(company_prefix)?;
        require_width("asset type", asset_type, company_prefix.digits(), 12)?;
        require_cset82("serial", serial, 16)?;
        Ok(GraiIdentity { company_prefix, asset_type: asset_type.to_owned(), serial: serial.to_owned() })
    }

    /// The GS1 company prefix.
    pub fn company_prefix(&self) -> &CompanyPrefix {
        &self.company_prefix
    }

    /// The asset type, possibly empty.
    pub fn asset_type(&self) -> &str {
        &self.asset_type
    }

    /// The serial, unescaped.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The 14-digit start of AI 8003: the pad digit 0, company prefix, asset
    /// type and check digit (TDS §7.4), without the serial.
    pub fn grai(&self) -> String {
        with_check_digit(format!("0{}{}", self.company_prefix, self.asset_type))
    }
}

/// A GIAI (TDS §6.3.5): company prefix and individual asset reference.
// INVARIANT: the asset reference is 1 to (30 minus the prefix's digits)
// characters of set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GiaiIdentity {
    company_prefix: CompanyPrefix,
    asset_reference: String,
}

impl GiaiIdentity {
    /// A GIAI from its parts; the asset reference is the raw GS1 value, not
    /// URI-escaped. The two together have at most 30 characters.
    pub fn new(company_prefix: &str, asset_reference: &str) -> Result<GiaiIdentity, EpcError> {
        let company_prefix = CompanyPrefix::parse(company_prefix)?;
        require_cset82("asset reference", asset_reference, 30 - company_prefix.digits())?;
        Ok(GiaiIdentity { company_prefix, asset_reference: asset_reference.to_owned() })
    }

    /// The GS1 company prefix.
    pub fn company_prefix(&self) -> &CompanyPrefix {
        &self.company_prefix
    }

    /// The individual asset reference, unescaped.
    pub fn asset_reference(&self) -> &str {
        &self.asset_reference
    }

    /// The GIAI (AI 8004): company prefix then asset reference (TDS §7.5).
    pub fn giai(&self) -> String {
        format!("{}{}", self.company_prefix, self.asset_reference)
    }
}

/// An SGLN (TDS §6.3.3): company prefix, location reference and extension
/// (the value of AI 254, or `0` when there is none).
// INVARIANT: the location reference is 12 minus the prefix's digits decimal
// digits (none for a 12-digit prefix); the extension is 1..=20 characters of
// set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SglnIdentity {
    company_prefix: CompanyPrefix,
    location_reference: String,
    extension: String,
}

impl SglnIdentity {
    /// An SGLN from its parts; the extension is the raw GS1 value, not
    /// URI-escaped, and `0` for "no extension". Company prefix and location
    /// reference must have 12 digits together.
    pub fn new(company_prefix: &str, location_reference: &str, extension: &str) -> Result<SglnIdentity, EpcError> {
        let company_prefix = CompanyPrefix::parse(company_prefix)?;
        require_width("location reference", location_reference, company_prefix.digits(), 12)?;
        require_cset82("extension", extension, 20)?;
        Ok(SglnIdentity {
            company_prefix,
            location_reference: location_reference.to_owned(),
            extension: extension.to_owned(),
        })
    }

    /// The GS1 company prefix.
    pub fn company_prefix(&self) -> &CompanyPrefix {
        &self.company_prefix
    }

    /// The location reference, possibly empty.
    pub fn location_reference(&self) -> &str {
        &self.location_reference
    }

    /// The extension, unescaped; `0` means there is none.
    pub fn extension(&self) -> &str {
        &self.extension
    }

    /// The GLN (AI 414): company prefix, location reference and check digit.
    pub fn gln(&self) -> String {
        with_check_digit(format!("{}{}", self.company_prefix, self.location_reference))
    }
}

/// The kinds of pure identity, with the names and layouts their URIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Sgtin,
    Grai,
    Giai,
    Sgln,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Sgtin, Kind::Grai, Kind::Giai, Kind::Sgln];

    /// The name after `urn:epc:id:`.
    pub(super) fn uri_name(self) -> &'static str {
        match self {
            Kind::Sgtin => "sgtin",
            Kind::Grai => "grai",
            Kind::Giai => "giai",
            Kind::Sgln => "sgln",
        }
    }

    /// The URI kind for messages.
    fn pure_uri_kind(self) -> &'static str {
        match self {
            Kind::Sgtin => "urn:epc:id:sgtin",
            Kind::Grai => "urn:epc:id:grai",
            Kind::Giai => "urn:epc:id:giai",
            Kind::Sgln => "urn:epc:id:sgln",
        }
    }

    /// The names of the URI components, in order.
    pub(super) fn components(self) -> &'static [&'static str] {
        match self {
            Kind::Sgtin => &["company prefix", "item reference", "serial"],
            Kind::Grai => &["company prefix", "asset type", "serial"],
            Kind::Giai => &["company prefix", "asset reference"],
            Kind::Sgln => &["company prefix", "location reference", "extension"],
        }
    }

    /// The URI layout for messages.
    pub(super) fn layout(self) -> &'static str {
        match self {
            Kind::Sgtin => "CompanyPrefix.ItemReference.Serial",
            Kind::Grai => "CompanyPrefix.AssetType.Serial",
            Kind::Giai => "CompanyPrefix.AssetReference",
            Kind::Sgln => "CompanyPrefix.LocationReference.Extension",
        }
    }

    /// The tag URI layout for messages: the filter value, then the pure
    /// identity's components.
    pub(super) fn tag_layout(self) -> &'static str {
        match self {
            Kind::Sgtin => "Filter.CompanyPrefix.ItemReference.Serial",
            Kind::Grai => "Filter.CompanyPrefix.AssetType.Serial",
            Kind::Giai => "Filter.CompanyPrefix.AssetReference",
            Kind::Sgln => "Filter.CompanyPrefix.LocationReference.Extension",
        }
    }

    /// The names of the tag URI components, in order.
    pub(super) fn tag_components(self) -> &'static [&'static str] {
        match self {
            Kind::Sgtin => &["filter", "company prefix", "item reference", "serial"],
            Kind::Grai => &["filter", "company prefix", "asset type", "serial"],
            Kind::Giai => &["filter", "company prefix", "asset reference"],
            Kind::Sgln => &["filter", "company prefix", "location reference", "extension"],
        }
    }

    /// Builds the identity from its URI components (as `components` names
    /// them), unescaping the last one.
    pub(super) fn identity_of(self, parts: &[&str]) -> Result<PureIdentity, EpcError> {
        let part = |index: usize| parts.get(index).copied().unwrap_or("");
        Ok(match self {
            Kind::Sgtin => {
                let serial = unescape("serial", part(2), 20)?;
                PureIdentity::Sgtin(SgtinIdentity::new(part(0), part(1), &serial)?)
            }
            Kind::Grai => {
                let serial = unescape("serial", part(2), 16)?;
                PureIdentity::Grai(GraiIdentity::new(part(0), part(1), &serial)?)
            }
            Kind::Giai => {
                let company_prefix = CompanyPrefix::parse(part(0))?;
                let reference = unescape("asset reference", part(1), 30 - company_prefix.digits())?;
                PureIdentity::Giai(GiaiIdentity::new(part(0), &reference)?)
            }
            Kind::Sgln => {
                let extension = unescape("extension", part(2), 20)?;
                PureIdentity::Sgln(SglnIdentity::new(part(0), part(1), &extension)?)
            }
        })
    }
}

/// Splits a URI body into as many dot-separated components as `names` has;
/// the last one keeps any further dots, since `.` is a character of set 82
/// that serials and asset references may contain (TDS §5, GS3A3Component).
pub(super) fn split_components<'a>(
    uri: &str,
    kind: &'static str,
    layout: &'static str,
    names: &[&'static str],
    body: &'a str,
) -> Result<Vec<&'a str>, EpcError> {
    let parts: Vec<&str> = body.splitn(names.len(), '.').collect();
    // There are at most as many parts as names, so a name at the parts' count
    // is the first missing component.
    match names.get(parts.len()) {
        Some(component) => Err(EpcError::MissingComponent { uri: uri.to_owned(), kind, component, layout }),
        None => Ok(parts),
    }
}

/// Appends the GS1 check digit to a string of digits.
fn with_check_digit(mut digits: String) -> String {
    // The callers pass only digits (the invariants of the identities), so the
    // check digit always exists; `0` would be a placeholder never reached.
    let check = gs1::check_digit(&digits).unwrap_or(0);
    digits.push(char::from(b'0' + check));
    digits
}
