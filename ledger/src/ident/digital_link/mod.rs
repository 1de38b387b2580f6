//! GS1 Digital Link URIs, such as `https://id.gs1.org/01/09520123456788/10/ABC1?17=180426`.
//!
//! A Digital Link (GS1 Digital Link: URI Syntax, whose ABNF grammar this
//! module follows) is a web address on any domain, with an optional path stem
//! of its own, followed by a primary key as `/AI/value`, the key qualifiers of
//! that key as further `/AI/value` pairs in a fixed order, and data attributes
//! as `AI=value` query parameters. Salvage resolves the primary keys SSCC (00),
//! GTIN (01, qualifiers 22, 10, 21 in that order, or 235), GLN (414, qualifier
//! 254 or 7040), GRAI (8003) and GIAI (8004, qualifier 7040), with the
//! qualifier sequences of the GS1 Barcode Syntax Dictionary's `dlpkey`
//! attributes. Where the standard leaves a choice, this module does what the
//! GS1 Barcode Syntax Engine (GS1's reference implementation) does: it refuses
//! a trailing slash, a numeric query parameter that is not an AI, a key
//! qualifier put in the query, and a repeated AI; it keeps other query
//! parameters (such as `linkType=all`) as they are; and it ignores a fragment,
//! which is never sent to a resolver (RFC 3986 §3.5).
//!
//! Values are percent-encoded (RFC 3986 §2.1): every character but the
//! unreserved `A`–`Z a`–`z 0`–`9 - . _ ~` is written `%XX`. That covers the
//! characters of set 82 that the grammar's `XSYMBOL` rule lists in encoded
//! form: `! " % & ' ( ) * + , / : ; < = > ?`. In the query, `+` decodes to a
//! space, as the Syntax Engine decodes it.

mod error;
mod resolver;

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

pub use error::DigitalLinkError;
pub use resolver::{Resolver, Scheme};
use resolver::{check_authority, check_uri_characters, parse_scheme};

use super::Giai;
use super::element::{Ai, Element, ElementError, ElementString, Location};

/// The resolver GS1 runs, the default domain of a Digital Link.
pub const GS1_RESOLVER: &str = "https://id.gs1.org";

/// A parsed or built GS1 Digital Link.
// INVARIANT: `elements` starts with `key`, then the key qualifiers in their
// required order (`path_len` elements in all), then the query's AI attributes in
// the order of the `Attribute` items of `query`; no attribute could go in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLink {
    resolver: Resolver,
    key: Element,
    elements: ElementString,
    path_len: usize,
    query: Vec<QueryItem>,
}

impl DigitalLink {
    /// Parses a Digital Link URI, refusing anything malformed with a typed error.
    pub fn parse(uri: &str) -> Result<Self, DigitalLinkError> {
        check_uri_characters(uri)?;
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| DigitalLinkError::Scheme { uri: uri.to_owned() })?;
        let scheme = parse_scheme(scheme, uri)?;
        let rest = rest.split('#').next().unwrap_or_default();
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        check_authority(authority)?;
        let (stem, pairs, key) = split_path(path)?;
        check_path(key, pairs.iter().map(|(code, _)| *code))?;

