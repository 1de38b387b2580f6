//! The API's errors: always `{"error": {"code", "message", "details",
//! "request_id"}}` with the HTTP status that says what kind of failure it is.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use salvage_ledger::refusal::{Refusal, RefusalCode};
use salvage_ledger::store::LedgerError;
use serde::Serialize;
use serde_json::{Value, json};

use crate::throttle::Throttle;

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

    /// 500: the node failed. What failed (a path, an I/O error) goes to the
    /// log under an incident number; the client, who may be anyone, gets the
    /// number to quote to the node's operator and nothing of the node's insides.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        static INCIDENTS: AtomicU64 = AtomicU64::new(1);
        static LOGGED: Throttle = Throttle::new(10);
        let incident = INCIDENTS.fetch_add(1, Ordering::Relaxed);
        if let Some(suppressed) = LOGGED.admit() {
            let request = super::request_id::current().unwrap_or_default();
            tracing::error!(incident, request, detail = %detail.into(), suppressed, "a request failed inside the node");
        }
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "node.internal",
            format!(
                "the node could not complete the request; its operator finds why under incident {incident} in its log"
            ),
        )
    }

    /// The same error with structured details.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        let Echo { message, details } = Echo::of(&refusal);
        ApiError { status: refusal_status(refusal.code), code: refusal.code.as_str().to_owned(), message, details }
    }
}

/// A refusal as the API shows it: `{"code", "message", "details"}` with at most
/// [`ECHOED_DETAILS`] details and every message cut to [`ECHOED_CHARS`], so that
/// what a refusal echoes of a submission is bounded whatever was submitted.
pub(crate) fn refusal_json(refusal: &Refusal) -> Value {
    let Echo { message, details } = Echo::of(refusal);
    json!({ "code": refusal.code.as_str(), "message": message, "details": details })
}

/// The most details one refusal shows; the message says how many there were.
pub const ECHOED_DETAILS: usize = 20;

/// The longest message an error shows, in characters; messages quote what was
/// submitted, so without a bound one answer could echo a whole body per entry.
pub const ECHOED_CHARS: usize = 500;

/// A refusal's message and details, bounded for the API.
struct Echo {
    message: String,
    details: Value,
}

impl Echo {
    fn of(refusal: &Refusal) -> Echo {
        let mut message = shortened(&refusal.message);
        let shown = refusal.details.len().min(ECHOED_DETAILS);
        if shown < refusal.details.len() {
            message.push_str(&format!(" ({shown} of {} details shown)", refusal.details.len()));
        }
        let details = refusal.details[..shown]
            .iter()
            .map(|detail| json!({ "pointer": shortened(&detail.pointer), "message": shortened(&detail.message) }))
            .collect();
        Echo { message, details: Value::Array(details) }
    }
}

/// `text` cut to [`ECHOED_CHARS`] characters, with an ellipsis when cut.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(ECHOED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> ApiError {
        match error {
            LedgerError::NoRecord(seq) => ApiError::not_found(format!("the ledger has no record {seq}")),
            LedgerError::NoItem(giai) => ApiError::not_found(format!("no item {giai} is registered")),
            LedgerError::Proof(proof) => ApiError::bad_request("proof.out_of_range", proof.to_string()),
            other => ApiError::internal(format!("ledger failure: {other}")),
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
            #[serde(skip_serializing_if = "Option::is_none")]
            request_id: Option<String>,
        }
        let message = shortened(&self.message);
        let request_id = super::request_id::current();
        let body = json!({ "error": Body { code: &self.code, message: &message, details: &self.details, request_id } });
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
        | C::DisclosureMalformed
        | C::LedgerMismatch => StatusCode::BAD_REQUEST,
        C::SignatureMissing
        | C::SignatureTooMany
        | C::SignatureDuplicate
        | C::SignatureInvalid
        | C::SignatureUnchecked
        | C::SignatureUnknownKey
        | C::SignatureKeyRevoked
        | C::SignatureMultipleMembers => StatusCode::UNAUTHORIZED,
        C::RoleMissing
        | C::AdminThresholdNotMet
        | C::MemberNotAuthorised
        | C::CustodyNotCustodian
        | C::CustodyNotRecipient
        | C::GiaiNotAllocated
        | C::GiaiReserved
        | C::WasteRecipientNotHandler
        | C::AttestNotIssuer => StatusCode::FORBIDDEN,
        C::ItemUnknown | C::MemberUnknown | C::KeyUnknown | C::AttestUnknownAttestation | C::AuditUnknownItem => {
            StatusCode::NOT_FOUND
        }
        C::EntryTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::SchemaInvalid
        | C::PassportGiaiMismatch
        | C::KeyNonCanonical
        | C::KeyWeak
        | C::LedgerGenesisInvalid
        | C::DisclosureMissing
        | C::DisclosureUnexpected
        | C::DisclosureMismatch
        | C::DisclosureInClear
        | C::AttachmentMismatch
        | C::AttestExpired
        | C::WasteRouteNotHazardous
        | C::AuditInconsistent => StatusCode::UNPROCESSABLE_ENTITY,
        // Everything else depends on the ledger's state: a duplicate, an item in
        // the wrong state, a pending transfer, a split larger than its parent.
        _ => StatusCode::CONFLICT,
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;

    use super::ApiError;

    #[tokio::test]
    async fn an_internal_error_shows_an_incident_number_and_nothing_of_the_node() {
        let response =
            ApiError::internal("reading /var/lib/salvage/log/00000001.seg: Permission denied").into_response();
        assert_eq!(response.status(), 500);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("node.internal") && body.contains("incident"), "{body}");
        assert!(!body.contains("/var/lib") && !body.contains("Permission"), "{body}");
    }
}
