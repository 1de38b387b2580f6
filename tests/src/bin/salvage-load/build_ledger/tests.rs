use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;

use salvage_ledger::Ledger;
use salvage_ledger::ident::Giai;

use super::*;
use crate::mix::{BUILDER, HUB, Item, Step};

/// What the mix implies for one item: its custodian, a pending offer, its
/// passport version and how many attestations it has.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expected {
    custodian: String,
    pending: Option<String>,
    version: u64,
    attestations: usize,
}

/// Replays the mix's steps without the ledger.
fn expected(mix: &Mix, records: u64) -> HashMap<Item, Expected> {
    let mut items: HashMap<Item, Expected> = HashMap::new();
    for seq in 1..records {
        match mix.step(seq) {
            Step::Register(item) => {
                let fresh = Expected { custodian: item.contractor().to_owned(), version: 1, ..Expected::default() };
                assert!(items.insert(item, fresh).is_none(), "record {seq} registers {item:?} twice");
            }
            Step::Offer { item, from, to } => {
                let state = items.get_mut(&item).unwrap();
                assert_eq!(state.custodian, from, "record {seq}");
                state.pending = Some(to.to_owned());
            }
            Step::Receive { item, by } => {
                let state = items.get_mut(&item).unwrap();
                assert_eq!(state.pending.take().as_deref(), Some(by), "record {seq}");
                state.custodian = by.to_owned();
            }
            Step::Amend(item) => items.get_mut(&item).unwrap().version += 1,
            Step::Attest(item) => items.get_mut(&item).unwrap().attestations += 1,
        }
    }
    items
}

#[test]
fn builds_a_ledger_of_exactly_n_records_whose_items_moved_as_the_mix_says() {
    let site = tempfile::tempdir().unwrap();
    let dir = site.path().join("site");
    // Not a multiple of the batch or the round: a last partial batch and round.
    let records = 3003;
    let summary = build(&dir, records, 7).unwrap();
    assert_eq!(summary.records, records);
    assert!(summary.bytes > 0);

    let (ledger, report) = Ledger::open(&dir.join("data")).unwrap();
    assert_eq!(ledger.size(), records);
    assert_eq!(report.size, records);
    let mix = Mix::new(7);
    assert_eq!(ledger.ledger_id(), mix.fixture().ledger_id);

    let items = expected(&mix, records);
    let mut held_by = HashMap::<String, usize>::new();
    for (item, want) in &items {
        let giai = Giai::parse(&mix.giai(*item)).unwrap();
        let state = ledger.item(&giai).unwrap().unwrap_or_else(|| panic!("{giai} is not registered"));
        let got = Expected {
            custodian: state.custodian.to_string(),
            pending: state.pending.as_ref().map(|pending| pending.to.to_string()),
            version: state.passport_version,
            attestations: state.attestations.len(),
        };
        assert_eq!(&got, want, "{giai}");
        *held_by.entry(got.custodian).or_default() += 1;
    }
    // The mix's histories reached their end for most chosen items: the builder
    // holds one item per round but the last six, the hub the ones in between.
    let rounds = (records - 1) / crate::mix::ROUND;
    assert_eq!(held_by.get(BUILDER).copied(), Some(rounds as usize - 6));
    assert!(held_by.get(HUB).is_some_and(|&held| held >= 3), "{held_by:?}");
    assert!(items.values().any(|item| item.pending.as_deref() == Some(HUB)));
    assert!(items.values().any(|item| item.pending.as_deref() == Some(BUILDER)));
    assert!(items.values().any(|item| item.version == 2 && item.attestations == 1));

    // A restricted registration's address is withheld and kept in the private store.
    let restricted = Item { round: 10, index: 0 };
    let giai = Giai::parse(&mix.giai(restricted)).unwrap();
    let registered = ledger.item(&giai).unwrap().unwrap().registered;
    assert!(ledger.disclosures(registered.get()).unwrap().is_some_and(|disclosures| disclosures.len() == 1));

    // What a node needs is beside the data.
    let mode = fs::metadata(dir.join(format!("{OPERATOR}.pem"))).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let genesis: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("genesis.json")).unwrap()).unwrap();
    assert_eq!(genesis["statement"]["body"]["format"], 2, "{genesis}");
    let config = fs::read_to_string(dir.join("node.toml")).unwrap();
    assert!(config.contains("data = \"data\"") && config.contains("key = \"city-of-jelgava.pem\""), "{config}");
}

#[test]
fn refuses_a_directory_that_is_not_empty() {
    let site = tempfile::tempdir().unwrap();
    fs::write(site.path().join("notes.txt"), "mine").unwrap();
    let error = build(site.path(), 100, 1).unwrap_err().to_string();
    assert!(error.contains("is not empty"), "{error}");
    assert_eq!(fs::read_dir(site.path()).unwrap().count(), 1, "nothing was written");
}

#[test]
fn refuses_a_file_and_impossible_counts() {
    let site = tempfile::tempdir().unwrap();
    let file = site.path().join("file");
    fs::write(&file, "").unwrap();
    assert!(build(&file, 100, 1).unwrap_err().to_string().contains("not a directory"));
    assert!(build(&site.path().join("a"), 0, 1).unwrap_err().to_string().contains("--records"));
    assert!(build(&site.path().join("b"), MAX_RECORDS + 1, 1).unwrap_err().to_string().contains("--records"));
}

#[test]
fn a_ledger_of_the_genesis_alone_is_one_record() {
    let site = tempfile::tempdir().unwrap();
    let summary = build(&site.path().join("site"), 1, 1).unwrap();
    assert_eq!(summary.records, 1);
    let (ledger, _) = Ledger::open(&site.path().join("site").join("data")).unwrap();
    assert_eq!(ledger.size(), 1);
}

#[test]
fn seeds_name_different_items_and_the_same_seed_the_same() {
    let (one, other) = (Mix::new(1), Mix::new(2));
    let item = Item { round: 3, index: 1 };
    assert_ne!(one.giai(item), other.giai(item));
    assert_eq!(one.giai(item), Mix::new(1).giai(item));
    assert!(one.giai(Item { round: MAX_RECORDS / crate::mix::ROUND, index: 13 }).len() <= 30);
}
