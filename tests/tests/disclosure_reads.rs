//! Members read restricted values with signed requests (RFC 9421), against a
//! real `salvage node` on a format-2 ledger: strangers, bad signatures and
//! replays get 401, members who never touched the item 403 (a certifier who
//! only concluded an audit of it too), and those who did (registrant,
//! custodian, attesting certifier) the disclosures.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use salvage_ledger::entry::Kind;
use salvage_ledger::testkit::{Fixture, passport};
use salvage_node::member_auth::{self, SignedTarget};
use salvage_tests::http::{self, Answer};
use salvage_tests::node::{Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const GIAI: &str = "4750001DOOR-0001";
const ADDRESS: &str = "Rūpniecības iela 12, Jelgava";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A GET of `path` signed by `key` at `created` with `nonce`; `signed_path`
/// is what the signature covers (the same path, unless a test lies).
fn signed_get(node: &Running, path: &str, signed_path: &str, key: &SigningKey, created: u64, nonce: &str) -> Answer {
    let (signed_path, query) = match signed_path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (signed_path, None),
    };
    let target = SignedTarget { method: "GET", authority: &node.address, path: signed_path, query };
    let signature = member_auth::sign(&target, key, created, nonce);
    http::request(
        &node.address,
        "GET",
        path,
        &[("Signature-Input", &signature.signature_input), ("Signature", &signature.signature)],
        b"",
    )
}

fn read(node: &Running, member: &str) -> Answer {
    let path = format!("/v1/items/{GIAI}/disclosures");
    signed_get(node, &path, &path, &Fixture::key(member), now(), &member_auth::fresh_nonce().unwrap())
}

fn submit(
    node: &Running,
    entry: &salvage_ledger::entry::SignedEntry,
    disclosures: &[salvage_ledger::disclosure::Disclosure],
) {
    let body = if disclosures.is_empty() {
        entry.to_value()
    } else {
        json!({"entry": entry.to_value(), "disclosures": disclosures.iter().map(|d| d.to_value()).collect::<Vec<_>>()})
    };
    let answer = node.request("POST", "/v1/entries", body.to_string().as_bytes());
    assert_eq!(answer.status, 201, "{}", answer.text());
}

