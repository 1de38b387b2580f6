//! `GET /8004/{giai}`: the URI in every QR code, answered as a GS1-Conformant
//! resolver (GS1-Conformant Resolver standard 1.2, ref.gs1.org/standards/resolver;
//! section numbers below are that standard's).
//!
//! - No `linkType`: the provenance page in the buyer's language (`?lang=` or
//!   `Accept-Language`). The page is the item's default link (`gs1:defaultLink`),
//!   which a resolver redirects to unless the request asks for something else
//!   (§2.6.1); here the resolver is also the page's server, so it serves the page
//!   rather than redirect to the same address.
//! - `linkType=linkset` (`all`, its name before release 1.0), or no `linkType` with
//!   `Accept: application/linkset+json` or `application/json`: the linkset of
//!   [`crate::provenance::linkset`], not a redirect (§2.2, §2.9, §2.10).
//! - `linkType` naming one of the item's link types, compact (`gs1:pip`) or in
//!   full (`https://gs1.org/voc/pip`) (§2.14): `307 Temporary Redirect` to that
//!   link (§2.6.2), passing the rest of the query on (§2.12).
//! - `linkType` naming anything else: 404 (§2.6.2, conformance statement §5.18).
//! - An unknown GIAI: a helpful 404 page (a request for links gets a JSON 404);
//!   a malformed one a helpful 400 page (§2.4.1); a GIAI reserved for a member
//!   but not registered yet a 200 page saying whose it is.
//!
//! Every answer but the 404 pages carries CORS headers and a `Link` to the
//! item's linkset (§2.2: CORS SHALL, the link SHOULD, even when redirecting);
//! `OPTIONS` answers a CORS preflight ([`preflight`]), `HEAD` the `GET`'s headers.
//!
//! Pages are kept per ledger size ([`super::cache`]): a page is rendered once
//! per item, language and size, and served from the cache until the ledger grows.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use salvage_ledger::ident::Giai;

use super::request::{accepts, query_param};
use super::{ApiError, Node};
use crate::provenance::linkset::{self, GS1_LINKSET_CONTEXT, GS1_VOC, Link};
use crate::provenance::{NotFound, Provenance, render, render_not_found};

/// The media type of a linkset (RFC 9264 §4.2).
pub const LINKSET_MEDIA_TYPE: &str = "application/linkset+json";

/// The methods every resolver route answers (§2.2).
pub const METHODS: &str = "GET, HEAD, OPTIONS";

/// The longest `linkType` value read, in bytes: the longest link type's full
/// URI is under 80; anything longer names no link type of ours.
const MAX_LINK_TYPE: usize = 256;

