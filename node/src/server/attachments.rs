//! `POST /v1/attachments` and `GET /v1/attachments/{blake3}[/thumbnail]`: the
//! photos and documents that passports and attestations name (docs/format.md §15).
//!
//! An upload is signed by a member (RFC 9421, as the disclosure reads are,
//! [`crate::member_auth`]) and authenticated from its headers before its body
//! is read; at most [`CONCURRENT_UPLOADS`] bodies are read at once, each up to
//! the node's attachment limit. Its `?blake3=` query, covered by the signature,
//! binds the body too. The node sniffs the type, refuses location metadata,
//! stores the file durably and answers `{blake3, size, media_type}`.
//!
//! A read is public when a public field of some record names the file; a file
//! named only in restricted fields, or not named yet, is for signed members
//! (entitled to an item that names it, any member for a file no record names
//! yet); everyone else gets `404`, so a stranger cannot tell it exists. Files
//! never change, so answers carry an `ETag` of the digest and may be cached
//! for a year; `Range` is honoured for one range.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::attachment::{AttachmentDigest, Naming};
use serde::Deserialize;
use serde_json::json;

use super::disclosures::may_read_restricted;
use super::doc_types::ErrorBody;
use super::member_requests::{admit_member, authenticate};
use super::{ApiError, Node};
use crate::attachments::thumbnail::THUMBNAIL_WIDTH;
use crate::attachments::{THUMBNAIL_SUFFIX, ThumbnailFailure};
use crate::follower::FOLLOWER_PATIENCE;

/// How many upload bodies a node reads at once: each may hold the attachment limit in memory.
pub(crate) const CONCURRENT_UPLOADS: usize = 4;

/// How many thumbnails are derived at once (each decodes a whole photo).
pub(crate) const CONCURRENT_THUMBNAILS: usize = 2;

/// Files up to this size are answered from one read; larger ones are streamed.
const WHOLE_READ: u64 = 256 * 1024;

/// The query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The digest the member computed, if it did: the body must have it.
    blake3: Option<String>,
}

