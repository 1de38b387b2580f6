//! The typed values of single settings: each parses from the text a flag or an
//! environment variable carries and from the value the config file holds, with
//! the same rules and the same messages either way.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;

use salvage_ledger::custody::MemberId;
use salvage_ledger::ident::Resolver;
use salvage_ledger::ident::digital_link::Scheme;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Why the text of a setting was refused; its message says what is expected.
///
/// Flags report it after clap's "invalid value 'X' for '--flag'", and the config
/// file after the key's line and column, so the message does not repeat the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub(super) String);

impl InvalidValue {
    /// The explanation.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Parses a listen address: an IP address and a port, such as `0.0.0.0:8080`
/// (every interface), `127.0.0.1:8080` or `[::]:8080`; `localhost:PORT` means
/// `127.0.0.1:PORT`. Other host names are refused rather than resolved, so that
/// what the node binds does not depend on DNS at start-up.
pub fn parse_listen(text: &str) -> Result<SocketAddr, InvalidValue> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    if let Some(Ok(port)) = text.strip_prefix("localhost:").map(str::parse::<u16>) {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    Err(InvalidValue(format!(
        "listen address {text:?} is not an IP address and port, such as 0.0.0.0:8080 \
         (every interface), 127.0.0.1:8080 (this machine only) or [::]:8080"
    )))
}

/// An absolute `http` or `https` base URL without query, fragment or trailing
/// `/`, such as `https://passports.example.lv` or `http://10.0.0.7:8080/salvage`.
///
/// The node's public URL is where the QR codes it prints point (the resolver of
/// its GS1 Digital Links), so it is also a [`Resolver`]; a peer's URL is where
/// this node reaches that peer.
// INVARIANT: the scheme was written out (never implied), and the scheme and host
// are lowercase; `Resolver` keeps the rest of its own invariant (no trailing '/').
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(Resolver);

impl BaseUrl {
    /// Parses and normalises a base URL: the scheme and the host are lowercased
    /// and a trailing `/` is dropped.
    pub fn parse(text: &str) -> Result<BaseUrl, InvalidValue> {
        let refuse = |why: &str| InvalidValue(format!("URL {text:?} {why}"));
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(refuse("is not absolute: write it with its scheme, such as https://passports.example.lv"));
        };
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
            return Err(refuse("must use http or https"));
        }
        // Lowercase the host, which is case-insensitive, but not the path, which is not.
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(refuse("must not carry a user name or password"));
        }
        let normalised = format!("{}://{}{path}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase());
        Resolver::parse(&normalised).map(BaseUrl).map_err(|e| refuse(&format!("is not a usable base URL: {e}")))
    }

    /// The URL as a Digital Link resolver.
    pub fn resolver(&self) -> &Resolver {
        &self.0
    }

    /// Whether the URL uses TLS.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == Scheme::Https
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for BaseUrl {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        BaseUrl::parse(text)
    }
}

impl Serialize for BaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        BaseUrl::parse(&text).map_err(de::Error::custom)
    }
}

/// The largest request body the node reads, in bytes; larger requests are
/// refused with `413 Payload Too Large` before they are read.
// INVARIANT: between `BodyLimit::MIN` and `BodyLimit::MAX` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BodyLimit(usize);

impl BodyLimit {
    /// The default, 4 MiB: a batch of some thousand entries.
    pub const DEFAULT: BodyLimit = BodyLimit(4 * MIB as usize);
    /// The smallest limit: 1 KiB, below which not even one entry fits.
    pub const MIN: usize = KIB as usize;
    /// The largest limit: 16 MiB, the most one record of the ledger may hold
    /// (`salvage_ledger::store::log::MAX_PAYLOAD_BYTES`). A larger body could
    /// only carry entries the ledger must refuse, and a peer's Raft messages
    /// (up to 64 MiB) must always have room for one whole submission.
    pub const MAX: usize = 16 * MIB as usize;

    /// How the limit is named and bounded in its messages.
    const RULE: SizeRule = SizeRule {
        name: "body limit",
        examples: "4194304, 512 KiB or 4 MiB",
        min: BodyLimit::MIN as u64,
        max: BodyLimit::MAX as u64,
    };

