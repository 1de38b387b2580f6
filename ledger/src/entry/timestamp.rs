//! The time a statement carries: RFC 3339 in UTC, kept as the text that was signed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::refusal::{Refusal, RefusalCode};

/// A point in time written as RFC 3339 in UTC with a `Z` suffix.
///
/// The original text is kept because it is part of signed bytes: two spellings of
/// the same instant (`…00Z` and `…00.000Z`) sign differently and both stay exact.
// INVARIANT: `text` parses as RFC 3339, ends in `Z`, and `instant` is that time.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    instant: OffsetDateTime,
}

impl Timestamp {
    /// Parses RFC 3339 text in UTC (`Z`); offsets other than `Z` are refused.
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let invalid = |why: &str| Refusal::new(RefusalCode::TimeInvalid, format!("time {text:?} {why}"));
        // RFC 3339 lets applications use a space or a lowercase 't'/'z'; the wire
        // format allows only the one spelling `YYYY-MM-DDTHH:MM:SS[.frac]Z`.
        if !text.ends_with('Z') || text.as_bytes().get(10) != Some(&b'T') {
            return Err(invalid("must be RFC 3339 in UTC: YYYY-MM-DDTHH:MM:SS[.fraction]Z"));
        }
        let instant = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| invalid(&format!("is not RFC 3339: {e}")))?;
        Ok(Timestamp { text: text.to_owned(), instant })
    }

    /// The current time, to whole microseconds.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now);
        Self::from_instant(now)
    }

    /// The canonical text of an instant: RFC 3339 UTC with `Z`.
    pub fn from_instant(instant: OffsetDateTime) -> Self {
        let instant = instant.to_offset(time::UtcOffset::UTC);
        // INVARIANT: formatting a UTC OffsetDateTime in RFC 3339 only fails for years
        // outside 0..=9999, which the system clock and our parsed inputs cannot reach.
        let text = instant.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned());
        Timestamp { text, instant }
    }

    /// The RFC 3339 text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant.
    pub fn instant(&self) -> OffsetDateTime {
        self.instant
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(|r| serde::de::Error::custom(r.message))
    }
}
