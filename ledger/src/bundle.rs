//! Proof bundles: everything needed to verify one item offline, against the genesis alone.
//!
//! A bundle holds the genesis record, every record that changed membership (so
//! the signers of the other records can be traced to keys the consortium
//! admitted, and registrations to the identifiers it allocated; a reservation,
//! which moves only the next free serial of a range, is not one), every record of the item and of the items it was split from, an
//! inclusion proof for each record, and a checkpoint signed by consortium
//! operators. [`verify_bundle`] checks all of it and replays the custody rules
//! over the records, so a certification body needs no node and no network.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::audit::{CheckpointFinding, Problem, check_checkpoint};
use crate::chain::Record;
use crate::checkpoint::SignedCheckpoint;
use crate::custody::{Body, ConclusionBody, Context, ItemState, State, VerifiedEntry};
use crate::digest::hash_newtype;
use crate::entry::{Kind, LedgerId, SignedEntry};
use crate::ident::Giai;
use crate::merkle::{self, Blake3Hasher};
use crate::store::{Ledger, LedgerError};

/// The format tag of bundles this code writes and reads.
pub const BUNDLE_FORMAT: &str = "salvage-bundle/v1";

hash_newtype! {
    /// A hash on a Merkle inclusion path.
    NodeHash
}

/// One item's records with their proofs and a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The ledger the records belong to.
    pub ledger_id: LedgerId,
    /// The item the bundle is about.
    pub giai: Giai,
    /// The C2SP signed note of the checkpoint every proof is against.
    pub checkpoint: String,
    /// The records, in ledger order, each with its inclusion proof.
    pub records: Vec<ProvenRecord>,
}

/// A record and its inclusion proof in the checkpoint's tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenRecord {
    /// The record.
    pub record: Record,
    /// The RFC 6962 inclusion path of its leaf, bottom up.
    pub inclusion: Vec<NodeHash>,
    /// For an `audit.conclusion`: the RFC 9162 §2.1.4 consistency proof from the tree of the
    /// size its checkpoint names to the bundle checkpoint's tree, which proves that its root is
    /// this ledger's at that size (docs/format.md §7, §18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<Vec<NodeHash>>,
}

/// An audit conclusion a bundle carries, verified: its checkpoint is this ledger's.
#[derive(Debug, Clone, Serialize)]
pub struct ConclusionFinding {
    /// Its record.
    pub seq: u64,
    /// The certifier that signed it.
    pub certifier: String,
    /// When the ledger accepted it.
    pub accepted: String,
    /// The size of the ledger the audit read.
    pub checkpoint_size: u64,
    /// The report's BLAKE3, hex.
    pub report: String,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Whether the conclusion flags the bundle's item.
    pub flagged: bool,
}

/// What verifying a bundle found.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    /// The ledger id derived from the genesis.
    pub ledger_id: LedgerId,
    /// The item.
    pub giai: Giai,
    /// Records whose inclusion proofs and rules were checked.
    pub records_verified: u64,
    /// The checkpoint and who signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointFinding>,
    /// The item as the verified records leave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemState>,
    /// The audit conclusions about the item, each over a checkpoint proven to be this ledger's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conclusions: Vec<ConclusionFinding>,
    /// Every problem found.
    pub problems: Vec<Problem>,
}

impl BundleReport {
    /// Whether the bundle verified without any problem.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Ledger {
    /// The bundle of an item against a signed checkpoint of this ledger.
    pub fn bundle(&self, giai: &Giai, checkpoint: &SignedCheckpoint) -> Result<Bundle, LedgerError> {
        let size = checkpoint.checkpoint.size();
        if self.item(giai)?.is_none() {
            return Err(LedgerError::NoItem(giai.clone()));
        }
        let mut seqs: BTreeSet<u64> = self.membership_records()?.into_iter().collect();
        seqs.insert(0);
        // The item, then every item it was split from, back to the registration.
        let mut next = Some(giai.clone());
        while let Some(current) = next {
            seqs.extend(self.history_seqs(&current)?);
            next = self.item(&current)?.and_then(|item| item.parent);
        }
        let mut records = Vec::new();
        for seq in seqs.into_iter().filter(|seq| *seq < size) {
            let inclusion = self.inclusion_proof(seq, size)?.into_iter().map(NodeHash).collect();
            let record = self.record(seq)?;
            let consistency = match conclusion_of(&record) {
                Some(conclusion) => {
                    Some(self.consistency_proof(conclusion.checkpoint.size, size)?.into_iter().map(NodeHash).collect())
                }
                None => None,
            };
            records.push(ProvenRecord { record, inclusion, consistency });
        }
        Ok(Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            ledger_id: self.ledger_id(),
            giai: giai.clone(),
            checkpoint: checkpoint.to_note(),
            records,
        })
    }
}

