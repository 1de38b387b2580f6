use std::sync::Arc;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use salvage_ledger::entry::Kind;
use salvage_ledger::genesis::Genesis;
use salvage_ledger::operator::Operator;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::Fixture;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::server::router;

#[test]
fn a_query_is_parsed_strictly() {
    let query = parse_query("building=Jelgava+sugar%20factory&since=2026-11-01&lang=lv&format=json").unwrap();
    let scopes: Vec<String> = query.scopes.iter().map(Scope::to_string).collect();
    assert_eq!(scopes, ["building=Jelgava sugar factory", "since=2026-11-01"]);
    assert_eq!((query.lang.as_deref(), query.json), (Some("lv"), true));
    assert!(parse_query("").unwrap().scopes.is_empty());

    let refused = |query: &str| parse_query(query).err().map(|error| (error.code, error.message)).unwrap();
    let (code, message) = refused("since=2026-13-01");
    assert_eq!(code, "report.scope_malformed");
    assert!(message.contains("no such month"), "{message}");
    assert_eq!(refused("member=reuse-hub&member=timber-builders").0, "report.parameter_repeated");
    assert_eq!(refused("colour=red").0, "report.parameter_unknown");
    assert_eq!(refused("format=pdf").0, "report.parameter_malformed");
    assert_eq!(refused("building=%FF").0, "report.parameter_malformed");
    assert_eq!(refused(&format!("building={}", "a".repeat(201))).0, "report.parameter_too_long");
    assert_eq!(refused(&format!("building={}", "a".repeat(3000))).0, "report.query_too_long");
    assert_eq!(refused("member=Reuse%20Hub").0, "report.scope_malformed");
}

#[test]
fn language_links_keep_the_scope() {
    let given = vec![("building", "Jelgava sugar factory".to_owned()), ("since", "2026-11-01".to_owned())];
    assert_eq!(language_link(&given, "lv"), "?building=Jelgava%20sugar%20factory&since=2026%2D11%2D01&lang=lv");
}

/// A standalone node over a ledger with two beams, one of them installed in a library.
async fn node() -> (Arc<Node>, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
    let genesis = Genesis::from_entry(f.genesis.clone()).unwrap();
    let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
    let node = Arc::new(Node::new(ledger, operator, "https://salvage.example", 1 << 20).unwrap());
    let app = router(Arc::clone(&node));
    let install = json!({"giai": "4750001BEAM-0001", "site": {"building": "Jelgava library extension"}});
    let entries = Value::Array(vec![
        f.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 180.0).to_value(),
        f.register("baltic-demolition", "4750001BEAM-0002", "HEA 160 steel beam", 120.5).to_value(),
        f.signed(&["baltic-demolition"], Kind::ItemInstall, install).to_value(),
    ]);
    let request = Request::post("/v1/entries")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(entries.to_string()))
        .unwrap();
    assert_eq!(app.clone().oneshot(request).await.unwrap().status(), StatusCode::CREATED);
    (node, app, dir)
}

async fn get(app: &Router, path: &str, accept: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let request = Request::get(path).header(header::ACCEPT, accept).body(Body::empty()).unwrap();
    let response: Response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response.headers().get(header::RETRY_AFTER).map(|value| value.to_str().unwrap().to_owned());
    (status, retry, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn the_report_is_served_as_a_page_or_as_json() {
    let (node, app, _dir) = node().await;
    let (status, _, body) = get(&app, "/reports/impact?building=jelgava+library+extension&format=json", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["scope"], json!(["building=jelgava library extension"]));
    assert_eq!(report["mass_kg"]["installed"], 180.0);
    assert_eq!(report["mass_kg"]["registered"], 180.0);
    assert_eq!(report["ledger"]["size"], node.ledger.size());
    let whole = of_ledger(&node.ledger, &[]).unwrap();
    let (_, _, body) = get(&app, "/reports/impact", "application/json").await;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), serde_json::to_value(&whole).unwrap());

    let (status, _, body) =
        get(&app, "/reports/impact?lang=lv&building=Jelgava%20library%20extension", "text/html").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<html lang=\"lv\">") && page.contains("<svg role=\"img\""));
    assert!(
        page.contains("href=\"?building=Jelgava%20library%20extension&amp;lang=en\""),
        "the language switch keeps the scope"
    );
}

