//! Every answer names its request: an `X-Request-Id` header, and a
//! `request_id` in every error body, so that whoever got an error can quote it
//! to the node's operator, who finds the request's log lines under it, while
//! the client learns nothing of the node's insides.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The header that carries a request's id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// Gives the request an id, runs it with the id at hand ([`current`]), and
/// puts the id on the answer.
pub(crate) async fn assign(request: Request, next: Next) -> Response {
    let id = next_id();
    let mut response = CURRENT.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The id of the request being answered, within [`assign`]'s scope.
pub(crate) fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// `<process>-<counter>`: the process part, random at start, keeps the ids of
/// a restarted node apart from the ones before; the counter orders them.
fn next_id() -> String {
    static PROCESS: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let process = PROCESS.get_or_init(|| {
        let mut bytes = [0u8; 4];
        // Without randomness the ids are still unique within the process.
        let _ = getrandom::fill(&mut bytes);
        hex::encode(bytes)
    });
    format!("{process}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
