//! Restricted values stay out of every public answer of a format-2 node, and
//! every public answer still verifies.
//!
//! On a ledger of format 2 (docs/format.md §13) a value a passport or an
//! installation restricts never enters a signed record: only its salted
//! digest does, and the value itself travels beside the entry as a disclosure
//! kept in the node's private store. Each public view (records, the item's
//! JSON, its proof bundle, the EPCIS export, the resolver's linkset and page,
//! metrics) is built by different code, and one that reads the whole body, the
//! custody state or the private store instead of the signed record would leak
//! what the holder keeps private (a donor's address, a client's name, a price)
//! to anyone who scans the item's QR code. So this property test registers
//! random passports with random restricted sets (and some amendments and
//! installations that restrict more), reads every public output of the item
//! through the node's router, with the answers to its submissions (refusals
//! among them), and searches each one for every restricted value as raw
//! bytes and in the escaped and encoded forms those outputs would give it
//! (JSON, `\uXXXX`, percent-encoding, HTML, the page's number formats).
//! Withholding must cost nothing else: the bundle and an audit of the records
//! verify without the disclosures, and a member's signed read gets the values
//! back, which also shows that the search finds what is there.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use salvage_ledger::attachment::{AttachmentDigest, AttachmentStore};
use salvage_ledger::audit::{AuditOptions, audit};
use salvage_ledger::bundle::{Bundle, verify_bundle};
use salvage_ledger::canonical::value_to_canonical_bytes;
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::operator::Operator;
use salvage_ledger::redact::public_passport;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::{Fixture, passport};
use salvage_node::member_auth::{self, SignedTarget};
use salvage_node::server::{Node, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOST: &str = "salvage.example.lv";
const PUBLIC_URL: &str = "https://salvage.example.lv";
const BODY_LIMIT: usize = 256 * 1024;

/// Every generated value that may be restricted contains this, followed by
/// random letters and digits: a run no public output has by chance.
const MARK: &str = "SLVG";

/// What the English page says where the holder withheld something.
const WITHHELD_EN: &str = "Withheld by the holder";

// ---------------------------------------------------------------------------
// What is generated
// ---------------------------------------------------------------------------

/// The text fields of a generated passport, by index into `PassportCase::texts`.
const NAME: usize = 0;
const DESCRIPTION: usize = 1;
const MATERIAL_0: usize = 2;
const MATERIAL_1: usize = 3;
const BUILDING: usize = 4;
const ADDRESS: usize = 5;
const LOCATION: usize = 6;
const CONTRACTOR: usize = 7;
const NOTES: usize = 8;
const SURVEY: usize = 9;
const EPD: usize = 10;
const DOCUMENT_0: usize = 11;
const DOCUMENT_1: usize = 12;
const TEXTS: usize = 13;

/// The measures of a generated passport, by index into `PassportCase::numbers`.
const MASS: usize = 0;
const QUANTITY: usize = 1;
const LENGTH: usize = 2;
const WIDTH: usize = 3;
const HEIGHT: usize = 4;
const CO2E: usize = 5;
const NUMBERS: usize = 6;

/// The places a passport may restrict, in groups of which each case picks
/// one alternative (or none): the alternatives of a group overlap, and no
/// restricted place may lie within another (docs/format.md §13). Whole
/// objects, their members, whole array elements and members of array
/// elements are all here, since each is withheld differently. The schema
/// never lets `/identity`, `/category`, `/legal_status`, `/hazards` or
/// `/restricted` be restricted, so none is.
const GROUPS: &[&[&[&str]]] = &[
    &[&["/name"]],
    &[&["/description"]],
    &[&["/mass_kg"]],
    &[&["/quantity/value"], &["/quantity"]],
    &[&["/dimensions_mm"], &["/dimensions_mm/length"], &["/dimensions_mm/width", "/dimensions_mm/height"]],
    &[
        &["/origin"],
        &["/origin/address"],
        &["/origin/building", "/origin/location_in_building"],
        &["/origin/address", "/origin/building"],
    ],
    &[
        &["/materials"],
        &["/materials/0/name"],
        &["/materials/1"],
        &["/materials/0/name", "/materials/1/recycled_content"],
    ],
    &[&["/condition"], &["/condition/notes"]],
    &[&["/dismantling"], &["/dismantling/contractor"]],
    &[&["/environment"], &["/environment/epd_reference"], &["/environment/co2e_avoided_kg"]],
    &[&["/documents"], &["/documents/0"], &["/documents/0/title", "/documents/1/uri"]],
];

/// One passport: a value for every field it may restrict (public or not, so
/// that public outputs are full of values shaped like the restricted ones),
/// and the places it restricts.
#[derive(Debug, Clone)]
struct PassportCase {
    texts: Vec<String>,
    numbers: Vec<f64>,
    /// A material's recycled content, a fraction.
    fraction: f64,
    /// The documents' URIs.
    uris: Vec<String>,
    /// What the documents' bytes are made from ([`document_file`]); their digests name them.
    digests: Vec<String>,
    restricted: Vec<String>,
}

/// An installation that restricts the site's address, and maybe where in the
/// building the item went.
#[derive(Debug, Clone)]
struct InstallCase {
    address: String,
    location: String,
    restrict_location: bool,
}

/// How the entries reach the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `Ledger::submit_disclosed`, before the node is made.
    Ledger,
    /// `POST /v1/entries`, one entry (or envelope) per request.
    Http,
    /// `POST /v1/entries`, all of them in one array.
    HttpBatch,
    /// The registration through the ledger, the rest over HTTP.
    Mixed,
}

