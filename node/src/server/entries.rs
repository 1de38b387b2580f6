//! `POST /v1/entries`: members submit signed entries.
//!
//! The body is one signed entry or a JSON array of them, parsed strictly
//! (duplicate keys and out-of-range numbers refused). On a format-2 ledger an
//! entry that withholds restricted values comes in its envelope,
//! `{"entry": <signed entry>, "disclosures": [[salt, pointer, value], …]}`
//! (docs/format.md §13.6): the node puts the body back together and judges it
//! whole, and keeps the disclosures in its private store. A body that is already
//! canonical JSON (the entries as they were signed, in an array without
//! whitespace) is read straight into the entries, with the same result and
//! about half the work; the CLI sends that. A replicated node verifies the
//! entries' signatures and schemas before it proposes them, so that nothing
//! unverified reaches Raft's log; every node judges them again, against its
//! ledger's state, when it applies the batch. The answer comes once the
//! accepted records are durable:
//!
//! - every entry accepted: `201` with its receipt (an array of receipts for an
//!   array), `{"seq", "entry_id", "leaf_hash"}`; re-submitting an entry already
//!   recorded returns its original receipt;
//! - a single entry refused: the refusal as an error with its status;
//! - an array with every entry refused: the first refusal's status and code,
//!   with every entry's outcome in `details`;
//! - an array with some accepted, some refused: `207` and
//!   `{"results": [{"receipt": …} | {"error": …}, …]}` in submission order,
//!   because the accepted ones are recorded whatever happened to the others.
//!
//! A submission carries at most [`MAX_ENTRIES_PER_SUBMISSION`] entries; more
//! are refused with `413 http.too_many_entries` as soon as the element too many
//! starts arriving (`submission::read`), before anything is parsed, and
//! each refusal shows a bounded part of what it quotes (`error::refusal_json`),
//! so no answer grows with the number or size of the things that were wrong.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::canonical;
use salvage_ledger::disclosure::DisclosedEntry;
use salvage_ledger::entry::{CanonicalSubmission, Kind, SignedEntry};
use salvage_ledger::refusal::Refusal;
use salvage_ledger::store::Receipt;
use serde_json::{Value, json};

use super::commits::Submitted;
use super::doc_types::{ErrorBody, ReceiptBody};
use super::error::refusal_json;
use super::{ApiError, Node, submission};

/// The most entries one submission may carry. Enough for any batch a client
/// sends (the CLI's import sends 200 by default), and a bound on the work and
/// on the answer one request can cause: each entry gets its own outcome.
pub const MAX_ENTRIES_PER_SUBMISSION: usize = 1000;

/// The most GIAIs one submission may reserve (`giai.reserve`, up to 1000 each). A reserved GIAI
/// is an item in the state, so a submission of 1000 reservations would otherwise make a million
/// of them at once: more memory and index work than any label printer needs, from one request.
/// (A consortium's Raft batch gathers up to 256 entries from several requests, so one batch
/// applies at most 256,000: bounded, though not by this.)
pub const MAX_RESERVED_PER_SUBMISSION: u64 = 10_000;

#[utoipa::path(post, path = "/v1/entries", tag = "entries",
    request_body(content = Object, description = "One signed entry or an array of them; entries sent as their canonical JSON (an array without whitespace) are read without the strict parser", content_type = "application/json"),
    responses(
        (status = 201, description = "Every entry accepted and durable: its receipt, or an array of receipts", body = ReceiptBody),
        (status = 207, description = "Some entries accepted, some refused: `{\"results\": [{\"receipt\"} | {\"error\"}]}`", body = Object),
        (status = 400, description = "Malformed JSON, duplicate keys, a malformed entry", body = ErrorBody),
        (status = 401, description = "A signature does not verify (`signature.invalid`), or, on a consortium node, was not checked because 16 of the submission's signatures before it did not (`signature.unchecked`)", body = ErrorBody),
        (status = 403, description = "The signer lacks the role or is not the custodian", body = ErrorBody),
        (status = 404, description = "The entry names an unknown item, member or key", body = ErrorBody),
        (status = 409, description = "The entry conflicts with the ledger's state", body = ErrorBody),
        (status = 413, description = "The body is larger than the node's limit (`http.body_too_large`), or an array holds more than 1000 entries (`http.too_many_entries`), or its `giai.reserve` entries reserve more than 10,000 GIAIs together (`http.too_many_reservations`)", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A schema violation, each with its JSON pointer in details", body = ErrorBody),
        (status = 503, description = "A consortium node: the consortium did not commit the entries in time, or knows no leader yet (`node.unavailable`); submit again", body = ErrorBody),
    ))]
