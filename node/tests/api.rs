//! The HTTP API as clients and auditors use it: a real ledger on disk behind
//! the node's router, called in-process.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use salvage_ledger::bundle::{Bundle, verify_bundle};
use salvage_ledger::chain::leaf_hash_of;
use salvage_ledger::checkpoint::{NoteVerifier, SignedCheckpoint};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::merkle::{Blake3Hasher, verify_consistency, verify_inclusion};
use salvage_ledger::operator::Operator;
use salvage_ledger::store::Ledger;
use salvage_ledger::testkit::{Fixture, passport};
use salvage_node::server::{Node, router};
use serde_json::{Value, json};
use tower::ServiceExt;

const PUBLIC_URL: &str = "https://salvage.example.lv";
const BODY_LIMIT: usize = 256 * 1024;

struct Harness {
    fixture: Fixture,
    app: Router,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new();
    let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
    let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap();
    let operator = Operator::identify(Fixture::key("reuse-hub"), &genesis, &ledger.members().unwrap()).unwrap();
    let node = Node::new(ledger, operator, PUBLIC_URL, BODY_LIMIT).unwrap();
    Harness { fixture, app: router(Arc::new(node)), _dir: dir }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    /// The body as JSON, without the error's `request_id`: every answer has
    /// its own, and the tests compare what answers say.
    fn json(&self) -> Value {
        let mut body: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)));
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("request_id");
        }
        body
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The error code of a JSON error answer, checking the error's shape.
    fn error_code(&self) -> String {
        let body = self.json();
        let error = &body["error"];
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "an error explains itself: {body}");
        assert!(error.get("details").is_some(), "an error always has details: {body}");
        error["code"].as_str().unwrap().to_owned()
    }
}