#[derive(Debug, Clone)]
struct Case {
    giai: String,
    register: PassportCase,
    /// Whether custody passes to `reuse-hub` before the amendment and the installation.
    handed_over: bool,
    amend: Option<PassportCase>,
    install: Option<InstallCase>,
    via: Via,
    /// A value the refused submissions carry instead of a restricted one.
    decoy: String,
}

/// Characters that read differently in JSON, `\uXXXX`, percent-encoding and
/// HTML: non-ASCII (two- and four-byte), quotes, `/`, `&`, `<`, whitespace.
const SPECIAL: &[char] = &['ā', 'ū', 'ž', '"', '\'', '/', '&', '<', '>', '\\', '🧱'];
const TAIL: &[char] = &[
    'a', 'k', 'Z', '7', ' ', ' ', 'ā', 'ū', 'ž', 'Ž', 'é', 'ß', '"', '\'', '/', '&', '<', '>', '\\', '%', '+', '#',
    '?', '=', '~', ';', '\n', '\u{a0}', '🧱',
];
const ALPHANUMERIC: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'j', 'k', 'm', 'n', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
    '2', '3', '4', '5', '6', '7', '8', '9',
];
const HEX: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'];

/// `MARK` and ten random letters and digits: unique in any output.
fn token() -> impl Strategy<Value = String> {
    proptest::collection::vec(select(ALPHANUMERIC), 10).prop_map(|chars| format!("{MARK}{}", String::from_iter(chars)))
}

/// A text: a token, then at least one character whose encodings differ from
/// its bytes, then random characters (at most 200 characters, a label's limit).
fn text() -> impl Strategy<Value = String> {
    (token(), select(SPECIAL), proptest::collection::vec(select(TAIL), 2..24))
        .prop_map(|(token, special, tail)| format!("{token} {special}{}", String::from_iter(tail)))
}

/// A measure with nine significant digits whose integer part lies in
/// `from..from + 50`: each measure of a case gets its own range, so that no
/// measure's rounding (the page shows three decimals) is part of another's.
fn measure(from: u32) -> impl Strategy<Value = f64> {
    (from..from + 50, 10_000u32..90_000, 1u32..10)
        .prop_map(|(whole, decimals, last)| format!("{whole}.{decimals}{last}").parse().unwrap())
}

/// A fraction `0.TTRRRR` with `TT` in `from..from + 30` whose percentage, as
/// the page rounds it to one decimal, never ends in `.0` (and so never reads
/// like the public materials' 60 % and 30 %).
fn fraction(from: u32) -> impl Strategy<Value = f64> {
    (from..from + 30, 50u32..950, 1u32..10)
        .prop_map(|(tens, rest, last)| format!("0.{tens:02}{rest:03}{last}").parse().unwrap())
}

/// A random non-empty set of places from `GROUPS`, in random order.
fn restricted() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec((any::<bool>(), any::<Index>()), GROUPS.len())
        .prop_map(|picks| {
            let mut places: Vec<String> = GROUPS
                .iter()
                .zip(picks)
                .filter(|(_, (taken, _))| *taken)
                .flat_map(|(group, (_, index))| group[index.index(group.len())].iter().map(|p| (*p).to_owned()))
                .collect();
            if places.is_empty() {
                places.push("/origin/address".to_owned());
            }
            places
        })
        .prop_shuffle()
}

