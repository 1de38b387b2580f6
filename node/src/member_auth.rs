//! Members' signed reads: HTTP Message Signatures (RFC 9421) with Ed25519.
//!
//! A member of the consortium reads the private disclosures of restricted passport values with
//! GET requests signed by one of its Ed25519 keys, the keys the ledger knows it by. The signature
//! is a standard HTTP message signature rather than a format of our own, so that any HTTP tool
//! can make and check one:
//!
//! ```text
//! Signature-Input: salvage=("@method" "@authority" "@path" "@query");created=1767225600;nonce="…"
//!     ;keyid="<the member's public key, 64 lowercase hex>";alg="ed25519";tag="salvage-member/v1"
//! Signature: salvage=:<base64 of the 64-byte Ed25519 signature>:
//! ```
//!
//! (one line each on the wire). What is signed, and why:
//!
//! - The covered components (RFC 9421 §2.2) are the request target and nothing else: `@method`
//!   (§2.2.1), `@authority` (§2.2.3), `@path` (§2.2.6) and, only when the request has a query,
//!   `@query` (§2.2.7). A signature lifted from a log is then good for that one read, on that
//!   node. A GET has no body to cover, and headers that proxies rewrite would only fail honest
//!   requests.
//! - The signature parameters (§2.3): `created` lies within [`MAX_SKEW`] of the node's clock,
//!   both ways; the `nonce` is remembered ([`SeenRequests`]) for as long as `created` lets the
//!   request in, so each request is accepted once; `keyid` is the public key itself, so the node
//!   needs no key directory, only the members' keys it already has; `alg="ed25519"`; and
//!   `tag="salvage-member/v1"` says which application the signature is for (§2.3), so a signature
//!   made with the same key for another protocol is never taken for a member's read.
//! - The signature base (§2.5) is one line per covered component, in the order the
//!   `Signature-Input` lists them, then the `@signature-params` line: the covered components and
//!   parameters as received, serialized again as an RFC 8941 inner list. Ed25519 (§3.3.6) signs
//!   the base's bytes; the node checks with `verify_strict`, the project's rule for signatures.
//!
//! [`verify`] decides whether the two headers are a good signature of the request. Whose key
//! `keyid` is (an active key of a member) is the caller's next question, and only then whether
//! the request is new ([`SeenRequests::admit`]): a stranger's requests must not fill the memory
//! of members' nonces. Both headers are RFC 8941 dictionaries, read with `sfv`; only the
//! [`LABEL`] entry counts, others are ignored (§4.3: one message may carry several signatures).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey};
use salvage_ledger::entry::PublicKey;
use sfv::{BareItem, DictSerializer, Dictionary, Item, ListEntry, ListSerializer, Parameters, Parser, Version};

/// The request a signature covers: its target, as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedTarget<'a> {
    /// The method, as sent: `GET`. Methods are case-sensitive and RFC 9421 §2.2.1 signs the
    /// method as it is, without changing its case.
    pub method: &'a str,
    /// The authority, `host[:port]`, as the `Host` header (HTTP/1.1) or `:authority` (HTTP/2)
    /// carries it. It is signed in lowercase (§2.2.3) and otherwise as it is: HTTP clients leave
    /// out a scheme's default port (HTTP §4.2.3), so the signer must too, and `host:443` does not
    /// verify as `host`.
    pub authority: &'a str,
    /// The path, still percent-encoded, without the query; an empty path counts as `/` (§2.2.6).
    pub path: &'a str,
    /// The query, still percent-encoded, without its leading `?`; `None` when the target has no
    /// `?` at all, `Some("")` when it ends with one.
    pub query: Option<&'a str>,
}

/// The values of the two headers that carry a request's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// The value of the `Signature-Input` header.
    pub signature_input: String,
    /// The value of the `Signature` header.
    pub signature: String,
}

/// The header that lists what a signature covers and its parameters (RFC 9421 §4.1).
pub const SIGNATURE_INPUT_HEADER: &str = "signature-input";

/// The header that carries the signature itself (RFC 9421 §4.2).
pub const SIGNATURE_HEADER: &str = "signature";

/// The label of a member's signature in both headers' dictionaries, the one label read.
pub const LABEL: &str = "salvage";

/// The `tag` parameter of a member's signature (RFC 9421 §2.3), set and required.
pub const TAG: &str = "salvage-member/v1";

/// How far a signature's `created` may lie from the node's clock, before or after it.
pub const MAX_SKEW: Duration = Duration::from_secs(60);