    /// A limit of `bytes` bytes.
    pub fn new(bytes: usize) -> Result<BodyLimit, InvalidValue> {
        Self::RULE.check(bytes as u64).map(|_| BodyLimit(bytes))
    }

    /// Parses a byte count with an optional binary unit: `4194304`, `4 MiB`,
    /// `512KiB`, `1 GiB` (units `B`, `KiB`, `MiB`, `GiB`, any case).
    pub fn parse(text: &str) -> Result<BodyLimit, InvalidValue> {
        Self::RULE.parse(text).map(BodyLimit::checked)
    }

    /// The limit in bytes.
    pub fn bytes(self) -> usize {
        self.0
    }

    /// A limit from bytes [`Self::RULE`] has checked (at most 16 MiB, so the cast keeps them).
    fn checked(bytes: u64) -> BodyLimit {
        BodyLimit(bytes as usize)
    }
}

// No body may be larger than the largest record the ledger holds, and a
// peer's Raft message must have room for several whole submissions.
const _: () = assert!(BodyLimit::MAX <= salvage_ledger::store::log::MAX_PAYLOAD_BYTES);
const _: () = assert!(4 * BodyLimit::MAX <= crate::consortium::routes::RAFT_BODY_LIMIT);

impl Default for BodyLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for BodyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Size(self.0 as u64).fmt(f)
    }
}

impl FromStr for BodyLimit {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        BodyLimit::parse(text)
    }
}

impl<'de> Deserialize<'de> for BodyLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor { rule: &Self::RULE, make: BodyLimit::checked })
    }
}

/// The largest attachment (a photo or a PDF) the node takes on `POST /v1/attachments`, in
/// bytes; larger uploads are refused with `413 Payload Too Large` (`attachment.too_large`).
///
/// An upload is held in memory while it is checked, so the limit also bounds the memory one
/// upload takes.
// INVARIANT: between `AttachmentLimit::MIN` and `AttachmentLimit::MAX` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttachmentLimit(u64);

impl AttachmentLimit {
    /// The default, 20 MiB ([`salvage_ledger::attachment::DEFAULT_LIMIT`]): a phone's photo
    /// at full resolution, or a scanned certificate of some pages.
    pub const DEFAULT: AttachmentLimit = AttachmentLimit(salvage_ledger::attachment::DEFAULT_LIMIT);
    /// The smallest limit, 64 KiB: a small photo.
    pub const MIN: u64 = 64 * KIB;
    /// The largest limit, 1 GiB.
    pub const MAX: u64 = GIB;

    /// How the limit is named and bounded in its messages.
    const RULE: SizeRule = SizeRule {
        name: "attachment limit",
        examples: "20971520, 512 KiB or 20 MiB",
        min: AttachmentLimit::MIN,
        max: AttachmentLimit::MAX,
    };

    /// A limit of `bytes` bytes.
    pub fn new(bytes: u64) -> Result<AttachmentLimit, InvalidValue> {
        Self::RULE.check(bytes).map(AttachmentLimit)
    }

    /// Parses a byte count with an optional binary unit: `20971520`, `20 MiB`,
    /// `512KiB` (units `B`, `KiB`, `MiB`, `GiB`, any case), as [`BodyLimit::parse`] does.
    pub fn parse(text: &str) -> Result<AttachmentLimit, InvalidValue> {
        Self::RULE.parse(text).map(AttachmentLimit)
    }

    /// The limit in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

// The ledger's default is one the setting accepts.
const _: () =
    assert!(AttachmentLimit::MIN <= AttachmentLimit::DEFAULT.0 && AttachmentLimit::DEFAULT.0 <= AttachmentLimit::MAX);

impl Default for AttachmentLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for AttachmentLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Size(self.0).fmt(f)
    }
}

impl FromStr for AttachmentLimit {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        AttachmentLimit::parse(text)
    }
}

impl<'de> Deserialize<'de> for AttachmentLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor { rule: &Self::RULE, make: AttachmentLimit })
    }
}

