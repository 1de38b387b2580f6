//! What an outside auditor checks through a node's API: the signed checkpoint,
//! the downloaded records, and that every receipt a member was given names a
//! record included under the signed root.

use salvage_ledger::audit::{AuditOptions, AuditReport, audit};
use salvage_ledger::chain::leaf_hash_of;
use salvage_ledger::checkpoint::{NoteVerifier, SignedCheckpoint};
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::merkle::{Blake3Hasher, verify_inclusion};
use salvage_ledger::testkit::Fixture;
use serde_json::Value;

use crate::http;
use crate::node::Running;

/// The node's current checkpoint; panics unless `operator` signed it.
pub fn signed_checkpoint(node: &Running, operator: &str) -> SignedCheckpoint {
    let answer = node.get("/v1/checkpoint");
    assert_eq!(answer.status, 200, "GET /v1/checkpoint: {}", answer.text());
    let signed = SignedCheckpoint::parse(&answer.text())
        .unwrap_or_else(|error| panic!("not a signed note ({error}): {}", answer.text()));
    let verifier =
        NoteVerifier::new(operator, Fixture::key(operator).verifying_key()).unwrap_or_else(|error| panic!("{error}"));
    assert!(signed.verify(&[verifier]).accepted(), "the checkpoint is not signed by {operator}:\n{}", answer.text());
    signed
}

/// Every record the node holds, downloaded as NDJSON in one streamed answer.
pub fn download(node: &Running) -> Vec<Vec<u8>> {
    let answer = http::request(&node.address, "GET", "/v1/records", &[("Accept", "application/x-ndjson")], b"");
    assert_eq!(answer.status, 200, "the download failed: {}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
    answer.body.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).map(<[u8]>::to_vec).collect()
}

/// Replays every downloaded record against the genesis and the signed
/// checkpoint, as `salvage audit` does; panics on any problem.
pub fn audit_download(node: &Running, operator: &str, fixture: &Fixture) -> AuditReport {
    let checkpoint = signed_checkpoint(node, operator);
    let records = download(node);
    assert!(records.len() as u64 >= checkpoint.checkpoint.size(), "the download is shorter than the checkpoint");
    let covered = records.into_iter().take(checkpoint.checkpoint.size() as usize).map(Ok::<_, String>);
    let options = AuditOptions { checkpoint: Some(checkpoint), ..AuditOptions::default() };
    let report = audit(&fixture.genesis, covered, &options, &mut |_| {});
    assert!(report.is_clean(), "the audit of the download finds problems: {:?}", report.problems);
    report
}

/// Checks that the record a receipt names is stored with the receipt's leaf
/// hash and is included in the tree the checkpoint signs.
pub fn assert_receipt_proven(node: &Running, receipt: &Value, checkpoint: &SignedCheckpoint) {
    let seq = receipt["seq"].as_u64().unwrap_or_else(|| panic!("a receipt without a seq: {receipt}"));
    let size = checkpoint.checkpoint.size();
    assert!(seq < size, "record {seq} of {receipt} is not covered by the checkpoint of size {size}");
    let stored = node.get(&format!("/v1/records/{seq}"));
    assert_eq!(stored.status, 200, "acknowledged record {seq} is missing: {}", stored.text());
    let leaf = leaf_hash_of(&stored.body);
    assert_eq!(receipt["leaf_hash"].as_str(), Some(leaf.to_hex().as_str()), "record {seq} is not the one acknowledged");
    let record: Value = stored.json();
    let entry =
        SignedEntry::from_value(record["entry"].clone()).unwrap_or_else(|refusal| panic!("record {seq}: {refusal}"));
    assert_eq!(
        serde_json::to_value(entry.id()).ok().as_ref(),
        Some(&receipt["entry_id"]),
        "record {seq} holds another entry"
    );
    let proof = node.get_json(&format!("/v1/proof/inclusion?seq={seq}&size={size}"));
    let path: Vec<[u8; 32]> = proof["path"]
        .as_array()
        .map(|path| path.iter().map(|node| hex32(node.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    verify_inclusion::<Blake3Hasher>(&leaf.0, seq, size, &path, checkpoint.checkpoint.root()).unwrap_or_else(|error| {
        panic!("the inclusion proof of record {seq} does not lead to the signed root: {error}")
    });
}

/// 32 bytes from lowercase hex; panics on anything else.
pub fn hex32(text: &str) -> [u8; 32] {
    let bytes = hex::decode(text).unwrap_or_else(|error| panic!("{text:?} is not hex: {error}"));
    bytes.try_into().unwrap_or_else(|bytes: Vec<u8>| panic!("{} bytes, not 32", bytes.len()))
}
