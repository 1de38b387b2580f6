//! A member's own lists, for its app (issue 28): what it holds, what is offered to it, what it
//! signed, and the next GIAI it may register.
//!
//! - `GET /v1/members/{id}/items?after=&limit=`: the items `{id}` holds, by GIAI.
//! - `GET /v1/members/{id}/offers?after=&limit=`: the transfers offered to `{id}`, by GIAI.
//! - `GET /v1/members/{id}/entries?before=&limit=`: the records `{id}` signed, newest first.
//! - `GET /v1/members/{id}/next-giai`: the next free GIAI under its prefixes or ranges.
//!
//! Each is signed by an active key of `{id}` (RFC 9421, as the disclosure reads are); another
//! member's signature is `403` `auth.not_entitled`. The first three read the node's follower
//! of the ledger (`crate::holdings`), caught up first, and show each item as the ledger has it
//! now (a row the follower has not rewritten yet is left out). Pages are bounded and carry
//! `next`, the value to pass as `after` (or `before`) for the following page, `null` on the
//! last. Names and categories are the public passport's, as `GET /v1/items/{giai}` shows them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use salvage_ledger::custody::{Member, MemberId};
use salvage_ledger::ident::Giai;
use serde_json::{Value, json};

use super::doc_types::ErrorBody;
use super::items::{current_public_passport, listed_name_and_category};
use super::member_requests::signed_by_member;
use super::{ApiError, Node};
use crate::follower::FOLLOWER_PATIENCE;
use crate::holdings::SignedRecord;

/// Items and entries a page lists unless `limit` says otherwise, and the most it may say.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

/// Offers a page lists unless `limit` says otherwise, and the most: an inbox is short.
const MAX_OFFERS: usize = 200;

/// How many serials `next-giai` tries, over all the member's prefixes and ranges.
const NEXT_GIAI_PROBES: u64 = 1000;

/// The member id in the path: a lowercase slug.
const MEMBER_ID_PATTERN: &str = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$";