#[utoipa::path(post, path = "/v1/attachments", tag = "attachments",
    params(("blake3" = Option<String>, Query, pattern = r"^[0-9a-f]{64}$", min_length = 64, max_length = 64, description = "The file's BLAKE3 digest (64 lowercase hex digits); covered by the signature, so it binds the body")),
    request_body(content = Vec<u8>, description = "The file's bytes: a JPEG, PNG or WebP image without location metadata, or a PDF", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "`{blake3, size, media_type}`: stored and fsynced", body = Object),
        (status = 200, description = "`{blake3, size, media_type}`: the node held these bytes already", body = Object),
        (status = 400, description = "The body does not have the digest the query names (`attachment.digest_mismatch`), or the query is malformed", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 413, description = "Larger than the node's attachment limit (`attachment.too_large`, default 20 MiB)", body = ErrorBody),
        (status = 415, description = "Not a JPEG, PNG, WebP or PDF (`attachment.unsupported`), or empty (`attachment.empty`)", body = ErrorBody),
        (status = 422, description = "An image with location metadata (`attachment.location`): strip it first", body = ErrorBody),
        (status = 503, description = "The node is busy (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `POST /v1/attachments`.
pub async fn upload(
    State(node): State<Arc<Node>>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let claim = authenticate(&parts.method, &parts.uri, &parts.headers)?;
    admit_member(&node, claim).await?;
    let expected = match &query.blake3 {
        Some(text) => Some(AttachmentDigest::parse(text).ok_or_else(|| malformed_digest(text))?),
        None => None,
    };
    let attachments = Arc::clone(&node.attachments);
    let limit = attachments.limit();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(upload_refused(&crate::attachments::refuse_declared_length(limit)));
    }
    let _reading = node.uploads.acquire().await.map_err(|_| ApiError::internal("the upload lane is closed"))?;
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX)).await.map_err(|error| {
        if std::error::Error::source(&error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>()) {
            upload_refused(&crate::attachments::refuse_declared_length(limit))
        } else {
            ApiError::bad_request("attachment.body", format!("the file could not be read: {error}"))
        }
    })?;
    let stored = tokio::task::spawn_blocking(move || {
        attachments.judge_upload(&bytes).map_err(|refusal| upload_refused(&refusal))?;
        if let Some(expected) = expected {
            let actual = AttachmentDigest::of(&bytes);
            if actual != expected {
                return Err(ApiError::bad_request(
                    "attachment.digest_mismatch",
                    format!("the file's BLAKE3 digest is {actual}, not {expected} as the request says: it was changed or cut on the way"),
                ));
            }
        }
        attachments.store().put(&bytes).map_err(|error| ApiError::internal(format!("storing an attachment: {error}")))
    })
    .await
    .map_err(|error| ApiError::internal(format!("an upload task failed: {error}")))??;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    let answer = json!({"blake3": stored.digest, "size": stored.size, "media_type": stored.media_type.as_str()});
    Ok((status, [(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response())
}

#[utoipa::path(get, path = "/v1/attachments/{blake3}", tag = "attachments",
    params(("blake3" = String, Path, pattern = r"^[0-9a-f]{64}$", min_length = 64, max_length = 64, description = "The file's BLAKE3 digest (64 lowercase hex digits)")),
    responses(
        (status = 200, description = "The file, with `ETag`, `Cache-Control: immutable` when public, `Accept-Ranges: bytes`", body = Vec<u8>),
        (status = 206, description = "The one range asked for with `Range`", body = Vec<u8>),
        (status = 304, description = "`If-None-Match` names the file's ETag"),
        (status = 400, description = "Not a digest (`attachment.malformed`)", body = ErrorBody),
        (status = 401, description = "A signed request whose signature does not authenticate a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "A signed member not entitled to any item that names it (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No public field names such a file (`attachment.unknown`); members sign the request to read restricted files", body = ErrorBody),
        (status = 416, description = "The range lies beyond the file", body = ErrorBody),
        (status = 503, description = "Named, but this node is still fetching it from its peers (`attachment.fetching`)", body = ErrorBody),
    ))]
/// `GET /v1/attachments/{blake3}`.
pub async fn file(
    State(node): State<Arc<Node>>,
    Path(digest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (digest, public) = readable(&node, &digest, &method, &uri, &headers).await?;
    let held = held(&node, digest).await?;
    let path = node.attachments.store().path(&digest);
    serve(path, held.size, held.media_type.as_str(), &format!("\"{digest}\""), public, &headers).await
}

#[utoipa::path(get, path = "/v1/attachments/{blake3}/thumbnail", tag = "attachments",
    params(("blake3" = String, Path, pattern = r"^[0-9a-f]{64}$", min_length = 64, max_length = 64, description = "The image's BLAKE3 digest (64 lowercase hex digits)")),
    responses(
        (status = 200, description = "A JPEG at most 480 px wide, derived once from the image", body = Vec<u8>),
        (status = 304, description = "`If-None-Match` names the thumbnail's ETag"),
        (status = 400, description = "Not a digest (`attachment.malformed`)", body = ErrorBody),
        (status = 401, description = "A signed request whose signature does not authenticate a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "A signed member not entitled to any item that names it (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No public field names such an image (`attachment.unknown`), or the file is no image (`attachment.not_an_image`)", body = ErrorBody),
        (status = 422, description = "The image does not decode, or is too large to (`attachment.undecodable`)", body = ErrorBody),
        (status = 503, description = "Named, but this node is still fetching it from its peers (`attachment.fetching`)", body = ErrorBody),
    ))]
/// `GET /v1/attachments/{blake3}/thumbnail`.
pub async fn thumbnail_file(
    State(node): State<Arc<Node>>,
    Path(digest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (digest, public) = readable(&node, &digest, &method, &uri, &headers).await?;
    let store_path = node.attachments.store().derived_path(&digest, THUMBNAIL_SUFFIX);
    let etag = format!("\"{digest}-t{THUMBNAIL_WIDTH}\"");
    if let Ok(meta) = tokio::fs::metadata(&store_path).await {
        return serve(store_path, meta.len(), "image/jpeg", &etag, public, &headers).await;
    }
    let held = held(&node, digest).await?;
    if !held.media_type.is_image() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "attachment.not_an_image",
            format!("{digest} is {}, which has no thumbnail", held.media_type),
        ));
    }
    let _deriving = node.thumbnails.acquire().await.map_err(|_| ApiError::internal("the thumbnail lane is closed"))?;
    let attachments = Arc::clone(&node.attachments);
    let media_type = held.media_type;
    let size = tokio::task::spawn_blocking(move || attachments.derive_thumbnail(&digest, media_type))
        .await
        .map_err(|error| ApiError::internal(format!("a thumbnail task failed: {error}")))?
        .map_err(|error| match error {
            ThumbnailFailure::Undecodable(error) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "attachment.undecodable", format!("{digest}: {error}"))
            }
            ThumbnailFailure::Store(error) => ApiError::internal(error.to_string()),
        })?;
    serve(store_path, size, "image/jpeg", &etag, public, &headers).await
}