/// The memory for the custody state read back from disk, in bytes.
///
/// The custody state (every item's custodian, status and passport summary) lives in the
/// index on disk; the node keeps in memory only what the records not yet indexed changed,
/// plus this much of what it read back: half for the index database's page cache, half for
/// the items themselves. The node's memory no longer grows with the ledger's history, and a
/// larger cache only saves reads from disk.
// INVARIANT: between `StateCache::MIN` and `StateCache::MAX` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateCache(u64);

impl StateCache {
    /// The default, 128 MiB: the index's hot pages and some 65 000 items.
    pub const DEFAULT: StateCache = StateCache(128 * MIB);
    /// The smallest cache, 16 MiB: some 8000 items, below which a busy node would read
    /// most items back from disk for every entry.
    pub const MIN: u64 = 16 * MIB;
    /// The largest cache, 64 GiB.
    pub const MAX: u64 = 64 * GIB;
    /// The memory one cached item is assumed to take, 1 KiB. An item's state (its GIAI, name,
    /// custodian, status and sequence numbers, with their strings) and the LRU's own links and
    /// hash-table slot come to a few hundred bytes; 1 KiB is conservative, so that the items'
    /// half holds even with long names or a few parts and attestations.
    pub const BYTES_PER_ITEM: u64 = KIB;

    /// How the cache is named and bounded in its messages.
    const RULE: SizeRule = SizeRule {
        name: "state cache",
        examples: "134217728, 512 MiB or 1 GiB",
        min: StateCache::MIN,
        max: StateCache::MAX,
    };

    /// A cache of `bytes` bytes.
    pub fn new(bytes: u64) -> Result<StateCache, InvalidValue> {
        Self::RULE.check(bytes).map(StateCache)
    }

    /// Parses a byte count with an optional binary unit: `134217728`, `128 MiB`,
    /// `1GiB` (units `B`, `KiB`, `MiB`, `GiB`, any case), as [`BodyLimit::parse`] does.
    pub fn parse(text: &str) -> Result<StateCache, InvalidValue> {
        Self::RULE.parse(text).map(StateCache)
    }

    /// The cache in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// The half of the cache given to the index database's page cache, in bytes.
    pub fn index_cache_bytes(self) -> usize {
        usize::try_from(self.0 / 2).unwrap_or(usize::MAX)
    }

    /// How many items the other half keeps in memory after reading them back, at
    /// [`Self::BYTES_PER_ITEM`] each.
    pub fn cached_items(self) -> NonZeroUsize {
        let items = (self.0 - self.0 / 2) / Self::BYTES_PER_ITEM;
        NonZeroUsize::new(usize::try_from(items).unwrap_or(usize::MAX)).unwrap_or(NonZeroUsize::MIN)
    }
}

impl Default for StateCache {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for StateCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Size(self.0).fmt(f)
    }
}

impl FromStr for StateCache {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        StateCache::parse(text)
    }
}

impl<'de> Deserialize<'de> for StateCache {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor { rule: &Self::RULE, make: StateCache })
    }
}

/// A setting that is a number of bytes: its name for messages and its bounds. Flags and the
/// config file parse sizes with the same rules and the same messages.
struct SizeRule {
    /// The setting in words, as its messages start: `body limit`.
    name: &'static str,
    /// Values to suggest when one is malformed.
    examples: &'static str,
    /// The fewest bytes.
    min: u64,
    /// The most bytes.
    max: u64,
}

impl SizeRule {
    /// `bytes`, if within the bounds.
    fn check(&self, bytes: u64) -> Result<u64, InvalidValue> {
        if (self.min..=self.max).contains(&bytes) {
            Ok(bytes)
        } else {
            Err(self.outside(format_args!("of {bytes} bytes")))
        }
    }

