//! `GET /reports/impact`: the impact report of a scope of the ledger's items, as the HTML
//! page of `salvage report impact --html` or as its JSON (`docs/impact.md`), for anyone.
//!
//! A report reads the whole ledger, and anyone may ask for one, so the work is bounded: at
//! most one report is computed at a time (another request meanwhile gets `503` with
//! `Retry-After`), and reports are kept per normalised scope in a small cache, served while
//! the ledger has not grown or for [`FRESH`] after they were made (the report names the
//! ledger size it describes, so a slightly older one is never passed off as current). Each
//! client (its IPv4 address or IPv6 /64) may have only a few reports computed in a while
//! ([`budget`]: a burst of three, one more every 200 s); past that it gets `429` with
//! `Retry-After`, while kept reports stay free to all. Query values are bounded and parsed
//! strictly; a malformed one is a `400` that says which and why.

mod budget;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use salvage_ledger::entry::Timestamp;
use salvage_ledger::impact::{ImpactReport, of_ledger};
use salvage_ledger::scope::{Scope, key_of};

use super::doc_types::ErrorBody;
use super::{ApiError, Node};
use crate::impact_report::{self, PageContext};
use budget::{Client, ReportBudget};

/// How long a report is served after it was made although the ledger has grown since.
pub(crate) const FRESH: Duration = Duration::from_secs(60);

/// How many reports are kept (each a few kilobytes).
const KEPT: usize = 32;

/// The longest query accepted, in bytes, and the longest value, in characters once decoded.
const MAX_QUERY: usize = 2048;
const MAX_VALUE: usize = 200;

/// What a busy node asks a client to wait before trying again, in seconds.
const RETRY_AFTER: &str = "5";

/// The scopes a query may ask for, by parameter name.
const SCOPE_PARAMETERS: [&str; 3] = ["member", "building", "since"];

/// The node's reports: the one being made, those kept, and what each client may have made.
pub(crate) struct ImpactReports {
    /// One permit: held by the blocking task that makes a report until it is done, even when
    /// the client that asked has gone, so that a client that hangs up cannot start a second.
    making: Arc<tokio::sync::Semaphore>,
    kept: Arc<Mutex<VecDeque<Kept>>>,
    /// Spent only when a report is made for the client: not on a kept one, a `503` or a `400`.
    budget: ReportBudget,
}

struct Kept {
    key: String,
    size: u64,
    made: Instant,
    report: Arc<ImpactReport>,
}

impl ImpactReports {
    pub(crate) fn new() -> ImpactReports {
        ImpactReports {
            making: Arc::new(tokio::sync::Semaphore::new(1)),
            kept: Arc::default(),
            budget: ReportBudget::new(),
        }
    }

    /// A kept report of `key`, if the ledger is still at its size or it is fresh.
    fn get(&self, key: &str, size: u64) -> Option<Arc<ImpactReport>> {
        let kept = self.kept.lock().ok()?;
        kept.iter()
            .filter(|kept| kept.key == key && (kept.size == size || kept.made.elapsed() < FRESH))
            .max_by_key(|kept| kept.size)
            .map(|kept| Arc::clone(&kept.report))
    }
}

/// Keeps a report made for `key`, dropping the oldest beyond [`KEPT`].
fn keep(kept: &Mutex<VecDeque<Kept>>, key: String, report: Arc<ImpactReport>) {
    let Ok(mut kept) = kept.lock() else { return };
    kept.retain(|old| old.key != key);
    if kept.len() >= KEPT {
        kept.pop_front();
    }
    kept.push_back(Kept { key, size: report.ledger.size, made: Instant::now(), report });
}