#[utoipa::path(get, path = "/8004/{giai}", tag = "resolver",
    params(
        ("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004); anything else gets a helpful 400 page"),
        ("lang" = Option<String>, Query, description = "Page language (`en`, `lv`); anything else falls back to the Accept-Language header"),
        ("linkType" = Option<String>, Query, description = "A link type of the item's linkset, compact (`gs1:pip`, `gs1:defaultLink`, `gs1:masterData`, `gs1:traceability`, `gs1:epcis`, `alternate`) or in full (`https://gs1.org/voc/pip`): a redirect to that link; `linkset` (or `all`) for the linkset itself; absent or empty for the page"),
    ),
    responses(
        (status = 200, description = "The provenance page (HTML) or, for linkType=linkset (or all), or without linkType for Accept: application/linkset+json or application/json, the GS1 linkset (RFC 9264)", content((String = "text/html"), (Object = "application/linkset+json"))),
        (status = 307, description = "linkType names one of the item's link types: a redirect to that link, the rest of the query passed on (GS1-Conformant Resolver §2.6.2, §2.12)", headers(("Location" = String, description = "The link's target"), ("Link" = String, description = "The item's linkset, rel=\"linkset\""))),
        (status = 400, description = "Not a GIAI: a helpful page", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown GIAI (a helpful page; JSON for linkType or a linkset request), or a linkType the item does not offer (JSON)", content((String = "text/html"), (super::doc_types::ErrorBody = "application/json"))),
    )
)]
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
            // A syntactically invalid key is 400 (GS1-Conformant Resolver §2.4.1), still with a
            // page that helps whoever typed it.
            let page = render_not_found(&giai_text, NotFound::Malformed(error), locale, &node.locales);
            return Ok((StatusCode::BAD_REQUEST, policy(), varying(), Html(page)).into_response());
        }
    };
    let wanted = wanted(&headers, parameter("linkType"));
    if !matches!(wanted, Wanted::Page) {
        return links_answer(&node, giai, wanted, query.as_deref()).await;
    }
    // The checkpoint of the current size is signed once and kept: cheap.
    let checkpoint = node.checkpoints.current().await?;
    let (size, version) = (checkpoint.checkpoint.size(), (checkpoint.checkpoint.size(), checkpoint.signatures.len()));
    let resolver_headers = page_headers(&giai, node.public_url());
    if let Some(page) = node.pages.get(&giai, locale.code(), version) {
        return Ok((policy(), resolver_headers, Html(page)).into_response());
    }
    let (view, reserved, size_after) = node
        .ledger({
            let (giai, checkpoint) = (giai.clone(), Arc::clone(&checkpoint));
            let attachments = Arc::clone(&node.attachments);
            move |ledger| {
                // A label printed ahead of its item: say whose it is, not "not found".
                if let Some(reserved) = crate::provenance::reservation(ledger, &giai)? {
                    return Ok((None, Some(reserved), ledger.size()));
                }
                let mut view = Provenance::from_ledger(ledger, &giai, &checkpoint)?;
                // Derives a thumbnail the first time a page shows its photo.
                if let Some(view) = view.as_mut() {
                    view.set_thumbnails(|digest| attachments.thumbnail_size(digest));
                }
                Ok((view, None, ledger.size()))
            }
        })
        .await?;
    let Some(view) = view else {
        // A reserved GIAI is known: its answer carries what every page's does. An unknown one
        // still varies by language and by what was asked for.
        let (status, reason, headers) = match reserved {
            Some(reserved) => (StatusCode::OK, reserved, resolver_headers),
            None => (StatusCode::NOT_FOUND, NotFound::Unregistered, varying()),
        };
        let page = render_not_found(giai.as_str(), reason, locale, &node.locales);
        return Ok((status, policy(), headers, Html(page)).into_response());
    };
    // A photo this node does not hold yet (a consortium node fetching it) would keep its
    // placeholder until the ledger grows: such a page is not kept.
    let every_photo_shown = view.passport.photos.iter().all(|photo| photo.thumbnail.is_some());
    let page_url = linkset::anchor(&giai, node.public_url());
    let page = Bytes::from(render(&view, locale, &node.locales, &page_url));
    // Only a page made wholly at one size is that size's page: every record
    // it read is of the checkpoint's size if the ledger did not grow meanwhile.
    if size_after == size && every_photo_shown {
        node.pages.keep(giai, locale.code(), version, page.clone());
    }
    Ok((policy(), resolver_headers, Html(page)).into_response())
}

/// `OPTIONS /8004/{giai}`: the methods the resolver answers and a CORS
/// preflight's answer (§2.2), with the item's linkset `Link` when the path
/// holds a GIAI (nothing is read for it).
pub async fn preflight(State(node): State<Arc<Node>>, Path(giai_text): Path<String>) -> Response {
    let mut headers = preflight_headers();
    if let Ok(giai) = Giai::parse(&giai_text) {
        insert(&mut headers, header::LINK, linkset_link(&giai, node.public_url()));
    }
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// The headers of an answer to a CORS preflight of any resolver route: any
/// origin may read what the resolver says, as everyone may scan a QR code.
pub(super) fn preflight_headers() -> HeaderMap {
    let mut headers = cors_headers();
    for (name, value) in [
        (header::ALLOW, METHODS),
        (header::ACCESS_CONTROL_ALLOW_METHODS, METHODS),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "Accept, Accept-Language"),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}

/// The CORS headers of every resolver answer but the 404 pages: readable from
/// any origin, `Link` included (browsers hide it from scripts otherwise).
pub(super) fn cors_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Link"));
    headers
}

/// What a request to `/8004/{giai}` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// The default link: the provenance page.
    Page,
    /// Every link: the linkset.
    Linkset,
    /// One link type, percent-decoded; `None` when the value cannot be one
    /// (too long, not UTF-8 once decoded).
    Link(Option<String>),
}

