//! Items: `GET /v1/items/{giai}` (the public passport and custody), its proof
//! bundle and its QR code.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use salvage_ledger::Ledger;
use salvage_ledger::custody::ItemState;
use salvage_ledger::ident::digital_link::DigitalLink;
use salvage_ledger::ident::{Giai, TagEncoding};
use serde_json::{Value, json};

use super::doc_types::ErrorBody;
use super::{ApiError, Node};
use crate::provenance::public_passport_of;
use crate::provenance::view::Members;
use crate::qr::{qr_png, qr_svg};

/// Pixels per QR module in the images the API serves.
const QR_MODULE_PX: u32 = 8;

#[utoipa::path(get, path = "/v1/items/{giai}", tag = "items", params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")), responses((status = 200, description = "`{item, passport, history}`; restricted passport fields removed; `item.epc` (`scheme`, `hex`, `tag_uri`, `pure_uri`) when the ledger knows the company prefix the GIAI was issued under; a reserved GIAI has `item.status` `reserved` and no passport", body = Object), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody)))]
/// `GET /v1/items/{giai}`: the item's state, its passport without the
/// restricted fields, and a summary of every record that touched it (position,
/// time, kind, entry id and the members who signed it; the
/// records themselves carry the full signed passport, so they are not inlined).
pub async fn item(State(node): State<Arc<Node>>, Path(giai): Path<String>) -> Result<Response, ApiError> {
    let giai = parse_giai(&giai)?;
    node.ledger(move |ledger| {
        let state = ledger.item(&giai)?.ok_or_else(|| unknown(&giai))?;
        let passport = current_public_passport(ledger, &state)?;
        // By every key a member ever had: a record signed before a revocation
        // still names its signer.
        let members = ledger.members()?;
        let epc = ledger.epc(&giai, &members)?;
        let members = Members::new(members);
        let history: Vec<Value> = ledger
            .history(&giai)?
            .iter()
            .map(|record| {
                let signers: Vec<String> = members
                    .signers(record.entry.signatures().iter().map(|s| &s.key))
                    .into_iter()
                    .map(|member| member.id)
                    .collect();
                json!({
                    "seq": record.seq,
                    "accepted": record.accepted,
                    "kind": record.entry.statement().kind,
                    "entry_id": record.entry.id(),
                    "signers": signers,
                })
            })
            .collect();
        let mut item = public_summary(&state, &passport);
        if let (Some(epc), Value::Object(fields)) = (epc, &mut item) {
            fields.insert("epc".to_owned(), epc_json(&epc));
        }
        Ok(Json(json!({ "item": item, "passport": passport, "history": history })).into_response())
    })
    .await
}

/// The EPC of an item's RFID tag in the forms readers and printers take it: the binary EPC
/// in hex (what a reader reports), the EPC tag URI and the pure identity URI.
pub(crate) fn epc_json(epc: &TagEncoding) -> Value {
    json!({
        "scheme": epc.scheme().tag_uri_name(),
        "hex": epc.to_hex(),
        "tag_uri": epc.to_tag_uri(),
        "pure_uri": epc.to_pure_uri(),
    })
}

/// The passport an item has now, without its restricted fields (`null` for a reserved GIAI,
/// which has none yet).
pub(crate) fn current_public_passport(ledger: &Ledger, state: &ItemState) -> Result<Value, ApiError> {
    Ok(public_passport_of(&ledger.record(state.passport_seq.get())?, &state.giai))
}

/// What a list shows of an item beside its GIAI, as its page and `GET /v1/items/{giai}` name
/// it: the public passport's `name` and `category`, `null` where the passport restricts them or
/// there is no passport yet.
pub(crate) fn listed_name_and_category(passport: &Value) -> (Value, Value) {
    let field = |name: &str| passport.get(name).cloned().unwrap_or(Value::Null);
    (field("name"), field("category"))
}

