//! `GET /openapi.json`: the API's OpenAPI 3.1 description, generated from the
//! handlers' `#[utoipa::path]` annotations so it cannot drift from the routes.

use axum::Json;
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::doc_types::{ErrorBody, ErrorFields, ReceiptBody};
use super::{
    actions, attachments, disclosures, entries, epc, epcis, items, ledger_reads, member_views, metrics, resolver,
    status,
};

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
        member_views::items,
        member_views::offers,
        member_views::entries,
        member_views::next_giai,
        items::item,
        items::bundle,
        disclosures::disclosures,
        actions::actions,
        items::qr_as_svg,
        items::qr_as_png,
        epcis::epcis,
        super::impact::impact,
        attachments::upload,
        attachments::file,
        attachments::thumbnail_file,
        resolver::resolve,
        super::well_known::gs1resolver,
        epc::lookup,
        status::status,
        status::healthz,
        status::readyz,
        metrics::metrics,
    ),
    components(schemas(ErrorBody, ErrorFields, ReceiptBody, status::Status, status::AttachmentStatus)),
    modifiers(&EveryRouteMayFail)
)]
struct ApiDoc;

/// Adds to every operation the answer any route may give: `500` when the
/// node fails inside (an incident number and the request id, nothing more).
struct EveryRouteMayFail;

impl Modify for EveryRouteMayFail {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let failed = ResponseBuilder::new()
            .description("The node failed inside (`node.internal`): the answer names an incident and the request id for its operator")
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.entry("500".to_owned()).or_insert_with(|| failed.clone().into());
            }
        }
    }
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
