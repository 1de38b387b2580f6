//! Signed entries: the statements clients submit, and their Ed25519 signatures.
//!
//! A signed entry is `{"statement": {...}, "signatures": [{"key", "sig"}, ...]}`.
//! Each signature is Ed25519 over `salvage-ledger/v1\n` followed by the RFC 8785
//! canonical bytes of the statement; the entry id is the blake3 hash of those
//! canonical bytes, so the same statement always has the same id however often
//! it is submitted or whoever signs it.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::canonical;
use crate::canonical::decode::Cursor;
use crate::digest::hash_newtype;
use crate::hex::{parse_lower_hex, to_lower_hex, write_lower_hex};
use crate::refusal::{Refusal, RefusalCode};
use crate::signature::SignatureCheck;

/// The bytes every signed message starts with, so that a Salvage signature can
/// never be replayed as a signature of another protocol (domain separation).
pub const SIGNING_CONTEXT: &[u8] = crate::SIGNING_CONTEXT_LABEL.as_bytes();

/// The most signatures one entry may carry; bounds the work of verifying it.
pub const MAX_SIGNATURES: usize = 16;

hash_newtype! {
    /// The id of an entry: blake3 of the canonical bytes of its statement.
    EntryId
}

hash_newtype! {
    /// The id of a ledger: blake3 of the canonical bytes of its genesis statement.
    LedgerId
}

/// The most decompressed keys one thread remembers (see [`DECOMPRESSED`]).
const REMEMBERED_KEYS: usize = 256;

thread_local! {
    /// Curve points already decompressed, by their encoding. Decompressing one
    /// takes a square root in the field (≈ 5 µs, a fifth of checking a
    /// signature), and every entry and record names its keys, which are few.
    /// One memo per thread: no lock between the threads that decode. Bounded,
    /// so that a stream of made-up keys cannot grow it without end (past the
    /// bound, keys are decompressed every time).
    static DECOMPRESSED: std::cell::RefCell<std::collections::HashMap<[u8; 32], VerifyingKey>> = Default::default();
}

/// An Ed25519 public key that decodes to a curve point.
///
/// Whether the key is weak (of small order) is checked where keys are admitted
/// to membership ([`PublicKey::parse_for_membership`]), not on every signature:
/// `verify_strict` refuses signatures by weak keys anyway.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 64 lowercase hex digits of a compressed Edwards point.
    pub fn from_hex(text: &str) -> Result<Self, Refusal> {
        let bytes = parse_lower_hex::<32>(text)
            .map_err(|e| Refusal::new(RefusalCode::KeyInvalid, format!("public key {text:?}: {e}")))?;
        Self::from_bytes(&bytes)
            .ok_or_else(|| Refusal::new(RefusalCode::KeyInvalid, format!("public key {text} is not an Ed25519 point")))
    }

    /// The key with this compressed encoding, if it is a curve point: the check
    /// [`PublicKey::from_hex`] makes once the hex is decoded.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        if let Some(key) = DECOMPRESSED.with_borrow(|memo| memo.get(bytes).copied()) {
            return Some(PublicKey(key));
        }
        let key = VerifyingKey::from_bytes(bytes).ok()?;
        DECOMPRESSED.with_borrow_mut(|memo| {
            if memo.len() < REMEMBERED_KEYS {
                memo.insert(*bytes, key);
            }
        });
        Some(PublicKey(key))
    }

    /// Parses a key that is to become a member's key: weak keys are refused.
    pub fn parse_for_membership(text: &str) -> Result<Self, Refusal> {
        let key = Self::from_hex(text)?;
        if key.0.is_weak() {
            return Err(Refusal::new(
                RefusalCode::KeyWeak,
                format!("public key {text} is weak (small order) and cannot be used"),
            ));
        }
        Ok(key)
    }

    /// The key of a signing key.
    pub fn of(signing_key: &SigningKey) -> Self {
        PublicKey(signing_key.verifying_key())
    }

    /// The underlying ed25519-dalek key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// The 32 bytes of the compressed point.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Lowercase hex, as on the wire.
    pub fn to_hex(&self) -> String {
        to_lower_hex(self.0.as_bytes())
    }

    /// Whether the key is of small order.
    pub fn is_weak(&self) -> bool {
        self.0.is_weak()
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        PublicKey::from_hex(&text).map_err(|r| serde::de::Error::custom(r.message))
    }
}

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

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )*) => {
        /// What a statement does. See `docs/rules.md` for the rules of each kind.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The kind as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }
        }

        impl FromStr for Kind {
            type Err = Refusal;
            fn from_str(text: &str) -> Result<Self, Refusal> {
                match text {
                    $($name => Ok(Kind::$variant),)*
                    _ => Err(Refusal::new(RefusalCode::EntryMalformed, format!("unknown statement kind {text:?}"))),
                }
            }
        }
    };
}

