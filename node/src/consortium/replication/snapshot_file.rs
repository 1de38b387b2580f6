//! The lines of a snapshot file (docs/format.md §12.6): one record per line,
//! `0..size`, each its canonical JSON; a record that withholds values (ledger
//! format 2) comes with its disclosures as
//! `{"disclosures":[[salt, pointer, value], …],"record":<record>}`, so that a
//! node restored from a snapshot holds them as the nodes that applied the
//! record do. Snapshots travel only between the consortium's nodes, over
//! authenticated Raft traffic (§12), and rest in their data directories.

use std::io::Write;

use salvage_ledger::chain::Record;
use salvage_ledger::disclosure::Disclosure;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A record read from a snapshot line, with its exact bytes and its disclosures.
pub(super) struct SnapshotLine {
    pub record: Record,
    /// The record's canonical bytes as the line carries them.
    pub bytes: Vec<u8>,
    pub disclosures: Vec<Disclosure>,
}

/// Writes record `bytes` (and its disclosures, if it has any) as one line.
pub(super) fn write_line(
    out: &mut impl Write,
    bytes: &[u8],
    disclosures: Option<&[Disclosure]>,
) -> std::io::Result<()> {
    match disclosures {
        Some(disclosures) if !disclosures.is_empty() => {
            out.write_all(b"{\"disclosures\":")?;
            out.write_all(&Disclosure::canonical_list(disclosures))?;
            out.write_all(b",\"record\":")?;
            out.write_all(bytes)?;
            out.write_all(b"}\n")
        }
        _ => out.write_all(bytes).and_then(|()| out.write_all(b"\n")),
    }
}

/// Reads one line; says what is wrong with a line that is not one.
pub(super) fn read_line(line: &[u8]) -> Result<SnapshotLine, String> {
    if !line.starts_with(b"{\"disclosures\":") {
        let record = Record::from_json_bytes(line).map_err(|e| e.to_string())?;
        return Ok(SnapshotLine { record, bytes: line.to_vec(), disclosures: Vec::new() });
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Disclosed<'a> {
        disclosures: Vec<Value>,
        #[serde(borrow)]
        record: &'a RawValue,
    }
    let disclosed: Disclosed<'_> =
        serde_json::from_slice(line).map_err(|e| format!("not a record with its disclosures: {e}"))?;
    let disclosures = disclosed
        .disclosures
        .iter()
        .map(|disclosure| Disclosure::from_value(disclosure).map_err(|refusal| refusal.message))
        .collect::<Result<Vec<_>, String>>()?;
    let bytes = disclosed.record.get().as_bytes().to_vec();
    let record = Record::from_json_bytes(&bytes).map_err(|e| e.to_string())?;
    Ok(SnapshotLine { record, bytes, disclosures })
}

#[cfg(test)]
mod tests {
    use salvage_ledger::store::Ledger;
    use salvage_ledger::testkit::{Fixture, passport};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_and_its_disclosures_survive_a_snapshot_line_exactly() {
        let f = Fixture::withholding();
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(dir.path(), f.genesis.clone()).unwrap();
        let mut body = passport("4750001SNAP-1", "Beam", 12.5);
        body["origin"]["address"] = json!("Pils iela 1");
        body["restricted"] = json!(["/origin/address"]);
        let (entry, disclosures) = f.withheld(
            &["baltic-demolition"],
            salvage_ledger::entry::Kind::ItemRegister,
            json!({"giai": "4750001SNAP-1", "passport": body}),
        );
        ledger.submit_disclosed(vec![(entry, disclosures.clone())]).unwrap().remove(0).unwrap();
        let mut file = Vec::new();
        for seq in 0..2 {
            let held = ledger.disclosures(seq).unwrap();
            write_line(&mut file, &ledger.record_bytes(seq).unwrap(), held.as_deref()).unwrap();
        }
        let lines: Vec<&[u8]> = file.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect();
        let read: Vec<SnapshotLine> = lines.iter().map(|line| read_line(line).unwrap()).collect();
        assert_eq!(read[0].bytes, ledger.record_bytes(0).unwrap());
        assert!(read[0].disclosures.is_empty());
        assert_eq!(read[1].bytes, ledger.record_bytes(1).unwrap());
        assert_eq!(read[1].disclosures, disclosures);
        for bad in [&b"{\"disclosures\":[],\"record\":1}"[..], b"{\"disclosures\":[1],\"record\":{}}", b"nonsense"] {
            assert!(read_line(bad).is_err());
        }
    }
}