#[utoipa::path(get, path = "/v1/members/{id}/items", tag = "members",
    params(
        ("id" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", description = "The member's id; the request is signed by one of its active keys"),
        ("after" = Option<String>, Query, description = "The `next` of the page before: list GIAIs after this one (percent-encoded)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "How many items (default 50)"),
    ),
    responses(
        (status = 200, description = "`{member, items: [{giai, name, category, status, offered_to}], next}`: the live items the member holds, by GIAI; `status` is `available`, `installed` or `reserved` (a GIAI reserved, not registered yet: no name or category); `offered_to` the member a pending transfer is offered to, or `null`; `next` the `after` of the next page, `null` on the last", body = Object),
        (status = 400, description = "A malformed member id (`member.malformed`) or query parameter (`http.bad_parameter`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "Signed by another member (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No member has the id", body = ErrorBody),
        (status = 503, description = "The node is busy (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/members/{id}/items`.
pub async fn items(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let member = own_member(&node, &id, &method, &uri, &headers).await?.id;
    let query = Query::read(uri.query(), &["after", "limit"])?;
    let (after, limit) = (query.giai("after")?, query.limit(DEFAULT_PAGE, MAX_PAGE)?);
    caught_up(&node).await?;
    let holdings = Arc::clone(&node.holdings);
    node.ledger(move |ledger| {
        let page = holdings
            .store()
            .held(member.as_str(), after.as_ref().map(Giai::as_str), limit)
            .map_err(|error| ApiError::internal(error.to_string()))?;
        let next = page.more.then(|| page.rows.last().map(|(giai, _)| giai.clone())).flatten();
        let mut items = Vec::with_capacity(page.rows.len());
        for (giai, _) in page.rows {
            let Some(state) = current(ledger, &giai)? else { continue };
            if state.custodian != member || state.status.is_terminal() {
                continue;
            }
            let (name, category) = listed_name_and_category(&current_public_passport(ledger, &state)?);
            items.push(json!({
                "giai": state.giai,
                "name": name,
                "category": category,
                "status": state.status,
                "offered_to": state.pending.as_ref().map(|pending| &pending.to),
            }));
        }
        Ok(private(json!({"member": member, "items": items, "next": next})))
    })
    .await
}

#[utoipa::path(get, path = "/v1/members/{id}/offers", tag = "members",
    params(
        ("id" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", description = "The member's id; the request is signed by one of its active keys"),
        ("after" = Option<String>, Query, description = "The `next` of the page before: list GIAIs after this one (percent-encoded)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "How many offers (default 200)"),
    ),
    responses(
        (status = 200, description = "`{member, offers: [{giai, name, category, from, seq, time}], next}`: the transfers offered to the member and not yet received or cancelled, by GIAI; `from` the custodian who offered, `seq` and `time` the offer's record and when the ledger accepted it", body = Object),
        (status = 400, description = "A malformed member id (`member.malformed`) or query parameter (`http.bad_parameter`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "Signed by another member (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No member has the id", body = ErrorBody),
        (status = 503, description = "The node is busy (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/members/{id}/offers`.
pub async fn offers(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let member = own_member(&node, &id, &method, &uri, &headers).await?.id;
    let query = Query::read(uri.query(), &["after", "limit"])?;
    let (after, limit) = (query.giai("after")?, query.limit(MAX_OFFERS, MAX_OFFERS)?);
    caught_up(&node).await?;
    let holdings = Arc::clone(&node.holdings);
    node.ledger(move |ledger| {
        let page = holdings
            .store()
            .offered(member.as_str(), after.as_ref().map(Giai::as_str), limit)
            .map_err(|error| ApiError::internal(error.to_string()))?;
        let next = page.more.then(|| page.rows.last().map(|(giai, _)| giai.clone())).flatten();
        let mut offers = Vec::with_capacity(page.rows.len());
        for (giai, _) in page.rows {
            let Some(state) = current(ledger, &giai)? else { continue };
            let Some(pending) = state.pending.as_ref().filter(|pending| pending.to == member) else { continue };
            let offer = ledger.record(pending.offered.get())?;
            let (name, category) = listed_name_and_category(&current_public_passport(ledger, &state)?);
            offers.push(json!({
                "giai": state.giai,
                "name": name,
                "category": category,
                "from": state.custodian,
                "seq": pending.offered,
                "time": offer.accepted,
            }));
        }
        Ok(private(json!({"member": member, "offers": offers, "next": next})))
    })
    .await
}

#[utoipa::path(get, path = "/v1/members/{id}/entries", tag = "members",
    params(
        ("id" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", description = "The member's id; the request is signed by one of its active keys"),
        ("before" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "The `next` of the page before: list records before this position"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "How many entries (default 50)"),
    ),
    responses(
        (status = 200, description = "`{member, entries: [{seq, kind, giai, time, entry_id}], next}`: the records the member signed (with any key it ever had), newest first; `giai` the item an item statement names (a split's parent), `null` for membership, node and identifier statements; `time` when the ledger accepted it; `next` the `before` of the next page, `null` on the last", body = Object),
        (status = 400, description = "A malformed member id (`member.malformed`) or query parameter (`http.bad_parameter`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "Signed by another member (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No member has the id", body = ErrorBody),
        (status = 503, description = "The node is busy (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/members/{id}/entries`.
pub async fn entries(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let member = own_member(&node, &id, &method, &uri, &headers).await?.id;
    let query = Query::read(uri.query(), &["before", "limit"])?;
    let (before, limit) = (query.seq("before")?, query.limit(DEFAULT_PAGE, MAX_PAGE)?);
    caught_up(&node).await?;
    let holdings = Arc::clone(&node.holdings);
    node.ledger(move |ledger| {
        let page = holdings
            .store()
            .signed(member.as_str(), before, limit)
            .map_err(|error| ApiError::internal(error.to_string()))?;
        let next = page.more.then(|| page.rows.last().map(|signed| signed.seq)).flatten();
        let mut entries = Vec::with_capacity(page.rows.len());
        for SignedRecord { seq, kind, giai } in page.rows {
            let record = ledger.record(seq)?;
            entries.push(json!({
                "seq": seq,
                "kind": kind,
                "giai": if giai.is_empty() { Value::Null } else { Value::String(giai) },
                "time": record.accepted,
                "entry_id": record.entry.id(),
            }));
        }
        Ok(private(json!({"member": member, "entries": entries, "next": next})))
    })
    .await
}

#[utoipa::path(get, path = "/v1/members/{id}/next-giai", tag = "members",
    params(("id" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$", description = "The member's id; the request is signed by one of its active keys")),
    responses(
        (status = 200, description = "`{member, giai, prefix, source}`: the first GIAI no item has yet, from the next free serial of the member's first prefix or range with one (`source` `allocation` for a range the consortium allocated, `company_prefix` for a prefix the member holds: `prefix` ‖ the serial in decimal); at most 1000 serials are tried", body = Object),
        (status = 400, description = "A malformed member id (`member.malformed`) or a query, which this route does not take (`http.bad_parameter`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 403, description = "Signed by another member (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No member has the id", body = ErrorBody),
        (status = 409, description = "The member holds no company prefix or range (`giai.none_held`), or none of the serials tried is free (`giai.exhausted`)", body = ErrorBody),
        (status = 503, description = "The node is busy (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/members/{id}/next-giai`.
pub async fn next_giai(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let member = own_member(&node, &id, &method, &uri, &headers).await?;
    Query::read(uri.query(), &[])?;
    node.ledger(move |ledger| {
        if member.identifiers.is_empty() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "giai.none_held",
                format!(
                    "{} holds no company prefix and no range of serials, so it may register no GIAI of its own: ask \
                     the consortium's admins for a range (`salvage member allocate`)",
                    member.id
                ),
            ));
        }
        // Registrations do not move an allocation's next free serial (only reservations do), so
        // the serials from it on may be taken already: each is tried until one names no item.
        // Under a whole prefix, GIAIs are `prefix ‖ serial` from 1 on, the serials reservations
        // and allocated ranges take too; other asset references are left to the member.
        let mut probes = NEXT_GIAI_PROBES;
        for allocation in &member.identifiers {
            let first = allocation.range.map_or(allocation.next, |range| allocation.next.max(range.first));
            let mut serial = first;
            while serial <= allocation.last_serial() && probes > 0 {
                probes -= 1;
                let Ok(giai) = Giai::parse(&format!("{}{serial}", allocation.prefix)) else { break };
                if ledger.item(&giai)?.is_none() {
                    let source = if allocation.range.is_some() { "allocation" } else { "company_prefix" };
                    let body =
                        json!({"member": member.id, "giai": giai, "prefix": allocation.prefix, "source": source});
                    return Ok(private(body));
                }
                serial += 1;
            }
        }
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "giai.exhausted",
            format!(
                "none of the {NEXT_GIAI_PROBES} serials tried under the prefixes and ranges of {} is free: reserve \
                 serials further on (`giai.reserve`), or ask the consortium's admins for another range",
                member.id
            ),
        ))
    })
    .await
}

/// The member named in the path, once the request is signed by one of its active keys.
async fn own_member(
    node: &Arc<Node>,
    id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Member, ApiError> {
    let signer = signed_by_member(node, method, uri, headers).await?;
    let id = MemberId::parse(id).map_err(|refusal| {
        ApiError::bad_request(
            "member.malformed",
            format!("the path names {id:?}, which is not a member id ({MEMBER_ID_PATTERN}): {}", refusal.message),
        )
    })?;
    if signer.id == id {
        return Ok(signer);
    }
    let named = id.clone();
    let known = node.ledger(move |ledger| Ok(ledger.members()?.iter().any(|member| member.id == named))).await?;
    if !known {
        return Err(ApiError::not_found(format!("no member has id {id}")));
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.not_entitled",
        format!(
            "the lists of {id} are for {id} alone, and this request is signed by {}: sign it with an active key of {id}",
            signer.id
        ),
    ))
}

/// Brings the follower up to the ledger's size before a list is read: itself when only a few
/// records are new and it is free, else by waiting a little for the background follower; past
/// that, the list is answered from what has been read (the items in it as they are now).
async fn caught_up(node: &Arc<Node>) -> Result<(), ApiError> {
    let holdings = Arc::clone(&node.holdings);
    let (size, covered) = node
        .ledger(move |ledger| {
            let covered = holdings.catch_up(ledger).map_err(|error| ApiError::internal(error.to_string()))?;
            Ok((ledger.size(), covered))
        })
        .await?;
    if !covered && !node.holdings.caught_up(size, FOLLOWER_PATIENCE).await {
        tracing::warn!(size, followed = node.holdings.followed_size(), "a member's list answered behind the ledger");
    }
    Ok(())
}

/// The item with the GIAI a row names, as the ledger has it now.
fn current(
    ledger: &salvage_ledger::Ledger,
    giai: &str,
) -> Result<Option<salvage_ledger::custody::ItemState>, ApiError> {
    // The store holds only GIAIs it read from the ledger; one that does not parse is skipped.
    let Ok(giai) = Giai::parse(giai) else { return Ok(None) };
    Ok(ledger.item(&giai)?)
}

/// A member's own answer: never cached.
fn private(body: Value) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// A route's query parameters, each decoded and given once, all of them ones the route takes.
struct Query {
    values: BTreeMap<&'static str, String>,
}

impl Query {
    /// Reads `query`, refusing a parameter not in `taken`, one given twice, and one that is not
    /// percent-encoded UTF-8. `+` is taken as itself, as GIAIs may hold it: encode a space `%20`.
    fn read(query: Option<&str>, taken: &[&'static str]) -> Result<Query, ApiError> {
        let mut values = BTreeMap::new();
        for pair in query.unwrap_or_default().split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(name) = taken.iter().copied().find(|taken| *taken == name) else {
                let takes = if taken.is_empty() { "none".to_owned() } else { taken.join(", ") };
                return Err(bad_parameter(format!(
                    "the query parameter {name:?} is not one this route takes ({takes})"
                )));
            };
            let value = percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| bad_parameter(format!("the query parameter {name} is not percent-encoded UTF-8")))?;
            if values.insert(name, value.into_owned()).is_some() {
                return Err(bad_parameter(format!("the query parameter {name} is given twice")));
            }
        }
        Ok(Query { values })
    }

    /// The GIAI parameter `name`, if given.
    fn giai(&self, name: &str) -> Result<Option<Giai>, ApiError> {
        let Some(text) = self.values.get(name) else { return Ok(None) };
        Giai::parse(text).map(Some).map_err(|error| bad_parameter(format!("{name}={text:?} is not a GIAI: {error}")))
    }

    /// The record position `name`, if given.
    fn seq(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.values.get(name) else { return Ok(None) };
        whole_number(text)
            .map(Some)
            .ok_or_else(|| bad_parameter(format!("{name} must be a record position, a whole number, not {text:?}")))
    }

    /// `limit`: from 1 to `max`, `default` when not given.
    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(text) = self.values.get("limit") else { return Ok(default) };
        whole_number(text)
            .filter(|limit| (1..=max as u64).contains(limit))
            .map(|limit| limit as usize)
            .ok_or_else(|| bad_parameter(format!("limit must be a whole number from 1 to {max}, not {text:?}")))
    }
}

/// Decimal digits only, within u64.
fn whole_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn bad_parameter(message: String) -> ApiError {
    ApiError::bad_request("http.bad_parameter", message)
}
