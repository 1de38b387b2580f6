//! Types that exist only to describe answers in the OpenAPI document: the
//! handlers build these answers as JSON and name the types in their
//! `#[utoipa::path]` annotations; [`super::openapi`] collects them. They live
//! apart from both so that the handlers never import the document's module.

use utoipa::ToSchema;

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
    /// The request's id (also in the `X-Request-Id` header), to quote to the node's operator.
    request_id: String,
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