/// Who signed a request, and the parameters that tell it apart: what [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The key that signed the request (its `keyid`). Whether it is a member's active key is for
    /// the caller to find out.
    pub key: PublicKey,
    /// When the request was signed, in Unix seconds.
    pub created: u64,
    /// The signer's nonce, which [`SeenRequests::admit`] lets through once.
    pub nonce: String,
}

/// Why a member's signed request was refused. [`MemberAuthError::code`] is stable for clients to
/// match on; [`MemberAuthError::message`] is for people and safe to show anyone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberAuthError {
    /// The request lacks the `Signature-Input` header, the `Signature` header, or both.
    #[error(
        "this read is for consortium members, and the request is not signed: it needs a Signature-Input and a \
         Signature header (HTTP Message Signatures, RFC 9421) made with a member's key; the salvage CLI adds them \
         when given the key with --key or SALVAGE_KEY"
    )]
    Missing,
    /// A header is too long, is not an RFC 8941 dictionary, or its `salvage` entry is not what a
    /// member's signature looks like; the text says which and where.
    #[error(
        "the request's signature cannot be read: {0}. A member's read is signed as RFC 9421 describes, under the \
         label \"salvage\"; the salvage CLI does this when given the key with --key or SALVAGE_KEY"
    )]
    Malformed(String),
    /// The `alg` parameter names another algorithm than Ed25519.
    #[error(
        "the signature's alg parameter is \"{0}\", but members sign with Ed25519 only: sign with alg=\"ed25519\" \
         and an Ed25519 member key"
    )]
    UnknownAlgorithm(String),
    /// The `tag` parameter is absent or not [`TAG`]: the signature was made for something else.
    #[error(
        "the signature's tag parameter is {}, so it was not made for a member's read; sign the request with \
         tag=\"{TAG}\"", .0.as_deref().map_or_else(|| "absent".to_owned(), |tag| format!("\"{tag}\""))
    )]
    WrongTag(Option<String>),
    /// The signature does not cover exactly the request target's components (the text lists
    /// those it covers).
    #[error(
        "the signature covers {0}, but a member's read must cover exactly \"@method\" \"@authority\" \"@path\", \
         and \"@query\" when the request has a query (RFC 9421 §2.2), each once and without parameters, so that \
         it holds for this one request"
    )]
    Coverage(String),
    /// `created` lies more than [`MAX_SKEW`] from the node's clock.
    // The message, which the sender sees, gives the direction but not the node's clock.
    #[error(
        "the request was signed at {created} (its created parameter, in Unix seconds), more than {} s {} this \
         node's clock; check the clock of the machine that signs, and sign each request just before sending it",
        MAX_SKEW.as_secs(), if created > now { "ahead of" } else { "behind" }
    )]
    Stale {
        /// When the request says it was signed, in Unix seconds.
        created: u64,
        /// The node's clock, in Unix seconds.
        now: u64,
    },
    /// The signature's `expires` parameter has passed.
    #[error(
        "the signature expired at {expires} (its expires parameter, in Unix seconds); sign the request again, \
         with a later expires or none"
    )]
    Expired {
        /// When the signature expired, in Unix seconds.
        expires: u64,
        /// The node's clock, in Unix seconds.
        now: u64,
    },
    /// The signature is not one by the `keyid` key over this request and these parameters.
    #[error(
        "the signature does not verify: it was not made by the key in keyid over this request's method, \
         authority (host[:port] in lowercase), path and query and the parameters in Signature-Input; sign the \
         request exactly as it is sent to this node"
    )]
    BadSignature,
    /// The same key and nonce were accepted before: a replay, or a client that reuses nonces.
    #[error(
        "this signed request was accepted before (the same key and nonce): sign every request anew, with a fresh \
         random nonce"
    )]
    Replayed,
    /// The node remembers as many recent nonces as it may and cannot take another for now.
    #[error(
        "this node has accepted too many signed requests in the last {} s to take more for now; try again in a \
         minute", SEEN_FOR.as_secs()
    )]
    Busy,
    /// The signature verifies, but its key is no active key of a member of the consortium (the
    /// caller decides this, from its ledger).
    #[error(
        "the request is signed by key {0}, which is no active key of a member of this consortium: sign with your \
         member key (a revoked key no longer reads)"
    )]
    UnknownKey(String),
}