/// Verifies a bundle offline against the genesis the verifier trusts, requiring
/// the checkpoint to be signed by at least one operator of the consortium.
pub fn verify_bundle(bundle: &Bundle, genesis: &SignedEntry) -> BundleReport {
    verify_bundle_requiring(bundle, genesis, 1)
}

/// Like [`verify_bundle`], requiring `required_signers` distinct operators to
/// have signed or cosigned the checkpoint (the verifier's trust policy).
pub fn verify_bundle_requiring(bundle: &Bundle, genesis: &SignedEntry, required_signers: usize) -> BundleReport {
    let ledger_id = LedgerId(genesis.id().0);
    let mut report = BundleReport {
        ledger_id,
        giai: bundle.giai.clone(),
        records_verified: 0,
        checkpoint: None,
        item: None,
        conclusions: Vec::new(),
        problems: Vec::new(),
    };
    let mut problem =
        |seq: Option<u64>, code: &str, message: String| report.problems.push(Problem::new(seq, code, message));
    if bundle.format != BUNDLE_FORMAT {
        problem(None, "bundle.format", format!("bundle format {:?} is not {BUNDLE_FORMAT:?}", bundle.format));
    }
    if bundle.ledger_id != ledger_id {
        problem(
            None,
            "bundle.ledger_mismatch",
            format!("the bundle is for ledger {}, the genesis founds {ledger_id}", bundle.ledger_id),
        );
    }
    let checkpoint = match SignedCheckpoint::parse(&bundle.checkpoint) {
        Ok(checkpoint) => checkpoint,
        Err(error) => {
            problem(None, "checkpoint.malformed", error.to_string());
            return report;
        }
    };
    let size = checkpoint.checkpoint.size();
    let root = *checkpoint.checkpoint.root();

    let mut conclusions = Vec::new();
    let mut state: Option<State> = None;
    let mut previous: Option<u64> = None;
    for proven in &bundle.records {
        let record = &proven.record;
        let seq = record.seq.get();
        if previous.is_some_and(|p| p >= seq) {
            problem(Some(seq), "bundle.order", "records are not in strictly increasing ledger order".to_owned());
            continue;
        }
        previous = Some(seq);
        let path: Vec<[u8; 32]> = proven.inclusion.iter().map(|h| h.0).collect();
        if let Err(error) = merkle::verify_inclusion::<Blake3Hasher>(&record.leaf_hash().0, seq, size, &path, &root) {
            problem(Some(seq), "proof.inclusion", format!("record {seq} is not in the checkpoint's tree: {error}"));
            continue;
        }
        match &mut state {
            None => {
                if seq != 0 || record.entry != *genesis {
                    problem(
                        Some(seq),
                        "bundle.genesis_mismatch",
                        "the first record is not the genesis given".to_owned(),
                    );
                    return report;
                }
                match State::from_genesis(&record.entry) {
                    Ok(mut founded) => {
                        // The bundle holds one item's records, not every item a conclusion names.
                        founded.holding_some_items();
                        state = Some(founded);
                    }
                    Err(refusal) => {
                        problem(Some(0), &format!("record.refused:{}", refusal.code), refusal.message);
                        return report;
                    }
                }
            }
            Some(state) => {
                let context = Context { seq: record.seq, accepted: record.accepted.clone() };
                // A bundle carries no disclosures: withheld values are judged publicly.
                let outcome = VerifiedEntry::verify_public(record.entry.clone(), state.consortium().format)
                    .and_then(|entry| state.check(&entry, &context).map(|change| (change, entry)));
                match outcome {
                    Ok((change, entry)) => {
                        if let Body::Conclusion(conclusion) = entry.body() {
                            match verify_conclusion(state, proven, conclusion, (size, &root), &bundle.giai) {
                                Ok(finding) => conclusions.extend(finding),
                                Err(message) => {
                                    problem(Some(seq), "proof.consistency", message);
                                    continue;
                                }
                            }
                        }
                        state.apply(change);
                    }
                    Err(refusal) => {
                        problem(Some(seq), &format!("record.refused:{}", refusal.code), refusal.message);
                        continue;
                    }
                }
            }
        }
        report.records_verified += 1;
    }
    let Some(state) = state else {
        problem(None, "bundle.genesis_mismatch", "the bundle holds no genesis record".to_owned());
        return report;
    };
    report.conclusions = conclusions;
    report.checkpoint = Some(check_checkpoint(&state, &checkpoint, required_signers, &mut report.problems));
    report.item = state.item(&bundle.giai).cloned();
    if report.item.is_none() {
        report.problems.push(Problem::new(
            None,
            "bundle.item_missing",
            format!("no record in the bundle registers {}", bundle.giai),
        ));
    }
    report
}