/// What the request asks for: an explicit `linkType` first (the query names
/// what the client wants; `Accept` only negotiates the form of the answer at
/// the item's own address), then `Accept`.
fn wanted(headers: &HeaderMap, link_type: Option<&str>) -> Wanted {
    match link_type.filter(|raw| !raw.is_empty()).map(decoded) {
        // §2.9 names `linkset`; `all`, its name until GS1-Conformant Resolver 1.0.0
        // deprecated it, is what this node's README and older clients ask for.
        Some(Some(name)) if name == "linkset" || name == "all" => Wanted::Linkset,
        Some(name) => Wanted::Link(name),
        None if accepts(headers, &[LINKSET_MEDIA_TYPE, "application/json"]) => Wanted::Linkset,
        None => Wanted::Page,
    }
}

/// A `linkType` value percent-decoded (clients encode the full URI form's
/// `:` and `/`), or `None` if it is too long or not UTF-8.
fn decoded(raw: &str) -> Option<String> {
    if raw.len() > MAX_LINK_TYPE {
        return None;
    }
    percent_encoding::percent_decode_str(raw).decode_utf8().ok().map(|text| text.into_owned())
}

/// The answer to a request for the linkset or one link of a known item; a
/// JSON 404 for an unknown one.
async fn links_answer(node: &Node, giai: Giai, wanted: Wanted, query: Option<&str>) -> Result<Response, ApiError> {
    if !node.knows(&giai).await? {
        return Err(ApiError::not_found(format!("no item {giai} is registered")));
    }
    let base = node.public_url();
    let mut headers = cors_headers();
    insert(&mut headers, header::LINK, linkset_link(&giai, base));
    let link_type = match wanted {
        Wanted::Link(link_type) => link_type,
        Wanted::Linkset | Wanted::Page => {
            // The item's bare address answers the linkset or the page by Accept: caches must know.
            headers.insert(header::VARY, HeaderValue::from_static("Accept"));
            insert(&mut headers, header::LINK, context_link());
            let linkset = Json(linkset::linkset(&giai, base));
            return Ok((headers, [(header::CONTENT_TYPE, LINKSET_MEDIA_TYPE)], linkset).into_response());
        }
    };
    let links = linkset::links(&giai, base);
    match link_type.as_deref().and_then(|link_type| linkset::find(&links, link_type)) {
        Some(link) => {
            insert(&mut headers, header::LOCATION, location(&link.href, query));
            Ok((StatusCode::TEMPORARY_REDIRECT, headers).into_response())
        }
        // §2.6.2: a link type the item does not have is 404; the message
        // lists those it has (never what was asked: the client knows).
        None => Ok((headers, ApiError::not_found(unavailable(&giai, &links))).into_response()),
    }
}

/// The `Link` header value to the JSON-LD context of linksets served as JSON (§2.10: SHOULD).
fn context_link() -> String {
    format!(r#"<{GS1_LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json""#)
}

/// The `Link` header value naming the item's linkset.
fn linkset_link(giai: &Giai, base_url: &str) -> String {
    format!(r#"<{}?linkType=linkset>; rel="linkset"; type="{LINKSET_MEDIA_TYPE}""#, linkset::anchor(giai, base_url))
}

/// Where a redirect to `href` goes: `href` with the request's query passed on
/// but for its `linkType` (§2.12: the query SHALL be passed on). `linkType`
/// stays behind because the page's own link types point at this very route,
/// where passing it on would redirect for ever.
fn location(href: &str, query: Option<&str>) -> String {
    let passed: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("linkType"))
        .collect();
    if passed.is_empty() {
        return href.to_owned();
    }
    let separator = if href.contains('?') { '&' } else { '?' };
    format!("{href}{separator}{}", passed.join("&"))
}

/// The message of the 404 for a link type the item does not offer.
fn unavailable(giai: &Giai, links: &[Link]) -> String {
    let offered: Vec<String> = links
        .iter()
        .map(|link| {
            link.relation.strip_prefix(GS1_VOC).map_or_else(|| link.relation.clone(), |term| format!("gs1:{term}"))
        })
        .collect();
    format!(
        "item {giai} has no link of that type; its link types are {}, and linkType=linkset lists them all",
        offered.join(", ")
    )
}

/// The resolver's headers on the page: CORS, the linkset's `Link`, and
/// `Vary` (the same address answers the linkset to `Accept:
/// application/linkset+json`, and another language to another `Accept-Language`).
fn page_headers(giai: &Giai, base_url: &str) -> HeaderMap {
    let mut headers = cors_headers();
    insert(&mut headers, header::LINK, linkset_link(giai, base_url));
    headers.extend(varying());
    headers
}

/// What an answer of `/8004/{giai}` depends on besides its path: a shared cache must not give
/// a browser's page to a client that asked for the linkset, or one language's to another.
fn varying() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    headers
}