/// The digest asked for and whether it is public, or why the asker may not read it.
async fn readable(
    node: &Arc<Node>,
    digest: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(AttachmentDigest, bool), ApiError> {
    let digest = AttachmentDigest::parse(digest).ok_or_else(|| malformed_digest(digest))?;
    let mut naming = naming(node, digest).await?;
    if !naming.is_named() {
        let size = node.ledger(|ledger| Ok(ledger.size())).await?;
        if node.attachments.followed_size() < size && node.attachments.caught_up(size, FOLLOWER_PATIENCE).await {
            naming = self::naming(node, digest).await?;
        }
    }
    if naming.public {
        return Ok((digest, true));
    }
    if !headers.contains_key(crate::member_auth::SIGNATURE_INPUT_HEADER) {
        return Err(unknown_attachment(&digest));
    }
    let claim = authenticate(method, uri, headers)?;
    let member = admit_member(node, claim).await?;
    entitled(node, &member, &naming, &digest).await?;
    Ok((digest, false))
}

/// Who names `digest`, as far as the store has followed the ledger.
async fn naming(node: &Arc<Node>, digest: AttachmentDigest) -> Result<Naming, ApiError> {
    let attachments = Arc::clone(&node.attachments);
    node.ledger(move |ledger| {
        attachments.naming(ledger, &digest).map_err(|error| ApiError::internal(format!("{error}")))
    })
    .await
}

/// Whether `member` may read a file only restricted fields name: it may read the restricted
/// values of an item that names it ([`may_read_restricted`], docs/rules.md §8); any member,
/// for a file no record names yet.
async fn entitled(
    node: &Arc<Node>,
    member: &salvage_ledger::custody::Member,
    naming: &Naming,
    digest: &AttachmentDigest,
) -> Result<(), ApiError> {
    if !naming.is_named() {
        return Ok(());
    }
    let (member, items) = (member.clone(), naming.items.clone());
    let digest = *digest;
    node.ledger(move |ledger| {
        for item in &items {
            let Ok(giai) = salvage_ledger::ident::Giai::parse(item) else { continue };
            if may_read_restricted(&ledger.history(&giai)?, &member) {
                return Ok(());
            }
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.not_entitled",
            format!(
                "member {} is entitled to no item that names {digest} in a restricted field (docs/rules.md §8)",
                member.id
            ),
        ))
    })
    .await
}

/// What this node holds under `digest`, or `503` while it fetches a named file.
async fn held(node: &Arc<Node>, digest: AttachmentDigest) -> Result<salvage_ledger::attachment::Held, ApiError> {
    let attachments = Arc::clone(&node.attachments);
    let held = tokio::task::spawn_blocking(move || attachments.store().held(&digest))
        .await
        .map_err(|error| ApiError::internal(format!("a read task failed: {error}")))?
        .map_err(|error| ApiError::internal(error.to_string()))?;
    held.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "attachment.fetching",
            format!("{digest} is named on the ledger, but this node does not hold it yet: it is fetching it from the consortium's other nodes; try again shortly"),
        )
    })
}

/// Answers with the file at `path` (`size` bytes), honouring `If-None-Match` and one `Range`.
async fn serve(
    path: std::path::PathBuf,
    size: u64,
    media_type: &str,
    etag: &str,
    public: bool,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut answer = Response::builder()
        .header(header::CONTENT_TYPE, media_type)
        .header(header::ETAG, etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // Nothing a file holds may run as this origin's page.
        .header(header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox")
        .header(
            header::CACHE_CONTROL,
            if public { "public, max-age=31536000, immutable" } else { "private, no-store" },
        );
    let matches = |value: &HeaderValue| {
        value.to_str().is_ok_and(|list| list.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(matches) {
        return answer.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(built);
    }
    let wanted = match headers.get(header::RANGE) {
        // A stale `If-Range` asks for the whole file (RFC 9110 §13.1.5).
        Some(_) if headers.get(header::IF_RANGE).is_some_and(|value| !matches(value)) => None,
        Some(range) => match super::ranges::one_range(range.as_bytes(), size) {
            super::ranges::Wanted::Whole => None,
            super::ranges::Wanted::Part(start, end) => Some((start, end)),
            super::ranges::Wanted::Unsatisfiable => {
                return answer
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .body(Body::empty())
                    .map_err(built);
            }
        },
        None => None,
    };
    let (start, end) = wanted.unwrap_or((0, size.saturating_sub(1)));
    let length = if size == 0 { 0 } else { end - start + 1 };
    if let Some((start, end)) = wanted {
        answer = answer
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
    }
    answer = answer.header(header::CONTENT_LENGTH, length);
    let body = super::ranges::file_body(path, start, length, WHOLE_READ).await?;
    answer.body(body).map_err(built)
}

fn built(error: axum::http::Error) -> ApiError {
    ApiError::internal(format!("building an answer: {error}"))
}

fn malformed_digest(text: &str) -> ApiError {
    ApiError::bad_request(
        "attachment.malformed",
        format!(
            "{:?} is not a BLAKE3 digest: attachments are named by 64 lowercase hex digits",
            text.chars().take(80).collect::<String>()
        ),
    )
}

fn unknown_attachment(digest: &AttachmentDigest) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "attachment.unknown",
        format!("no public field of this ledger names the attachment {digest}"),
    )
}

fn upload_refused(refusal: &crate::attachments::UploadRefusal) -> ApiError {
    let status = match refusal.code {
        "attachment.too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "attachment.location" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
    };
    ApiError::new(status, refusal.code, refusal.message.clone())
}