/// A passport whose measures start at `numbers_from` and whose fraction at `fraction_from`.
fn passport_case(numbers_from: u32, fraction_from: u32) -> impl Strategy<Value = PassportCase> {
    let numbers: Vec<_> = (0..NUMBERS as u32).map(|k| measure(numbers_from + 50 * k)).collect();
    (
        proptest::collection::vec(text(), TEXTS),
        numbers,
        fraction(fraction_from),
        proptest::collection::vec(token(), 2),
        proptest::collection::vec(proptest::collection::vec(select(HEX), 64).prop_map(String::from_iter), 2),
        restricted(),
    )
        .prop_map(|(texts, numbers, fraction, tokens, digests, restricted)| PassportCase {
            texts,
            numbers,
            fraction,
            uris: tokens.iter().map(|token| format!("https://files.example.lv/{token}/scan.pdf")).collect(),
            digests,
            restricted,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        1u32..10_000,
        passport_case(100, 10),
        any::<bool>(),
        proptest::option::of(passport_case(400, 50)),
        proptest::option::of((text(), text(), any::<bool>())),
        select(&[Via::Ledger, Via::Http, Via::HttpBatch, Via::Mixed][..]),
        text(),
    )
        .prop_map(|(n, register, handed_over, amend, install, via, decoy)| Case {
            giai: format!("4750001BEAM-{n:04}"),
            register,
            handed_over,
            amend,
            install: install.map(|(address, location, restrict_location)| InstallCase {
                address,
                location,
                restrict_location,
            }),
            via,
            decoy,
        })
}

/// The passport of a case: the testkit's beam with every field filled in.
fn passport_value(giai: &str, p: &PassportCase) -> Value {
    let t = |i: usize| json!(p.texts[i]);
    let mut passport = passport(giai, &p.texts[NAME], p.numbers[MASS]);
    passport["description"] = t(DESCRIPTION);
    passport["materials"] = json!([
        {"name": t(MATERIAL_0), "fraction": 0.6},
        {"name": t(MATERIAL_1), "fraction": 0.3, "recycled_content": p.fraction},
    ]);
    passport["quantity"] = json!({"value": p.numbers[QUANTITY], "unit": "MTK"});
    passport["dimensions_mm"] =
        json!({"length": p.numbers[LENGTH], "width": p.numbers[WIDTH], "height": p.numbers[HEIGHT]});
    passport["origin"] = json!({
        "building": t(BUILDING), "address": t(ADDRESS), "country": "LV", "year_built": 1974,
        "location_in_building": t(LOCATION),
    });
    passport["dismantling"] =
        json!({"date": "2026-03-14", "method": "selective_deconstruction", "contractor": t(CONTRACTOR)});
    passport["condition"] = json!({"grade": "B", "notes": t(NOTES)});
    // Hazards are never restricted: a buyer's safety is never private.
    passport["hazards"] = json!({"survey_reference": t(SURVEY), "asbestos_free": true});
    passport["environment"] = json!({"epd_reference": t(EPD), "co2e_avoided_kg": p.numbers[CO2E]});
    let digest = |index: usize| AttachmentDigest::of(&document_file(index, &p.digests[index])).to_hex();
    passport["documents"] = json!([
        {"title": t(DOCUMENT_0), "media_type": "application/pdf", "blake3": digest(0), "uri": p.uris[0]},
        {"title": t(DOCUMENT_1), "media_type": "image/jpeg", "blake3": digest(1), "uri": p.uris[1]},
    ]);
    passport["restricted"] = json!(p.restricted);
    passport
}

/// The bytes of a passport's document `index` (a PDF, then a JPEG) made from `seed`: the node
/// that takes the passport must hold them (docs/rules.md §9).
fn document_file(index: usize, seed: &str) -> Vec<u8> {
    match index {
        0 => format!("%PDF-1.7\n% {seed}\n").into_bytes(),
        _ => [&[0xFF, 0xD8, 0xFF, 0xE0][..], seed.as_bytes()].concat(),
    }
}

// ---------------------------------------------------------------------------
// The search
// ---------------------------------------------------------------------------

/// Where `value` occurs in `haystack`, in any form an output could give it:
/// `None` if nowhere, else the form found. Strings are searched as their raw
/// UTF-8 bytes, JSON-escaped (as serde_json writes them, with `\uXXXX` for
/// non-ASCII in either case, HTML-safe, with `\/`), percent-encoded (every
/// non-alphanumeric byte in either hex case, a path segment's set, RFC 3986's
/// unreserved set, a form's `+` for a space), HTML-escaped (`'` as `&#39;`,
/// `&#x27;` or itself, quotes kept in text) and, for anything cut short or
/// transliterated, as each run of 12 or more ASCII letters and digits in it.
/// Numbers as their JSON text and as the provenance page writes them (three
/// decimals or a percentage, with `.` or `,`). Objects and arrays as their
/// JSON (serde_json and JCS), then each distinctive value within them.
fn leaks(haystack: &[u8], value: &Value) -> Option<String> {
    match value {
        Value::String(text) => forms_of_text(text),
        Value::Number(_) => forms_of_number(value),
        Value::Array(_) | Value::Object(_) => {
            let whole = [
                ("its JSON", serde_json::to_vec(value).unwrap()),
                ("its JCS", value_to_canonical_bytes(value)),
                ("its pretty JSON", serde_json::to_vec_pretty(value).unwrap()),
            ];
            if let Some((form, _)) = whole.iter().find(|(_, needle)| contains(haystack, needle)) {
                return Some((*form).to_owned());
            }
            return leaves(value)
                .into_iter()
                .filter(|(_, leaf)| distinctive(leaf))
                .find_map(|(pointer, leaf)| leaks(haystack, leaf).map(|form| format!("its member {pointer}, {form}")));
        }
        Value::Null | Value::Bool(_) => Vec::new(),
    }
    .into_iter()
    .find(|(_, needle)| contains(haystack, needle.as_bytes()))
    .map(|(form, _)| form)
}

/// A text's forms, named, the raw bytes first and duplicates left out.
fn forms_of_text(text: &str) -> Vec<(String, String)> {
    let json = serde_json::to_string(text).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    let mut forms = vec![
        ("raw UTF-8".to_owned(), text.to_owned()),
        ("JSON-escaped".to_owned(), json.clone()),
        ("JSON-escaped with \\uxxxx for non-ASCII".to_owned(), json_ascii(&json, false, false)),
        ("JSON-escaped with \\uXXXX for non-ASCII".to_owned(), json_ascii(&json, true, false)),
        ("JSON-escaped HTML-safe (\\u003c, \\u0026, …)".to_owned(), json_ascii(&json, false, true)),
        ("JSON-escaped with \\/".to_owned(), json.replace('/', "\\/")),
        ("percent-encoded (NON_ALPHANUMERIC)".to_owned(), utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()),
        (
            "percent-encoded (NON_ALPHANUMERIC, lowercase hex)".to_owned(),
            lowercase_hex(&utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()),
        ),
        ("percent-encoded (path segment)".to_owned(), utf8_percent_encode(text, PATH_SEGMENT).to_string()),
        ("percent-encoded (RFC 3986 unreserved kept)".to_owned(), utf8_percent_encode(text, UNRESERVED).to_string()),
        ("form-urlencoded".to_owned(), utf8_percent_encode(text, FORM).to_string().replace("%20", "+")),
        ("HTML-escaped (' as &#39;)".to_owned(), html_escape(text, true, Some("&#39;"))),
        ("HTML-escaped (' as &#x27;)".to_owned(), html_escape(text, true, Some("&#x27;"))),
        ("HTML-escaped (' kept)".to_owned(), html_escape(text, true, None)),
        ("HTML-escaped as text (quotes kept)".to_owned(), html_escape(text, false, None)),
    ];
    forms.extend(fragments(text).map(|run| (format!("an alphanumeric fragment {run:?}"), run.to_owned())));
    let mut seen = BTreeSet::new();
    forms.retain(|(_, needle)| seen.insert(needle.clone()));
    forms
}

/// A number's forms: its JSON text, and what the page would show of it.
fn forms_of_number(value: &Value) -> Vec<(String, String)> {
    let mut forms = vec![
        ("JSON text".to_owned(), value.to_string()),
        ("JCS text".to_owned(), String::from_utf8(value_to_canonical_bytes(value)).unwrap()),
    ];
    if let Some(number) = value.as_f64() {
        forms.push(("Rust's Display".to_owned(), number.to_string()));
        // The page's `number`: three decimals, trailing zeros cut; its
        // `percent`: a fraction ×100 to one decimal, with a no-break space.
        let three = format!("{number:.3}");
        let three = three.trim_end_matches('0').trim_end_matches('.');
        let percent = format!("{:.1}", number * 100.0);
        let percent = format!("{}\u{a0}%", percent.strip_suffix(".0").unwrap_or(&percent));
        for separator in [".", ","] {
            if number >= 1.0 {
                forms.push((format!("the page's three decimals ('{separator}')"), three.replace('.', separator)));
            } else {
                forms.push((format!("the page's percentage ('{separator}')"), percent.replace('.', separator)));
            }
        }
    }
    let mut seen = BTreeSet::new();
    forms.retain(|(_, needle)| seen.insert(needle.clone()));
    forms
}

const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');

/// JSON text (without quotes) with non-ASCII as `\uXXXX` UTF-16 escapes, as
/// `ensure_ascii` writers do; `html_safe` also escapes `<`, `>`, `&` and `'`.
fn json_ascii(json: &str, upper: bool, html_safe: bool) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    for ch in json.chars() {
        if ch.is_ascii() && !(html_safe && matches!(ch, '<' | '>' | '&' | '\'')) {
            out.push(ch);
            continue;
        }
        for unit in ch.encode_utf16(&mut [0; 2]) {
            if upper {
                write!(out, "\\u{unit:04X}").unwrap();
            } else {
                write!(out, "\\u{unit:04x}").unwrap();
            }
        }
    }
    out
}