impl Harness {
    async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer { status, content_type, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Request::get(path).body(Body::empty()).unwrap()).await
    }

    async fn get_with(&self, path: &str, name: header::HeaderName, value: &str) -> Answer {
        self.call(Request::get(path).header(name, value).body(Body::empty()).unwrap()).await
    }

    async fn post_bytes(&self, body: Vec<u8>) -> Answer {
        self.call(
            Request::post("/v1/entries")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    async fn post(&self, entries: &[SignedEntry]) -> Answer {
        let body = if entries.len() == 1 {
            entries[0].to_value()
        } else {
            Value::Array(entries.iter().map(SignedEntry::to_value).collect())
        };
        self.post_bytes(serde_json::to_vec(&body).unwrap()).await
    }

    async fn size(&self) -> u64 {
        self.get("/v1/status").await.json()["size"].as_u64().unwrap()
    }
}

fn giai(n: u32) -> String {
    format!("4750001BEAM-{n:04}")
}

#[tokio::test]
async fn submissions_get_receipts_once_and_resubmission_is_idempotent() {
    let h = harness();
    let register = h.fixture.register("baltic-demolition", &giai(1), "HEA 160 beam", 180.0);
    let first = h.post(std::slice::from_ref(&register)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let receipt = first.json();
    assert_eq!(receipt["seq"], 1);
    assert_eq!(receipt["entry_id"], register.id().to_hex());
    let again = h.post(std::slice::from_ref(&register)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json(), receipt, "the same entry gets the same receipt");
    assert_eq!(h.size().await, 2);

    // The receipt's leaf hash is the stored record's.
    let record = h.get("/v1/records/1").await;
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(receipt["leaf_hash"], leaf_hash_of(&record.body).to_hex());

    // A batch: every receipt, in order.
    let batch =
        [h.fixture.transfer("baltic-demolition", &giai(1), "reuse-hub"), h.fixture.receive("reuse-hub", &giai(1))];
    let answer = h.post(&batch).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let seqs: Vec<u64> = answer.json().as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![2, 3]);
}

#[tokio::test]
async fn refusals_have_the_right_status_and_code_and_change_nothing() {
    let h = harness();
    assert_eq!(
        h.post(&[h.fixture.register("baltic-demolition", &giai(1), "beam", 100.0)]).await.status,
        StatusCode::CREATED
    );
    let size = h.size().await;

    let cases: Vec<(&str, Answer, StatusCode, &str)> = vec![
        ("malformed JSON", h.post_bytes(b"{\"statement\": ".to_vec()).await, StatusCode::BAD_REQUEST, "json.malformed"),
        (
            "duplicate keys",
            h.post_bytes(br#"{"statement": {}, "statement": {}, "signatures": []}"#.to_vec()).await,
            StatusCode::BAD_REQUEST,
            "json.duplicate_key",
        ),
        (
            "not custodian",
            h.post(&[h.fixture.transfer("riga-deconstruction", &giai(1), "reuse-hub")]).await,
            StatusCode::FORBIDDEN,
            "custody.not_custodian",
        ),
        (
            "unknown item",
            h.post(&[h.fixture.transfer("baltic-demolition", &giai(9), "reuse-hub")]).await,
            StatusCode::NOT_FOUND,
            "item.unknown",
        ),
        (
            "duplicate item",
            h.post(&[h.fixture.register("riga-deconstruction", &giai(1), "beam", 50.0)]).await,
            StatusCode::CONFLICT,
            "item.exists",
        ),
        (
            "role missing",
            h.post(&[h.fixture.register("reuse-hub", &giai(2), "beam", 50.0)]).await,
            StatusCode::FORBIDDEN,
            "role.missing",
        ),
    ];
    for (what, answer, status, code) in cases {
        assert_eq!(answer.status, status, "{what}: {}", answer.text());
        assert_eq!(answer.error_code(), code, "{what}");
        assert!(answer.content_type.starts_with("application/json"), "{what}");
    }

    // A signature over other bytes: 401.
    let mut forged = h.fixture.register("baltic-demolition", &giai(3), "beam", 100.0).to_value();
    forged["statement"]["body"]["passport"]["name"] = json!("a different beam");
    let answer = h.post_bytes(serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert_eq!(answer.error_code(), "signature.invalid");

    // A schema violation: 422 with the JSON pointer of each violation.
    let mut bad_passport = passport(&giai(4), "beam", 100.0);
    bad_passport["mass_kg"] = json!(-5);
    let entry = h.fixture.signed(
        &["baltic-demolition"],
        Kind::ItemRegister,
        json!({"giai": giai(4), "passport": bad_passport}),
    );
    let answer = h.post(&[entry]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.text());
    assert_eq!(answer.error_code(), "schema.invalid");
    let pointers: Vec<String> = answer.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pointer"].as_str().unwrap().to_owned())
        .collect();
    assert!(pointers.iter().any(|p| p.ends_with("/passport/mass_kg")), "{pointers:?}");

    // Transport-level refusals.
    let wrong_type = h
        .call(Request::post("/v1/entries").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap())
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.error_code(), "http.unsupported_media_type");
    let too_large = h.post_bytes(vec![b' '; BODY_LIMIT + 1]).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.error_code(), "http.body_too_large");

    assert_eq!(h.size().await, size, "no refusal changed the ledger");
}

/// Bodies in canonical JSON are read without the strict parser; every answer is
/// the one the strict parser's reading of the same entries gets.
#[tokio::test]
async fn canonical_bodies_get_the_answers_the_strict_parser_gives() {
    let h = harness();
    let register = h.fixture.register("baltic-demolition", &giai(1), "HEA 160 beam", 180.5);
    let mut forged = h.fixture.register("baltic-demolition", &giai(2), "beam", 100.0).to_value();
    forged["statement"]["body"]["passport"]["name"] = json!("a different beam");
    let forged: SignedEntry = serde_json::from_value(forged).unwrap();
    let cases: Vec<(&str, Vec<SignedEntry>, bool, StatusCode)> = vec![
        ("one entry", vec![register.clone()], true, StatusCode::CREATED),
        (
            "an array",
            vec![
                h.fixture.transfer("baltic-demolition", &giai(1), "reuse-hub"),
                h.fixture.receive("reuse-hub", &giai(1)),
            ],
            false,
            StatusCode::CREATED,
        ),
        (
            "some refused",
            vec![
                h.fixture.register("baltic-demolition", &giai(3), "beam", 10.0),
                h.fixture.transfer("riga-deconstruction", &giai(1), "baltic-demolition"),
            ],
            false,
            StatusCode::MULTI_STATUS,
        ),
        ("a forged signature", vec![forged], true, StatusCode::UNAUTHORIZED),
    ];
    for (what, entries, single, status) in cases {
        let canonical = if single { entries[0].canonical_bytes() } else { SignedEntry::canonical_array(&entries) };
        let strict =
            if single { serde_json::to_vec_pretty(&entries[0]) } else { serde_json::to_vec_pretty(&entries) }.unwrap();
        assert!(
            SignedEntry::read_canonical_submission(&canonical).is_some()
                && SignedEntry::read_canonical_submission(&strict).is_none(),
            "{what}"
        );
        // The first answer records what is accepted; the second, of the same entries,
        // finds them recorded and must give the same receipts and refusals.
        let first = h.post_bytes(canonical.clone()).await;
        assert_eq!(first.status, status, "{what}: {}", first.text());
        let second = h.post_bytes(strict).await;
        assert_eq!((first.status, first.json()), (second.status, second.json()), "{what}");
        let again = h.post_bytes(canonical).await;
        assert_eq!((again.status, again.json()), (second.status, second.json()), "{what}");
    }
    assert_eq!(h.size().await, 5, "genesis, the registration, the transfer, its receipt and the third item");
    let empty = h.post_bytes(b"[]".to_vec()).await;
    assert_eq!((empty.status, empty.error_code()), (StatusCode::BAD_REQUEST, "entry.malformed".to_owned()));
}

#[tokio::test]
async fn a_batch_reports_each_entry_and_keeps_what_was_accepted() {
    let h = harness();
    let batch = [
        h.fixture.register("baltic-demolition", &giai(1), "beam", 100.0),
        h.fixture.transfer("riga-deconstruction", &giai(1), "reuse-hub"),
    ];
    let answer = h.post(&batch).await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.text());
    let results = answer.json()["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["receipt"]["seq"], 1);
    assert_eq!(results[1]["error"]["code"], "custody.not_custodian");
    assert_eq!(h.size().await, 2);

    let refused = h.post(&[batch[1].clone(), h.fixture.transfer("baltic-demolition", &giai(7), "reuse-hub")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_code(), "custody.not_custodian");
    assert_eq!(refused.json()["error"]["details"].as_array().unwrap().len(), 2);
}

/// Readers ask for the checkpoint while the ledger grows: each asks for whatever size the ledger
/// has when it asks, and the witness only ever signs forwards. Two readers that saw two sizes
/// must still both get a signed checkpoint, never a refusal to sign the smaller one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkpoints_read_while_the_ledger_grows_are_all_signed() {
    let h = Arc::new(harness());
    let growing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (h, growing) = (Arc::clone(&h), Arc::clone(&growing));
            tokio::spawn(async move {
                let mut refused = Vec::new();
                let mut signed = 0;
                while growing.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = h.get("/v1/checkpoint").await;
                    if answer.status == StatusCode::OK {
                        signed += 1;
                    } else {
                        refused.push(answer.text());
                    }
                }
                (signed, refused)
            })
        })
        .collect();
    for n in 0..150 {
        let answer = h.post(&[h.fixture.register("baltic-demolition", &giai(n), "HEA 160 beam", 180.0)]).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    }
    growing.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut signed = 0;
    for reader in readers {
        let (count, refused) = reader.await.unwrap();
        assert!(refused.is_empty(), "{} refusals, the first: {}", refused.len(), refused[0]);
        signed += count;
    }
    assert!(signed > 0);
}