/// The conclusion a record holds, if it is one and its body has the conclusion's shape.
fn conclusion_of(record: &Record) -> Option<ConclusionBody> {
    let statement = record.entry.statement();
    (statement.kind == Kind::AuditConclusion).then(|| ConclusionBody::deserialize(&statement.body).ok()).flatten()
}

/// Checks that a conclusion's checkpoint is a prefix of the bundle checkpoint's tree (size
/// `tree.0`, root `tree.1`) by the record's consistency proof; what it says of the bundle's item,
/// if it names it (a part's bundle also holds the conclusions about its parent, which judged the
/// parent's chain, not the part's).
fn verify_conclusion(
    state: &State,
    proven: &ProvenRecord,
    conclusion: &ConclusionBody,
    tree: (u64, &[u8; 32]),
    giai: &Giai,
) -> Result<Option<ConclusionFinding>, String> {
    let record = &proven.record;
    let (size, root) = conclusion.named_root().ok_or("the conclusion's checkpoint root is no 32-byte hex value")?;
    let proof: Vec<[u8; 32]> = proven
        .consistency
        .as_ref()
        .ok_or("the conclusion comes without its consistency proof")?
        .iter()
        .map(|h| h.0)
        .collect();
    merkle::verify_consistency::<Blake3Hasher>(size, tree.0, &root, tree.1, &proof).map_err(|error| {
        format!(
            "the conclusion's checkpoint of {size} records is not proven a prefix of the bundle's checkpoint: {error}"
        )
    })?;
    if !conclusion.items.contains(giai) {
        return Ok(None);
    }
    let certifier = record.entry.signatures().first().and_then(|s| state.key_owner(&s.key));
    Ok(Some(ConclusionFinding {
        seq: record.seq.get(),
        certifier: certifier.map(ToString::to_string).unwrap_or_default(),
        accepted: record.accepted.to_string(),
        checkpoint_size: size,
        report: conclusion.report.clone(),
        verdict: conclusion.verdict.clone(),
        flagged: conclusion.flags(giai),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::checkpoint::NoteSigner;
    use crate::entry::Kind;
    use crate::testkit::{Fixture, passport};

    const PARENT: &str = "4750001GLULAM-01";
    const PART: &str = "4750001GLULAM-01A";

    fn ledger_with_split_item(dir: &std::path::Path) -> (Fixture, Ledger, SignedCheckpoint) {
        let f = Fixture::new();
        let ledger = Ledger::create(dir, f.genesis.clone()).unwrap();
        let new_key = crate::entry::PublicKey::of(&Fixture::key("oslo")).to_hex();
        let entries = vec![
            f.signed(
                &["regional-planning", "city-of-jelgava"],
                Kind::MemberAdd,
                json!({"id": "oslo-reuse", "name": "Oslo Reuse AS", "roles": ["holder"], "keys": [new_key]}),
            ),
            f.register("baltic-demolition", PARENT, "Glulam beam GL24h", 420.0),
            f.register("baltic-demolition", "4750001OTHER-01", "Timber door", 35.0),
            f.transfer("baltic-demolition", PARENT, "reuse-hub"),
            f.receive("reuse-hub", PARENT),
            f.signed(
                &["reuse-hub"],
                Kind::ItemSplit,
                json!({"giai": PARENT, "parts": [
                {"giai": PART, "passport": passport(PART, "Glulam GL24h, 5 m", 200.0)},
                {"giai": "4750001GLULAM-01B", "passport": passport("4750001GLULAM-01B", "Glulam GL24h, 4 m", 160.0)}]}),
            ),
            f.transfer("reuse-hub", PART, "oslo-reuse"),
            f.signed(&["oslo"], Kind::ItemReceive, json!({"giai": PART})),
        ];
        for outcome in ledger.submit(entries).unwrap() {
            outcome.unwrap();
        }
        let key = Fixture::key("regional-planning");
        let mut checkpoint =
            SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
                .unwrap();
        let key = Fixture::key("reuse-hub");
        checkpoint.cosign(&NoteSigner { name: "reuse-hub", key: &key }).unwrap();
        (f, ledger, checkpoint)
    }

    #[test]
    fn a_bundle_verifies_offline_with_its_ancestry_and_signers() {
        let dir = tempfile::tempdir().unwrap();
        let (f, ledger, checkpoint) = ledger_with_split_item(dir.path());
        let bundle = ledger.bundle(&Giai::parse(PART).unwrap(), &checkpoint).unwrap();
        let seqs: Vec<u64> = bundle.records.iter().map(|r| r.record.seq.get()).collect();
        // Genesis, the member.add, the parent's registration, transfer, receipt and
        // split, and the part's transfer and receipt; not the unrelated door.
        assert_eq!(seqs, vec![0, 1, 2, 4, 5, 6, 7, 8]);

        // Through JSON, as a certifier receives it.
        let text = serde_json::to_string(&bundle).unwrap();
        let bundle: Bundle = serde_json::from_str(&text).unwrap();
        let report = verify_bundle(&bundle, &f.genesis);
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.records_verified, 8);
        let item = report.item.unwrap();
        assert_eq!(item.custodian.as_str(), "oslo-reuse");
        assert_eq!(item.parent.unwrap().as_str(), PARENT);
        let finding = report.checkpoint.unwrap();
        assert_eq!(finding.signed_by, vec!["regional-planning", "reuse-hub"]);
        assert_eq!(finding.size, ledger.size());

        // A verifier's policy may ask for more signers than the checkpoint has.
        assert!(verify_bundle_requiring(&bundle, &f.genesis, 2).is_clean());
        let strict = verify_bundle_requiring(&bundle, &f.genesis, 3);
        let codes: Vec<_> = strict.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["checkpoint.too_few_signers"], "{:?}", strict.problems);
        assert!(strict.problems[0].message.contains("by 2 of the consortium's"), "{}", strict.problems[0].message);
    }

    #[test]
    fn on_a_ledger_that_allocates_a_bundle_carries_the_allocations_and_no_other_reservations() {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture::allocating();
        let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
        let reserve = |member: &str, prefix: &str, first: u64| {
            f.signed(&[member], Kind::GiaiReserve, json!({"prefix": prefix, "first": first, "count": 2}))
        };
        let admins = ["regional-planning", "city-of-jelgava"];
        let entries = vec![
            f.signed(
                &admins,
                Kind::GiaiAllocate,
                json!({"member": "reuse-hub", "prefix": "4750009", "first": 1, "last": 9}),
            ),
            f.signed(&admins, Kind::MemberUpdate, json!({"id": "reuse-hub", "roles": ["holder", "contractor"]})),
            reserve("baltic-demolition", "4750001", 1),
            reserve("reuse-hub", "4750009", 1),
            f.register("reuse-hub", "47500091", "Timber door", 35.0),
            reserve("baltic-demolition", "4750001", 3),
        ];
        for outcome in ledger.submit(entries).unwrap() {
            outcome.unwrap();
        }
        let key = Fixture::key("regional-planning");
        let checkpoint =
            SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
                .unwrap();
        let bundle = ledger.bundle(&Giai::parse("47500091").unwrap(), &checkpoint).unwrap();
        let seqs: Vec<u64> = bundle.records.iter().map(|r| r.record.seq.get()).collect();
        // The genesis, the allocation and the role change, the item's reservation and
        // registration; not Baltic Demolition's label sheets.
        assert_eq!(seqs, vec![0, 1, 2, 4, 5]);
        let report = verify_bundle(&bundle, &f.genesis);
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.item.unwrap().status, crate::custody::ItemStatus::Available);

        // The hub cuts the door into two parts it tagged ahead: a part's bundle holds its own
        // reservation and its parent's records, and verifies.
        let parts = json!({"giai": "47500091", "parts": [
            {"giai": "47500093", "passport": passport("47500093", "Door leaf", 20.0)},
            {"giai": "47500094", "passport": passport("47500094", "Door frame", 10.0)},
        ]});
        let entries = vec![reserve("reuse-hub", "4750009", 3), f.signed(&["reuse-hub"], Kind::ItemSplit, parts)];
        for outcome in ledger.submit(entries).unwrap() {
            outcome.unwrap();
        }
        let checkpoint =
            SignedCheckpoint::sign(ledger.checkpoint().unwrap(), &NoteSigner { name: "regional-planning", key: &key })
                .unwrap();
        let bundle = ledger.bundle(&Giai::parse("47500094").unwrap(), &checkpoint).unwrap();
        let seqs: Vec<u64> = bundle.records.iter().map(|r| r.record.seq.get()).collect();
        assert_eq!(seqs, vec![0, 1, 2, 4, 5, 7, 8]);
        let report = verify_bundle(&bundle, &f.genesis);
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.item.unwrap().parent.unwrap().as_str(), "47500091");
    }

    #[test]
    fn a_doctored_bundle_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let (f, ledger, checkpoint) = ledger_with_split_item(dir.path());
        let bundle = ledger.bundle(&Giai::parse(PART).unwrap(), &checkpoint).unwrap();
        let codes = |bundle: &Bundle| {
            verify_bundle(bundle, &f.genesis).problems.into_iter().map(|p| p.code).collect::<Vec<_>>()
        };

        // A record changed after the fact no longer has an inclusion proof.
        let mut changed = bundle.clone();
        changed.records[3].record.accepted = crate::entry::Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
        assert!(codes(&changed).contains(&"proof.inclusion".to_owned()));

        // A dropped receipt leaves custody where it was: the later transfer is refused.
        let mut dropped = bundle.clone();
        dropped.records.retain(|r| r.record.seq.get() != 5);
        assert!(codes(&dropped).contains(&"record.refused:custody.not_custodian".to_owned()), "{:?}", codes(&dropped));

        // A damaged path.
        let mut path = bundle.clone();
        path.records[2].inclusion[0].0[0] ^= 1;
        assert!(codes(&path).contains(&"proof.inclusion".to_owned()));

        // Another consortium's genesis.
        let other = Fixture::named("Another consortium");
        let report = verify_bundle(&bundle, &other.genesis);
        assert!(report.problems.iter().any(|p| p.code == "bundle.ledger_mismatch"));

        // A checkpoint nobody in the consortium signed.
        let mut unsigned = bundle.clone();
        let stranger = Fixture::key("stranger");
        unsigned.checkpoint =
            SignedCheckpoint::sign(checkpoint.checkpoint.clone(), &NoteSigner { name: "stranger", key: &stranger })
                .unwrap()
                .to_note();
        assert_eq!(codes(&unsigned), vec!["checkpoint.unsigned"]);

        // Nonsense instead of a note.
        let mut garbled = bundle;
        garbled.checkpoint = "not a note".to_owned();
        assert_eq!(codes(&garbled), vec!["checkpoint.malformed"]);
    }
}
