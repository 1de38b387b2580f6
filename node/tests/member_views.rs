//! A member's app over HTTP (issue 28): the actions it may take on an item with the ledger's
//! reasons, and its own lists (items, offers, entries, the next GIAI), each signed by the
//! member (RFC 9421), called in-process on a real ledger on disk.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::operator::Operator;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::{BALTIC_PREFIX, CONSORTIUM_PREFIX, Fixture};
use salvage_node::member_auth::{self, SignedTarget};
use salvage_node::server::{Node, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOST: &str = "salvage.example.lv";
const PUBLIC_URL: &str = "https://salvage.example.lv";
const BODY_LIMIT: usize = 256 * 1024;
const ADMINS: &[&str] = &["regional-planning", "city-of-jelgava"];

struct Harness {
    fixture: Fixture,
    app: Router,
    dir: tempfile::TempDir,
}

/// A node on a ledger that allocates GIAIs: Baltic Demolition holds the prefix 4750001.
fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::allocating();
    Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
    let app = open_node(&fixture, dir.path());
    Harness { fixture, app, dir }
}

fn open_node(fixture: &Fixture, dir: &Path) -> Router {
    let (ledger, _) = Ledger::open(dir).unwrap();
    let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap();
    let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
    router(Arc::new(Node::new(ledger, operator, PUBLIC_URL, BODY_LIMIT).unwrap()))
}

struct Answer {
    status: StatusCode,
    body: Value,
    cache_control: String,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error: {}", self.body))
    }

    fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.cache_control, "no-store", "a member's own answer is never cached");
        self.body
    }
}

async fn call(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let cache_control = response
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Answer { status, body, cache_control }
}

/// `GET target` signed by `member`'s key.
async fn signed_get(app: &Router, member: &str, target: &str) -> Answer {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let signed = SignedTarget { method: "GET", authority: HOST, path, query };
    let created = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let signature = member_auth::sign(&signed, &Fixture::key(member), created, &member_auth::fresh_nonce().unwrap());
    let request = Request::get(target)
        .header(header::HOST, HOST)
        .header(member_auth::SIGNATURE_INPUT_HEADER, signature.signature_input)
        .header(member_auth::SIGNATURE_HEADER, signature.signature)
        .body(Body::empty())
        .unwrap();
    call(app, request).await
}

async fn unsigned_get(app: &Router, target: &str) -> Answer {
    call(app, Request::get(target).header(header::HOST, HOST).body(Body::empty()).unwrap()).await
}

async fn submit(app: &Router, entries: &[SignedEntry]) {
    let body = Value::Array(entries.iter().map(SignedEntry::to_value).collect());
    let request = Request::post("/v1/entries")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let answer = call(app, request).await;
    assert_eq!(answer.status, StatusCode::CREATED, "every entry is accepted: {}", answer.body);
}

fn beam(n: u32) -> String {
    format!("4750001BEAM-{n:04}")
}

/// The GIAIs of a list.
fn giais(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|item| item["giai"].as_str().unwrap()).collect()
}

/// Each action with whether it is allowed and its refusal code.
async fn verdicts(app: &Router, member: &str, giai: &str) -> Vec<(String, Option<String>)> {
    let body = signed_get(app, member, &format!("/v1/items/{giai}/actions")).await.ok();
    assert_eq!((body["giai"].as_str(), body["member"].as_str()), (Some(giai), Some(member)));
    body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| {
            let allowed = action["allowed"].as_bool().unwrap();
            let code = action["code"].as_str().map(str::to_owned);
            assert_eq!(allowed, code.is_none(), "{action}");
            if !allowed {
                assert!(action["message"].as_str().is_some_and(|m| !m.is_empty()), "{action}");
            }
            (action["action"].as_str().unwrap().to_owned(), code)
        })
        .collect()
}

fn code_of<'a>(verdicts: &'a [(String, Option<String>)], action: &str) -> Option<&'a str> {
    verdicts.iter().find(|(name, _)| name == action).unwrap().1.as_deref()
}

