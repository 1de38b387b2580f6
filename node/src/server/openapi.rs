//! `GET /openapi.json`: the API's OpenAPI 3.1 description, generated from the
//! handlers' `#[utoipa::path]` annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::{OpenApi, ToSchema};

use super::{entries, epcis, items, ledger_reads, metrics, resolver, status};

/// The shape of every error answer.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema for the documentation; errors are built as JSON")]
pub(crate) struct ErrorBody {
    error: ErrorFields,
}

/// The fields of an error.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema for the documentation")]
pub(crate) struct ErrorFields {
    /// A stable code: a ledger refusal code or an `http.*` code.
    code: String,
    /// What went wrong.
    message: String,
    /// Further detail: schema violations with their JSON pointers, per-entry outcomes.
    details: Vec<serde_json::Value>,
}

/// The receipt of an accepted entry.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema for the documentation; receipts come from the ledger")]
pub(crate) struct ReceiptBody {
    /// The record's position.
    seq: u64,
    /// The entry id (hex).
    entry_id: String,
    /// The record's leaf hash (hex).
    leaf_hash: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Salvage node API",
        description = "Signed material passports and custody chains of salvaged construction materials."
    ),
    paths(
        entries::submit,
        ledger_reads::records,
        ledger_reads::record,
        ledger_reads::checkpoint,
        ledger_reads::inclusion_proof,
        ledger_reads::consistency_proof,
        ledger_reads::members,
        items::item,
        items::bundle,
        items::qr_as_svg,
        items::qr_as_png,
        epcis::epcis,
        resolver::resolve,
        status::status,
        status::healthz,
        metrics::metrics,
    ),
    components(schemas(ErrorBody, ErrorFields, ReceiptBody, status::Status))
)]
struct ApiDoc;

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