kinds! {
    /// Record 0: the consortium, its founding members and the admin threshold.
    Genesis => "ledger.genesis",
    /// Admins add a member.
    MemberAdd => "member.add",
    /// Admins change a member's roles; a member or admins change its name and keys.
    MemberUpdate => "member.update",
    /// Admins let an operator run a consortium node at a URL; the nodes add it to
    /// their replication group.
    NodeAdd => "node.add",
    /// Admins take a member's node out of the consortium; the nodes drop it from
    /// their replication group.
    NodeRemove => "node.remove",
    /// A contractor registers an item with its passport and becomes its custodian.
    ItemRegister => "item.register",
    /// The custodian publishes a new passport version.
    ItemAmend => "item.amend",
    /// The custodian offers custody to another member.
    ItemTransfer => "item.transfer",
    /// The recipient accepts a pending transfer; custody moves.
    ItemReceive => "item.receive",
    /// The custodian withdraws a pending transfer.
    ItemCancel => "item.cancel",
    /// A certifier attests inspection or certification results for a passport version.
    ItemAttest => "item.attest",
    /// The custodian splits an item into parts that weigh no more than it.
    ItemSplit => "item.split",
    /// The custodian records that the item is reused in a building.
    ItemInstall => "item.install",
    /// The custodian records that the item was taken out of a building again.
    ItemDismantle => "item.dismantle",
    /// The custodian records recycling or disposal; the item never changes again.
    ItemDispose => "item.dispose",
}

impl Kind {
    /// Whether the kind acts on an item (its body names a `giai`).
    pub fn is_item_kind(self) -> bool {
        self.as_str().starts_with("item.")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(|r: Refusal| serde::de::Error::custom(r.message))
    }
}

/// What a member states: the signed part of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The ledger this statement is for; absent only in the genesis.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub ledger: Option<LedgerId>,
    /// What the statement does.
    pub kind: Kind,
    /// When the signer made the statement.
    pub time: Timestamp,
    /// The kind's body, validated against the kind's JSON Schema.
    pub body: Value,
}

impl Statement {
    /// The RFC 8785 canonical bytes of the statement.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Written member by member, in JCS key order, rather than through a
        // serde round trip that would copy the body first: every submission
        // pays for this. A test holds it equal to the generic encoding.
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"body\":");
        canonical::write_value(&self.body, &mut out);
        out.extend_from_slice(b",\"kind\":");
        canonical::write_string(self.kind.as_str(), &mut out);
        if let Some(ledger) = &self.ledger {
            out.extend_from_slice(b",\"ledger\":");
            canonical::write_string(&ledger.to_hex(), &mut out);
        }
        out.extend_from_slice(b",\"time\":");
        canonical::write_string(self.time.as_str(), &mut out);
        out.push(b'}');
        out
    }

    /// The id of any entry carrying this statement.
    pub fn id(&self) -> EntryId {
        EntryId(*blake3::hash(&self.canonical_bytes()).as_bytes())
    }

    /// Reads a statement at `cursor` if the text there is its canonical
    /// encoding: `{"body":…,"kind":…,["ledger":…,]"time":…}`, the members in
    /// JCS order, as the statement's own deserialiser reads them.
    fn read_canonical(cursor: &mut Cursor<'_>) -> Option<Statement> {
        cursor.literal("{\"body\":")?;
        let body = cursor.value()?;
        cursor.literal(",\"kind\":\"")?;
        let kind: Kind = cursor.plain_string()?.parse().ok()?;
        let ledger = if cursor.eat(",\"ledger\":\"") {
            let id = LedgerId(cursor.hex::<32>()?);
            cursor.literal("\"")?;
            Some(id)
        } else {
            None
        };
        cursor.literal(",\"time\":\"")?;
        let time = Timestamp::parse(cursor.plain_string()?).ok()?;
        cursor.literal("}")?;
        Some(Statement { ledger, kind, time, body })
    }
}

/// The bytes a signature covers: the signing context, then the canonical statement.
pub fn signing_message(canonical_statement: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + canonical_statement.len());
    message.extend_from_slice(SIGNING_CONTEXT);
    message.extend_from_slice(canonical_statement);
    message
}

/// One signature of a statement and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySignature {
    /// The signer's public key.
    pub key: PublicKey,
    /// The Ed25519 signature, 128 lowercase hex digits.
    #[serde(with = "signature_hex")]
    pub sig: Signature,
}

/// The entries of a submission sent in the canonical encoding, as
/// [`SignedEntry::read_canonical_submission`] reads them.
#[derive(Debug)]
pub enum CanonicalSubmission {
    /// A body holding one entry.
    One(SignedEntry),
    /// A body holding a JSON array of entries (never empty).
    Many(Vec<SignedEntry>),
}

/// A statement with its signatures, as clients submit it.
// INVARIANT: `id` and `canonical` are derived from `statement` and kept in step
// by the constructors; the fields are private so nothing can change one alone.
// The one exception is `without_body_tree`, whose entry has a `null` body beside
// the canonical bytes of the real one: the ledger makes such entries only for
// its sequencer, which records them from their canonical bytes and drops them.
#[derive(Clone, PartialEq)]
pub struct SignedEntry {
    statement: Statement,
    signatures: Vec<EntrySignature>,
    canonical: Vec<u8>,
    id: EntryId,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedEntryWire {
    statement: Statement,
    signatures: Vec<EntrySignature>,
}

impl SignedEntry {
    /// Builds an entry from a statement and its signatures (not yet verified).
    pub fn new(statement: Statement, signatures: Vec<EntrySignature>) -> Self {
        let canonical = statement.canonical_bytes();
        let id = EntryId(*blake3::hash(&canonical).as_bytes());
        SignedEntry { statement, signatures, canonical, id }
    }