/// The item's state as the public may see it: its name and mass are the
/// public passport's, and left out where the passport restricts them (the
/// state keeps what the rules need, restricted or not).
fn public_summary(state: &salvage_ledger::custody::ItemState, passport: &Value) -> Value {
    let mut summary = json!(state);
    if let Value::Object(fields) = &mut summary {
        for field in ["name", "mass_kg"] {
            match passport.get(field) {
                Some(public) => fields.insert(field.to_owned(), public.clone()),
                None => fields.remove(field),
            };
        }
    }
    summary
}

#[utoipa::path(get, path = "/v1/items/{giai}/bundle", tag = "items", params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")), responses((status = 200, description = "The offline proof bundle (salvage-bundle/v1)", body = Object), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody)))]
/// `GET /v1/items/{giai}/bundle`: the offline proof bundle against the node's
/// current signed checkpoint.
pub async fn bundle(State(node): State<Arc<Node>>, Path(giai): Path<String>) -> Result<Response, ApiError> {
    let giai = parse_giai(&giai)?;
    let checkpoint = node.checkpoints.current().await?;
    node.ledger(move |ledger| {
        ledger.item(&giai)?.ok_or_else(|| unknown(&giai))?;
        Ok(Json(ledger.bundle(&giai, &checkpoint)?).into_response())
    })
    .await
}

#[utoipa::path(get, path = "/v1/items/{giai}/qr.svg", tag = "items", params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")), responses((status = 200, description = "QR code of the Digital Link URI", body = String, content_type = "image/svg+xml"), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody)))]
/// `GET /v1/items/{giai}/qr.svg`: the QR code of the item's Digital Link URI.
pub async fn qr_as_svg(State(node): State<Arc<Node>>, Path(giai): Path<String>) -> Result<Response, ApiError> {
    let uri = registered_uri(&node, &giai).await?;
    let svg = qr_svg(&uri, QR_MODULE_PX).map_err(|e| ApiError::internal(format!("cannot draw the QR code: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[utoipa::path(get, path = "/v1/items/{giai}/qr.png", tag = "items", params(("giai" = String, Path, pattern = r#"^[0-9]{6}[!"%-?A-Z_a-z]{1,24}$"#, min_length = 7, max_length = 30, description = "The item's GIAI (GS1 AI 8004)")), responses((status = 200, description = "QR code of the Digital Link URI", body = Vec<u8>, content_type = "image/png"), (status = 404, description = "No such item", body = ErrorBody), (status = 400, description = "Not a GIAI (`giai.malformed`)", body = ErrorBody)))]
/// `GET /v1/items/{giai}/qr.png`.
pub async fn qr_as_png(State(node): State<Arc<Node>>, Path(giai): Path<String>) -> Result<Response, ApiError> {
    let uri = registered_uri(&node, &giai).await?;
    let png = qr_png(&uri, QR_MODULE_PX).map_err(|e| ApiError::internal(format!("cannot draw the QR code: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The Digital Link URI of a registered item.
async fn registered_uri(node: &Arc<Node>, giai: &str) -> Result<String, ApiError> {
    let giai = parse_giai(giai)?;
    let uri = DigitalLink::for_giai(node.public_url(), &giai)
        .map_err(|e| ApiError::internal(format!("cannot build the Digital Link URI: {e}")))?
        .to_string();
    node.ledger(move |ledger| ledger.item(&giai)?.map(|_| uri).ok_or_else(|| unknown(&giai))).await
}

/// A GIAI from the path, or a 400 that says what is wrong with it.
pub(crate) fn parse_giai(text: &str) -> Result<Giai, ApiError> {
    Giai::parse(text).map_err(|e| ApiError::bad_request("giai.malformed", format!("{text:?} is not a GIAI: {e}")))
}

pub(crate) fn unknown(giai: &Giai) -> ApiError {
    ApiError::not_found(format!("no item {giai} is registered"))
}
