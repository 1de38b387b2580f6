//! `GET /v1/items/{giai}/actions`: what the signing member may do to an item now, each action
//! allowed or refused with the ledger's own reason (docs/rules.md §7), so that a member's app
//! offers only what the ledger would take.
//!
//! The verdicts are the ledger's preconditions (`Ledger::may`), the very code that judges the
//! statements on submission, over the durable records: they cannot say otherwise than the
//! ledger. What a statement's body adds (a transfer's recipient, the passports of an amendment
//! or a split, the version an attestation names) is judged when it is submitted.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use salvage_ledger::custody::Action;
use salvage_ledger::refusal::RefusalCode;
use serde_json::{Value, json};

use super::doc_types::ErrorBody;
use super::error::refusal_json;
use super::items::{parse_giai, unknown};
use super::member_requests::signed_by_member;
use super::{ApiError, Node};

#[utoipa::path(get, path = "/v1/items/{giai}/actions", tag = "items",
    params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")),
    responses(
        (status = 200, description = "`{giai, member, actions: [{action, allowed: true} | {action, allowed: false, code, message}]}`: for the signing member, every action in the order transfer, receive, cancel, amend, split, install, dismantle, dispose, attest; a refused one with the refusal code and message the ledger would give its statement (the body's own checks aside). Never cached", body = Object),
        (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody),
        (status = 401, description = "Not signed by an active key of a member (`auth.*`, RFC 9421)", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 503, description = "The node remembers too many recent requests to take another (`auth.busy`); retry", body = ErrorBody),
    ))]
/// `GET /v1/items/{giai}/actions`.
pub async fn actions(
    State(node): State<Arc<Node>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(giai): Path<String>,
) -> Result<Response, ApiError> {
    let member = signed_by_member(&node, &method, &uri, &headers).await?;
    let giai = parse_giai(&giai)?;
    node.ledger(move |ledger| {
        let verdicts = ledger.may(&member.id, &giai, &Action::ALL)?;
        if verdicts.first().is_some_and(|verdict| verdict.as_ref().is_err_and(|r| r.code == RefusalCode::ItemUnknown)) {
            return Err(unknown(&giai));
        }
        let actions: Vec<Value> = Action::ALL
            .iter()
            .zip(verdicts)
            .map(|(action, verdict)| match verdict {
                Ok(()) => json!({"action": action.as_str(), "allowed": true}),
                Err(refusal) => {
                    // Bounded as every refusal the API shows.
                    let shown = refusal_json(&refusal);
                    json!({"action": action.as_str(), "allowed": false, "code": shown["code"], "message": shown["message"]})
                }
            })
            .collect();
        let body = json!({"giai": giai, "member": member.id, "actions": actions});
        Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
    })
    .await
}
