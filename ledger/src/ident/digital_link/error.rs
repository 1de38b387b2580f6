//! The refusals of Digital Link parsing and building.

use super::super::element::ElementError;

/// Why a URI is not a GS1 Digital Link Salvage can resolve, or a link cannot be built.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigitalLinkError {
    /// The URI does not start with `http://` or `https://` (the grammar's `scheme = "https" / "http"`).
    #[error("a GS1 Digital Link starts with https:// or http://, and {uri:?} does not")]
    Scheme {
        /// The refused URI or resolver base.
        uri: String,
    },
    /// Nothing between `://` and the path.
    #[error("the URI has no domain name after its scheme")]
    MissingDomain,
    /// The domain (host and port) holds a character a domain cannot hold.
    #[error("domain {domain:?} has {character:?} at position {position}, which a domain name and port cannot hold")]
    Domain {
        /// The refused domain.
        domain: String,
        /// The offending character.
        character: char,
        /// Its 1-based position in the domain.
        position: usize,
    },
    /// A character that may not appear unencoded anywhere in a URI (RFC 3986 §2).
    #[error("character {position} of the URI is {character:?}, which a URI carries only percent-encoded")]
    UriCharacter {
        /// The 1-based position in the URI.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A `%` not followed by two hexadecimal digits (RFC 3986 §2.1).
    #[error("character {position} of the URI is a '%' not followed by two hexadecimal digits")]
    PercentEncoding {
        /// The 1-based position of the `%`.
        position: usize,
    },
    /// A resolver base with a query or fragment.
    #[error("resolver base {base:?} may not have a query or fragment")]
    ResolverBase {
        /// The refused resolver base.
        base: String,
    },
    /// The path ends in `/`, which leaves its last AI without a value.
    #[error("the path {path:?} ends in '/'; a Digital Link path ends with the value of its last AI")]
    TrailingSlash {
        /// The refused path.
        path: String,
    },
    /// Two slashes in a row.
    #[error("segment {segment} of the path {path:?} is empty ('//')")]
    EmptySegment {
        /// The refused path.
        path: String,
        /// The 1-based number of the empty segment.
        segment: usize,
    },
    /// No primary key followed by its value anywhere in the path.
    #[error("the path {path:?} has no GS1 primary key with its value; Salvage resolves {SUPPORTED_KEYS}")]
    NoPrimaryKey {
        /// The refused path.
        path: String,
    },
    /// The path names a key that is not a primary key Salvage resolves.
    #[error("({ai}) in the path {path:?} is not a primary key Salvage resolves; it resolves {SUPPORTED_KEYS}")]
    UnknownPrimaryKey {
        /// The AI found where a primary key belongs.
        ai: String,
        /// The refused path.
        path: String,
    },
    /// The path ends with an AI that has no value after it.
    #[error("the path ends in {last:?} with no value after it; after its primary key a path holds AI/value pairs")]
    MissingValue {
        /// The last segment of the path.
        last: String,
    },
    /// Key qualifiers out of their fixed order.
    #[error(
        "AI ({ai}) at position {position} of the path comes after ({previous}); key qualifiers of ({key}) go in the order {order}"
    )]
    QualifierOrder {
        /// The qualifier out of place.
        ai: &'static str,
        /// Its 1-based position among the path's AIs (the primary key is 1).
        position: usize,
        /// The qualifier before it, which should come after it.
        previous: &'static str,
        /// The primary key.
        key: &'static str,
        /// The order the qualifiers go in.
        order: String,
    },
    /// An AI in the path that is not a key qualifier of the primary key.
    #[error("AI ({ai}) at position {position} of the path is not a key qualifier of ({key}), which takes {allowed}")]
    QualifierNotAllowed {
        /// The AI as given.
        ai: String,
        /// Its 1-based position among the path's AIs (the primary key is 1).
        position: usize,
        /// The primary key.
        key: &'static str,
        /// The key qualifiers the primary key takes, in words.
        allowed: &'static str,
    },
    /// A key qualifier given as a query parameter, where it would fit in the path.
    #[error(
        "AI ({ai}) in query parameter {parameter} is a key qualifier of ({key}); it belongs in the path as /{ai}/<value>"
    )]
    PathAiInQuery {
        /// The qualifier.
        ai: &'static str,
        /// The 1-based position of the query parameter.
        parameter: usize,
        /// The primary key.
        key: &'static str,
    },
    /// An element string without a primary key cannot become a Digital Link.
    #[error("the element string {elements:?} has no primary key Salvage resolves ({SUPPORTED_KEYS})")]
    NoPrimaryKeyInElements {
        /// The element string, human-readable.
        elements: String,
    },
    /// An AI or value in the path or query is refused: unknown AI, bad value, or a repeat.
    #[error(transparent)]
    Element(#[from] ElementError),
}

/// The primary keys Salvage resolves, in words.
const SUPPORTED_KEYS: &str = "(00), (01), (414), (8003) and (8004)";