    /// Builds an entry from a statement whose canonical bytes the caller already
    /// holds, e.g. because it read them verbatim from a canonical record.
    ///
    /// The caller must guarantee that `canonical` is exactly
    /// `statement.canonical_bytes()`; debug builds check it.
    pub(crate) fn from_canonical_statement(
        statement: Statement,
        signatures: Vec<EntrySignature>,
        canonical: Vec<u8>,
    ) -> Self {
        debug_assert_eq!(canonical, statement.canonical_bytes(), "the canonical bytes must be the statement's");
        let id = EntryId(*blake3::hash(&canonical).as_bytes());
        SignedEntry { statement, signatures, canonical, id }
    }

    /// Signs a statement with one or more keys.
    pub fn sign(statement: Statement, keys: &[&SigningKey]) -> Result<Self, Refusal> {
        canonical::check_numbers(&statement.body).map_err(Refusal::from)?;
        let mut entry = Self::new(statement, Vec::new());
        let message = signing_message(&entry.canonical);
        entry.signatures =
            keys.iter().map(|key| EntrySignature { key: PublicKey::of(key), sig: key.sign(&message) }).collect();
        Ok(entry)
    }

    /// Parses a signed entry from JSON bytes, strictly (see [`crate::canonical`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, Refusal> {
        let value = canonical::parse_strict(bytes).map_err(Refusal::from)?;
        Self::from_value(value)
    }

    /// Parses a signed entry from bytes that should already be its canonical
    /// JSON, as replicated batches carry them (every node of a consortium parses
    /// every entry, so this is on each node's hot path).
    ///
    /// The bytes are read straight into the entry by a cursor that accepts only
    /// the canonical spelling ([`crate::canonical`]'s `decode`), without serde's
    /// generic tree building, the duplicate-key scan of
    /// [`SignedEntry::from_json_bytes`] or encoding the statement again to check
    /// it: canonical JSON has no duplicate keys, no whitespace and one spelling
    /// per value, so nothing the strict parser would refuse can pass. Any other
    /// bytes go through [`SignedEntry::from_json_bytes`], so the verdict is always
    /// the strict one.
    pub fn from_canonical_json(bytes: &[u8]) -> Result<Self, Refusal> {
        match Self::read_canonical_whole(bytes) {
            Some(entry) => Ok(entry),
            None => Self::from_json_bytes(bytes),
        }
    }

    /// The entry, if `bytes` are its canonical encoding and nothing more.
    fn read_canonical_whole(bytes: &[u8]) -> Option<SignedEntry> {
        let mut cursor = Cursor::new(bytes)?;
        let entry = Self::read_canonical(&mut cursor)?;
        cursor.at_end().then_some(entry)
    }

    /// Reads a submission sent as its entries were signed: one entry's canonical
    /// JSON, or a non-empty JSON array of them without whitespace (what
    /// [`SignedEntry::canonical_array`] writes). Such a body is read without the
    /// strict parser's tree and yields exactly the entries the strict parser
    /// would; `None` for any other body, valid or not, which the caller then
    /// parses strictly ([`SignedEntry::from_json_bytes`], or
    /// [`crate::canonical::parse_strict`] for an array).
    pub fn read_canonical_submission(bytes: &[u8]) -> Option<CanonicalSubmission> {
        let mut cursor = Cursor::new(bytes)?;
        let submission = if cursor.eat("[") {
            let mut entries = Vec::new();
            loop {
                entries.push(Self::read_canonical(&mut cursor)?);
                if cursor.eat("]") {
                    break CanonicalSubmission::Many(entries);
                }
                cursor.literal(",")?;
            }
        } else {
            CanonicalSubmission::One(Self::read_canonical(&mut cursor)?)
        };
        cursor.at_end().then_some(submission)
    }