        let mut elements = ElementString::new();
        for (index, (code, value)) in pairs.iter().enumerate() {
            elements.push_at(code, &decode(value, false), Location::Path(index + 1))?;
        }
        let path_codes: Vec<&str> = pairs.iter().map(|(code, _)| *code).collect();
        let mut items = Vec::new();
        for (index, parameter) in query.split('&').filter(|parameter| !parameter.is_empty()).enumerate() {
            let position = index + 1;
            match parameter.split_once('=') {
                // The Syntax Engine refuses numeric-only names that are not AIs; other names are extensions.
                Some((name, value)) if !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_digit()) => {
                    let ai = Ai::lookup(name).ok_or_else(|| ElementError::UnknownAi {
                        ai: name.to_owned(),
                        location: Location::Query(position),
                    })?;
                    if fits_in_path(key, &path_codes, ai.code()) {
                        return Err(DigitalLinkError::PathAiInQuery {
                            ai: ai.code(),
                            parameter: position,
                            key: key.ai,
                        });
                    }
                    elements.push_at(ai.code(), &decode(value, true), Location::Query(position))?;
                    items.push(QueryItem::Attribute);
                }
                _ => items.push(QueryItem::Extension(parameter.to_owned())),
            }
        }
        let resolver = Resolver::from_checked_parts(scheme, authority, &stem);
        DigitalLink::assemble(resolver, elements, pairs.len(), items)
    }

    /// Builds the Digital Link of an element string: its first AI that is a
    /// primary key goes in the path with the key qualifiers present (choosing
    /// the qualifier sequence that places the most of them), every other AI
    /// goes in the query in element-string order.
    pub fn from_element_string(elements: &ElementString, resolver: &Resolver) -> Result<Self, DigitalLinkError> {
        let (key_index, key) = elements
            .elements()
            .iter()
            .enumerate()
            .find_map(|(index, element)| primary_key(element.ai().code()).map(|key| (index, key)))
            .ok_or_else(|| DigitalLinkError::NoPrimaryKeyInElements { elements: elements.to_string() })?;
        let position_of = |code: &str| elements.elements().iter().position(|element| element.ai().code() == code);
        let sequence = key
            .qualifiers
            .iter()
            .enumerate()
            .max_by_key(|(rank, sequence)| {
                let present: Vec<usize> = sequence.iter().filter_map(|code| position_of(code)).collect();
                (present.len(), Reverse(present.iter().min().copied()), Reverse(*rank))
            })
            .map_or(&[][..], |(_, sequence)| *sequence);

        let mut path = vec![key_index];
        path.extend(sequence.iter().filter_map(|code| position_of(code)));
        let mut link = ElementString::new();
        for (index, element_index) in path.iter().enumerate() {
            if let Some(element) = elements.elements().get(*element_index) {
                link.push_at(element.ai().code(), element.value(), Location::Path(index + 1))?;
            }
        }
        let attributes = elements.elements().iter().enumerate().filter(|(index, _)| !path.contains(index));
        for (position, (_, element)) in attributes.enumerate() {
            link.push_at(element.ai().code(), element.value(), Location::Query(position + 1))?;
        }
        let items = vec![QueryItem::Attribute; link.len().saturating_sub(path.len())];
        DigitalLink::assemble(resolver.clone(), link, path.len(), items)
    }

    /// The Digital Link of a salvaged item: `<resolver base>/8004/<GIAI>`, the GIAI percent-encoded.
    pub fn for_giai(resolver_base: &str, giai: &Giai) -> Result<Self, DigitalLinkError> {
        let resolver = Resolver::parse(resolver_base)?;
        DigitalLink::from_element_string(&ElementString::from_pairs([("8004", giai.as_str())])?, &resolver)
    }

    /// The resolver: scheme, domain and path stem.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// The primary key and its value.
    pub fn primary_key(&self) -> &Element {
        &self.key
    }

    /// The key qualifiers in the path, after the primary key.
    pub fn key_qualifiers(&self) -> &[Element] {
        self.elements.elements().get(1..self.path_len).unwrap_or_default()
    }

    /// The AI attributes of the query, in order.
    pub fn attributes(&self) -> &[Element] {
        self.elements.elements().get(self.path_len..).unwrap_or_default()
    }

    /// The query parameters that are not AIs, such as `linkType=all`, exactly as written.
    pub fn extension_parameters(&self) -> impl Iterator<Item = &str> {
        self.query.iter().filter_map(|item| match item {
            QueryItem::Extension(parameter) => Some(parameter.as_str()),
            QueryItem::Attribute => None,
        })
    }

    /// Every AI of the link: the path's, then the query's.
    pub fn element_string(&self) -> &ElementString {
        &self.elements
    }

    /// The GIAI of the item, if the primary key is (8004) and its value is a GIAI Salvage accepts.
    pub fn giai(&self) -> Option<Giai> {
        (self.key.ai().code() == "8004").then(|| Giai::parse(self.key.value()).ok()).flatten()
    }

    /// Checks the invariant's first element and stores the parts.
    fn assemble(
        resolver: Resolver,
        elements: ElementString,
        path_len: usize,
        query: Vec<QueryItem>,
    ) -> Result<Self, DigitalLinkError> {
        let key = elements
            .elements()
            .first()
            .cloned()
            .ok_or_else(|| DigitalLinkError::NoPrimaryKeyInElements { elements: String::new() })?;
        Ok(DigitalLink { resolver, key, elements, path_len, query })
    }
}