/// Adds a header built from our own URLs and the request's query, both
/// visible ASCII; a value that is not (which cannot happen) is left out
/// rather than failing the answer.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.append(name, value);
    }
}

/// The page's Content-Security-Policy as a header too: no script, images from
/// this node only, and (only a header can say it) never framed by another site.
fn policy() -> [(header::HeaderName, String); 1] {
    [(
        header::CONTENT_SECURITY_POLICY,
        format!("{}; frame-ancestors 'none'", crate::provenance::page::CONTENT_SECURITY_POLICY),
    )]
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use salvage_ledger::genesis::Genesis;
    use salvage_ledger::operator::Operator;
    use salvage_ledger::store::Ledger;
    use salvage_ledger::testkit::Fixture;
    use tower::ServiceExt;

    use super::*;
    use crate::server::router;

    const BEAM: &str = "4750001BEAM-0001";
    const PAGE: &str = "https://salvage.example/8004/4750001BEAM-0001";

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn linktype_decides_before_accept() {
        let none = HeaderMap::new();
        let linkset_please = accept("application/linkset+json");
        assert_eq!(wanted(&none, None), Wanted::Page);
        assert_eq!(wanted(&none, Some("")), Wanted::Page, "an empty linkType asks for nothing");
        assert_eq!(wanted(&accept("text/html,*/*;q=0.8"), None), Wanted::Page);
        assert_eq!(wanted(&linkset_please, None), Wanted::Linkset);
        assert_eq!(wanted(&accept("application/json"), None), Wanted::Linkset);
        assert_eq!(wanted(&none, Some("linkset")), Wanted::Linkset);
        assert_eq!(wanted(&none, Some("all")), Wanted::Linkset);
        assert_eq!(wanted(&linkset_please, Some("gs1:pip")), Wanted::Link(Some("gs1:pip".to_owned())));
        assert_eq!(
            wanted(&none, Some("https%3A%2F%2Fgs1.org%2Fvoc%2FmasterData")),
            Wanted::Link(Some("https://gs1.org/voc/masterData".to_owned()))
        );
        assert_eq!(wanted(&none, Some("gs1%3Apip")), Wanted::Link(Some("gs1:pip".to_owned())));
        assert_eq!(wanted(&none, Some("%FF%FE")), Wanted::Link(None), "not UTF-8");
        assert_eq!(wanted(&none, Some(&"a".repeat(MAX_LINK_TYPE + 1))), Wanted::Link(None), "too long to be ours");
    }

    #[test]
    fn a_redirect_passes_the_query_on_but_its_link_type() {
        let item = "https://salvage.example/v1/items/X";
        assert_eq!(location(item, None), item);
        assert_eq!(location(item, Some("linkType=gs1:masterData")), item);
        assert_eq!(location(item, Some("linkType=gs1:masterData&lang=lv")), format!("{item}?lang=lv"));
        assert_eq!(
            location(item, Some("utm_source=label&linkType=gs1:masterData&flag&x=a%2Fb")),
            format!("{item}?utm_source=label&flag&x=a%2Fb"),
            "passed on as written, in order"
        );
        let epcis = "https://salvage.example/v1/epcis?giai=X";
        assert_eq!(location(epcis, Some("linkType=gs1:epcis&lang=lv")), format!("{epcis}&lang=lv"));
        assert_eq!(location(item, Some("&&linkType=all&")), item);
    }

    #[test]
    fn the_404_lists_the_link_types_in_their_compact_form() {
        let giai = Giai::parse(BEAM).unwrap();
        let message = unavailable(&giai, &linkset::links(&giai, "https://salvage.example"));
        assert_eq!(
            message,
            "item 4750001BEAM-0001 has no link of that type; its link types are gs1:pip, gs1:defaultLink, \
             gs1:masterData, gs1:traceability, gs1:epcis, alternate, and linkType=linkset lists them all"
        );
    }

    /// A standalone node over a fresh ledger with one registered beam.
    async fn node_with_a_beam() -> (axum::Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture::new();
        let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
        let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap();
        let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
        let node = Node::new(ledger, operator, "https://salvage.example", 1 << 20).unwrap();
        let app = router(Arc::new(node));
        let entry = fixture.register("baltic-demolition", BEAM, "HEA 160 steel beam", 180.0).to_value().to_string();
        let request =
            Request::post("/v1/entries").header(header::CONTENT_TYPE, "application/json").body(Body::from(entry));
        assert_eq!(app.clone().oneshot(request.unwrap()).await.unwrap().status(), StatusCode::CREATED);
        (app, dir)
    }

    async fn send(app: &axum::Router, method: &str, path: &str) -> Response {
        app.clone().oneshot(Request::builder().method(method).uri(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    fn header_of<'a>(response: &'a Response, name: &str) -> Vec<&'a str> {
        response.headers().get_all(name).iter().map(|value| value.to_str().unwrap()).collect()
    }

    #[tokio::test]
    async fn a_link_type_redirects_to_its_link_with_the_linkset_linked() {
        let (app, _dir) = node_with_a_beam().await;
        let linkset_link = format!(r#"<{PAGE}?linkType=linkset>; rel="linkset"; type="application/linkset+json""#);
        let answer = send(&app, "GET", "/8004/4750001BEAM-0001?linkType=gs1:traceability&lang=lv").await;
        assert_eq!(answer.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(
            header_of(&answer, "location"),
            ["https://salvage.example/v1/items/4750001BEAM-0001/bundle?lang=lv"]
        );
        assert_eq!(header_of(&answer, "link"), [linkset_link.as_str()]);
        assert_eq!(header_of(&answer, "access-control-allow-origin"), ["*"]);

        let answer = send(&app, "GET", "/8004/4750001BEAM-0001?linkType=gs1:recallStatus").await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert_eq!(header_of(&answer, "link"), [linkset_link.as_str()]);
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("gs1:masterData"), "{}", String::from_utf8_lossy(&body));

        let answer = send(&app, "GET", "/8004/4750001BEAM-0002?linkType=gs1:pip").await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "an unknown item has no links");
    }

    #[tokio::test]
    async fn the_page_and_the_linkset_say_where_the_linkset_is_and_are_readable_from_anywhere() {
        let (app, _dir) = node_with_a_beam().await;
        let page = send(&app, "GET", "/8004/4750001BEAM-0001").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(header_of(&page, "content-type")[0].starts_with("text/html"));
        assert!(header_of(&page, "link")[0].contains(r#"rel="linkset""#));
        assert_eq!(header_of(&page, "access-control-allow-origin"), ["*"]);

        let linkset = send(&app, "GET", "/8004/4750001BEAM-0001?linkType=linkset").await;
        assert_eq!(linkset.status(), StatusCode::OK);
        assert_eq!(header_of(&linkset, "content-type"), [LINKSET_MEDIA_TYPE]);
        assert_eq!(header_of(&linkset, "link").len(), 2, "the linkset and its JSON-LD context");
        assert!(header_of(&linkset, "link")[1].contains(GS1_LINKSET_CONTEXT));
        let body = linkset.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, linkset::linkset(&Giai::parse(BEAM).unwrap(), "https://salvage.example"));
    }

    #[tokio::test]
    async fn options_and_head_are_answered() {
        let (app, _dir) = node_with_a_beam().await;
        let options = send(&app, "OPTIONS", "/8004/4750001BEAM-0001").await;
        assert_eq!(options.status(), StatusCode::NO_CONTENT);
        assert_eq!(header_of(&options, "allow"), [METHODS]);
        assert_eq!(header_of(&options, "access-control-allow-methods"), [METHODS]);
        assert_eq!(header_of(&options, "access-control-allow-origin"), ["*"]);
        assert!(header_of(&options, "link")[0].contains(r#"rel="linkset""#));
        let head = send(&app, "HEAD", "/8004/4750001BEAM-0001?linkType=gs1:masterData").await;
        assert_eq!(head.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(header_of(&head, "location"), ["https://salvage.example/v1/items/4750001BEAM-0001"]);
    }
}