impl MemberAuthError {
    /// The stable, machine-readable code of the refusal, such as `auth.stale`.
    pub fn code(&self) -> &'static str {
        match self {
            MemberAuthError::Missing => "auth.missing",
            MemberAuthError::Malformed(_) => "auth.malformed",
            MemberAuthError::UnknownAlgorithm(_) => "auth.unknown_algorithm",
            MemberAuthError::WrongTag(_) => "auth.wrong_tag",
            MemberAuthError::Coverage(_) => "auth.coverage",
            MemberAuthError::Stale { .. } => "auth.stale",
            MemberAuthError::Expired { .. } => "auth.expired",
            MemberAuthError::BadSignature => "auth.bad_signature",
            MemberAuthError::Replayed => "auth.replayed",
            MemberAuthError::Busy => "auth.busy",
            MemberAuthError::UnknownKey(_) => "auth.unknown_key",
        }
    }

    /// What is wrong, where, why and how to fix it, for people. It repeats only what the request
    /// itself sent (cut short), never the node's clock or state.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Signs a read of `target` as the holder of `key`, at `created` (Unix seconds) with `nonce`.
///
/// `nonce` is meant to come from [`fresh_nonce`]; the node refuses nonces that are not 16 to 64
/// characters of `A-Z a-z 0-9 _ -`, and targets with control characters, which no real request
/// target has. Neither is checked here: such a signature is made, and refused where it is read.
pub fn sign(target: &SignedTarget<'_>, key: &SigningKey, created: u64, nonce: &str) -> RequestSignature {
    let components = components(target);
    let mut params = String::from("(");
    for (i, (name, _)) in components.iter().enumerate() {
        if i > 0 {
            params.push(' ');
        }
        push_sf_string(&mut params, name);
    }
    // Writing to a `String` cannot fail.
    let _ = write!(params, ");created={created};nonce=");
    push_sf_string(&mut params, nonce);
    params.push_str(";keyid=");
    push_sf_string(&mut params, &PublicKey::of(key).to_hex());
    params.push_str(";alg=");
    push_sf_string(&mut params, ALG);
    params.push_str(";tag=");
    push_sf_string(&mut params, TAG);
    let lines: Vec<(&str, &str)> = components.iter().map(|(name, value)| (*name, &**value)).collect();
    let signature = key.sign(signature_base(&lines, &params).as_bytes()).to_bytes();
    let mut header = DictSerializer::new();
    let _ = header.bare_item(sfv::key_ref(LABEL), &signature[..]);
    RequestSignature {
        signature_input: format!("{LABEL}={params}"),
        // A dictionary with one member always serializes.
        signature: header.finish().unwrap_or_default(),
    }
}

/// A fresh nonce for [`sign`]: 16 bytes from the operating system's generator, as 32 lowercase hex
/// digits.
pub fn fresh_nonce() -> Result<String, getrandom::Error> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce)?;
    Ok(hex::encode(nonce))
}

/// Checks the signature headers of a request for `target`, received at `now` (Unix seconds).
///
/// It reads the [`LABEL`] entries of both headers (each at most 4 KiB), requires the components
/// and parameters described in the module's documentation, checks `created` (and `expires`, when
/// present) against `now`, rebuilds the signature base from the request and the parameters as
/// received, and verifies the Ed25519 signature (`verify_strict`) with the key `keyid` names.
/// Unknown parameters are allowed, and signed like the others (RFC 9421 §2.3).
///
/// It does not decide whether the key is a member's, nor whether the request was seen before:
/// the caller looks the key up among the members, then calls [`SeenRequests::admit`].
pub fn verify(
    target: &SignedTarget<'_>,
    signature_input: Option<&[u8]>,
    signature: Option<&[u8]>,
    now: u64,
) -> Result<Claim, MemberAuthError> {
    let (Some(signature_input), Some(signature)) = (signature_input, signature) else {
        return Err(MemberAuthError::Missing);
    };
    let covered = covered(signature_input, LABEL)?;
    let signature = signature_bytes(signature, LABEL)?;
    let params = read_params(&covered.params)?;
    let expected = components(target);
    let mut lines = Vec::with_capacity(expected.len());
    for name in &covered.components {
        match expected.iter().find(|(expected, _)| *expected == name.as_str()) {
            Some((name, value)) => lines.push((*name, &**value)),
            None => return Err(MemberAuthError::Coverage(listed(&covered.components))),
        }
    }
    // Every name found among the expected ones, as many as expected: unless one is listed twice,
    // the same set. A name listed twice would sign one value twice, and another not at all.
    let repeated = lines.iter().enumerate().any(|(i, (name, _))| lines[..i].iter().any(|(seen, _)| seen == name));
    if lines.len() != expected.len() || repeated {
        return Err(MemberAuthError::Coverage(listed(&covered.components)));
    }
    if let Some((name, _)) = lines.iter().find(|(_, value)| value.chars().any(|c| c.is_control())) {
        return Err(MemberAuthError::Malformed(format!(
            "the request's {name} has control characters, which cannot be signed (RFC 9421 §2.5)"
        )));
    }
    if now.abs_diff(params.created) > MAX_SKEW.as_secs() {
        return Err(MemberAuthError::Stale { created: params.created, now });
    }
    if let Some(expires) = params.expires
        && now > expires
    {
        return Err(MemberAuthError::Expired { expires, now });
    }
    let base = signature_base(&lines, &covered.params_line);
    params.key.verifying_key().verify_strict(base.as_bytes(), &signature).map_err(|_| MemberAuthError::BadSignature)?;
    Ok(Claim { key: params.key, created: params.created, nonce: params.nonce })
}