#[tokio::test]
async fn actions_say_what_each_member_may_do_with_the_ledger_s_reasons() {
    let h = harness();
    let f = &h.fixture;
    submit(&h.app, &[f.register("baltic-demolition", &beam(1), "HEA 160 steel beam", 182.4)]).await;

    let custodian = verdicts(&h.app, "baltic-demolition", &beam(1)).await;
    let order: Vec<&str> = custodian.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(order, ["transfer", "receive", "cancel", "amend", "split", "install", "dismantle", "dispose", "attest"]);
    assert_eq!(code_of(&custodian, "transfer"), None);
    assert_eq!(code_of(&custodian, "install"), None);
    assert_eq!(code_of(&custodian, "receive"), Some("custody.no_pending_transfer"));
    assert_eq!(code_of(&custodian, "dismantle"), Some("item.not_installed"));
    assert_eq!(code_of(&custodian, "attest"), Some("role.missing"));
    let other = verdicts(&h.app, "riga-deconstruction", &beam(1)).await;
    assert_eq!(code_of(&other, "transfer"), Some("custody.not_custodian"));
    let certifier = verdicts(&h.app, "baltic-cert", &beam(1)).await;
    assert_eq!(code_of(&certifier, "attest"), None);

    submit(&h.app, &[f.transfer("baltic-demolition", &beam(1), "reuse-hub")]).await;
    let recipient = verdicts(&h.app, "reuse-hub", &beam(1)).await;
    assert_eq!(code_of(&recipient, "receive"), None);
    assert_eq!(code_of(&recipient, "cancel"), None, "the recipient may decline");
    let custodian = verdicts(&h.app, "baltic-demolition", &beam(1)).await;
    assert_eq!(code_of(&custodian, "cancel"), None);
    assert_eq!(code_of(&custodian, "transfer"), Some("custody.transfer_pending"));
    // The message is the ledger's own.
    let body = signed_get(&h.app, "timber-builders", &format!("/v1/items/{}/actions", beam(1))).await.ok();
    assert_eq!(body["actions"][1]["message"], format!("{} is offered to reuse-hub, not to timber-builders", beam(1)));

    let unknown = signed_get(&h.app, "reuse-hub", "/v1/items/4750001NOPE/actions").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "http.not_found"));
    let malformed = signed_get(&h.app, "reuse-hub", "/v1/items/not-a-giai/actions").await;
    assert_eq!((malformed.status, malformed.code()), (StatusCode::BAD_REQUEST, "giai.malformed"));
    let unsigned = unsigned_get(&h.app, &format!("/v1/items/{}/actions", beam(1))).await;
    assert_eq!((unsigned.status, unsigned.code()), (StatusCode::UNAUTHORIZED, "auth.missing"));
}

