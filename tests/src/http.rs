//! The end-to-end tests' HTTP client: a thin blocking wrapper over [`ureq`], so
//! that a test reads as the HTTP exchange it checks (method, path, headers and
//! body in; status, headers and body out) while a maintained client does the
//! HTTP/1.1 itself (framing, chunked decoding, timeouts).
//!
//! It is configured to show the node's answers as they are, not as a friendly
//! client would use them:
//!
//! - every status is an answer, errors included (`http_status_as_error(false)`),
//!   and redirects are answers too, never followed (`max_redirects(0)`);
//! - a request carries the headers the test names and nothing else but `Host`,
//!   `Connection: close` (unless the test names a `Connection`) and the body's
//!   framing: no `User-Agent`, no `Accept: */*`, so content negotiation sees
//!   exactly what the test asked for; no proxy from the environment either;
//! - one request per connection (`Connection: close`), as a node sees from
//!   independent clients, so that a node killed, stopped or restarted between
//!   two requests never meets a pooled connection left over from before;
//! - the body is sent with its `Content-Length`, or in chunks when the test
//!   names `Transfer-Encoding: chunked` (ureq does the chunking: pass the plain
//!   body); a GET, HEAD, DELETE or OPTIONS without body is sent without one;
//! - the answer's body is read to its end, however large (no size limit), and
//!   a body cut off before its declared end is an error, not a short answer;
//! - each read waits up to a minute for the node (`ANSWER_TIMEOUT`).
//!
//! Everything the tests send is valid HTTP/1.1 that ureq can express; a test
//! of the node's handling of broken HTTP would need raw bytes on a socket
//! instead, and has no place here.

use std::sync::LazyLock;
use std::time::Duration;

use ureq::Agent;
use ureq::http;

/// How long a test waits for any one read of an answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The one client every request goes through (it holds configuration only:
/// with `Connection: close` no connection is kept between requests).
static AGENT: LazyLock<Agent> = LazyLock::new(|| {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_per_read(Some(ANSWER_TIMEOUT))
        .proxy(None)
        .user_agent("")
        .accept("")
        .accept_encoding("")
        .allow_non_standard_methods(true)
        .build()
        .into()
});

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, values as sent; in the order of each
    /// name's first appearance, a repeated name's values together and in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON (the panic shows it).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!("status {} with a body that is not JSON ({error}): {}", self.status, self.text())
        })
    }

    /// The `error.code` of an error answer, or "" if there is none.
    pub fn error_code(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        value["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// The ways a request can fail below HTTP: the node is down or stopped
/// answering, closed the connection mid-answer, or answered something that is
/// not HTTP/1.1; or the request itself cannot be expressed (a bad header).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// What ureq reports: connecting, writing or reading failed, a read timed
    /// out, the answer is malformed or cut off, or the request is invalid.
    #[error(transparent)]
    Client(#[from] ureq::Error),
}

impl From<http::Error> for RequestError {
    fn from(error: http::Error) -> RequestError {
        RequestError::Client(error.into())
    }
}

/// One request; panics when the node cannot be reached or answers garbage,
/// which in a test is a failure.
pub fn request(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    try_request(address, method, path, headers, body)
        .unwrap_or_else(|error| panic!("{method} http://{address}{path}: {error}"))
}

/// One request to the node at `address` (`host:port`), sent on a new
/// connection that is closed after the answer.
pub fn try_request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer, RequestError> {
    let mut builder = http::Request::builder().method(method).uri(format!("http://{address}{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("connection")) {
        builder = builder.header(http::header::CONNECTION, "close");
    }
    let bodiless = body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS");
    let response = if bodiless { AGENT.run(builder.body(())?)? } else { AGENT.run(builder.body(body)?)? };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    // `Body::read_to_vec` stops at 10 MB; a whole ledger's NDJSON may be larger.
    let body = response.into_body().into_with_config().limit(u64::MAX).read_to_vec()?;
    Ok(Answer { status, headers, body })
}
