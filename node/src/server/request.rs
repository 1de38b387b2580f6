//! What a request asks for beyond its path: query parameters and the media
//! types it accepts. Handlers read both the same way through these.

use axum::http::{HeaderMap, header};

/// The raw value of the first query parameter called `name` (`""` when it has
/// no `=`), if the query has one.
pub(crate) fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// Whether the request's `Accept` headers name one of `media_types` (their
/// parameters, such as `q`, are ignored).
pub(crate) fn accepts(headers: &HeaderMap, media_types: &[&str]) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.split(',').any(|kind| media_types.contains(&kind.split(';').next().unwrap_or("").trim())))
}