impl fmt::Display for DigitalLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resolver)?;
        for element in self.elements.elements().iter().take(self.path_len) {
            write!(f, "/{}/{}", element.ai().code(), utf8_percent_encode(element.value(), VALUE))?;
        }
        let mut attributes = self.attributes().iter();
        for (index, item) in self.query.iter().enumerate() {
            f.write_str(if index == 0 { "?" } else { "&" })?;
            match item {
                QueryItem::Extension(parameter) => f.write_str(parameter)?,
                QueryItem::Attribute => {
                    if let Some(element) = attributes.next() {
                        write!(f, "{}={}", element.ai().code(), utf8_percent_encode(element.value(), VALUE))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl FromStr for DigitalLink {
    type Err = DigitalLinkError;

    fn from_str(uri: &str) -> Result<Self, DigitalLinkError> {
        DigitalLink::parse(uri)
    }
}

/// One query parameter, in the order of the URI.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QueryItem {
    /// The next AI attribute of the element string.
    Attribute,
    /// A parameter that is not an AI, kept exactly as written (still percent-encoded).
    Extension(String),
}

/// Characters written as they are in AI values: the RFC 3986 unreserved set.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A primary key and its key qualifier sequences (the syntax dictionary's `dlpkey=` attribute).
struct PrimaryKey {
    ai: &'static str,
    /// Alternative sequences; each qualifier is optional, but their order within a sequence is fixed.
    qualifiers: &'static [&'static [&'static str]],
    /// The qualifiers in words, for errors.
    allowed: &'static str,
}

/// `00 dlpkey`, `01 dlpkey=22,10,21|235`, `414 dlpkey=254|7040`, `8003 dlpkey`, `8004 dlpkey=7040`.
const PRIMARY_KEYS: &[PrimaryKey] = &[
    PrimaryKey { ai: "00", qualifiers: &[], allowed: "no key qualifiers" },
    PrimaryKey {
        ai: "01",
        qualifiers: &[&["22", "10", "21"], &["235"]],
        allowed: "the key qualifiers 22, 10, 21 in that order, or 235 alone",
    },
    PrimaryKey { ai: "414", qualifiers: &[&["254"], &["7040"]], allowed: "the key qualifier 254 or 7040" },
    PrimaryKey { ai: "8003", qualifiers: &[], allowed: "no key qualifiers" },
    PrimaryKey { ai: "8004", qualifiers: &[&["7040"]], allowed: "the key qualifier 7040" },
];

/// The primary key with this AI, if Salvage resolves it.
fn primary_key(code: &str) -> Option<&'static PrimaryKey> {
    PRIMARY_KEYS.iter().find(|key| key.ai == code)
}

/// The path stem, the `(AI, raw value)` pairs from the primary key on, and that key.
type SplitPath<'a> = (String, Vec<(&'a str, &'a str)>, &'static PrimaryKey);

/// Finds the primary key in a path: the rightmost supported key followed by
/// AI/value pairs to the end of the path, as the Syntax Engine finds it.
fn split_path(path: &str) -> Result<SplitPath<'_>, DigitalLinkError> {
    let segments: Vec<&str> = path.strip_prefix('/').map(|rest| rest.split('/').collect()).unwrap_or_default();
    if segments.iter().all(|segment| segment.is_empty()) {
        return Err(DigitalLinkError::NoPrimaryKey { path: path.to_owned() });
    }
    if path.ends_with('/') {
        return Err(DigitalLinkError::TrailingSlash { path: path.to_owned() });
    }
    if let Some(segment) = segments.iter().position(|segment| segment.is_empty()) {
        return Err(DigitalLinkError::EmptySegment { path: path.to_owned(), segment: segment + 1 });
    }
    let count = segments.len();
    let key_at = |even: bool| {
        segments
            .iter()
            .enumerate()
            .rev()
            .filter(move |(index, _)| (count - index).is_multiple_of(2) == even)
            .find_map(|(index, segment)| primary_key(segment).map(|key| (index, key)))
    };
    let Some((index, key)) = key_at(true) else {
        if key_at(false).is_some() {
            let last = segments.last().copied().unwrap_or_default();
            return Err(DigitalLinkError::MissingValue { last: last.to_owned() });
        }
        let looks_like_ai = |(index, segment): &(usize, &&str)| {
            (count - index).is_multiple_of(2)
                && (2..=4).contains(&segment.len())
                && segment.bytes().all(|b| b.is_ascii_digit())
        };
        return Err(match segments.iter().enumerate().rev().find(looks_like_ai) {
            Some((_, ai)) => DigitalLinkError::UnknownPrimaryKey { ai: (*ai).to_owned(), path: path.to_owned() },
            None => DigitalLinkError::NoPrimaryKey { path: path.to_owned() },
        });
    };
    let stem: String = segments.iter().take(index).map(|segment| format!("/{segment}")).collect();
    let pairs = segments
        .get(index..)
        .unwrap_or_default()
        .chunks(2)
        .map(|pair| (pair.first().copied().unwrap_or_default(), pair.get(1).copied().unwrap_or_default()))
        .collect();
    Ok((stem, pairs, key))
}

/// Checks the AIs of a path (primary key first) against the key's qualifier sequences.
fn check_path<'a>(key: &PrimaryKey, codes: impl IntoIterator<Item = &'a str>) -> Result<(), DigitalLinkError> {
    let mut sequence: Option<&[&'static str]> = None;
    let mut previous: Option<(usize, &'static str)> = None;
    let mut seen = vec![key.ai];
    for (index, code) in codes.into_iter().enumerate().skip(1) {
        let position = index + 1;
        if let Some(ai) = Ai::lookup(code).filter(|ai| seen.contains(&ai.code())) {
            return Err(ElementError::Duplicate { ai: ai.code(), location: Location::Path(position) }.into());
        }
        let candidate =
            sequence.or_else(|| key.qualifiers.iter().copied().find(|qualifiers| qualifiers.contains(&code)));
        let Some((place, ai)) = candidate
            .and_then(|qualifiers| qualifiers.iter().enumerate().find(|(_, qualifier)| **qualifier == code))
            .map(|(place, qualifier)| (place, *qualifier))
        else {
            return Err(DigitalLinkError::QualifierNotAllowed {
                ai: code.to_owned(),
                position,
                key: key.ai,
                allowed: key.allowed,
            });
        };
        if let Some((previous_place, previous_ai)) = previous
            && place < previous_place
        {
            return Err(DigitalLinkError::QualifierOrder {
                ai,
                position,
                previous: previous_ai,
                key: key.ai,
                order: candidate.map(|qualifiers| qualifiers.join(", ")).unwrap_or_default(),
            });
        }
        sequence = candidate;
        previous = Some((place, ai));
        seen.push(ai);
    }
    Ok(())
}

/// Whether `code` would make a valid path if inserted after the primary key
/// somewhere among `path` (the Syntax Engine's test for a misplaced qualifier).
fn fits_in_path(key: &PrimaryKey, path: &[&str], code: &str) -> bool {
    (1..=path.len()).any(|at| {
        let mut trial = path.to_vec();
        trial.insert(at, code);
        check_path(key, trial).is_ok()
    })
}

/// Decodes a percent-encoded value; in a query, `+` stands for a space.
fn decode(raw: &str, in_query: bool) -> String {
    let raw = if in_query { raw.replace('+', " ") } else { raw.to_owned() };
    percent_decode_str(&raw).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests;