    /// Parses a byte count with an optional binary unit: `4194304`, `4 MiB`, `512KiB`,
    /// `1 GiB` (units `B`, `KiB`, `MiB`, `GiB`, any case), and checks its bounds.
    fn parse(&self, text: &str) -> Result<u64, InvalidValue> {
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
        let (digits, unit) = trimmed.split_at(split);
        let unit_bytes = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" => KIB,
            "mib" => MIB,
            "gib" => GIB,
            _ => {
                return Err(InvalidValue(format!(
                    "{} {text:?} is not a byte count such as {} (units B, KiB, MiB, GiB; {} to {})",
                    self.name,
                    self.examples,
                    Size(self.min),
                    Size(self.max)
                )));
            }
        };
        if digits.is_empty() {
            return Err(InvalidValue(format!("{} {text:?} does not start with a number of bytes", self.name)));
        }
        // `digits` holds only digits: a number that does not parse is too large for any setting.
        let bytes = digits
            .parse::<u64>()
            .ok()
            .and_then(|count| count.checked_mul(unit_bytes))
            .ok_or_else(|| self.outside(format_args!("{text:?}")))?;
        self.check(bytes)
    }

    /// The message for a value outside the bounds: `body limit of 12 bytes is outside 1 KiB to 16 MiB`.
    fn outside(&self, value: fmt::Arguments<'_>) -> InvalidValue {
        InvalidValue(format!("{} {value} is outside {} to {}", self.name, Size(self.min), Size(self.max)))
    }
}

/// A size in the config file: a number of bytes, or a string with a unit, checked by its rule.
struct SizeVisitor<T> {
    rule: &'static SizeRule,
    /// Makes the setting from bytes the rule has checked.
    make: fn(u64) -> T,
}

impl<T> Visitor<'_> for SizeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of bytes, or a string with a unit: B, KiB, MiB or GiB")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        let bytes = u64::try_from(value).map_err(|_| E::custom(self.rule.outside(format_args!("of {value} bytes"))))?;
        self.visit_u64(bytes)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        self.rule.check(value).map(self.make).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        self.rule.parse(text).map(self.make).map_err(E::custom)
    }
}

/// A number of bytes as it is written in settings: in the largest binary unit that divides it.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("0 B"),
            bytes if bytes % GIB == 0 => write!(f, "{} GiB", bytes / GIB),
            bytes if bytes % MIB == 0 => write!(f, "{} MiB", bytes / MIB),
            bytes if bytes % KIB == 0 => write!(f, "{} KiB", bytes / KIB),
            bytes => write!(f, "{bytes} B"),
        }
    }
}

/// Another node of the consortium: the operator member that runs it and the
/// URL this node reaches it at.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// The member that runs the peer (an `operator` of the consortium).
    pub member: MemberId,
    /// Where the peer's API is.
    pub url: BaseUrl,
}

impl Peer {
    /// A peer.
    pub fn new(member: MemberId, url: BaseUrl) -> Peer {
        Peer { member, url }
    }

    /// Parses `MEMBER=URL`, the form of `--peer` and of each comma-separated
    /// item of `SALVAGE_PEERS`, such as `regional-planning=https://salvage.zpr.example`.
    pub fn parse(text: &str) -> Result<Peer, InvalidValue> {
        let Some((member, url)) = text.split_once('=') else {
            return Err(InvalidValue(format!(
                "peer {text:?} is not MEMBER=URL, such as regional-planning=https://salvage.zpr.example"
            )));
        };
        let member = MemberId::parse(member.trim()).map_err(|refusal| InvalidValue(refusal.message))?;
        Ok(Peer { member, url: BaseUrl::parse(url.trim())? })
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.member, self.url)
    }
}

impl FromStr for Peer {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<Self, InvalidValue> {
        Peer::parse(text)
    }
}

/// A path setting in the config file: a non-empty string.
pub(super) struct FilePath(pub(super) PathBuf);

impl<'de> Deserialize<'de> for FilePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Err(de::Error::custom("a path must not be empty"));
        }
        Ok(FilePath(PathBuf::from(text)))
    }
}

/// A listen address in the config file, parsed by [`parse_listen`].
pub(super) struct FileListen(pub(super) SocketAddr);

impl<'de> Deserialize<'de> for FileListen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_listen(&text).map(FileListen).map_err(de::Error::custom)
    }
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