    /// The canonical JSON of a JSON array of `entries`: what a client sends to
    /// submit them at once, read by a node without its strict parser
    /// ([`SignedEntry::read_canonical_submission`]).
    pub fn canonical_array(entries: &[SignedEntry]) -> Vec<u8> {
        let size: usize = entries.iter().map(|entry| entry.canonical_len_hint() + 1).sum();
        let mut out = Vec::with_capacity(size + 1);
        out.push(b'[');
        for (index, entry) in entries.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            entry.write_canonical(&mut out);
        }
        out.push(b']');
        out
    }

    /// Reads an entry at `cursor` if the text there is its canonical encoding:
    /// `{"signatures":[{"key":…,"sig":…},…],"statement":…}`. Its canonical
    /// statement is then the slice that holds it, hashed as it stands.
    pub(crate) fn read_canonical(cursor: &mut Cursor<'_>) -> Option<SignedEntry> {
        cursor.literal("{\"signatures\":[")?;
        let mut signatures = Vec::with_capacity(1);
        if !cursor.eat("]") {
            loop {
                cursor.literal("{\"key\":\"")?;
                let key = PublicKey::from_bytes(&cursor.hex::<32>()?)?;
                cursor.literal("\",\"sig\":\"")?;
                let sig = Signature::from_bytes(&cursor.hex::<64>()?);
                cursor.literal("\"}")?;
                signatures.push(EntrySignature { key, sig });
                if cursor.eat("]") {
                    break;
                }
                cursor.literal(",")?;
            }
        }
        cursor.literal(",\"statement\":")?;
        let start = cursor.position();
        let statement = Statement::read_canonical(cursor)?;
        let canonical = cursor.read_since(start)?.to_vec();
        cursor.literal("}")?;
        Some(Self::from_canonical_statement(statement, signatures, canonical))
    }

    /// Decodes a signed entry from an already strictly parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, Refusal> {
        canonical::check_numbers(&value).map_err(Refusal::from)?;
        let value = match Self::moving_body(value) {
            Ok(entry) => return Ok(entry),
            Err(value) => value,
        };
        // A well-spelled signing key that is no curve point breaks its own rule,
        // `key.invalid`, which serde only knows as a malformed entry. Such keys are
        // noted before the value is consumed and decompressed only if decoding
        // fails, so that a good entry's keys are decompressed once, not twice.
        let spelled_keys: Vec<String> = value
            .get("signatures")
            .and_then(Value::as_array)
            .map(|signatures| {
                let keys = signatures.iter().filter_map(|signature| signature.get("key")?.as_str());
                keys.filter(|key| parse_lower_hex::<32>(key).is_ok()).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        match serde_json::from_value::<SignedEntryWire>(value) {
            Ok(wire) => Ok(Self::new(wire.statement, wire.signatures)),
            Err(error) => {
                for key in &spelled_keys {
                    PublicKey::from_hex(key)?;
                }
                Err(Refusal::new(RefusalCode::EntryMalformed, format!("not a signed entry: {error}")))
            }
        }
    }

    /// Decodes a value of exactly the wire's shape, moving its body into the
    /// statement: serde would rebuild the body's whole tree, which for a
    /// submission costs as much as parsing it did. Anything else (an unknown
    /// or missing member, a member serde refuses) gives the value back
    /// untouched, for serde to decode or to refuse with its own message.
    fn moving_body(mut value: Value) -> Result<Self, Value> {
        let decoded = (|| {
            let entry = value.as_object().filter(|entry| entry.len() == 2)?;
            let signatures = Vec::<EntrySignature>::deserialize(entry.get("signatures")?).ok()?;
            let statement = entry.get("statement")?.as_object()?;
            let ledger = statement.get("ledger").map(LedgerId::deserialize).transpose().ok()?;
            let members = 3 + usize::from(ledger.is_some());
            if statement.len() != members || !statement.contains_key("body") {
                return None;
            }
            let kind = Kind::deserialize(statement.get("kind")?).ok()?;
            let time = Timestamp::deserialize(statement.get("time")?).ok()?;
            Some((ledger, kind, time, signatures))
        })();
        let Some((ledger, kind, time, signatures)) = decoded else {
            return Err(value);
        };
        let body = match value.get_mut("statement").and_then(|statement| statement.get_mut("body")) {
            Some(body) => body.take(),
            None => return Err(value),
        };
        Ok(Self::new(Statement { ledger, kind, time, body }, signatures))
    }

    /// The statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The entry without its body's JSON tree (the body becomes `null`), for an
    /// entry whose only remaining use is to be recorded: the record is written
    /// from the canonical bytes, id and signatures, which stay.
    pub(crate) fn without_body_tree(mut self) -> SignedEntry {
        self.statement.body = Value::Null;
        self
    }

    /// The signatures, in the order given.
    pub fn signatures(&self) -> &[EntrySignature] {
        &self.signatures
    }

    /// The entry id.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// The canonical bytes of the statement.
    pub fn canonical_statement(&self) -> &[u8] {
        &self.canonical
    }

    /// Checks every signature under `verify_strict`'s rule; this decides acceptance.
    ///
    /// It does not check who the keys belong to: that depends on the ledger's
    /// membership and is the custody rules' job.
    pub fn verify_signatures(&self) -> Result<(), Refusal> {
        // One entry gets one verdict; were it missing, the entry would be refused, not let through.
        Self::verify_signatures_each(std::slice::from_ref(self)).pop().unwrap_or_else(|| {
            Err(Refusal::new(
                RefusalCode::SignatureInvalid,
                format!("the signatures of entry {} could not be checked", self.id),
            ))
        })
    }

    /// [`SignedEntry::verify_signatures`]'s verdict for each of `entries`, in
    /// order, with all their signatures checked in one list so that they share
    /// the field inversion of the last step (see [`crate::signature`]).
    pub(crate) fn verify_signatures_each(entries: &[SignedEntry]) -> Vec<Result<(), Refusal>> {
        let structure: Vec<Result<(), Refusal>> = entries.iter().map(SignedEntry::check_signature_set).collect();
        let messages: Vec<[&[u8]; 2]> =
            entries.iter().map(|entry| [SIGNING_CONTEXT, entry.canonical.as_slice()]).collect();
        let checks: Vec<SignatureCheck<'_>> = entries
            .iter()
            .zip(&messages)
            .zip(&structure)
            .filter(|(_, structure)| structure.is_ok())
            .flat_map(|((entry, message), _)| {
                entry.signatures.iter().map(move |signature| SignatureCheck {
                    key: signature.key.verifying_key(),
                    message,
                    signature: &signature.sig,
                })
            })
            .collect();
        let mut verdicts = crate::signature::verify_strict_each(&checks).into_iter();
        entries
            .iter()
            .zip(structure)
            .map(|(entry, structure)| {
                structure?;
                // Each entry takes exactly its own verdicts, so the next starts at
                // its first; a missing verdict counts as a failed one.
                for (index, signature) in entry.signatures.iter().enumerate() {
                    if verdicts.next() != Some(true) {
                        // The rest of this entry's verdicts are skipped.
                        verdicts.by_ref().take(entry.signatures.len() - index - 1).for_each(drop);
                        return Err(Refusal::new(
                            RefusalCode::SignatureInvalid,
                            format!(
                                "signature {index} by key {} does not verify over entry {}",
                                signature.key, entry.id
                            ),
                        ));
                    }
                }
                Ok(())
            })
            .collect()
    }

    /// The structural checks on the signature list that need no cryptography.
    pub(crate) fn check_signature_set(&self) -> Result<(), Refusal> {
        if self.signatures.is_empty() {
            return Err(Refusal::new(RefusalCode::SignatureMissing, format!("entry {} carries no signature", self.id)));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(Refusal::new(
                RefusalCode::SignatureTooMany,
                format!(
                    "entry {} carries {} signatures; at most {MAX_SIGNATURES} are accepted",
                    self.id,
                    self.signatures.len()
                ),
            ));
        }
        let mut keys = std::collections::BTreeSet::new();
        for signature in &self.signatures {
            if !keys.insert(signature.key) {
                return Err(Refusal::new(
                    RefusalCode::SignatureDuplicate,
                    format!("key {} signs entry {} more than once", signature.key, self.id),
                ));
            }
        }
        Ok(())
    }

    /// The entry as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The RFC 8785 canonical bytes of the entry, `{"signatures":[…],"statement":…}`,
    /// spliced around the statement's canonical bytes (already known: they were
    /// hashed into the entry id) instead of re-encoding the passport. Every
    /// other value is a plain lowercase-hex string, so the splice is canonical.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.canonical_len_hint());
        self.write_canonical(&mut out);
        out
    }

    /// About how many bytes [`SignedEntry::write_canonical`] writes, a little
    /// more rather than less: the statement, the members' names and brackets,
    /// and each signature's key and signature in hex.
    fn canonical_len_hint(&self) -> usize {
        self.canonical_statement().len() + 40 + 180 * self.signatures.len()
    }

    /// Appends [`SignedEntry::canonical_bytes`] to `out`.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"signatures\":[");
        for (index, signature) in self.signatures.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"key\":\"");
            write_lower_hex(signature.key.verifying_key().as_bytes(), out);
            out.extend_from_slice(b"\",\"sig\":\"");
            write_lower_hex(&signature.sig.to_bytes(), out);
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"statement\":");
        out.extend_from_slice(self.canonical_statement());
        out.push(b'}');
    }
}

