//! Reading the ledger: records, the checkpoint, proofs and members. Auditors
//! download everything from here and check it against the signed checkpoint.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::chain;
use serde_json::json;

use super::doc_types::ErrorBody;
use super::request::{accepts, query_param};
use super::{ApiError, Node};

/// The most records one JSON answer holds; NDJSON downloads have no limit.
const JSON_PAGE_LIMIT: u64 = 1000;

/// How many records an NDJSON download reads from the ledger at a time.
const STREAM_CHUNK: u64 = 512;

#[utoipa::path(get, path = "/v1/records", tag = "records",
    params(("from" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "First record (default 0)"), ("limit" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "How many (JSON: default 100, at most 1000 are sent whatever is asked; NDJSON: default all)")),
    responses((status = 200, description = "Records as a JSON array, or NDJSON with Accept: application/x-ndjson", body = [Object]), (status = 400, description = "A parameter that is not a whole number from 0 to 2^64-1 (`http.bad_parameter`)", body = ErrorBody)))]
/// `GET /v1/records?from=N&limit=M`: a JSON array of records (at most
/// [`JSON_PAGE_LIMIT`]), or with `Accept: application/x-ndjson` one record per
/// line, streamed, up to the whole ledger.
pub async fn records(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let from = query_u64(query.as_deref(), "from")?.unwrap_or(0);
    let limit = query_u64(query.as_deref(), "limit")?;
    if accepts(&headers, &["application/x-ndjson"]) {
        let end = {
            let size = node.ledger(|ledger| Ok(ledger.size())).await?;
            limit.map_or(size, |limit| size.min(from.saturating_add(limit)))
        };
        return Ok(ndjson(node, from, end));
    }
    let limit = limit.unwrap_or(100).min(JSON_PAGE_LIMIT);
    let body = node
        .ledger(move |ledger| {
            let end = ledger.size().min(from.saturating_add(limit));
            let mut body = Vec::from(*b"[");
            for seq in from..end {
                if seq > from {
                    body.push(b',');
                }
                body.extend_from_slice(&ledger.record_bytes(seq)?);
            }
            body.push(b']');
            Ok(body)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[utoipa::path(get, path = "/v1/records/{seq}", tag = "records",
    params(("seq" = u64, Path, minimum = 0, maximum = 18446744073709551615_u64, description = "The record's position")),
    responses((status = 200, description = "The record's stored canonical bytes", body = Object), (status = 400, description = "Not a whole number from 0 to 2^64-1 (`http.bad_parameter`)", body = ErrorBody), (status = 404, description = "No such record", body = ErrorBody)))]
/// `GET /v1/records/{seq}`: one record, exactly its stored canonical bytes.
pub async fn record(State(node): State<Arc<Node>>, Path(seq): Path<String>) -> Result<Response, ApiError> {
    let seq = parse_u64(&seq, "record position")?;
    let bytes = node.ledger(move |ledger| Ok(ledger.record_bytes(seq)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

#[utoipa::path(get, path = "/v1/checkpoint", tag = "records",
    responses((status = 200, description = "The current checkpoint, a C2SP signed note", body = String, content_type = "text/plain")))]
/// `GET /v1/checkpoint`: the current checkpoint as a C2SP signed note, signed
/// by this node's operator.
pub async fn checkpoint(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let note = node.checkpoints.current().await?.to_note();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[utoipa::path(get, path = "/v1/proof/inclusion", tag = "records",
    params(("seq" = u64, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "The record"), ("size" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "The tree size (default: current)")),
    responses((status = 200, description = "`{seq, size, leaf_hash, path: [hex]}`", body = Object), (status = 400, description = "A parameter missing or not a whole number (`http.missing_parameter`, `http.bad_parameter`), or `seq` not below `size` or `size` beyond the ledger (`proof.out_of_range`)", body = ErrorBody)))]
/// `GET /v1/proof/inclusion?seq=N&size=S` (size defaults to the current size).
pub async fn inclusion_proof(State(node): State<Arc<Node>>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let seq = query_u64(query.as_deref(), "seq")?.ok_or_else(|| missing("seq"))?;
    let size = query_u64(query.as_deref(), "size")?;
    node.ledger(move |ledger| {
        let size = size.unwrap_or_else(|| ledger.size());
        if seq >= size {
            return Err(ApiError::bad_request(
                "proof.out_of_range",
                format!("record {seq} is not in a tree of size {size}"),
            ));
        }
        let path = ledger.inclusion_proof(seq, size)?;
        let leaf_hash = chain::leaf_hash_of(&ledger.record_bytes(seq)?);
        Ok(Json(json!({
            "seq": seq,
            "size": size,
            "leaf_hash": leaf_hash,
            "path": path.iter().map(hex::encode).collect::<Vec<_>>(),
        }))
        .into_response())
    })
    .await
}

#[utoipa::path(get, path = "/v1/proof/consistency", tag = "records",
    params(("from" = u64, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "The older size"), ("to" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "The newer size (default: current)")),
    responses((status = 200, description = "`{from, to, proof: [hex]}`", body = Object), (status = 400, description = "A parameter missing or not a whole number (`http.missing_parameter`, `http.bad_parameter`), or sizes out of order or beyond the ledger (`proof.out_of_range`)", body = ErrorBody)))]
/// `GET /v1/proof/consistency?from=A&to=B` (to defaults to the current size).
pub async fn consistency_proof(State(node): State<Arc<Node>>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let from = query_u64(query.as_deref(), "from")?.ok_or_else(|| missing("from"))?;
    let to = query_u64(query.as_deref(), "to")?;
    node.ledger(move |ledger| {
        let to = to.unwrap_or_else(|| ledger.size());
        if from > to {
            return Err(ApiError::bad_request("proof.out_of_range", format!("from ({from}) is larger than to ({to})")));
        }
        let proof = ledger.consistency_proof(from, to)?;
        Ok(Json(json!({ "from": from, "to": to, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>() }))
            .into_response())
    })
    .await
}

#[utoipa::path(get, path = "/v1/members", tag = "node",
    responses((status = 200, description = "Every member with its roles and keys", body = [Object])))]
/// `GET /v1/members`: every member with its roles and keys.
pub async fn members(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    node.ledger(|ledger| Ok(Json(ledger.members()?).into_response())).await
}

/// Streams records `from..end` as NDJSON, reading them a chunk at a time.
fn ndjson(node: Arc<Node>, from: u64, end: u64) -> Response {
    let chunks = futures_util::stream::unfold(from, move |next| {
        let node = Arc::clone(&node);
        async move {
            if next >= end {
                return None;
            }
            let upto = end.min(next + STREAM_CHUNK);
            let chunk = node
                .ledger(move |ledger| {
                    let mut lines = Vec::new();
                    for seq in next..upto {
                        lines.extend_from_slice(&ledger.record_bytes(seq)?);
                        lines.push(b'\n');
                    }
                    Ok(lines)
                })
                .await
                .map_err(|error| std::io::Error::other(error.message));
            Some((chunk, upto))
        }
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(chunks)).into_response()
}

/// The value of a numeric query parameter, if present.
fn query_u64(query: Option<&str>, name: &str) -> Result<Option<u64>, ApiError> {
    query_param(query, name).map(|value| parse_u64(value, name)).transpose()
}

fn parse_u64(text: &str, what: &str) -> Result<u64, ApiError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "http.bad_parameter",
            format!("{what} must be a whole number, not {text:?}"),
        ));
    }
    text.parse().map_err(|_| ApiError::bad_request("http.bad_parameter", format!("{what} {text} is too large")))
}

fn missing(name: &str) -> ApiError {
    ApiError::bad_request("http.missing_parameter", format!("the query parameter {name} is required"))
}