#[tokio::test]
async fn a_member_s_lists_follow_its_items_offers_and_entries() {
    let h = harness();
    let (f, app) = (&h.fixture, &h.app);
    let registered: Vec<SignedEntry> =
        (1..=3).map(|n| f.register("baltic-demolition", &beam(n), &format!("Beam {n}"), 100.0)).collect();
    submit(app, &registered).await;
    submit(app, &[f.transfer("baltic-demolition", &beam(1), "reuse-hub")]).await;
    submit(app, &[f.transfer("baltic-demolition", &beam(2), "reuse-hub")]).await;

    let mine = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/items").await.ok();
    assert_eq!(mine["member"], "baltic-demolition");
    assert_eq!(giais(&mine["items"]), [beam(1), beam(2), beam(3)]);
    assert_eq!(
        mine["items"][0],
        json!({"giai": beam(1), "name": "Beam 1", "category": "structural_steel", "status": "available", "offered_to": "reuse-hub"})
    );
    assert_eq!(mine["items"][2]["offered_to"], Value::Null);
    assert_eq!(mine["next"], Value::Null);

    let inbox = signed_get(app, "reuse-hub", "/v1/members/reuse-hub/offers").await.ok();
    assert_eq!(giais(&inbox["offers"]), [beam(1), beam(2)]);
    let offer = &inbox["offers"][0];
    assert_eq!(
        (&offer["from"], &offer["seq"], &offer["name"]),
        (&json!("baltic-demolition"), &json!(4), &json!("Beam 1"))
    );
    assert!(offer["time"].as_str().unwrap().ends_with('Z'), "{offer}");

    // Received and cancelled: the lists change.
    submit(app, &[f.receive("reuse-hub", &beam(1))]).await;
    submit(app, &[f.signed(&["baltic-demolition"], Kind::ItemCancel, json!({"giai": beam(2)}))]).await;
    let mine = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/items").await.ok();
    assert_eq!(giais(&mine["items"]), [beam(2), beam(3)]);
    assert_eq!(mine["items"][0]["offered_to"], Value::Null);
    let hub = signed_get(app, "reuse-hub", "/v1/members/reuse-hub/items").await.ok();
    assert_eq!(giais(&hub["items"]), [beam(1)]);
    let inbox = signed_get(app, "reuse-hub", "/v1/members/reuse-hub/offers").await.ok();
    assert_eq!(inbox["offers"], json!([]));

    // A page at a time.
    let first = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/items?limit=1").await.ok();
    assert_eq!((giais(&first["items"]), &first["next"]), (vec![beam(2).as_str()], &json!(beam(2))));
    let target = format!("/v1/members/baltic-demolition/items?after={}&limit=1", beam(2));
    let second = signed_get(app, "baltic-demolition", &target).await.ok();
    assert_eq!((giais(&second["items"]), &second["next"]), (vec![beam(3).as_str()], &Value::Null));

    // History: newest first, a page at a time, each entry with its record.
    let history = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/entries?limit=3").await.ok();
    let seqs = |page: &Value| -> Vec<u64> {
        page["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect()
    };
    assert_eq!(seqs(&history), [7, 5, 4]);
    assert_eq!(history["entries"][0]["kind"], "item.cancel");
    assert_eq!(history["entries"][0]["giai"], beam(2));
    assert_eq!(history["entries"][0]["entry_id"].as_str().unwrap().len(), 64);
    assert_eq!(history["next"], 4);
    let older =
        signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/entries?before=4&limit=3").await.ok();
    assert_eq!((seqs(&older), &older["next"]), (vec![3, 2, 1], &Value::Null));
    let oldest = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/entries?before=1").await.ok();
    assert_eq!((seqs(&oldest), &oldest["next"]), (vec![], &Value::Null));
    let hub_history = signed_get(app, "reuse-hub", "/v1/members/reuse-hub/entries").await.ok();
    assert_eq!(seqs(&hub_history), [6]);
    let genesis = signed_get(app, "regional-planning", "/v1/members/regional-planning/entries").await.ok();
    assert_eq!(genesis["entries"][0]["kind"], "ledger.genesis");
    assert_eq!(genesis["entries"][0]["giai"], Value::Null);
}

#[tokio::test]
async fn lists_are_the_member_s_own_and_their_parameters_are_checked() {
    let h = harness();
    let app = &h.app;
    let other = signed_get(app, "reuse-hub", "/v1/members/baltic-demolition/items").await;
    assert_eq!((other.status, other.code()), (StatusCode::FORBIDDEN, "auth.not_entitled"));
    for route in ["items", "offers", "entries", "next-giai"] {
        let target = format!("/v1/members/baltic-demolition/{route}");
        let unsigned = unsigned_get(app, &target).await;
        assert_eq!((unsigned.status, unsigned.code()), (StatusCode::UNAUTHORIZED, "auth.missing"), "{route}");
        let other = signed_get(app, "baltic-cert", &target).await;
        assert_eq!((other.status, other.code()), (StatusCode::FORBIDDEN, "auth.not_entitled"), "{route}");
    }
    let unknown = signed_get(app, "reuse-hub", "/v1/members/nobody/items").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "http.not_found"));
    let malformed = signed_get(app, "reuse-hub", "/v1/members/Not_A_Member/items").await;
    assert_eq!((malformed.status, malformed.code()), (StatusCode::BAD_REQUEST, "member.malformed"));
    for query in ["limit=0", "limit=101", "limit=ten", "after=not-a-giai", "colour=red", "limit=5&limit=6", "after=%FF"]
    {
        let answer = signed_get(app, "reuse-hub", &format!("/v1/members/reuse-hub/items?{query}")).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "http.bad_parameter"), "{query}");
    }
    for query in ["before=-1", "after=4750001BEAM-0001", "limit=101"] {
        let answer = signed_get(app, "reuse-hub", &format!("/v1/members/reuse-hub/entries?{query}")).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "http.bad_parameter"), "{query}");
    }
    let offers = signed_get(app, "reuse-hub", "/v1/members/reuse-hub/offers?limit=200").await.ok();
    assert_eq!(offers["offers"], json!([]));
}

