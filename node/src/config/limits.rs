//! The settings that bound what clients may cost the node: how long one may
//! take, and how many may be connected at once. Each parses from a flag's text
//! and from the config file (a number, or for the timeout also a string such
//! as `"10 s"`), with the same messages either way.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::InvalidValue;

/// How long a client may take to send a request's headers, how long an idle
/// keep-alive connection stays open, and the grace before a request body must
/// keep arriving at the minimum rate; in whole seconds.
// INVARIANT: between `ClientTimeout::MIN` and `ClientTimeout::MAX` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientTimeout(u64);

impl ClientTimeout {
    /// The default, 10 seconds: ample for a phone on a building site to send
    /// headers, short enough that stalled clients do not pile up.
    pub const DEFAULT: ClientTimeout = ClientTimeout(10);
    /// The shortest timeout, 1 second.
    pub const MIN: u64 = 1;
    /// The longest timeout, 5 minutes.
    pub const MAX: u64 = 300;

    /// A timeout of `seconds` seconds.
    pub fn new(seconds: u64) -> Result<ClientTimeout, InvalidValue> {
        if (Self::MIN..=Self::MAX).contains(&seconds) {
            Ok(ClientTimeout(seconds))
        } else {
            Err(InvalidValue(format!("client timeout of {seconds} s is outside 1 s to 300 s")))
        }
    }

    /// Parses whole seconds with an optional unit: `10`, `10 s`, `10s`.
    pub fn parse(text: &str) -> Result<ClientTimeout, InvalidValue> {
        let digits = text.trim().trim_end_matches('s').trim_end();
        let seconds = digits.parse().map_err(|_| {
            InvalidValue(format!("client timeout {text:?} is not a whole number of seconds such as 10 or \"10 s\""))
        })?;
        ClientTimeout::new(seconds)
    }

    /// The timeout as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl Default for ClientTimeout {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for ClientTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

impl FromStr for ClientTimeout {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        ClientTimeout::parse(text)
    }
}

impl<'de> Deserialize<'de> for ClientTimeout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberOrText::new(
            "a number of seconds, or a string such as \"10 s\"",
            ClientTimeout::parse,
        ))
    }
}

/// The most connections the node serves at once; beyond it, new connections
/// are closed at once.
// INVARIANT: between `MaxConnections::MIN` and `MaxConnections::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxConnections(usize);

impl MaxConnections {
    /// The default, 1024.
    pub const DEFAULT: MaxConnections = MaxConnections(1024);
    /// The fewest, 4: a consortium node needs some for its peers.
    pub const MIN: usize = 4;
    /// The most, 65536.
    pub const MAX: usize = 65536;

    /// A limit of `count` connections.
    pub fn new(count: usize) -> Result<MaxConnections, InvalidValue> {
        if (Self::MIN..=Self::MAX).contains(&count) {
            Ok(MaxConnections(count))
        } else {
            Err(InvalidValue(format!("a limit of {count} connections is outside 4 to 65536")))
        }
    }

    /// Parses a count of connections.
    pub fn parse(text: &str) -> Result<MaxConnections, InvalidValue> {
        let count = text
            .trim()
            .parse()
            .map_err(|_| InvalidValue(format!("connection limit {text:?} is not a whole number such as 1024")))?;
        MaxConnections::new(count)
    }

    /// The limit.
    pub fn count(self) -> usize {
        self.0
    }
}

impl Default for MaxConnections {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for MaxConnections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for MaxConnections {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        MaxConnections::parse(text)
    }
}

impl<'de> Deserialize<'de> for MaxConnections {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberOrText::new("a whole number of connections", MaxConnections::parse))
    }
}

/// A TOML value that is a non-negative integer or a string, parsed by the
/// setting's own text parser so that both forms give the same messages.
struct NumberOrText<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, InvalidValue>,
}

impl<T> NumberOrText<T> {
    fn new(expecting: &'static str, parse: fn(&str) -> Result<T, InvalidValue>) -> Self {
        NumberOrText { expecting, parse }
    }
}

impl<T> Visitor<'_> for NumberOrText<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        (self.parse)(&value.to_string()).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        (self.parse)(&value.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }
}
