//! The API's errors: always `{"error": {"code", "message", "details"}}` with
//! the HTTP status that says what kind of failure it is.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use salvage_ledger::refusal::{Refusal, RefusalCode};
use salvage_ledger::store::LedgerError;
use serde::Serialize;
use serde_json::{Value, json};

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code: a ledger refusal code (`custody.not_custodian`)
    /// or one of the API's own (`http.not_found`, `http.body_too_large`, …).
    pub code: String,
    /// What went wrong, for a human.
    pub message: String,
    /// Further structured detail (schema violations with their pointers, per-entry results).
    pub details: Value,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_owned(), message: message.into(), details: Value::Array(Vec::new()) }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: no such thing.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "http.not_found", message)
    }

    /// 500: the node failed; the message says what, never a stack trace.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "node.internal", message)
    }

    /// The same error with structured details.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let details = serde_json::to_value(&refusal.details).unwrap_or_default();
        ApiError {
            status: refusal_status(refusal.code),
            code: refusal.code.as_str().to_owned(),
            message: refusal.message,
            details,
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> ApiError {
        match error {
            LedgerError::NoRecord(seq) => ApiError::not_found(format!("the ledger has no record {seq}")),
            LedgerError::NoItem(giai) => ApiError::not_found(format!("no item {giai} is registered")),
            LedgerError::Proof(proof) => ApiError::bad_request("proof.out_of_range", proof.to_string()),
            other => {
                tracing::error!(error = %other, "ledger failure");
                ApiError::internal(format!("the node could not complete the request: {other}"))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            code: &'a str,
            message: &'a str,
            details: &'a Value,
        }
        let body = json!({ "error": Body { code: &self.code, message: &self.message, details: &self.details } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The HTTP status of a ledger refusal.
///
/// 401: the signatures do not authenticate the entry. 403: they do, but the
/// signer may not do this. 404: the entry names an item, member or key the
/// ledger does not know. 409: the entry conflicts with the ledger's state (it
/// could be valid at another moment). 422: the entry is well-formed JSON but
/// its content breaks a schema or a content rule. 400: anything malformed.
pub fn refusal_status(code: RefusalCode) -> StatusCode {
    use RefusalCode as C;
    match code {
        C::JsonMalformed
        | C::JsonDuplicateKey
        | C::JsonNumberOutOfRange
        | C::EntryMalformed
        | C::TimeInvalid
        | C::KeyInvalid
        | C::LedgerMismatch => StatusCode::BAD_REQUEST,
        C::SignatureMissing
        | C::SignatureTooMany
        | C::SignatureDuplicate
        | C::SignatureInvalid
        | C::SignatureUnknownKey
        | C::SignatureKeyRevoked
        | C::SignatureMultipleMembers => StatusCode::UNAUTHORIZED,
        C::RoleMissing
        | C::AdminThresholdNotMet
        | C::MemberNotAuthorised
        | C::CustodyNotCustodian
        | C::CustodyNotRecipient => StatusCode::FORBIDDEN,
        C::ItemUnknown | C::MemberUnknown | C::KeyUnknown => StatusCode::NOT_FOUND,
        C::SchemaInvalid | C::PassportGiaiMismatch | C::KeyNonCanonical | C::KeyWeak | C::LedgerGenesisInvalid => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        // Everything else depends on the ledger's state: a duplicate, an item in
        // the wrong state, a pending transfer, a split larger than its parent.
        _ => StatusCode::CONFLICT,
    }
}
