//! `GET /8004/{giai}`: the URI in every QR code.
//!
//! A browser gets the provenance page in the buyer's language (`?lang=` or
//! `Accept-Language`); a client asking for JSON (`Accept: application/json`)
//! or for every link (`?linkType=all`) gets the GS1 resolver linkset
//! (RFC 9264). An unknown or malformed GIAI gets a helpful 404 page.
//!
//! Pages are kept per ledger size ([`super::cache`]): a page is rendered once
//! per item, language and size, and served from the cache until the ledger grows.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use salvage_ledger::ident::Giai;

use super::request::{accepts, query_param};
use super::{ApiError, Node};
use crate::provenance::{NotFound, Provenance, linkset, render, render_not_found};

#[utoipa::path(get, path = "/8004/{giai}", tag = "resolver", params(("giai" = String, Path, description = "The item's GIAI; anything else gets a helpful 404 page"), ("lang" = Option<String>, Query, description = "Page language (`en`, `lv`); anything else falls back to the Accept-Language header"), ("linkType" = Option<String>, Query, description = "`all` for the linkset; other values are ignored")), responses((status = 200, description = "The provenance page (HTML) or, for Accept: application/json or linkType=all, the GS1 linkset", body = String, content_type = "text/html"), (status = 404, description = "Unknown or malformed GIAI: a helpful page", body = String, content_type = "text/html")))]
/// `GET /8004/{giai}`.
pub async fn resolve(
    State(node): State<Arc<Node>>,
    Path(giai_text): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let parameter = |name: &str| query_param(query.as_deref(), name);
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let locale = node.locales.negotiate(accept_language, parameter("lang"));
    let giai = match Giai::parse(&giai_text) {
        Ok(giai) => giai,
        Err(error) => {
            let page = render_not_found(&giai_text, NotFound::Malformed(error), locale, &node.locales);
            return Ok((StatusCode::NOT_FOUND, policy(), Html(page)).into_response());
        }
    };
    if wants_linkset(&headers, parameter("linkType")) {
        let known = node
            .ledger({
                let giai = giai.clone();
                move |ledger| Ok(ledger.item(&giai)?.is_some())
            })
            .await?;
        if !known {
            return Err(ApiError::not_found(format!("no item {giai} is registered")));
        }
        let links = linkset(&giai, node.public_url());
        return Ok(([(header::CONTENT_TYPE, "application/linkset+json")], Json(links)).into_response());
    }
    // The checkpoint of the current size is signed once and kept: cheap.
    let checkpoint = node.checkpoints.current().await?;
    let (size, version) = (checkpoint.checkpoint.size(), (checkpoint.checkpoint.size(), checkpoint.signatures.len()));
    if let Some(page) = node.pages.get(&giai, locale.code(), version) {
        return Ok((policy(), Html(page)).into_response());
    }
    let (view, size_after) = node
        .ledger({
            let (giai, checkpoint) = (giai.clone(), Arc::clone(&checkpoint));
            let attachments = Arc::clone(&node.attachments);
            move |ledger| {
                let mut view = Provenance::from_ledger(ledger, &giai, &checkpoint)?;
                // Derives a thumbnail the first time a page shows its photo.
                if let Some(view) = view.as_mut() {
                    view.set_thumbnails(|digest| attachments.thumbnail_size(digest));
                }
                Ok((view, ledger.size()))
            }
        })
        .await?;
    let Some(view) = view else {
        let page = render_not_found(giai.as_str(), NotFound::Unregistered, locale, &node.locales);
        return Ok((StatusCode::NOT_FOUND, policy(), Html(page)).into_response());
    };
    // A photo this node does not hold yet (a consortium node fetching it) would keep its
    // placeholder until the ledger grows: such a page is not kept.
    let every_photo_shown = view.passport.photos.iter().all(|photo| photo.thumbnail.is_some());
    let page_url = format!("{}/8004/{}", node.public_url(), crate::provenance::linkset::percent_encode(giai.as_str()));
    let page = Bytes::from(render(&view, locale, &node.locales, &page_url));
    // Only a page made wholly at one size is that size's page: every record
    // it read is of the checkpoint's size if the ledger did not grow meanwhile.
    if size_after == size && every_photo_shown {
        node.pages.keep(giai, locale.code(), version, page.clone());
    }
    Ok((policy(), Html(page)).into_response())
}

/// The page's Content-Security-Policy as a header too: no script, images from
/// this node only, and (only a header can say it) never framed by another site.
fn policy() -> [(header::HeaderName, String); 1] {
    [(
        header::CONTENT_SECURITY_POLICY,
        format!("{}; frame-ancestors 'none'", crate::provenance::page::CONTENT_SECURITY_POLICY),
    )]
}

fn wants_linkset(headers: &HeaderMap, link_type: Option<&str>) -> bool {
    link_type == Some("all") || accepts(headers, &["application/json", "application/linkset+json"])
}