#[tokio::test]
async fn a_malformed_query_is_a_400_that_says_why() {
    let (_node, app, _dir) = node().await;
    let (status, _, body) = get(&app, "/reports/impact?since=2026-02-30", "text/html").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "report.scope_malformed");
    assert_eq!(
        error["error"]["message"],
        "scope \"since=2026-02-30\": \"2026-02-30\" is no date YYYY-MM-DD: no such day in that month"
    );
}

#[tokio::test]
async fn one_report_at_a_time_and_kept_ones_are_served() {
    let (node, app, _dir) = node().await;
    let making = node.impact_reports.making.try_acquire().unwrap();
    let (status, retry, body) = get(&app, "/reports/impact?member=baltic-demolition", "application/json").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some(RETRY_AFTER));
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], "report.busy");
    drop(making);

    let (status, _, first) = get(&app, "/reports/impact?member=baltic-demolition", "application/json").await;
    assert_eq!(status, StatusCode::OK);
    // Kept: served while another is being made, and to the same scope however it is spelt.
    let making = node.impact_reports.making.try_acquire().unwrap();
    let (status, _, again) = get(&app, "/reports/impact?format=json&member=baltic-demolition", "*/*").await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    drop(making);
}

#[tokio::test]
async fn the_openapi_description_has_the_route() {
    let (_node, app, _dir) = node().await;
    let (_, _, body) = get(&app, "/openapi.json", "application/json").await;
    let description: Value = serde_json::from_slice(&body).unwrap();
    let route = &description["paths"]["/reports/impact"]["get"];
    for status in ["200", "400", "429", "503"] {
        assert!(route["responses"].get(status).is_some(), "{status}: {route}");
    }
}

/// A JSON GET from `peer`, as the server hands requests to the router.
async fn get_from(app: &Router, path: &str, peer: &str) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::get(path).header(header::ACCEPT, "application/json").body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    let response: Response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response.headers().get(header::RETRY_AFTER).map(|value| value.to_str().unwrap().to_owned());
    (status, retry, serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap())
}

#[tokio::test]
async fn a_client_past_its_budget_gets_429_and_still_the_kept_reports() {
    let (_node, app, _dir) = node().await;
    let scopes = ["member=baltic-demolition", "member=reuse-hub", "since=2020-01-01", "since=2021-01-01"];
    let stranger = "192.0.2.7:50000";
    for scope in &scopes[..3] {
        let (status, _, body) = get_from(&app, &format!("/reports/impact?{scope}"), stranger).await;
        assert_eq!(status, StatusCode::OK, "{scope}: {body}");
    }
    let (status, retry, body) = get_from(&app, &format!("/reports/impact?{}", scopes[3]), stranger).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "report.too_many");
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=budget::REFILL.as_secs()).contains(&retry), "{retry}");
    // From another port of the same address: the same client.
    assert_eq!(
        get_from(&app, "/reports/impact?since=2022-01-01", "192.0.2.7:50001").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Kept reports are free, however the scope is spelt.
    let (status, _, _) = get_from(&app, "/reports/impact?format=json&member=reuse-hub", stranger).await;
    assert_eq!(status, StatusCode::OK);
    // Another client has its own budget, and the stranger's kept report is free to it too.
    assert_eq!(get_from(&app, &format!("/reports/impact?{}", scopes[3]), "198.51.100.1:4000").await.0, StatusCode::OK);
    assert_eq!(get_from(&app, &format!("/reports/impact?{}", scopes[3]), stranger).await.0, StatusCode::OK);
}

#[tokio::test]
async fn only_a_computed_report_spends_the_budget() {
    let (node, app, _dir) = node().await;
    let client = "[2001:db8:1:2::1]:443";
    // A 503 while another report is being made spends nothing, nor does a 400.
    let making = node.impact_reports.making.try_acquire().unwrap();
    for day in 1..=5 {
        let (status, _, _) = get_from(&app, &format!("/reports/impact?since=2020-01-0{day}"), client).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    drop(making);
    for _ in 0..5 {
        assert_eq!(get_from(&app, "/reports/impact?since=2020-02-30", client).await.0, StatusCode::BAD_REQUEST);
    }
    for day in 1..=budget::BURST {
        let (status, _, body) = get_from(&app, &format!("/reports/impact?since=2020-01-0{day}"), client).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Another address of the same /64 shares the budget; another /64 has its own.
    let (status, _, _) = get_from(&app, "/reports/impact?since=2020-01-09", "[2001:db8:1:2::ff]:443").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = get_from(&app, "/reports/impact?since=2020-01-09", "[2001:db8:1:3::1]:443").await;
    assert_eq!(status, StatusCode::OK);
}
