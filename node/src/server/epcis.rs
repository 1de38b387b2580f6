//! `GET /v1/epcis`: the ledger's events as an EPCIS 2.0 document in JSON-LD,
//! for the traceability systems of buyers and certification bodies. The
//! resolver's linkset points here (GS1 link type `epcis`) for each item.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use salvage_ledger::entry::Timestamp;
use salvage_ledger::epcis::{self, EpcisError, MEDIA_TYPE};
use salvage_ledger::ident::Giai;

use super::doc_types::ErrorBody;
use super::items::parse_giai;
use super::{ApiError, Node};

#[utoipa::path(get, path = "/v1/epcis", tag = "items",
    params(("giai" = Option<Vec<String>>, Query, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "An item's GIAI, percent-encoded; repeat the parameter for more items. Without it, every item of the ledger.")),
    responses(
        (status = 200, description = "An EPCIS 2.0 EPCISDocument: one event per item record, in ledger order (mapping in docs/format.md); restricted passport fields removed", body = Object, content_type = "application/ld+json"),
        (status = 400, description = "A giai that is not a GIAI", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody)))]
/// `GET /v1/epcis?giai=A&giai=B`: the EPCIS 2.0 document of those items (a
/// split's event belongs to the parent and to every part), or of the whole
/// ledger without `giai`. Item and record URIs start with the node's public URL.
pub async fn epcis(State(node): State<Arc<Node>>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let items = requested_items(query.as_deref())?;
    let base = node.public_url().to_owned();
    let document = node
        .ledger(move |ledger| epcis::export(ledger, &items, &base, &Timestamp::now()).map_err(export_error))
        .await?;
    let body = serde_json::to_vec(&document)
        .map_err(|e| ApiError::internal(format!("cannot encode the EPCIS document: {e}")))?;
    Ok(([(header::CONTENT_TYPE, MEDIA_TYPE)], body).into_response())
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