#[tokio::test]
async fn the_next_giai_is_the_first_free_serial_of_a_prefix_or_a_range() {
    let h = harness();
    let (f, app) = (&h.fixture, &h.app);
    let next = |member: &'static str| {
        let app = app.clone();
        async move { signed_get(&app, member, &format!("/v1/members/{member}/next-giai")).await }
    };
    // A prefix holder: serial 1 under its prefix, then past what it registered or reserved.
    let body = next("baltic-demolition").await.ok();
    assert_eq!(
        body,
        json!({"member": "baltic-demolition", "giai": format!("{BALTIC_PREFIX}1"), "prefix": BALTIC_PREFIX, "source": "company_prefix"})
    );
    submit(app, &[f.register("baltic-demolition", &format!("{BALTIC_PREFIX}1"), "Beam", 10.0)]).await;
    assert_eq!(next("baltic-demolition").await.ok()["giai"], format!("{BALTIC_PREFIX}2"));
    let reserve = json!({"prefix": BALTIC_PREFIX, "first": 2, "count": 3});
    submit(app, &[f.signed(&["baltic-demolition"], Kind::GiaiReserve, reserve)]).await;
    assert_eq!(next("baltic-demolition").await.ok()["giai"], format!("{BALTIC_PREFIX}5"));
    // The reserved GIAIs are in its list, not registered yet.
    let mine = signed_get(app, "baltic-demolition", "/v1/members/baltic-demolition/items").await.ok();
    let reserved = &mine["items"][1];
    assert_eq!(
        reserved,
        &json!({"giai": format!("{BALTIC_PREFIX}2"), "name": null, "category": null, "status": "reserved", "offered_to": null})
    );

    // No prefix and no range: nothing to give.
    let none = next("timber-builders").await;
    assert_eq!((none.status, none.code()), (StatusCode::CONFLICT, "giai.none_held"));
    // A range the consortium allocated: its first free serial.
    let allocate = json!({"member": "timber-builders", "prefix": CONSORTIUM_PREFIX, "first": 1000, "last": 1001});
    submit(app, &[f.signed(ADMINS, Kind::GiaiAllocate, allocate)]).await;
    let body = next("timber-builders").await.ok();
    assert_eq!(
        body,
        json!({"member": "timber-builders", "giai": format!("{CONSORTIUM_PREFIX}1000"), "prefix": CONSORTIUM_PREFIX, "source": "allocation"})
    );
    // Every serial of the range taken: none left.
    let contractor = json!({"id": "timber-builders", "roles": ["holder", "contractor"]});
    submit(app, &[f.signed(ADMINS, Kind::MemberUpdate, contractor)]).await;
    let taken: Vec<SignedEntry> = [1000, 1001]
        .iter()
        .map(|s| f.register("timber-builders", &format!("{CONSORTIUM_PREFIX}{s}"), "Door", 30.0))
        .collect();
    submit(app, &taken).await;
    let full = next("timber-builders").await;
    assert_eq!((full.status, full.code()), (StatusCode::CONFLICT, "giai.exhausted"));
}

#[tokio::test]
async fn a_reopened_node_serves_the_same_lists_from_what_it_followed() {
    let h = harness();
    let f = &h.fixture;
    submit(&h.app, &[f.register("baltic-demolition", &beam(1), "Beam 1", 100.0)]).await;
    submit(&h.app, &[f.transfer("baltic-demolition", &beam(1), "reuse-hub")]).await;
    let lists = |app: Router| async move {
        (
            signed_get(&app, "baltic-demolition", "/v1/members/baltic-demolition/items").await.ok(),
            signed_get(&app, "reuse-hub", "/v1/members/reuse-hub/offers").await.ok(),
            signed_get(&app, "baltic-demolition", "/v1/members/baltic-demolition/entries").await.ok(),
        )
    };
    let before = lists(h.app.clone()).await;
    let Harness { fixture, app, dir } = h;
    drop(app);
    // What the follower read is on disk.
    let holdings = salvage_node::holdings::Holdings::open(&dir.path().join("holdings.redb")).unwrap();
    assert_eq!(holdings.followed_size(), 3);
    drop(holdings);
    let reopened = open_node(&fixture, dir.path());
    assert_eq!(lists(reopened).await, before);
}

#[tokio::test]
async fn the_openapi_description_names_the_member_routes() {
    let h = harness();
    let doc = unsigned_get(&h.app, "/openapi.json").await.body;
    for path in [
        "/v1/items/{giai}/actions",
        "/v1/members/{id}/items",
        "/v1/members/{id}/offers",
        "/v1/members/{id}/entries",
        "/v1/members/{id}/next-giai",
    ] {
        assert!(doc["paths"][path]["get"]["responses"]["401"].is_object(), "{path} is missing from /openapi.json");
    }
}
