//! Resolvers: the scheme, domain and path stem Digital Links start with.

use std::fmt;
use std::str::FromStr;

use super::DigitalLinkError;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS, the scheme GS1 recommends.
    Https,
}

/// Where Digital Links point: scheme, domain and an optional path stem, such
/// as `https://id.gs1.org` or `https://example.com/resolver`.
// INVARIANT: `authority` is a non-empty host (name, IPv4 or bracketed IPv6) with an
// optional numeric port; `stem` is empty or non-empty `/`-led segments of RFC 3986
// path characters, with no trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolver {
    scheme: Scheme,
    authority: String,
    stem: String,
}

impl Resolver {
    /// Parses a resolver base: `https://host[:port][/stem]`, `http://…`, or a
    /// bare `host[/stem]`, which means HTTPS. A trailing `/` is dropped.
    pub fn parse(base: &str) -> Result<Self, DigitalLinkError> {
        check_uri_characters(base)?;
        let (scheme, rest) = match base.split_once("://") {
            Some((scheme, rest)) => (parse_scheme(scheme, base)?, rest),
            None => (Scheme::Https, base),
        };
        if rest.contains(['?', '#']) {
            return Err(DigitalLinkError::ResolverBase { base: base.to_owned() });
        }
        let rest = rest.trim_end_matches('/');
        let (authority, stem) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        check_authority(authority)?;
        if let Some(segment) = stem.split('/').skip(1).position(str::is_empty) {
            return Err(DigitalLinkError::EmptySegment { path: stem.to_owned(), segment: segment + 1 });
        }
        Ok(Resolver { scheme, authority: authority.to_owned(), stem: stem.to_owned() })
    }

    /// A resolver from the parts of a parsed Digital Link, whose domain and path were already checked.
    pub(super) fn from_checked_parts(scheme: Scheme, authority: &str, stem: &str) -> Self {
        Resolver { scheme, authority: authority.to_owned(), stem: stem.to_owned() }
    }

    /// GS1's own resolver, `https://id.gs1.org`.
    pub fn gs1() -> Self {
        Resolver { scheme: Scheme::Https, authority: "id.gs1.org".to_owned(), stem: String::new() }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, with its port if one was given.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path stem before the primary key, such as `/resolver`, or empty.
    pub fn stem(&self) -> &str {
        &self.stem
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::gs1()
    }
}

impl fmt::Display for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}{}", self.authority, self.stem)
    }
}

impl FromStr for Resolver {
    type Err = DigitalLinkError;

    fn from_str(base: &str) -> Result<Self, DigitalLinkError> {
        Resolver::parse(base)
    }
}

/// Parses `http` or `https` in any case (RFC 3986 §3.1: schemes are case-insensitive).
pub(super) fn parse_scheme(scheme: &str, uri: &str) -> Result<Scheme, DigitalLinkError> {
    if scheme.eq_ignore_ascii_case("https") {
        Ok(Scheme::Https)
    } else if scheme.eq_ignore_ascii_case("http") {
        Ok(Scheme::Http)
    } else {
        Err(DigitalLinkError::Scheme { uri: uri.to_owned() })
    }
}

/// Refuses characters a URI never carries unencoded and malformed percent-encodings.
pub(super) fn check_uri_characters(uri: &str) -> Result<(), DigitalLinkError> {
    let bytes = uri.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        // Every byte before a refused one is ASCII, so byte and character positions agree.
        if *byte == b'%' {
            let hex = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(index + 1) && hex(index + 2)) {
                return Err(DigitalLinkError::PercentEncoding { position: index + 1 });
            }
        } else if !(byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(byte)) {
            let character = uri.get(index..).and_then(|rest| rest.chars().next()).unwrap_or('\u{fffd}');
            return Err(DigitalLinkError::UriCharacter { position: index + 1, character });
        }
    }
    Ok(())
}

/// Checks a host (name, IPv4 or bracketed IPv6) with an optional numeric port.
pub(super) fn check_authority(authority: &str) -> Result<(), DigitalLinkError> {
    if authority.is_empty() {
        return Err(DigitalLinkError::MissingDomain);
    }
    let refuse = |index: usize, character: char| DigitalLinkError::Domain {
        domain: authority.to_owned(),
        character,
        position: index + 1,
    };
    let port_start = match authority.strip_prefix('[') {
        Some(literal) => {
            let end = literal.find(']').ok_or_else(|| refuse(authority.len(), ']'))?;
            if let Some((index, character)) =
                literal.char_indices().take(end).find(|(_, c)| !(c.is_ascii_hexdigit() || matches!(c, ':' | '.')))
            {
                return Err(refuse(index + 1, character));
            }
            end + 2
        }
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            if let Some((index, character)) =
                authority.char_indices().take(end).find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
            {
                return Err(refuse(index, character));
            }
            end
        }
    };
    let port = authority.get(port_start..).unwrap_or_default();
    match port.strip_prefix(':') {
        None => match port.chars().next() {
            Some(character) => Err(refuse(port_start, character)),
            None => Ok(()),
        },
        Some(digits) => match digits.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((at, character)) => Err(refuse(port_start + 1 + at, character)),
            None if digits.is_empty() => Err(refuse(port_start, ':')),
            None => Ok(()),
        },
    }
}
