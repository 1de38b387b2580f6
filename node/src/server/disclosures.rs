//! `GET /v1/items/{giai}/disclosures`: a member reads the restricted values
//! of an item it is entitled to (docs/rules.md §8), from this node's private
//! store (docs/format.md §13).
//!
//! The request is signed with one of the member's active keys as an HTTP
//! Message Signature (RFC 9421, [`crate::member_auth`]). Everything about the
//! signature is checked from the headers before anything else is looked at;
//! an unsigned, badly signed, stale or replayed request, or one signed by a
//! key no member holds, is `401` whatever item it names, so a stranger learns
//! nothing, not even whether the item exists. A member who signed no record of
//! the item's history (its registrant, its custodians, who offered or
//! received it, the certifiers who attested it) gets `403`.
//!
//! The answer lists, for each record of the item's history that withholds
//! values, its disclosures `[salt, pointer, value]`; it is never cached.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::custody::MemberId;
use salvage_ledger::entry::PublicKey;
use serde_json::{Value, json};

use super::doc_types::ErrorBody;
use super::items::{parse_giai, unknown};
use super::member_requests::{authenticate, refused, unknown_key};
use super::{ApiError, Node};

/// The most records one answer lists; an item's history is rarely longer.
const MAX_RECORDS: usize = 1000;

#[utoipa::path(get, path = "/v1/items/{giai}/disclosures", tag = "items",
    params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")),
    responses(
        (status = 200, description = "`{giai, member, records: [{seq, entry_id, kind, disclosures: [[salt, pointer, value]]}], truncated}`: the restricted values of the item's records", body = Object),
        (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.missing`, `auth.malformed`, `auth.bad_signature`, `auth.stale`, `auth.replayed`, `auth.unknown_key`, …): HTTP Message Signatures, RFC 9421", body = ErrorBody),
        (status = 403, description = "The member signed no record of the item's history (`auth.not_entitled`)", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 503, description = "The node remembers too many recent requests to take another (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/items/{giai}/disclosures`.
pub async fn disclosures(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(giai): Path<String>,
) -> Result<Response, ApiError> {
    let claim = authenticate(&method, &uri, &headers)?;
    let seen = Arc::clone(&node.seen_requests);
    node.ledger(move |ledger| {
        let members = ledger.members()?;
        let member = members
            .iter()
            .find(|member| member.active_keys().any(|key| *key == claim.key))
            .ok_or_else(|| refused(&unknown_key(&claim.key)))?;
        seen.admit(&claim, Instant::now()).map_err(|error| refused(&error))?;
        let giai = parse_giai(&giai)?;
        if ledger.item(&giai)?.is_none() {
            return Err(unknown(&giai));
        }
        let history = ledger.history(&giai)?;
        if !signed_any(&history, member) {
            return Err(not_entitled(&member.id, &giai.to_string()));
        }
        let mut records = Vec::new();
        let mut truncated = false;
        for record in &history {
            let Some(disclosures) = ledger.disclosures(record.seq.get())? else { continue };
            if records.len() == MAX_RECORDS {
                truncated = true;
                break;
            }
            records.push(json!({
                "seq": record.seq,
                "entry_id": record.entry.id(),
                "kind": record.entry.statement().kind,
                "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<Value>>(),
            }));
        }
        let body = json!({"giai": giai, "member": member.id, "records": records, "truncated": truncated});
        Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
    })
    .await
}

/// Whether `member` signed one of `history`'s records, with any key it ever had
/// (docs/rules.md §8: who may read an item's restricted values).
pub(super) fn signed_any(history: &[salvage_ledger::chain::Record], member: &salvage_ledger::custody::Member) -> bool {
    let keys: Vec<&PublicKey> = member.keys.keys().collect();
    history.iter().any(|record| record.entry.signatures().iter().any(|signature| keys.contains(&&signature.key)))
}

fn not_entitled(member: &MemberId, giai: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth.not_entitled",
        format!(
            "member {member} signed no record of {giai}'s history: the restricted values of an item are for the \
             members who registered, held, offered, received or attested it (docs/rules.md §8)"
        ),
    )
}
