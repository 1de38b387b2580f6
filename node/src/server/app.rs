//! `/app/…`: the site app's files ([`crate::app`]), its strings, the passport schema, the QR
//! code of a phone's key, and a check of a passport against the schema and rules.
//!
//! Everything here is public and small: the files are compiled into the binary, a locale or
//! the schema is a few kilobytes, and the two inputs strangers can send (a key of 64 hex digits,
//! a passport of at most [`MAX_PASSPORT_BYTES`]) are bounded before any work is done.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Node};
use crate::app::{CONTENT_SECURITY_POLICY, ShellFile};

/// The largest passport `POST /app/check/passport` reads: a passport with a hundred photos and
/// materials is well under it.
pub const MAX_PASSPORT_BYTES: usize = 64 * 1024;

/// `GET /app`: the app lives at `/app/`, the scope its service worker controls.
pub async fn to_app() -> Redirect {
    Redirect::permanent("/app/")
}

/// `GET /app/`: the app's page.
pub async fn page(headers: HeaderMap) -> Response {
    match crate::app::shell_file("") {
        Some(file) => serve(file.media_type, file.bytes, &headers),
        None => not_found(),
    }
}

/// `GET /app/{*path}`: a file of the shell, the service worker, a language's strings or the
/// passport schema.
pub async fn file(State(node): State<Arc<Node>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path == "sw.js" {
        let codes: Vec<&str> = node.locales.iter().map(|locale| locale.code()).collect();
        let mut answer =
            serve("text/javascript; charset=utf-8", crate::app::service_worker(&codes).as_bytes(), &headers);
        // The worker controls `/app/` only, its own directory: no `Service-Worker-Allowed`.
        answer.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return answer;
    }
    if path == "schema/passport.json" {
        return json_file(&crate::app::passport_schema(), &headers);
    }
    if let Some(code) = path.strip_prefix("locale/").and_then(|name| name.strip_suffix(".json")) {
        let Some(locale) = node.locales.get(code).filter(|locale| locale.code() == code) else {
            return not_found();
        };
        let languages: Vec<(&str, &str)> = node.locales.iter().map(|locale| (locale.code(), locale.name())).collect();
        return json_file(&crate::app::locale_strings(locale, &languages), &headers);
    }
    match crate::app::shell_file(&path).filter(|file| !file.path.is_empty()) {
        Some(ShellFile { media_type, bytes, .. }) => serve(media_type, bytes, &headers),
        None => not_found(),
    }
}

/// The query of `GET /app/key.svg`.
#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    key: String,
}

/// `GET /app/key.svg?key=<64 hex>`: the QR code a new phone shows so that an enrolled phone (or
/// a person) can add its key: the link `…/app/#/enrol/<key>` on this node.
pub async fn key_qr(State(node): State<Arc<Node>>, Query(query): Query<KeyQuery>) -> Result<Response, ApiError> {
    let key = salvage_ledger::entry::PublicKey::from_hex(&query.key).map_err(|_| {
        ApiError::bad_request(
            "app.malformed_key",
            "key must be an Ed25519 public key: 64 lowercase hex digits (the one the app shows)",
        )
    })?;
    let link = format!("{}/app/#/enrol/{}", node.public_url.trim_end_matches('/'), key.to_hex());
    let svg =
        crate::qr::qr_svg(&link, 6).map_err(|error| ApiError::internal(format!("drawing a key's QR code: {error}")))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg)
        .into_response())
}

/// `POST /app/check/passport`: the passport's problems as the ledger's schema and rules report
/// them (`{"problems": [{"pointer", "message"}]}`, empty when it would be accepted), so the
/// register form shows each beside its field before anything is signed.
pub async fn check_passport(body: Body) -> Result<Response, ApiError> {
    // Read at most the limit: a stranger's larger body is refused without being kept.
    let body = axum::body::to_bytes(body, MAX_PASSPORT_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "http.too_large",
            format!("a passport to check is at most {MAX_PASSPORT_BYTES} bytes"),
        )
    })?;
    let passport = salvage_ledger::canonical::parse_strict(&body).map_err(|error| {
        ApiError::bad_request(
            "app.malformed_passport",
            format!("the passport is not JSON as docs/format.md §1 asks: {error}"),
        )
    })?;
    let verdict = tokio::task::spawn_blocking(move || salvage_ledger::schema::validate_passport(&passport))
        .await
        .map_err(|error| ApiError::internal(format!("checking a passport: {error}")))?;
    let problems: Vec<Value> = match &verdict {
        Ok(()) => Vec::new(),
        Err(error) => error
            .violations()
            .iter()
            .map(|violation| json!({"pointer": violation.pointer, "message": violation.message}))
            .collect(),
    };
    Ok(axum::Json(json!({ "problems": problems })).into_response())
}

/// A shell file with the app's security headers and a content `ETag`.
fn serve(media_type: &'static str, bytes: &[u8], headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", &blake3::hash(bytes).to_hex()[..32]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut answer = if fresh {
        Response::builder().status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        Response::builder().header(header::CONTENT_TYPE, media_type).body(Body::from(bytes.to_vec()))
    }
    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(self), geolocation=(), microphone=()"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    answer
}

fn json_file(value: &Value, headers: &HeaderMap) -> Response {
    serve("application/json", value.to_string().as_bytes(), headers)
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "app.not_found", "the app has no such file").into_response()
}