/// The nonces of the requests accepted lately, by key, so that none is accepted twice; each is
/// forgotten once its request would be refused as stale anyway.
///
/// The memory is bounded: past 65,536 nonces in all, or 4,096 of one key, requests are refused
/// ([`MemberAuthError::Busy`]) until older nonces are forgotten, rather than the memory growing or
/// a nonce being forgotten early (which would let its request be replayed). The bound per key
/// keeps one member's burst, or a member's leaked key, from locking the others out.
pub struct SeenRequests {
    seen: Mutex<Seen>,
    max: usize,
    max_per_key: usize,
    window: Duration,
}

impl Default for SeenRequests {
    fn default() -> Self {
        SeenRequests::with_bounds(MAX_SEEN, MAX_SEEN_PER_KEY, SEEN_FOR)
    }
}

impl SeenRequests {
    /// At most `max` nonces, `max_per_key` of one key, each remembered for `window`.
    fn with_bounds(max: usize, max_per_key: usize, window: Duration) -> Self {
        SeenRequests { seen: Mutex::default(), max, max_per_key, window }
    }

    /// Notes the request `claim` as accepted at `now`, or refuses it: [`MemberAuthError::Replayed`]
    /// if its key and nonce were accepted before, [`MemberAuthError::Busy`] if the memory is full.
    pub fn admit(&self, claim: &Claim, now: Instant) -> Result<(), MemberAuthError> {
        // A poisoned lock refuses everything rather than forgetting what it saw.
        let mut seen = self.seen.lock().map_err(|_| MemberAuthError::Busy)?;
        // Callers take `now` before the lock, so `order` is sorted only to within that moment. An
        // entry behind a later one is then forgotten a little late, never early.
        while let Some(&(noted, fingerprint, key)) = seen.order.front()
            && now.saturating_duration_since(noted) > self.window
        {
            seen.order.pop_front();
            seen.set.remove(&fingerprint);
            if let Some(count) = seen.per_key.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    seen.per_key.remove(&key);
                }
            }
        }
        let key = *claim.key.as_bytes();
        // A hash rather than key and nonce: 32 bytes whatever the nonce. The key has a fixed
        // length, so the hashed bytes split into a key and a nonce in one way only.
        let fingerprint: [u8; 32] = blake3::Hasher::new().update(&key).update(claim.nonce.as_bytes()).finalize().into();
        if seen.set.contains(&fingerprint) {
            return Err(MemberAuthError::Replayed);
        }
        let of_key = seen.per_key.get(&key).copied().unwrap_or(0);
        if seen.set.len() >= self.max || of_key >= self.max_per_key {
            return Err(MemberAuthError::Busy);
        }
        seen.set.insert(fingerprint);
        seen.order.push_back((now, fingerprint, key));
        *seen.per_key.entry(key).or_insert(0) += 1;
        Ok(())
    }
}

/// How many nonces a node remembers at most: 546 signed reads a second for [`SEEN_FOR`], far more
/// than a consortium's members send, in at most about 15 MiB.
const MAX_SEEN: usize = 1 << 16;

/// How many nonces of one key a node remembers at most: 34 signed reads a second, for
/// [`SEEN_FOR`], from one member's key.
const MAX_SEEN_PER_KEY: usize = 1 << 12;

/// How long a nonce is remembered: a request is refused as stale [`MAX_SKEW`] after its `created`,
/// and its `created` is at most [`MAX_SKEW`] before its arrival.
const SEEN_FOR: Duration = Duration::from_secs(2 * MAX_SKEW.as_secs());