/// Percent-encoded text with its hex digits in lowercase.
fn lowercase_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for ch in encoded.chars() {
        if hex_left > 0 {
            out.push(ch.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            out.push(ch);
            if ch == '%' {
                hex_left = 2;
            }
        }
    }
    out
}

/// HTML-escaped text: `&`, `<`, `>` always; `"` if `quotes`; `'` as `apostrophe` if given.
fn html_escape(text: &str, quotes: bool, apostrophe: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if apostrophe.is_some() => out.push_str(apostrophe.unwrap_or_default()),
            other => out.push(other),
        }
    }
    out
}

/// The runs of 12 or more ASCII letters and digits of a text.
fn fragments(text: &str) -> impl Iterator<Item = &str> {
    text.split(|ch: char| !ch.is_ascii_alphanumeric()).filter(|run| run.len() >= 12)
}

/// Whether a value cannot occur in an output unless it leaked: a text with a
/// generated token or a digest, a number with six decimals, or anything
/// holding one. Values shared with public fields (`"B"`, `0.6`) are not.
fn distinctive(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains(MARK) || (text.len() >= 32 && text.bytes().all(|b| b.is_ascii_hexdigit())),
        Value::Number(number) => number.to_string().split_once('.').is_some_and(|(_, decimals)| decimals.len() >= 6),
        Value::Array(_) | Value::Object(_) => leaves(value).iter().any(|(_, leaf)| distinctive(leaf)),
        Value::Null | Value::Bool(_) => false,
    }
}