/// What a query asks for.
struct Query {
    scopes: Vec<Scope>,
    /// The scope parameters as given, decoded, for the language links.
    given: Vec<(&'static str, String)>,
    lang: Option<String>,
    json: bool,
}

#[utoipa::path(get, path = "/reports/impact", tag = "reports",
    params(
        ("member" = Option<String>, Query, pattern = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", description = "Items that member registered, held or was offered (a member id)"),
        ("building" = Option<String>, Query, pattern = r"\S", min_length = 1, max_length = 200, description = "Items from that donor building or installed in it (compared trimmed, ignoring case)"),
        ("since" = Option<String>, Query, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description = "Items with a record accepted on or after that day (UTC); a day that does not exist (2026-02-30) is refused"),
        ("lang" = Option<String>, Query, description = "Page language (`en`, `lv`); anything else falls back to the Accept-Language header"),
        ("format" = Option<String>, Query, pattern = "^(json|html)$", description = "`json` for the report as JSON (as `Accept: application/json` asks), `html` for the page"),
    ),
    responses(
        (status = 200, description = "The impact report of the items in every scope given (all items without one): a self-contained HTML page with inline SVG charts, or its JSON (field names in docs/impact.md). Computed from the public records; the report names the ledger size and root it describes, which may be up to a minute behind the ledger", content((String = "text/html"), (Object = "application/json"))),
        (status = 400, description = "A parameter that is unknown, repeated, too long or malformed (the message says which and why)", body = ErrorBody),
        (status = 429, description = "`report.too_many`: this client (its IPv4 address or IPv6 /64) has had its share of reports computed (3 at once, then one every 200 s); kept reports are still served to it. Try a new scope again after Retry-After seconds", body = ErrorBody, headers(("Retry-After" = String, description = "Seconds until the client may have another report computed"))),
        (status = 503, description = "Another report is being computed; try again after Retry-After seconds", body = ErrorBody, headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
/// `GET /reports/impact?member=…&building=…&since=…&lang=…&format=json`.
pub async fn impact(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
    client: Client,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = parse_query(query.as_deref().unwrap_or_default())?;
    let accept = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let json = query.json || (accept.contains("application/json") && !accept.contains("text/html"));
    let report = match report(&node, client, &query.scopes).await? {
        Made::Report(report) => report,
        Made::Busy => {
            let mut busy = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "report.busy",
                format!("the node is computing another impact report; try again in {RETRY_AFTER} seconds"),
            )
            .into_response();
            busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
            return Ok(busy);
        }
        Made::TooMany(wait) => return Ok(too_many(wait)),
    };
    if json {
        let body = serde_json::to_vec(report.as_ref())
            .map_err(|error| ApiError::internal(format!("encoding an impact report: {error}")))?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let locale = node.locales.negotiate(accept_language, query.lang.as_deref());
    let context = PageContext {
        tool: format!("salvage {}", env!("CARGO_PKG_VERSION")),
        generated_at: Timestamp::now().to_string(),
        source: node.public_url().to_owned(),
        languages: node
            .locales
            .iter()
            .map(|other| (other.name().to_owned(), other.code().to_owned(), language_link(&query.given, other.code())))
            .collect(),
    };
    let page = impact_report::html(&report, locale, &context);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
}

/// What a request for a report got.
enum Made {
    /// The report, kept or made now.
    Report(Arc<ImpactReport>),
    /// Another report is being made.
    Busy,
    /// The client has had its share of reports made; it may have another after this time.
    TooMany(Duration),
}

/// The report of `scopes` for `client`: kept, or made now if the client's budget allows and
/// no other is being made. The budget is spent only once the report is to be made.
async fn report(node: &Arc<Node>, client: Client, scopes: &[Scope]) -> Result<Made, ApiError> {
    let key = key_of(scopes);
    let reports = &node.impact_reports;
    if let Some(report) = reports.get(&key, node.ledger.size()) {
        return Ok(Made::Report(report));
    }
    // Looked at before the permit, so that a client past its budget hears so rather than
    // being told to come back in a few seconds.
    if let Err(wait) = reports.budget.check(client, Instant::now()) {
        return Ok(Made::TooMany(wait));
    }
    let Ok(making) = Arc::clone(&reports.making).try_acquire_owned() else { return Ok(Made::Busy) };
    // Another request may have made it between the look above and taking the permit.
    if let Some(report) = reports.get(&key, node.ledger.size()) {
        return Ok(Made::Report(report));
    }
    // Spent while holding the permit: nothing else spends meanwhile, so the look above holds.
    if let Err(wait) = reports.budget.spend(client, Instant::now()) {
        return Ok(Made::TooMany(wait));
    }
    let scopes = scopes.to_vec();
    let kept = Arc::clone(&reports.kept);
    // The permit and the keeping go with the task: it runs to its end whatever the client does.
    let report = node
        .ledger(move |ledger| {
            let report = of_ledger(ledger, &scopes)
                .map_err(|error| ApiError::internal(format!("an impact report failed: {error}")))?;
            let report = Arc::new(report);
            keep(&kept, key, Arc::clone(&report));
            drop(making);
            Ok(report)
        })
        .await?;
    Ok(Made::Report(report))
}

/// `429` for a client past its budget, with `Retry-After`: the seconds until it has a report.
fn too_many(wait: Duration) -> Response {
    let seconds = budget::retry_after_seconds(wait);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "report.too_many",
        format!(
            "this address (an IPv6 one: its /64) has had its share of impact reports computed, {} at once \
             and one more every {} seconds; reports already made are still served; ask for a new one in \
             {seconds} seconds",
            budget::BURST,
            budget::REFILL.as_secs(),
        ),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The query's parameters, each at most once, each value bounded and parsed.
fn parse_query(query: &str) -> Result<Query, ApiError> {
    let bad = |code: &str, message: String| ApiError::bad_request(code, message);
    if query.len() > MAX_QUERY {
        return Err(bad("report.query_too_long", format!("the query is longer than {MAX_QUERY} bytes")));
    }
    let mut parsed = Query { scopes: Vec::new(), given: Vec::new(), lang: None, json: false };
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name).map_err(|why| bad("report.parameter_malformed", format!("a parameter name {why}")))?;
        let value =
            decode(raw).map_err(|why| bad("report.parameter_malformed", format!("the value of {name:?} {why}")))?;
        if value.chars().count() > MAX_VALUE {
            return Err(bad(
                "report.parameter_too_long",
                format!("the value of {name:?} is longer than {MAX_VALUE} characters"),
            ));
        }
        if seen.contains(&name) {
            return Err(bad("report.parameter_repeated", format!("{name:?} is given more than once")));
        }
        seen.push(name.clone());
        match name.as_str() {
            "lang" => parsed.lang = Some(value),
            "format" => {
                parsed.json = match value.as_str() {
                    "json" => true,
                    "html" => false,
                    _ => return Err(bad("report.parameter_malformed", "format must be json or html".into())),
                }
            }
            scope => {
                let Some(parameter) = SCOPE_PARAMETERS.iter().find(|known| **known == scope) else {
                    return Err(bad(
                        "report.parameter_unknown",
                        format!(
                            "unknown parameter {:?}: a report takes member, building, since, lang and format",
                            name.chars().take(40).collect::<String>()
                        ),
                    ));
                };
                let scope = Scope::parse(&format!("{parameter}={value}"))
                    .map_err(|error| bad("report.scope_malformed", error.to_string()))?;
                parsed.scopes.push(scope);
                parsed.given.push((parameter, value));
            }
        }
    }
    Ok(parsed)
}

/// A query component, percent-decoded, `+` read as a space (as HTML forms send it).
fn decode(raw: &str) -> Result<String, &'static str> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8().map(|text| text.into_owned()).map_err(|_| "is not UTF-8 text")
}

/// The same report in another language.
fn language_link(given: &[(&str, String)], code: &str) -> String {
    let mut query: Vec<String> =
        given.iter().map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC))).collect();
    query.push(format!("lang={code}"));
    format!("?{}", query.join("&"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
