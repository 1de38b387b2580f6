//! `GET /.well-known/gs1resolver`: the resolver description file of the
//! GS1-Conformant Resolver standard 1.2 (§3; conformance statement §5.21),
//! which tells a client that this node is a GS1-Conformant resolver and what
//! it resolves. It validates against GS1's published JSON Schema
//! (`https://ref.gs1.org/standards/resolver/1.2.0/description-file-schema`,
//! copied into `tests/data/`, where the end-to-end test holds it to it).
//!
//! The node resolves GIAIs only (AI 8004: `/8004/{giai}`), knows GS1 Web
//! Vocabulary link types and the IANA relation of the QR code, and does not
//! answer the linkset by default (the page is the default link).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Node;
use super::resolver::{cors_headers, preflight_headers};
use crate::provenance::linkset::{GS1_LINKSET_CONTEXT, GS1_VOC, IANA_RELATIONS};

/// How long clients and caches may keep the description, in seconds: it
/// changes only when the node's public URL or the consortium's name does.
const MAX_AGE: u32 = 3600;

#[utoipa::path(get, path = "/.well-known/gs1resolver", tag = "resolver", responses(
    (status = 200, description = "The resolver description file (GS1-Conformant Resolver 1.2 §3): the consortium's name, the resolver root (this node's public URL), the primary key it resolves (`8004`, GIAI), the link type namespaces it knows; valid against GS1's description file schema", body = Object, content_type = "application/json"),
))]
/// `GET /.well-known/gs1resolver`.
pub async fn gs1resolver(State(node): State<Arc<Node>>) -> Response {
    let name = consortium_name(node.ledger.genesis().statement().body.pointer("/consortium/name"));
    let mut headers = cors_headers();
    if let Ok(value) = HeaderValue::try_from(format!("public, max-age={MAX_AGE}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    (headers, Json(description(name, node.public_url()))).into_response()
}

/// `OPTIONS /.well-known/gs1resolver`: the methods answered and a CORS preflight's answer.
pub async fn preflight() -> Response {
    (StatusCode::NO_CONTENT, preflight_headers()).into_response()
}

/// The description of the resolver `name` at `resolver_root` (the node's
/// public URL, no trailing slash: GIAIs resolve at `{resolver_root}/8004/…`).
pub fn description(name: &str, resolver_root: &str) -> Value {
    json!({
        "name": name,
        "resolverRoot": resolver_root,
        "supportedPrimaryKeys": ["8004"],
        "supportedLinkType": [
            {"namespace": GS1_VOC, "prefix": "gs1:"},
            {"namespace": IANA_RELATIONS, "prefix": "iana:"},
        ],
        // §2.11: a resolver MAY make the linkset its default answer and SHOULD say
        // whether it does; this one's default is the provenance page.
        "linkTypeDefaultCanBeLinkset": false,
        "jsonLdContextLocation": GS1_LINKSET_CONTEXT,
    })
}

/// The consortium's name from the genesis body's `/consortium/name`, which the
/// genesis schema requires (checked when the ledger was opened); a generic
/// name should it somehow be missing, rather than no description at all.
fn consortium_name(name: Option<&Value>) -> &str {
    name.and_then(Value::as_str).unwrap_or("Salvage resolver")
}

#[cfg(test)]
mod tests {
    use salvage_ledger::testkit::Fixture;

    use super::*;

    #[test]
    fn describes_a_resolver_of_giais_at_the_public_url() {
        let description = description("Baltic Reuse Consortium", "https://passports.example");
        assert_eq!(description["name"], "Baltic Reuse Consortium");
        assert_eq!(description["resolverRoot"], "https://passports.example");
        assert_eq!(description["supportedPrimaryKeys"], json!(["8004"]));
        assert_eq!(description["supportedLinkType"][0], json!({"namespace": "https://gs1.org/voc/", "prefix": "gs1:"}));
        assert_eq!(description["linkTypeDefaultCanBeLinkset"], false);
    }

    #[test]
    fn the_name_is_the_consortium_s_from_the_genesis() {
        let fixture = Fixture::new();
        let body = &fixture.genesis.statement().body;
        let name = consortium_name(body.pointer("/consortium/name"));
        assert_eq!(name, body["consortium"]["name"].as_str().unwrap());
        assert!(!name.is_empty());
        assert_eq!(consortium_name(None), "Salvage resolver");
    }
}