/// The scalar values within a value, with their JSON Pointers relative to it.
fn leaves(value: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((pointer, value)) = stack.pop() {
        match value {
            Value::Object(members) => {
                stack.extend(members.iter().map(|(key, member)| (format!("{pointer}/{key}"), member)));
            }
            Value::Array(elements) => {
                stack.extend(elements.iter().enumerate().map(|(i, element)| (format!("{pointer}/{i}"), element)));
            }
            _ => found.push((pointer, value)),
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

// ---------------------------------------------------------------------------
// The node
// ---------------------------------------------------------------------------

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, content_type, body }
}

async fn get(app: &Router, path: &str, headers: &[(header::HeaderName, &str)]) -> Answer {
    let mut request = Request::get(path).header(header::HOST, HOST);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    call(app, request.body(Body::empty()).unwrap()).await
}

async fn post(app: &Router, body: &Value) -> Answer {
    let request = Request::post("/v1/entries")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    call(app, request).await
}

/// What `POST /v1/entries` takes for an entry: the envelope if it withholds
/// values, else the signed entry itself.
fn submission(entry: &SignedEntry, disclosures: &[Disclosure]) -> Value {
    if disclosures.is_empty() {
        entry.to_value()
    } else {
        json!({"entry": entry.to_value(), "disclosures": disclosures.iter().map(Disclosure::to_value).collect::<Vec<_>>()})
    }
}

/// A member's signed read of the item's restricted values (docs/rules.md §8).
async fn signed_read(app: &Router, member: &str, giai: &str) -> Answer {
    let path = format!("/v1/items/{giai}/disclosures");
    let target = SignedTarget { method: "GET", authority: HOST, path: &path, query: None };
    let created = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let nonce = member_auth::fresh_nonce().unwrap();
    let signature = member_auth::sign(&target, &Fixture::key(member), created, &nonce);
    get(
        app,
        &path,
        &[
            (header::HeaderName::from_static(member_auth::SIGNATURE_INPUT_HEADER), &signature.signature_input),
            (header::HeaderName::from_static(member_auth::SIGNATURE_HEADER), &signature.signature),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------
// One case
// ---------------------------------------------------------------------------

/// A restricted value as submitted: which record, which place, what value.
struct Secret {
    record: String,
    pointer: String,
    value: Value,
}

/// An entry to submit, with its disclosures and the places it restricts.
struct Planned {
    what: String,
    entry: SignedEntry,
    disclosures: Vec<Disclosure>,
    places: usize,
}

/// An entry that withholds the values of `places` restricted places.
fn withheld(fixture: &Fixture, signer: &str, kind: Kind, body: Value, places: usize) -> Planned {
    let (entry, disclosures) = fixture.withheld(&[signer], kind, body);
    // The testkit signs the body as it is if it cannot withhold: that would
    // test nothing, so it must have made one disclosure per place.
    assert_eq!(disclosures.len(), places, "{kind:?}: one disclosure per restricted place");
    Planned { what: entry.statement().kind.to_string(), entry, disclosures, places }
}

/// The entries of a case, in order: the registration, maybe a handover, an
/// amendment and an installation by whoever then holds the item.
fn plan(fixture: &Fixture, case: &Case) -> Vec<Planned> {
    let giai = case.giai.as_str();
    let register = json!({"giai": giai, "passport": passport_value(giai, &case.register)});
    let mut planned =
        vec![withheld(fixture, "baltic-demolition", Kind::ItemRegister, register, case.register.restricted.len())];
    let mut custodian = "baltic-demolition";
    if case.handed_over {
        for entry in [fixture.transfer("baltic-demolition", giai, "reuse-hub"), fixture.receive("reuse-hub", giai)] {
            let what = entry.statement().kind.to_string();
            planned.push(Planned { what, entry, disclosures: Vec::new(), places: 0 });
        }
        custodian = "reuse-hub";
    }
    if let Some(amended) = &case.amend {
        let body =
            json!({"giai": giai, "passport": passport_value(giai, amended), "reason": "Sandblasted and re-coated"});
        planned.push(withheld(fixture, custodian, Kind::ItemAmend, body, amended.restricted.len()));
    }
    if let Some(install) = &case.install {
        let mut restricted = vec!["/site/address"];
        if install.restrict_location {
            restricted.push("/site/location");
        }
        let places = restricted.len();
        let body = json!({"giai": giai, "date": "2026-11-20", "restricted": restricted, "site": {
            "building": "Jelgava library extension", "address": install.address, "country": "LV",
            "location": install.location,
        }});
        planned.push(withheld(fixture, custodian, Kind::ItemInstall, body, places));
    }
    planned
}

/// Runs one case on a fresh node; every failure it finds is listed in the error.
async fn check(case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::withholding();
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
    let planned = plan(&fixture, case);
    let secrets: Vec<Secret> = planned
        .iter()
        .flat_map(|p| {
            p.disclosures.iter().map(|d| Secret {
                record: p.what.clone(),
                pointer: d.place().to_string(),
                value: d.value().clone(),
            })
        })
        .collect();
    let places: usize = planned.iter().map(|p| p.places).sum();
    let withholding = planned.iter().filter(|p| p.places > 0).count() as u64;
    for secret in &secrets {
        // A value the search could find by chance would make a leak of it meaningless.
        assert!(
            distinctive(&secret.value),
            "{} {}: {} is not distinctive",
            secret.record,
            secret.pointer,
            secret.value
        );
    }

    // Through the ledger, before it is the node's.
    let through_ledger = match case.via {
        Via::Ledger => planned.len(),
        Via::Mixed => 1,
        Via::Http | Via::HttpBatch => 0,
    };
    for p in &planned[..through_ledger] {
        let outcome = ledger.submit_disclosed(vec![(p.entry.clone(), p.disclosures.clone())]).unwrap();
        assert!(outcome[0].is_ok(), "{}: {:?}", p.what, outcome[0]);
    }
    // The files the passports name, as members would have uploaded them.
    let store = AttachmentStore::open(&dir.path().join("attachments")).unwrap();
    for passport in std::iter::once(&case.register).chain(&case.amend) {
        for (index, seed) in passport.digests.iter().enumerate() {
            store.put(&document_file(index, seed)).unwrap();
        }
    }
    drop(store);
    let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap();
    let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
    let app = router(Arc::new(Node::new(ledger, operator, PUBLIC_URL, BODY_LIMIT).unwrap()));

    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let over_http = &planned[through_ledger..];
    if !over_http.is_empty() {
        // Refusals are answers too: one whose disclosure does not match its
        // digest, and one without its disclosures, echo neither.
        let first = &over_http[0];
        if let Some(disclosure) = first.disclosures.first() {
            let mut forged: Vec<Value> = first.disclosures.iter().map(Disclosure::to_value).collect();
            forged[0] = json!([forged[0][0], disclosure.place().to_string(), case.decoy]);
            let answer = post(&app, &json!({"entry": first.entry.to_value(), "disclosures": forged})).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.text());
            outputs.push(("POST /v1/entries refusing a forged disclosure".to_owned(), answer.body));
            let answer = post(&app, &first.entry.to_value()).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.text());
            outputs.push(("POST /v1/entries refusing an entry without its disclosures".to_owned(), answer.body));
        }
        let bodies: Vec<Value> = over_http.iter().map(|p| submission(&p.entry, &p.disclosures)).collect();
        let batches = if case.via == Via::HttpBatch { vec![Value::Array(bodies)] } else { bodies };
        for body in batches {
            let answer = post(&app, &body).await;
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
            outputs.push(("POST /v1/entries receipt".to_owned(), answer.body));
        }
    }

    // Every public output of the item, and of the ledger that holds it.
    let giai = &case.giai;
    let mut read = async |name: String, path: &str, headers: &[(header::HeaderName, &str)]| -> Answer {
        let answer = get(&app, path, headers).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text());
        outputs.push((name, answer.body.clone()));
        answer
    };
    let size = planned.len() as u64 + 1;
    read("GET /v1/records".to_owned(), "/v1/records", &[]).await;
    let ndjson =
        read("GET /v1/records (NDJSON)".to_owned(), "/v1/records", &[(header::ACCEPT, "application/x-ndjson")]).await;
    for seq in 0..size {
        read(format!("GET /v1/records/{seq}"), &format!("/v1/records/{seq}"), &[]).await;
    }
    let item = read(format!("GET /v1/items/{giai}"), &format!("/v1/items/{giai}"), &[]).await;
    let bundle = read(format!("GET /v1/items/{giai}/bundle"), &format!("/v1/items/{giai}/bundle"), &[]).await;
    let epcis = read(format!("GET /v1/epcis?giai={giai}"), &format!("/v1/epcis?giai={giai}"), &[]).await;
    let whole_epcis = read("GET /v1/epcis".to_owned(), "/v1/epcis", &[]).await;
    let linkset = read(
        format!("GET /8004/{giai} (linkset)"),
        &format!("/8004/{giai}"),
        &[(header::ACCEPT, "application/linkset+json")],
    )
    .await;
    read(format!("GET /8004/{giai}?linkType=all"), &format!("/8004/{giai}?linkType=all"), &[]).await;
    let page_en =
        read(format!("GET /8004/{giai}?lang=en"), &format!("/8004/{giai}?lang=en"), &[(header::ACCEPT, "text/html")])
            .await;
    let page_lv =
        read(format!("GET /8004/{giai}?lang=lv"), &format!("/8004/{giai}?lang=lv"), &[(header::ACCEPT, "text/html")])
            .await;
    read("GET /metrics".to_owned(), "/metrics", &[]).await;
    let status = read("GET /v1/status".to_owned(), "/v1/status", &[]).await;
    read("GET /v1/checkpoint".to_owned(), "/v1/checkpoint", &[]).await;

    let mut failures = Vec::new();
    for (name, body) in &outputs {
        for secret in &secrets {
            if let Some(form) = leaks(body, &secret.value) {
                failures.push(format!(
                    "{name} leaks {} of the {} ({}) as {form}",
                    secret.pointer, secret.record, secret.value
                ));
            }
        }
        if let Some(form) = leaks(body, &json!(case.decoy)) {
            failures.push(format!("{name} echoes a refused disclosure's value as {form}"));
        }
    }

    // Each verifies without the disclosures.
    let bundle: Bundle = serde_json::from_slice(&bundle.body).unwrap();
    let report = verify_bundle(&bundle, &fixture.genesis);
    if !report.is_clean() {
        failures.push(format!("the bundle does not verify: {report:?}"));
    }
    let lines = ndjson.body.split(|b| *b == b'\n').filter(|line| !line.is_empty()).map(|l| Ok::<_, String>(l.to_vec()));
    let report = audit(&fixture.genesis, lines, &AuditOptions::default(), &mut |_| {});
    if !report.is_clean() || report.records != size {
        failures.push(format!("the audit of the records is not clean: {report:?}"));
    }
    if (report.values_unchecked, report.records_withholding) != (places as u64, withholding) {
        failures.push(format!(
            "the audit counts {} values unchecked in {} records; {places} were withheld in {withholding}",
            report.values_unchecked, report.records_withholding
        ));
    }
    // The node judged with every disclosure, the audit without: their state digests agree (§14).
    let node_state =
        serde_json::from_slice::<Value>(&status.body).ok().and_then(|s| s["state"].as_str().map(str::to_owned));
    if node_state.as_deref() != Some(report.state.as_str()) {
        failures.push(format!("the node's state digest {node_state:?} is not the audit's {}", report.state));
    }
    for (name, answer) in [("EPCIS", &epcis), ("the whole ledger's EPCIS", &whole_epcis), ("linkset", &linkset)] {
        if serde_json::from_slice::<Value>(&answer.body).is_err() {
            failures.push(format!("the {name} is not JSON: {}", answer.text()));
        }
    }
    if !page_en.content_type.starts_with("text/html") || !page_en.text().contains(WITHHELD_EN) {
        failures.push(format!("the English page does not say what was withheld:\n{}", page_en.text()));
    }
    if !page_lv.text().contains("id=\"withheld\"") {
        failures.push(format!("the Latvian page does not say what was withheld:\n{}", page_lv.text()));
    }

    // The positive controls: the values are there to be found, where they
    // belong. The disclosures as submitted hold every one, and so does a
    // member's signed read through the same router.
    let submitted: Vec<Value> = planned.iter().flat_map(|p| p.disclosures.iter().map(Disclosure::to_value)).collect();
    let submitted = serde_json::to_vec(&submitted).unwrap();
    let member_read = signed_read(&app, "baltic-demolition", giai).await;
    if member_read.status != StatusCode::OK {
        failures.push(format!("the registrant's signed read is refused: {}", member_read.text()));
    }
    for secret in &secrets {
        if leaks(&submitted, &secret.value).is_none() {
            failures
                .push(format!("the search misses {} of the {} in its own disclosure", secret.pointer, secret.record));
        }
        if leaks(&member_read.body, &secret.value).is_none() {
            failures.push(format!("the member's signed read lacks {} of the {}", secret.pointer, secret.record));
        }
    }
    // And the search finds the public fields of the current passport in the
    // item's JSON: redaction takes out what is restricted, and only that.
    let current = case.amend.as_ref().unwrap_or(&case.register);
    let public = public_passport(&passport_value(giai, current));
    for (pointer, leaf) in leaves(&public) {
        if distinctive(leaf) && leaks(&item.body, leaf).is_none() {
            failures.push(format!("GET /v1/items/{giai} lacks the public /passport{pointer} ({leaf})"));
        }
    }

    if failures.is_empty() { Ok(()) } else { Err(failures.join("\n")) }
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(check(case)).map_err(TestCaseError::fail)
}

proptest! {
    // A case is a fresh ledger on disk and a few dozen requests: 24 of them
    // cover every group of places many times over. Failures are not written
    // to a regressions file: the shrunk case is printed, and tests here leave
    // nothing behind.
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_public_output_holds_a_restricted_value(case in case()) {
        run(&case)?;
    }
}

/// Every group's largest alternative at once, over HTTP, amended and
/// installed: the case the property may not draw.
#[test]
fn everything_restricted_at_once_over_http() {
    let texts = |n: usize| -> Vec<String> {
        (0..TEXTS).map(|i| format!("{MARK}{n:02}FIXED{i:03} Rūpniecības iela \"{i}\" & <b>/'ž'/🧱")).collect()
    };
    // Each group's alternative with the most places: no two overlap.
    let all: Vec<String> = GROUPS
        .iter()
        .flat_map(|group| group.iter().max_by_key(|places| places.len()).unwrap().iter())
        .map(|place| (*place).to_owned())
        .collect();
    let passport = |n: usize, from: f64| PassportCase {
        texts: texts(n),
        numbers: (0..NUMBERS).map(|k| from + 50.0 * k as f64 + 0.482915).collect(),
        fraction: 0.123457,
        uris: vec![
            format!("https://files.example.lv/{MARK}URI{n}A/scan.pdf"),
            format!("https://files.example.lv/{MARK}URI{n}B/x.pdf"),
        ],
        digests: vec!["ab".repeat(32), "cd".repeat(32)],
        restricted: all.clone(),
    };
    let case = Case {
        giai: "4750001BEAM-0001".to_owned(),
        register: passport(1, 131.0),
        handed_over: true,
        amend: Some(passport(2, 431.0)),
        install: Some(InstallCase {
            address: format!("{MARK}INSTALLADDR Brīvības iela 1 & <2>"),
            location: format!("{MARK}INSTALLLOCA \"gym\" / hall"),
            restrict_location: true,
        }),
        via: Via::Http,
        decoy: format!("{MARK}DECOYVALUE1 ā & <"),
    };
    if let Err(failures) = run(&case) {
        panic!("{failures}");
    }
}

/// The search itself: every form of a value is found inside other text, by
/// its own name rather than as a mere fragment, and near misses are not.
#[test]
fn the_search_finds_every_form_and_nothing_else() {
    let text = format!("{MARK}Qw3rTy7uP9 Rūpniecības iela \"1\" & <b>/'ž'/🧱");
    let value = json!(text);
    for (form, needle) in forms_of_text(&text) {
        let haystack = format!("<p title=\"x\">before {needle} after</p>");
        let found = leaks(haystack.as_bytes(), &value).unwrap_or_else(|| panic!("{form} is not found"));
        assert!(form.starts_with("an alphanumeric") || !found.starts_with("an alphanumeric"), "{form}: {found}");
    }
    let near_miss = text.replacen("Qw3rTy7uP9", "Qw3rTy7uP8", 1);
    assert_eq!(leaks(near_miss.as_bytes(), &value), None);

    let mass = json!(731.482915);
    for (haystack, form) in [
        ("{\"mass_kg\":731.482915}", "JSON text"),
        ("<dd>731.483 kg</dd>", "the page's three decimals ('.')"),
        ("<dd>731,483 kg</dd>", "the page's three decimals (',')"),
    ] {
        assert_eq!(leaks(haystack.as_bytes(), &mass).as_deref(), Some(form), "{haystack}");
    }
    assert_eq!(leaks(b"731.48 731,4829 1731.5 731", &mass), None);
    assert_eq!(
        leaks("<td>48,3\u{a0}%</td>".as_bytes(), &json!(0.482915)).as_deref(),
        Some("the page's percentage (',')")
    );

    let dimensions = json!({"length": 6123.456789, "width": 160});
    assert!(distinctive(&dimensions) && !distinctive(&json!({"grade": "B"})) && !distinctive(&json!(0.6)));
    assert_eq!(leaks(b"{\"length\":6123.456789,\"width\":160}", &dimensions).as_deref(), Some("its JSON"));
    assert_eq!(
        leaks(b"6123,457 mm", &dimensions).as_deref(),
        Some("its member /length, the page's three decimals (',')")
    );
    assert_eq!(leaks(b"width 160", &dimensions), None);
}