impl fmt::Debug for SignedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedEntry")
            .field("id", &self.id)
            .field("statement", &self.statement)
            .field("signatures", &self.signatures)
            .finish()
    }
}

impl Serialize for SignedEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            statement: &'a Statement,
            signatures: &'a [EntrySignature],
        }
        Borrowed { statement: &self.statement, signatures: &self.signatures }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SignedEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = SignedEntryWire::deserialize(deserializer)?;
        Ok(SignedEntry::new(wire.statement, wire.signatures))
    }
}

/// Deserialises a field that, when present, must hold a value (never `null`):
/// a `null` would vanish on re-encoding and change the signed bytes.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

mod signature_hex {
    use ed25519_dalek::Signature;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &Signature, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::hex::to_lower_hex(sig.to_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Signature, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = crate::hex::parse_lower_hex::<64>(&text).map_err(serde::de::Error::custom)?;
        Ok(Signature::from_bytes(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn statement() -> Statement {
        Statement {
            ledger: Some(LedgerId([7; 32])),
            kind: Kind::ItemTransfer,
            time: Timestamp::parse("2026-11-23T10:00:00Z").unwrap(),
            body: json!({"giai": "4750001BEAM-0001", "to": "reuse-hub"}),
        }
    }

    #[test]
    fn canonical_bytes_parse_to_the_same_entry_and_anything_else_gets_the_strict_verdict() {
        let entry = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
        let canonical = entry.canonical_bytes();
        assert!(SignedEntry::from_canonical_json(&canonical).unwrap() == entry);
        let text = String::from_utf8(canonical).unwrap();
        // Not canonical, yet the same entry: the strict path takes it.
        let spaced = text.replacen(":", ": ", 1);
        assert!(SignedEntry::from_canonical_json(spaced.as_bytes()).unwrap() == entry);
        // A duplicate key decodes (serde keeps the last) but is refused, as a
        // submission's would be.
        let doubled = text.replacen("\"giai\":", "\"giai\":\"4750001OTHER\",\"giai\":", 1);
        let strict = SignedEntry::from_json_bytes(doubled.as_bytes()).err().unwrap();
        let fast = SignedEntry::from_canonical_json(doubled.as_bytes()).err().unwrap();
        assert_eq!((fast.code, fast.message), (strict.code, strict.message));
        // A body with a number out of the canonical range.
        let big = text.replacen("\"to\":\"reuse-hub\"", "\"to\":\"reuse-hub\",\"x\":1e400", 1);
        let strict = SignedEntry::from_json_bytes(big.as_bytes()).err().unwrap();
        let fast = SignedEntry::from_canonical_json(big.as_bytes()).err().unwrap();
        assert_eq!((fast.code, fast.message), (strict.code, strict.message));
    }

    #[test]
    fn canonical_entries_are_read_without_the_strict_parser() {
        let unsigned = SignedEntry::new(Statement { ledger: None, ..statement() }, vec![]);
        for entry in [
            SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap(),
            SignedEntry::sign(statement(), &[&key(3)]).unwrap(),
            unsigned,
        ] {
            let read = SignedEntry::read_canonical_whole(&entry.canonical_bytes())
                .expect("canonical bytes take the fast path");
            assert!(read == entry);
            assert_eq!(read.canonical_statement(), entry.statement().canonical_bytes().as_slice());
            assert_eq!(read.id(), entry.id());
        }
        let text = String::from_utf8(SignedEntry::sign(statement(), &[&key(1)]).unwrap().canonical_bytes()).unwrap();
        for other in [text.replacen(":", ": ", 1), format!("{text} "), text.replacen("\"sig\":\"", "\"sig\":\"A", 1)] {
            assert!(SignedEntry::read_canonical_whole(other.as_bytes()).is_none(), "{other}");
        }
    }

    #[test]
    fn canonical_submissions_are_read_whole_and_nothing_else_is() {
        let entries = [
            SignedEntry::sign(statement(), &[&key(1)]).unwrap(),
            SignedEntry::sign(statement(), &[&key(2), &key(3)]).unwrap(),
        ];
        let array = SignedEntry::canonical_array(&entries);
        assert_eq!(
            array,
            canonical::value_to_canonical_bytes(&serde_json::to_value(&entries).unwrap()),
            "the array is canonical JSON"
        );
        match SignedEntry::read_canonical_submission(&array) {
            Some(CanonicalSubmission::Many(read)) => assert!(read == entries),
            other => panic!("{other:?}"),
        }
        match SignedEntry::read_canonical_submission(&entries[1].canonical_bytes()) {
            Some(CanonicalSubmission::One(read)) => assert!(read == entries[1]),
            other => panic!("{other:?}"),
        }
        let text = String::from_utf8(array).unwrap();
        let one = String::from_utf8(entries[0].canonical_bytes()).unwrap();
        // Each is left to the strict parser: not canonical, not whole, or not entries.
        for other in [
            "[]".to_owned(),
            format!("[{one},]"),
            format!("[ {one}]"),
            format!("{text} "),
            format!("{text}[]"),
            format!("[{one}"),
            format!("[[{one}]]"),
            format!("[{one},1]"),
            text.replacen(":", ": ", 1),
        ] {
            assert!(SignedEntry::read_canonical_submission(other.as_bytes()).is_none(), "{other}");
        }
    }

    proptest::proptest! {
        /// Whatever one changed byte makes of an entry's canonical bytes, replication's
        /// decoding gives the strict parser's verdict, refusal and message included.
        #[test]
        fn any_changed_byte_gives_the_strict_verdict(at in proptest::prelude::any::<proptest::sample::Index>(), byte in proptest::prelude::any::<u8>()) {
            let mut bytes = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap().canonical_bytes();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            match (SignedEntry::from_canonical_json(&bytes), SignedEntry::from_json_bytes(&bytes)) {
                (Ok(fast), Ok(strict)) => proptest::prop_assert!(fast == strict),
                (Err(fast), Err(strict)) => proptest::prop_assert_eq!((fast.code, fast.message), (strict.code, strict.message)),
                (fast, strict) => proptest::prop_assert!(false, "fast {:?}, strict {:?}", fast.map(|e| e.id()), strict.map(|e| e.id())),
            }
        }
    }

    #[test]
    fn keys_are_decompressed_once_per_thread_and_non_points_are_refused() {
        let remembered = || DECOMPRESSED.with_borrow(|memo| memo.len());
        let before = remembered();
        let key = PublicKey::of(&key(200));
        assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        assert_eq!(remembered(), (before + 1).min(REMEMBERED_KEYS));
        // Not a curve point: y = 2 has no x on Ed25519.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(PublicKey::from_hex(&hex::encode(not_a_point)).is_err());
        assert_eq!(PublicKey::from_bytes(&not_a_point), None);
        assert_eq!(remembered(), (before + 1).min(REMEMBERED_KEYS), "a non-point is not remembered");
        // The memo stops growing at its bound but still answers.
        for n in 0..REMEMBERED_KEYS as u32 + 8 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&n.to_le_bytes());
            let key = PublicKey::of(&SigningKey::from_bytes(&seed));
            assert_eq!(PublicKey::from_bytes(key.as_bytes()), Some(key));
        }
        assert_eq!(remembered(), REMEMBERED_KEYS);
    }

    #[test]
    fn a_statements_canonical_bytes_are_its_generic_jcs_encoding() {
        let genesis = Statement { ledger: None, kind: Kind::Genesis, ..statement() };
        let awkward =
            Statement { body: json!({"\u{1f600}": [1.5, -0.0, "\u{7}\"\\"], "\u{fb33}": null}), ..statement() };
        for statement in [statement(), genesis, awkward] {
            assert_eq!(statement.canonical_bytes(), canonical::to_canonical_bytes(&statement), "{statement:?}");
        }
    }

    #[test]
    fn signed_entries_round_trip_and_verify() {
        let entry = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
        entry.verify_signatures().unwrap();
        let bytes = serde_json::to_vec(&entry).unwrap();
        let parsed = SignedEntry::from_json_bytes(&bytes).unwrap();
        assert_eq!(parsed, entry);
        assert_eq!(parsed.id(), entry.id());
        parsed.verify_signatures().unwrap();
    }

    #[test]
    fn entry_id_is_blake3_of_the_canonical_statement() {
        let entry = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
        let canonical = format!(
            "{{\"body\":{{\"giai\":\"4750001BEAM-0001\",\"to\":\"reuse-hub\"}},\"kind\":\"item.transfer\",\"ledger\":\"{}\",\"time\":\"2026-11-23T10:00:00Z\"}}",
            "07".repeat(32)
        );
        assert_eq!(entry.canonical_statement(), canonical.as_bytes());
        assert_eq!(entry.id().0, *blake3::hash(canonical.as_bytes()).as_bytes());
        // The signature covers the context label followed by the canonical statement.
        let message = [SIGNING_CONTEXT, canonical.as_bytes()].concat();
        key(1).verifying_key().verify_strict(&message, &entry.signatures()[0].sig).unwrap();
    }

    #[test]
    fn any_change_to_the_statement_breaks_the_signature() {
        let entry = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
        let mut changed = statement();
        changed.body = json!({"giai": "4750001BEAM-0001", "to": "someone-else"});
        let forged = SignedEntry::new(changed, entry.signatures().to_vec());
        assert_eq!(forged.verify_signatures().unwrap_err().code, RefusalCode::SignatureInvalid);
    }

    #[test]
    fn signature_lists_are_checked() {
        let unsigned = SignedEntry::new(statement(), vec![]);
        assert_eq!(unsigned.verify_signatures().unwrap_err().code, RefusalCode::SignatureMissing);
        let twice = SignedEntry::sign(statement(), &[&key(1), &key(1)]).unwrap();
        assert_eq!(twice.verify_signatures().unwrap_err().code, RefusalCode::SignatureDuplicate);
        let keys: Vec<SigningKey> = (1..=17).map(key).collect();
        let many = SignedEntry::sign(statement(), &keys.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(many.verify_signatures().unwrap_err().code, RefusalCode::SignatureTooMany);
    }

    #[test]
    fn entries_checked_together_get_the_verdicts_they_get_alone() {
        // A list mixes entries refused before any cryptography, entries whose
        // first or second signature fails, and valid ones: each must keep its
        // own verdict, naming its own failing signature, and no verdict may
        // slide onto the next entry.
        let valid = SignedEntry::sign(statement(), &[&key(1)]).unwrap();
        let two = SignedEntry::sign(statement(), &[&key(1), &key(2)]).unwrap();
        let mut first_forged = two.signatures().to_vec();
        first_forged[0].sig = two.signatures()[1].sig;
        let mut second_forged = two.signatures().to_vec();
        second_forged[1].sig = two.signatures()[0].sig;
        let mut changed = statement();
        changed.body = json!({"giai": "4750001BEAM-0001", "to": "someone-else"});
        let entries = vec![
            SignedEntry::new(statement(), first_forged),
            valid.clone(),
            SignedEntry::new(statement(), vec![]),
            SignedEntry::new(statement(), second_forged),
            SignedEntry::new(changed, valid.signatures().to_vec()),
            two.clone(),
        ];
        let together = SignedEntry::verify_signatures_each(&entries);
        let alone: Vec<Result<(), Refusal>> = entries.iter().map(SignedEntry::verify_signatures).collect();
        assert_eq!(together, alone);
        let codes: Vec<Option<RefusalCode>> =
            together.iter().map(|verdict| verdict.as_ref().err().map(|refusal| refusal.code)).collect();
        assert_eq!(
            codes,
            [
                Some(RefusalCode::SignatureInvalid),
                None,
                Some(RefusalCode::SignatureMissing),
                Some(RefusalCode::SignatureInvalid),
                Some(RefusalCode::SignatureInvalid),
                None
            ]
        );
        assert!(together[0].as_ref().unwrap_err().message.starts_with("signature 0 "));
        assert!(together[3].as_ref().unwrap_err().message.starts_with("signature 1 "));
    }

    #[test]
    fn moving_the_body_decodes_what_serde_decodes_and_leaves_the_rest_to_it() {
        let good = serde_json::to_value(SignedEntry::sign(statement(), &[&key(1)]).unwrap()).unwrap();
        let mut genesis = good.clone();
        genesis["statement"].as_object_mut().unwrap().remove("ledger");
        let mut extra = good.clone();
        extra["extra"] = json!(1);
        let mut extra_in_statement = good.clone();
        extra_in_statement["statement"]["note"] = json!("x");
        let mut no_time = good.clone();
        no_time["statement"].as_object_mut().unwrap().remove("time");
        let mut null_ledger = good.clone();
        null_ledger["statement"]["ledger"] = Value::Null;
        let mut bad_kind = good.clone();
        bad_kind["statement"]["kind"] = json!("item.steal");
        let as_array = json!([good["statement"].clone(), good["signatures"].clone()]);
        let serde = |value: Value| {
            serde_json::from_value::<SignedEntryWire>(value)
                .map(|wire| SignedEntry::new(wire.statement, wire.signatures))
        };
        for (value, moved) in [
            (good, true),
            (genesis, true),
            (extra, false),
            (extra_in_statement, false),
            (no_time, false),
            (null_ledger, false),
            (bad_kind, false),
            (as_array, false),
        ] {
            assert_eq!(SignedEntry::moving_body(value.clone()).is_ok(), moved, "{value}");
            if let Err(untouched) = SignedEntry::moving_body(value.clone()) {
                assert_eq!(untouched, value);
            }
            assert_eq!(SignedEntry::from_value(value.clone()).ok(), serde(value).ok());
        }
    }

    #[test]
    fn malformed_entries_are_refused_with_codes() {
        let good = serde_json::to_value(SignedEntry::sign(statement(), &[&key(1)]).unwrap()).unwrap();
        let refuse = |value: serde_json::Value| SignedEntry::from_value(value).unwrap_err().code;
        let mut extra = good.clone();
        extra["statement"]["extra"] = json!(1);
        assert_eq!(refuse(extra), RefusalCode::EntryMalformed);
        let mut null_ledger = good.clone();
        null_ledger["statement"]["ledger"] = Value::Null;
        assert_eq!(refuse(null_ledger), RefusalCode::EntryMalformed);
        let mut upper = good.clone();
        upper["signatures"][0]["key"] =
            json!(key(1).verifying_key().as_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>());
        assert_eq!(refuse(upper), RefusalCode::EntryMalformed);
        let mut not_a_point = good.clone();
        let off_curve = (2u8..=255)
            .map(|first| {
                let mut bytes = [0u8; 32];
                bytes[0] = first;
                bytes
            })
            .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
            .unwrap();
        not_a_point["signatures"][0]["key"] = json!(hex::encode(off_curve));
        assert_eq!(refuse(not_a_point), RefusalCode::KeyInvalid);
        let mut offset_time = good.clone();
        offset_time["statement"]["time"] = json!("2026-11-23T10:00:00+02:00");
        assert_eq!(refuse(offset_time), RefusalCode::EntryMalformed);
        let mut big = good;
        big["statement"]["body"]["n"] = json!(9007199254740992u64);
        assert_eq!(refuse(big), RefusalCode::JsonNumberOutOfRange);
        let text = br#"{"statement":{"kind":"item.cancel","kind":"item.cancel"},"signatures":[]}"#;
        assert_eq!(SignedEntry::from_json_bytes(text).unwrap_err().code, RefusalCode::JsonDuplicateKey);
    }

    #[test]
    fn weak_keys_are_refused_for_membership() {
        // The identity point (0, 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = hex::encode(identity);
        assert!(PublicKey::from_hex(&weak).is_ok());
        assert_eq!(PublicKey::parse_for_membership(&weak).unwrap_err().code, RefusalCode::KeyWeak);
        let strong = PublicKey::of(&key(3)).to_hex();
        assert!(PublicKey::parse_for_membership(&strong).is_ok());
    }

    #[test]
    fn timestamps_must_be_utc_rfc3339() {
        assert!(Timestamp::parse("2026-11-23T10:00:00.123Z").is_ok());
        for bad in [
            "2026-11-23T10:00:00",
            "2026-11-23 10:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-23T10:00:00+00:00",
            "2026-11-23t10:00:00Z",
            "2026-11-23T10:00:00z",
        ] {
            assert_eq!(Timestamp::parse(bad).unwrap_err().code, RefusalCode::TimeInvalid, "{bad}");
        }
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(now.as_str()).unwrap(), now);
    }
}