#[tokio::test]
async fn auditors_download_records_and_check_them_against_the_signed_checkpoint() {
    let h = harness();
    let entries: Vec<SignedEntry> =
        (0..10).map(|n| h.fixture.register("baltic-demolition", &giai(n), "clay bricks", 900.0)).collect();
    assert_eq!(h.post(&entries).await.status, StatusCode::CREATED);

    let checkpoint = h.get("/v1/checkpoint").await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert!(checkpoint.content_type.starts_with("text/plain"));
    let signed = SignedCheckpoint::parse(&checkpoint.text()).unwrap();
    let verifier = NoteVerifier::new("reuse-hub", Fixture::key("reuse-hub").verifying_key()).unwrap();
    assert!(signed.verify(&[verifier]).accepted(), "the operator's signature verifies");
    let size = signed.checkpoint.size();
    assert_eq!(size, 11);
    let root = *signed.checkpoint.root();

    // JSON pages and the NDJSON download give the same stored bytes.
    let page = h.get("/v1/records?from=0&limit=5").await.json();
    assert_eq!(page.as_array().unwrap().len(), 5);
    let download = h.get_with("/v1/records", header::ACCEPT, "application/x-ndjson").await;
    assert_eq!(download.content_type, "application/x-ndjson");
    let lines: Vec<&[u8]> = download.body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len() as u64, size);
    for (seq, line) in lines.iter().enumerate() {
        assert_eq!(*line, h.get(&format!("/v1/records/{seq}")).await.body.as_slice());
        // Every record's inclusion proof leads to the signed root.
        let proof = h.get(&format!("/v1/proof/inclusion?seq={seq}&size={size}")).await.json();
        let path: Vec<[u8; 32]> =
            proof["path"].as_array().unwrap().iter().map(|p| hex32(p.as_str().unwrap())).collect();
        assert_eq!(proof["leaf_hash"], leaf_hash_of(line).to_hex());
        verify_inclusion::<Blake3Hasher>(&leaf_hash_of(line).0, seq as u64, size, &path, &root).unwrap();
    }
    let old_root = hex32(h.get("/v1/status").await.json()["root"].as_str().unwrap());
    assert_eq!(old_root, root);
    assert_eq!(
        h.post(&[h.fixture.register("baltic-demolition", &giai(99), "door", 30.0)]).await.status,
        StatusCode::CREATED
    );
    let consistency = h.get(&format!("/v1/proof/consistency?from={size}&to={}", size + 1)).await.json();
    let proof: Vec<[u8; 32]> =
        consistency["proof"].as_array().unwrap().iter().map(|p| hex32(p.as_str().unwrap())).collect();
    let new_root = hex32(h.get("/v1/status").await.json()["root"].as_str().unwrap());
    verify_consistency::<Blake3Hasher>(size, size + 1, &root, &new_root, &proof).unwrap();

    // Bad requests are JSON errors, not panics.
    for (path, status) in [
        ("/v1/records/999", StatusCode::NOT_FOUND),
        ("/v1/records/-1", StatusCode::BAD_REQUEST),
        ("/v1/records/99999999999999999999999", StatusCode::BAD_REQUEST),
        ("/v1/proof/inclusion?seq=50&size=5", StatusCode::BAD_REQUEST),
        ("/v1/proof/inclusion?size=5", StatusCode::BAD_REQUEST),
        ("/v1/proof/consistency?from=9&to=3", StatusCode::BAD_REQUEST),
        ("/v1/proof/consistency?from=1&to=500", StatusCode::BAD_REQUEST),
        ("/v1/nothing-here", StatusCode::NOT_FOUND),
    ] {
        let answer = h.get(path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        answer.error_code();
    }
}