/// The `alg` of a member's signature (RFC 9421 §3.3.6).
const ALG: &str = "ed25519";

/// The most bytes of either header that are read. The two headers of a member's read are about
/// 250 and 100 bytes; anything longer is refused before it is parsed.
const MAX_HEADER_LEN: usize = 4096;

/// How long a nonce may be, in characters of [`nonce_char`].
const NONCE_LEN: RangeInclusive<usize> = 16..=64;

/// The longest text of a request that a message repeats; the rest is cut off.
const SHOWN_LEN: usize = 80;

#[derive(Default)]
struct Seen {
    // INVARIANT: `set` holds exactly the fingerprints of `order`, which is sorted by arrival (see
    // `admit`); `per_key` counts them by key, and holds no zero.
    set: HashSet<[u8; 32]>,
    order: VecDeque<(Instant, [u8; 32], [u8; 32])>,
    per_key: HashMap<[u8; 32], usize>,
}

/// The components a read of `target` covers, with their values, in the order they are signed.
fn components<'t>(target: &SignedTarget<'t>) -> Vec<(&'static str, Cow<'t, str>)> {
    let authority = if target.authority.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(target.authority.to_ascii_lowercase())
    } else {
        Cow::Borrowed(target.authority)
    };
    let path = if target.path.is_empty() { Cow::Borrowed("/") } else { Cow::Borrowed(target.path) };
    let mut components = vec![("@method", Cow::Borrowed(target.method)), ("@authority", authority), ("@path", path)];
    if let Some(query) = target.query {
        components.push(("@query", Cow::Owned(format!("?{query}"))));
    }
    components
}

/// The signature base of RFC 9421 §2.5: for each covered component, its name as a structured
/// string, `: ` and its value, then `"@signature-params": ` and `params`, the lines joined by a
/// line feed, with none after the last.
///
/// It is generic over the components (the appendix's examples cover header fields too), and does
/// not check the values: [`verify`] refuses control characters first, since a line feed inside a
/// value would let it pose as another line.
fn signature_base(components: &[(&str, &str)], params: &str) -> String {
    let mut base = String::new();
    for (name, value) in components {
        push_sf_string(&mut base, name);
        base.push_str(": ");
        base.push_str(value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(params);
    base
}

/// A signature's entry of a `Signature-Input` header, read.
struct Covered {
    /// The covered components' names, in order.
    components: Vec<String>,
    /// The signature parameters.
    params: Parameters,
    /// The `@signature-params` value: the entry as received, serialized again (RFC 8941 §4.1).
    params_line: String,
}

/// Reads the entry `label` of a `Signature-Input` header: an inner list of plain strings, the
/// covered components, with the signature parameters.
fn covered(header: &[u8], label: &str) -> Result<Covered, MemberAuthError> {
    let mut dictionary = dictionary(SIGNATURE_INPUT_HEADER, header)?;
    let malformed = |what: &str| MemberAuthError::Malformed(format!("in the Signature-Input header, {what}"));
    let Some(entry) = dictionary.swap_remove(label) else {
        return Err(malformed(&format!("there is no signature labelled \"{label}\"")));
    };
    // The serialization of a list with one member is that member's.
    let mut params_line = ListSerializer::new();
    params_line.members([&entry]);
    let params_line = params_line.finish().unwrap_or_default();
    let ListEntry::InnerList(list) = entry else {
        return Err(malformed(&format!("\"{label}\" is not a list of covered components in parentheses")));
    };
    let mut components = Vec::with_capacity(list.items.len());
    for item in list.items {
        let BareItem::String(name) = item.bare_item else {
            return Err(malformed("a covered component is not a quoted string such as \"@method\""));
        };
        if !item.params.is_empty() {
            return Err(MemberAuthError::Coverage(format!("{}, with parameters", shown(&params_line))));
        }
        components.push(String::from(name));
    }
    Ok(Covered { components, params: list.params, params_line })
}

/// Reads the entry `label` of a `Signature` header: the 64 bytes of an Ed25519 signature.
fn signature_bytes(header: &[u8], label: &str) -> Result<Signature, MemberAuthError> {
    let dictionary = dictionary(SIGNATURE_HEADER, header)?;
    let malformed = |what: String| MemberAuthError::Malformed(format!("in the Signature header, {what}"));
    match dictionary.get(label) {
        Some(ListEntry::Item(Item { bare_item: BareItem::ByteSequence(bytes), .. })) => {
            <[u8; 64]>::try_from(&bytes[..]).map(|bytes| Signature::from_bytes(&bytes)).map_err(|_| {
                malformed(format!("\"{label}\" has {} bytes, and an Ed25519 signature has 64", bytes.len()))
            })
        }
        Some(_) => Err(malformed(format!("\"{label}\" is not a byte sequence, :<base64>:"))),
        None => Err(malformed(format!("there is no signature labelled \"{label}\""))),
    }
}

/// Parses a header as an RFC 8941 dictionary (RFC 9421 §4 uses RFC 8941, without RFC 9651's
/// dates and display strings), after checking its length.
fn dictionary(name: &str, header: &[u8]) -> Result<Dictionary, MemberAuthError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(MemberAuthError::Malformed(format!(
            "the {name} header is {} bytes long, and at most {MAX_HEADER_LEN} are read",
            header.len()
        )));
    }
    Parser::new(header).with_version(Version::Rfc8941).parse::<Dictionary>().map_err(|e| {
        MemberAuthError::Malformed(format!("the {name} header is not a structured-field dictionary (RFC 8941): {e}"))
    })
}