fn values(answer: &Answer) -> Vec<Value> {
    answer.json()["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|record| record["disclosures"].as_array().unwrap().iter().map(|d| d[2].clone()))
        .collect()
}

#[test]
fn only_members_who_touched_an_item_read_its_restricted_values_and_only_with_a_fresh_signature() {
    let site = Site::withholding(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let mut body = passport(GIAI, "Oak door", 40.0);
    body["origin"]["address"] = json!(ADDRESS);
    body["restricted"] = json!(["/origin/address"]);
    let (register, disclosures) =
        f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": GIAI, "passport": body}));
    submit(&node, &register, &disclosures);
    let path = format!("/v1/items/{GIAI}/disclosures");

    // Strangers: unsigned, garbage, a key no member holds, a signature of another request.
    let unsigned = node.get(&path);
    assert_eq!((unsigned.status, unsigned.error_code().as_str()), (401, "auth.missing"), "{}", unsigned.text());
    assert!(!unsigned.text().contains(ADDRESS));
    let garbage =
        http::request(&node.address, "GET", &path, &[("Signature-Input", "salvage=("), ("Signature", "x")], b"");
    assert_eq!((garbage.status, garbage.error_code().as_str()), (401, "auth.malformed"), "{}", garbage.text());
    let stranger = Fixture::key("somebody-else");
    let nonce = member_auth::fresh_nonce().unwrap();
    let answer = signed_get(&node, &path, &path, &stranger, now(), &nonce);
    assert_eq!((answer.status, answer.error_code().as_str()), (401, "auth.unknown_key"), "{}", answer.text());
    let answer = signed_get(
        &node,
        &path,
        "/v1/items/4750001OTHER-1/disclosures",
        &Fixture::key("baltic-demolition"),
        now(),
        &nonce,
    );
    assert_eq!((answer.status, answer.error_code().as_str()), (401, "auth.bad_signature"), "{}", answer.text());
    let stale = signed_get(&node, &path, &path, &Fixture::key("baltic-demolition"), now() - 3600, &nonce);
    assert_eq!((stale.status, stale.error_code().as_str()), (401, "auth.stale"), "{}", stale.text());
    // A stranger learns nothing of which items exist.
    let unknown_item = node.get("/v1/items/4750001NONE-1/disclosures");
    assert_eq!(unknown_item.status, 401);

    // The registrant reads its values; the very same request again is a replay.
    let registrant = Fixture::key("baltic-demolition");
    let nonce = member_auth::fresh_nonce().unwrap();
    let created = now();
    let first = signed_get(&node, &path, &path, &registrant, created, &nonce);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(values(&first), vec![json!(ADDRESS)]);
    assert_eq!(first.json()["records"][0]["seq"], json!(1));
    let replayed = signed_get(&node, &path, &path, &registrant, created, &nonce);
    assert_eq!((replayed.status, replayed.error_code().as_str()), (401, "auth.replayed"), "{}", replayed.text());

    // A member who never touched the item may not; a holder and a certifier who did, may.
    let outsider = read(&node, "timber-builders");
    assert_eq!((outsider.status, outsider.error_code().as_str()), (403, "auth.not_entitled"), "{}", outsider.text());
    assert!(!outsider.text().contains(ADDRESS));
    assert_eq!(read(&node, "reuse-hub").status, 403);
    submit(&node, &f.transfer("baltic-demolition", GIAI, "reuse-hub"), &[]);
    submit(&node, &f.receive("reuse-hub", GIAI), &[]);
    let holder = read(&node, "reuse-hub");
    assert_eq!((holder.status, values(&holder)), (200, vec![json!(ADDRESS)]), "{}", holder.text());
    assert_eq!(read(&node, "baltic-cert").status, 403);
    submit(&node, &f.signed(&["baltic-cert"], Kind::ItemAttest, json!({"giai": GIAI, "passport_version": 1, "attestation": {"type": "inspection", "result": "pass", "summary": "Door fits its frame; no rot."}})), &[]);
    let certifier = read(&node, "baltic-cert");
    assert_eq!(certifier.status, 200, "{}", certifier.text());

    // A member asking about an item that does not exist learns so.
    let missing = "/v1/items/4750001NONE-1/disclosures";
    let answer = signed_get(&node, missing, missing, &registrant, now(), &member_auth::fresh_nonce().unwrap());
    assert_eq!(answer.status, 404, "{}", answer.text());

    // Nothing public carries the value.
    for public in [
        format!("/v1/items/{GIAI}"),
        format!("/v1/items/{GIAI}/bundle"),
        "/v1/records".to_owned(),
        "/v1/epcis".to_owned(),
    ] {
        let answer = node.get(&public);
        assert!(!answer.text().contains(ADDRESS), "{public} carries the restricted value");
    }
    node.terminate();
}

/// An audit conclusion joins the history of every item it names, but naming an item is no
/// right to read what its holder withheld (docs/rules.md §8): a certifier that only concluded
/// an audit of the item gets `403` for its restricted values and for a file only its
/// restricted fields name, until it attests the item.
#[test]
fn a_certifier_who_only_concluded_an_audit_of_an_item_reads_neither_its_restricted_values_nor_files() {
    let site = Site::withholding(&[OPERATOR]);
    let node = Running::start(site.node(OPERATOR));
    let f = &site.fixture;
    let survey = b"%PDF-1.7\n% hazardous materials survey of the Jelgava warehouse door\n".to_vec();
    let stored = node.signed("POST", "/v1/attachments", "baltic-demolition", &survey);
    assert_eq!(stored.status, 201, "{}", stored.text());
    let stored = stored.json();
    let digest = stored["blake3"].as_str().unwrap().to_owned();
    let mut body = passport(GIAI, "Oak door", 40.0);
    body["origin"]["address"] = json!(ADDRESS);
    body["documents"] = json!([
        {"title": "Asbestos survey", "media_type": stored["media_type"], "blake3": digest, "size": stored["size"]},
    ]);
    body["restricted"] = json!(["/origin/address", "/documents/0"]);
    let (register, disclosures) =
        f.withheld(&["baltic-demolition"], Kind::ItemRegister, json!({"giai": GIAI, "passport": body}));
    submit(&node, &register, &disclosures);

    let note = node.get("/v1/checkpoint").text();
    let checkpoint = salvage_ledger::checkpoint::SignedCheckpoint::parse(&note).unwrap().checkpoint;
    submit(&node, &f.conclusion("baltic-cert", checkpoint.size(), checkpoint.root(), &[GIAI], b"report"), &[]);
    let history = node.get_json(&format!("/v1/items/{GIAI}"))["history"].clone();
    assert_eq!(history[1]["kind"], "audit.conclusion", "{history}");
    assert_eq!(history[1]["signers"], json!(["baltic-cert"]), "{history}");

    let file = format!("/v1/attachments/{digest}");
    let auditor = read(&node, "baltic-cert");
    assert_eq!((auditor.status, auditor.error_code().as_str()), (403, "auth.not_entitled"), "{}", auditor.text());
    assert!(!auditor.text().contains(ADDRESS));
    let auditor_file = node.signed("GET", &file, "baltic-cert", b"");
    assert_eq!((auditor_file.status, auditor_file.error_code().as_str()), (403, "auth.not_entitled"));
    assert_ne!(auditor_file.body, survey);
    // The registrant still reads both.
    let registrant = read(&node, "baltic-demolition");
    assert_eq!(registrant.status, 200, "{}", registrant.text());
    assert!(values(&registrant).contains(&json!(ADDRESS)), "{}", registrant.text());
    assert_eq!(node.signed("GET", &file, "baltic-demolition", b"").body, survey);

    // Once it attests the item, the same certifier is entitled to both.
    let attestation = json!({"type": "inspection", "result": "pass", "summary": "Door fits its frame; no rot."});
    let attest = json!({"giai": GIAI, "passport_version": 1, "attestation": attestation});
    submit(&node, &f.signed(&["baltic-cert"], Kind::ItemAttest, attest), &[]);
    let certifier = read(&node, "baltic-cert");
    assert_eq!(certifier.status, 200, "{}", certifier.text());
    assert!(values(&certifier).contains(&json!(ADDRESS)), "{}", certifier.text());
    let certifier_file = node.signed("GET", &file, "baltic-cert", b"");
    assert_eq!(certifier_file.status, 200, "{}", certifier_file.text());
    assert_eq!(certifier_file.body, survey);
    node.terminate();
}
