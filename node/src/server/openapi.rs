//! `GET /openapi.json`: the API's OpenAPI 3.1 description, generated from the
//! handlers' `#[utoipa::path]` annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::OpenApi;

use super::doc_types::{ErrorBody, ErrorFields, ReceiptBody};
use super::{entries, epcis, items, ledger_reads, metrics, resolver, status};

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
        status::readyz,
        metrics::metrics,
    ),
    components(schemas(ErrorBody, ErrorFields, ReceiptBody, status::Status))
)]
struct ApiDoc;

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