#[tokio::test]
async fn items_show_the_public_passport_a_bundle_that_verifies_and_a_qr_code() {
    let h = harness();
    let mut beam = passport(&giai(1), "HEA 160 steel beam", 180.0);
    beam["origin"] =
        json!({"building": "Jelgava sugar factory warehouse", "country": "LV", "address": "Rūpniecības iela 1"});
    beam["restricted"] = json!(["/origin/address"]);
    let register =
        h.fixture.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai(1), "passport": beam}));
    let answer = h.post(&[register, h.fixture.transfer("baltic-demolition", &giai(1), "reuse-hub")]).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());

    let item = h.get(&format!("/v1/items/{}", giai(1))).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.text());
    let item_json = item.json();
    assert_eq!(item_json["item"]["custodian"], "baltic-demolition");
    assert_eq!(item_json["item"]["pending"]["to"], "reuse-hub");
    assert_eq!(item_json["passport"]["origin"]["building"], "Jelgava sugar factory warehouse");
    assert!(!item.text().contains("Rūpniecības"), "a restricted field is never served");
    assert_eq!(item_json["history"].as_array().unwrap().len(), 2);

    // The item's summary comes from the public passport too: a restricted
    // name or mass appears nowhere in the answer.
    let mut secret = passport(&giai(2), "Prototype facade panel", 431.5);
    secret["restricted"] = json!(["/name", "/mass_kg"]);
    let register =
        h.fixture.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": giai(2), "passport": secret}));
    assert_eq!(h.post(&[register]).await.status, StatusCode::CREATED);
    let item = h.get(&format!("/v1/items/{}", giai(2))).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.text());
    assert!(!item.text().contains("Prototype") && !item.text().contains("431.5"), "{}", item.text());
    assert_eq!(item.json()["item"]["giai"], giai(2));
    assert!(item.json()["item"].get("name").is_none() && item.json()["item"].get("mass_kg").is_none());

    let bundle: Bundle = serde_json::from_slice(&h.get(&format!("/v1/items/{}/bundle", giai(1))).await.body).unwrap();
    let report = verify_bundle(&bundle, &h.fixture.genesis);
    assert!(report.is_clean(), "{report:?}");
    // The item's two records, plus the genesis that names the members.
    assert_eq!(report.records_verified, bundle.records.len() as u64);
    assert_eq!(report.item.as_ref().map(|item| item.custodian.as_str()), Some("baltic-demolition"));

    let png = h.get(&format!("/v1/items/{}/qr.png", giai(1))).await;
    assert_eq!(png.content_type, "image/png");
    let image = image::load_from_memory(&png.body).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let (_, content) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(content, format!("{PUBLIC_URL}/8004/{}", giai(1)));
    let svg = h.get(&format!("/v1/items/{}/qr.svg", giai(1))).await;
    assert_eq!(svg.content_type, "image/svg+xml");

    for path in [
        format!("/v1/items/{}", giai(5)),
        format!("/v1/items/{}/bundle", giai(5)),
        format!("/v1/items/{}/qr.png", giai(5)),
    ] {
        assert_eq!(h.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(h.get("/v1/items/not%20a%20giai").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_qr_uri_resolves_to_a_page_or_a_linkset() {
    let h = harness();
    assert_eq!(
        h.post(&[h.fixture.register("baltic-demolition", &giai(1), "HEA 160 steel beam", 180.0)]).await.status,
        StatusCode::CREATED
    );
    let path = format!("/8004/{}", giai(1));

    let page = h.get_with(&path, header::ACCEPT_LANGUAGE, "lv-LV,lv;q=0.9,en;q=0.5").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("<html lang=\"lv\""), "{html}");
    assert!(html.contains("HEA 160 steel beam"));
    assert!(!html.contains("<script"));
    let english = h.get(&format!("{path}?lang=en")).await.text();
    assert!(english.contains("<html lang=\"en\""));

    let links = h.get_with(&path, header::ACCEPT, "application/json").await;
    assert_eq!(links.status, StatusCode::OK);
    let linkset = links.json();
    assert_eq!(linkset["linkset"][0]["anchor"], format!("{PUBLIC_URL}{path}"));
    assert_eq!(h.get(&format!("{path}?linkType=all")).await.json(), linkset);

    let unknown = h.get(&format!("/8004/{}", giai(2))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.content_type.starts_with("text/html"));
    let malformed = h.get("/8004/%E2%9C%93").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.text().contains("<html"));
}

fn hex32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

#[tokio::test]
async fn metrics_count_accepted_and_refused_entries_and_the_ledger_size() {
    let h = harness();
    assert_eq!(
        h.post(&[h.fixture.register("baltic-demolition", &giai(1), "beam", 100.0)]).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        h.post(&[h.fixture.transfer("riga-deconstruction", &giai(1), "reuse-hub")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(h.post_bytes(b"[1,".to_vec()).await.status, StatusCode::BAD_REQUEST);
    let metrics = h.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.content_type.starts_with("application/openmetrics-text"));
    let text = metrics.text();
    for line in [
        "salvage_entries_accepted_total 1",
        "salvage_entries_refused_total{code=\"custody.not_custodian\"} 1",
        "salvage_entries_refused_total{code=\"json.malformed\"} 1",
        "salvage_ledger_size 2",
        "salvage_commit_seconds_count 2",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn the_openapi_description_names_every_route() {
    let h = harness();
    let answer = h.get("/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/entries",
        "/v1/records",
        "/v1/records/{seq}",
        "/v1/checkpoint",
        "/v1/proof/inclusion",
        "/v1/proof/consistency",
        "/v1/items/{giai}",
        "/v1/items/{giai}/bundle",
        "/v1/items/{giai}/qr.svg",
        "/v1/items/{giai}/qr.png",
        "/v1/members",
        "/v1/status",
        "/8004/{giai}",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is missing from /openapi.json");
    }
    let submit = &doc["paths"]["/v1/entries"]["post"]["responses"];
    for status in ["201", "207", "400", "401", "403", "404", "409", "413", "415", "422"] {
        assert!(submit.get(status).is_some(), "POST /v1/entries documents {status}");
    }
}

#[tokio::test]
async fn the_epcis_export_validates_against_the_official_schema() {
    let h = harness();
    let f = &h.fixture;
    // A GIAI with a '/' (set 82 allows it) must arrive percent-encoded in the query.
    let (beam, door, part_a, part_b) = (giai(1), "4750001DOOR/7".to_owned(), giai(2), giai(3));
    let mut passport_with_secret = passport(&beam, "HEA 160 steel beam", 180.0);
    passport_with_secret["origin"]["address"] = json!("Rūpniecības iela 1");
    passport_with_secret["restricted"] = json!(["/origin/address"]);
    let part = |giai: &str, mass: f64| json!({"giai": giai, "passport": passport(giai, "HEA 160 part", mass)});
    let entries = vec![
        f.signed(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": beam, "passport": passport_with_secret})),
        f.register("riga-deconstruction", &door, "Oak door", 40.0),
        f.transfer("baltic-demolition", &beam, "reuse-hub"),
        f.receive("reuse-hub", &beam),
        f.signed(
            &["baltic-cert"],
            Kind::ItemAttest,
            json!({"giai": beam, "passport_version": 1,
            "attestation": {"type": "inspection", "result": "pass", "summary": "Visual inspection"}}),
        ),
        f.signed(
            &["reuse-hub"],
            Kind::ItemSplit,
            json!({"giai": beam, "parts": [part(&part_a, 100.0), part(&part_b, 80.0)]}),
        ),
        f.signed(
            &["reuse-hub"],
            Kind::ItemInstall,
            json!({"giai": part_a, "site": {"building": "Jelgava library extension"}}),
        ),
    ];
    let answer = h.post(&entries).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ledger/tests/data/epcis/EPCIS-JSON-Schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema)
        .unwrap();
    let kinds = |document: &Value| -> Vec<String> {
        document["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["salvage:kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let fetch = |query: String| {
        let h = &h;
        let validator = &validator;
        async move {
            let answer = h.get(&format!("/v1/epcis{query}")).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.text());
            assert_eq!(answer.content_type, "application/ld+json");
            assert!(!answer.text().contains("Rūpniecības"), "a restricted field is never exported");
            let document = answer.json();
            let errors: Vec<String> =
                validator.iter_errors(&document).map(|e| format!("{}: {e}", e.instance_path().as_str())).collect();
            assert!(errors.is_empty(), "{query} breaks the EPCIS 2.0 schema:\n{}", errors.join("\n"));
            document
        }
    };

    let whole = fetch(String::new()).await;
    assert_eq!(whole["epcisBody"]["eventList"].as_array().unwrap().len(), entries.len());
    let first = &whole["epcisBody"]["eventList"][0];
    assert_eq!(first["epcList"], json!([format!("{PUBLIC_URL}/8004/{beam}")]));
    assert_eq!(first["eventID"], format!("{PUBLIC_URL}/v1/records/1"));

    let of_beam = fetch(format!("?giai={beam}")).await;
    assert_eq!(kinds(&of_beam), ["item.register", "item.transfer", "item.receive", "item.attest", "item.split"]);
    let of_part_and_door = fetch(format!("?giai={part_a}&giai=4750001DOOR%2F7")).await;
    assert_eq!(kinds(&of_part_and_door), ["item.register", "item.split", "item.install"]);
    assert_eq!(
        of_part_and_door["epcisBody"]["eventList"][0]["epcList"],
        json!([format!("{PUBLIC_URL}/8004/4750001DOOR%2F7")])
    );

    let unknown = h.get(&format!("/v1/epcis?giai={}", giai(9))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error_code(), "http.not_found");
    let malformed = h.get("/v1/epcis?giai=not%20a%20giai").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "giai.malformed");
    assert_eq!(h.get("/v1/epcis?giai=%FF").await.status, StatusCode::BAD_REQUEST);

    let openapi = h.get("/openapi.json").await.json();
    assert!(openapi["paths"]["/v1/epcis"]["get"].is_object(), "/v1/epcis is missing from /openapi.json");
}