/// The parameters a member's signature needs, read and checked.
struct Params {
    created: u64,
    expires: Option<u64>,
    nonce: String,
    key: PublicKey,
}

/// Reads a member's signature's parameters; others may be present and are left alone.
fn read_params(params: &Parameters) -> Result<Params, MemberAuthError> {
    let malformed = |what: String| MemberAuthError::Malformed(format!("in the Signature-Input header, {what}"));
    let string = |name: &str| match params.get(name) {
        None => Ok(None),
        Some(BareItem::String(value)) => Ok(Some(value.as_str())),
        Some(_) => Err(malformed(format!("the {name} parameter is not a quoted string"))),
    };
    let time = |name: &str| match params.get(name) {
        None => Ok(None),
        Some(BareItem::Integer(value)) => u64::try_from(*value)
            .map(Some)
            .map_err(|_| malformed(format!("the {name} parameter is negative, and it must be Unix seconds"))),
        Some(_) => Err(malformed(format!("the {name} parameter is not an integer of Unix seconds"))),
    };
    // The algorithm first: with another one, nothing else can be right.
    match string("alg")? {
        Some(ALG) => {}
        Some(alg) => return Err(MemberAuthError::UnknownAlgorithm(shown(alg))),
        None => return Err(malformed(format!("the alg parameter is missing; it must be alg=\"{ALG}\""))),
    }
    match string("tag")? {
        Some(TAG) => {}
        tag => return Err(MemberAuthError::WrongTag(tag.map(shown))),
    }
    let created = time("created")?.ok_or_else(|| malformed("the created parameter is missing".to_owned()))?;
    let expires = time("expires")?;
    let nonce = string("nonce")?.ok_or_else(|| malformed("the nonce parameter is missing".to_owned()))?;
    if !NONCE_LEN.contains(&nonce.len()) || !nonce.bytes().all(nonce_char) {
        return Err(malformed(format!(
            "the nonce is {} characters long; it must be {} to {} characters of A-Z, a-z, 0-9, _ and -",
            nonce.len(),
            NONCE_LEN.start(),
            NONCE_LEN.end()
        )));
    }
    let keyid = string("keyid")?.ok_or_else(|| malformed("the keyid parameter is missing".to_owned()))?;
    if keyid.len() != 64 {
        return Err(malformed(format!(
            "keyid is {} characters long; it must be the 64 lowercase hex digits of your Ed25519 public key",
            keyid.len()
        )));
    }
    // A member's key has one spelling and is not weak: the spelling the caller looks up.
    let key =
        PublicKey::parse_for_membership(keyid).map_err(|refusal| malformed(format!("keyid: {}", refusal.message)))?;
    Ok(Params { created, expires, nonce: nonce.to_owned(), key })
}

/// Whether `byte` may be part of a nonce: the unreserved characters of base64url and hex.
fn nonce_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Appends `text` as an RFC 8941 string: in quotes, `"` and `\` escaped.
fn push_sf_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Names of covered components, as a message lists them.
fn listed(components: &[String]) -> String {
    if components.is_empty() {
        return "no component".to_owned();
    }
    let mut list = String::new();
    for name in components {
        if !list.is_empty() {
            list.push(' ');
        }
        push_sf_string(&mut list, name);
    }
    shown(&list)
}

/// Text from a request as a message repeats it: cut after [`SHOWN_LEN`] characters. What the
/// parser accepted is printable ASCII already.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_LEN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