/// `POST /v1/entries`.
pub async fn submit(State(node): State<Arc<Node>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let bytes = match submission::read(body, node.body_limit, MAX_ENTRIES_PER_SUBMISSION, &node.bulk_bytes).await {
        Ok(bytes) => bytes,
        Err(refusal) => {
            node.metrics.refused(&refusal.code);
            return Err(refusal);
        }
    };
    // Decoding a large body takes milliseconds: in the bulk lane, so that
    // neither the small requests sharing this task's thread nor the node's
    // other work waits behind many of them.
    let decoded =
        if bytes.len() <= DECODE_INLINE_BYTES { decode(&bytes) } else { node.bulk.run(move || decode(&bytes)).await? };
    let Decoded { submitted, slots, single } = decoded.inspect_err(|refusal| node.metrics.refused(&refusal.code))?;
    let reserved: u64 = submitted
        .iter()
        .filter(|(entry, _)| entry.statement().kind == Kind::GiaiReserve)
        .map(|(entry, _)| entry.statement().body.get("count").and_then(Value::as_u64).unwrap_or(0))
        .fold(0, u64::saturating_add);
    if reserved > MAX_RESERVED_PER_SUBMISSION {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "http.too_many_reservations",
            format!(
                "the submission reserves {reserved} GIAIs; one submission reserves at most \
                 {MAX_RESERVED_PER_SUBMISSION}: send the rest in another"
            ),
        ));
    }
    let started = std::time::Instant::now();
    let mut outcomes = if submitted.is_empty() {
        Vec::new()
    } else {
        let outcomes = node.submit(submitted).await?;
        node.metrics.committed(started.elapsed().as_secs_f64());
        outcomes
    }
    .into_iter();
    let results: Vec<Result<Receipt, Refusal>> = slots
        .into_iter()
        .map(|slot| match slot {
            Some(refusal) => Err(refusal),
            None => outcomes.next().unwrap_or_else(|| {
                Err(Refusal::new(salvage_ledger::refusal::RefusalCode::EntryMalformed, "no outcome"))
            }),
        })
        .collect();
    Ok(answer(&node, results, single))
}

/// A submission's entries, and where each one that could not be decoded was.
struct Decoded {
    /// The entries that decoded, with their disclosures, in order.
    submitted: Vec<Submitted>,
    /// One slot per entry of the body, in order: the refusal of one that did
    /// not decode, `None` for each of `submitted`.
    slots: Vec<Option<Refusal>>,
    /// Whether the body was one entry rather than an array.
    single: bool,
}

/// Bodies up to this size are decoded on the request's own task.
const DECODE_INLINE_BYTES: usize = 64 * 1024;

/// Decodes a body's entries. A body sent as its entries were signed (their
/// canonical JSON) is read straight into the entries; anything else is parsed
/// strictly.
fn decode(bytes: &[u8]) -> Result<Decoded, ApiError> {
    Ok(match SignedEntry::read_canonical_submission(bytes) {
        Some(CanonicalSubmission::One(entry)) => {
            Decoded { submitted: vec![(entry, Vec::new())], slots: vec![None], single: true }
        }
        Some(CanonicalSubmission::Many(entries)) => Decoded {
            slots: entries.iter().map(|_| None).collect(),
            submitted: entries.into_iter().map(|entry| (entry, Vec::new())).collect(),
            single: false,
        },
        None => decode_strictly(bytes)?,
    })
}

/// Parses a body strictly (duplicate keys, out-of-range numbers refused) and
/// decodes each of its entries.
fn decode_strictly(bytes: &[u8]) -> Result<Decoded, ApiError> {
    let value = canonical::parse_strict(bytes).map_err(Refusal::from)?;
    let (values, single) = match value {
        Value::Array(values) => (values, false),
        other => (vec![other], true),
    };
    if values.is_empty() {
        return Err(ApiError::bad_request("entry.malformed", "the array holds no entry to submit"));
    }
    // Entries that do not even decode are refused on their own; the others go
    // on, moved (not copied) into the submission.
    let mut submitted = Vec::with_capacity(values.len());
    let slots: Vec<Option<Refusal>> = values
        .into_iter()
        .map(|value| {
            let decoded = if DisclosedEntry::is_envelope(&value) {
                DisclosedEntry::from_value(value).map(|envelope| (envelope.entry, envelope.disclosures))
            } else {
                SignedEntry::from_value(value).map(|entry| (entry, Vec::new()))
            };
            match decoded {
                Ok(entry) => {
                    submitted.push(entry);
                    None
                }
                Err(refusal) => Some(refusal),
            }
        })
        .collect();
    Ok(Decoded { submitted, slots, single })
}

/// Counts each outcome and answers as the module documentation says.
fn answer(node: &Node, results: Vec<Result<Receipt, Refusal>>, single: bool) -> Response {
    for result in &results {
        match result {
            Ok(_) => node.metrics.accepted(),
            Err(refusal) => node.metrics.refused(refusal.code.as_str()),
        }
    }
    let refused = results.iter().filter(|result| result.is_err()).count();
    if refused == 0 {
        let receipts: Vec<Receipt> = results.into_iter().flatten().collect();
        return if single {
            (StatusCode::CREATED, Json(json!(receipts.first()))).into_response()
        } else {
            (StatusCode::CREATED, Json(json!(receipts))).into_response()
        };
    }
    let outcomes: Vec<Value> = results
        .iter()
        .map(|result| match result {
            Ok(receipt) => json!({ "receipt": receipt }),
            Err(refusal) => json!({ "error": refusal_json(refusal) }),
        })
        .collect();
    if refused < results.len() {
        return (StatusCode::MULTI_STATUS, Json(json!({ "results": outcomes }))).into_response();
    }
    let Some(Err(first)) = results.into_iter().next() else {
        return ApiError::internal("an outcome went missing").into_response();
    };
    if single {
        return ApiError::from(first).into_response();
    }
    let mut error = ApiError::from(first);
    error.message = format!("every entry was refused; the first: {}", error.message);
    error.with_details(Value::Array(outcomes)).into_response()
}

/// Refuses anything but JSON with 415.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    let shown = if content_type.is_empty() { "none".to_owned() } else { format!("{content_type:?}") };
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "http.unsupported_media_type",
        format!("entries are submitted as application/json; the request's content type is {shown}"),
    ))
}
