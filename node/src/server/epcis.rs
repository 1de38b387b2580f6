//! `GET /v1/epcis`: the ledger's events as an EPCIS 2.0 document in JSON-LD,
//! for the traceability systems of buyers and certification bodies. The
//! resolver's linkset points here (GS1 link type `epcis`) for each item.
//!
//! The whole ledger's document is as large as the ledger, so it is streamed:
//! read a chunk at a time on the blocking pool, each chunk read only when the
//! client has taken the one before (hyper polls the body for more only then).
//! What a download holds is one chunk and the export's bounded memory of
//! items, however long the ledger and however slow the client; a client that
//! goes away drops the body, and nothing more is read.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use percent_encoding::percent_decode_str;
use salvage_ledger::entry::Timestamp;
use salvage_ledger::epcis::{self, EpcisError, LedgerExport, MEDIA_TYPE};
use salvage_ledger::ident::Giai;
use salvage_ledger::store::Ledger;

use super::doc_types::ErrorBody;
use super::items::parse_giai;
use super::{ApiError, Node};

/// The most records one chunk of a whole ledger's document reads: a bound on
/// the time one blocking task takes, since node records make no event.
const CHUNK_RECORDS: u64 = 512;

/// The size at which a chunk is sent: a few dozen events of a kilobyte or two.
/// A chunk ends with the event that reaches it, so it is at most this and one
/// event (whose record the ledger's entry size limit bounds).
const CHUNK_BYTES: usize = 64 * 1024;

#[utoipa::path(get, path = "/v1/epcis", tag = "items",
    params(("giai" = Option<Vec<String>>, Query, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "An item's GIAI, percent-encoded; repeat the parameter for more items. Without it, every item of the ledger.")),
    responses(
        (status = 200, description = "An EPCIS 2.0 EPCISDocument: one event per item record and audit conclusion, in ledger order (mapping in docs/format.md); restricted passport fields removed. Without giai it is streamed, and a node that fails midway ends the connection: an answer cut short is not valid JSON", body = Object, content_type = "application/ld+json"),
        (status = 400, description = "A giai that is not a GIAI", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody)))]
/// `GET /v1/epcis?giai=A&giai=B`: the EPCIS 2.0 document of those items (a
/// split's event belongs to the parent and to every part), or of the whole
/// ledger without `giai`. Item and record URIs start with the node's public URL.
pub async fn epcis(State(node): State<Arc<Node>>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let items = requested_items(query.as_deref())?;
    let base = node.public_url().to_owned();
    if items.is_empty() {
        return whole_ledger(node, base).await;
    }
    // A few items' histories: small enough to make in one piece.
    let document = node
        .ledger(move |ledger| epcis::export(ledger, &items, &base, &Timestamp::now()).map_err(export_error))
        .await?;
    let body = serde_json::to_vec(&document)
        .map_err(|e| ApiError::internal(format!("cannot encode the EPCIS document: {e}")))?;
    Ok(([(header::CONTENT_TYPE, MEDIA_TYPE)], body).into_response())
}

/// The whole ledger's document, streamed a chunk at a time.
///
/// The first chunk is read before the answer starts, so an export that
/// cannot begin (the ledger unreadable) is still an error status. After that
/// the status is sent: a failure is logged and ends the body with an error,
/// on which hyper closes the connection without ending the chunked body, so
/// that the client sees a broken download, never a short but valid document.
async fn whole_ledger(node: Arc<Node>, base: String) -> Result<Response, ApiError> {
    let created = Timestamp::now();
    let (first, rest) = node
        .ledger(move |ledger| {
            let mut export = LedgerExport::new(ledger, &base, &created).map_err(export_error)?;
            next_chunk(ledger, &mut export).map(|(chunk, more)| (chunk, more.then_some(export)))
        })
        .await?;
    let rest = futures_util::stream::unfold(rest, move |export| {
        let node = Arc::clone(&node);
        async move {
            let mut export = export?;
            let read = node
                .ledger(move |ledger| {
                    next_chunk(ledger, &mut export).map(|(chunk, more)| (chunk, more.then_some(export)))
                })
                .await;
            Some(match read {
                Ok((chunk, export)) => (Ok(chunk), export),
                Err(error) => {
                    tracing::error!(error = %error.message, "a download of the whole ledger's EPCIS broke off");
                    (Err(std::io::Error::other(error.message)), None)
                }
            })
        }
    });
    let chunks = futures_util::stream::iter([Ok(first)]).chain(rest);
    Ok(([(header::CONTENT_TYPE, MEDIA_TYPE)], Body::from_stream(chunks)).into_response())
}

/// The next chunk of an export, and whether more follow.
fn next_chunk(ledger: &Ledger, export: &mut LedgerExport) -> Result<(Vec<u8>, bool), ApiError> {
    let mut chunk = Vec::with_capacity(CHUNK_BYTES);
    let more = export.write(ledger, &mut chunk, CHUNK_RECORDS, CHUNK_BYTES).map_err(export_error)?;
    Ok((chunk, more))
}

/// Every `giai` parameter of the query, percent-decoded and parsed. A `+` is a
/// plus sign, which GIAIs may contain, not a space, which they may not.
fn requested_items(query: Option<&str>) -> Result<Vec<Giai>, ApiError> {
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name == "giai").then_some(value)
        })
        .map(|raw| {
            let text = percent_decode_str(raw).decode_utf8().map_err(|_| {
                ApiError::bad_request("giai.malformed", format!("giai={raw} does not percent-decode to UTF-8 text"))
            })?;
            parse_giai(&text)
        })
        .collect()
}

/// The answer for an export that failed: an unknown item is the client's 404;
/// anything else means the node's own ledger could not be read or mapped.
fn export_error(error: EpcisError) -> ApiError {
    match error {
        EpcisError::UnknownItem(giai) => ApiError::not_found(format!("no item {giai} is registered")),
        EpcisError::Ledger(error) => ApiError::from(error),
        other => ApiError::internal(format!("exporting the ledger as EPCIS: {other}")),
    }
}
