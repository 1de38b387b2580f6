//! The member's own copy of the values it withholds from a format-2 ledger
//! (docs/format.md §13): one file per entry, in a directory of its own.
//!
//! A restricted value never enters the signed record. The node keeps the
//! disclosures in its private store, but a contractor must not depend on one
//! node to remember the contractor's own data: the node may accept an entry
//! and the answer be lost on the way back, or the node may be gone years later
//! when a buyer asks for the donor building's address. So the CLI writes an
//! entry's disclosures here, durably, *before* it submits the entry; when that
//! fails, nothing is submitted.
//!
//! `DIR/<entry id>.json` is pretty JSON:
//!
//! ```json
//! {
//!   "entry_id": "<64 hex digits>",
//!   "ledger_id": "<64 hex digits>",
//!   "kind": "item.register",
//!   "giai": "4750001BEAM-0001",
//!   "disclosures": [["<salt>", "/passport/origin/address", "Rūpniecības iela 1, Jelgava"]]
//! }
//! ```
//!
//! `giai` is the signed body's own `giai` (for a split, the item split; each
//! part's GIAI is in its disclosures' pointers) and is left out when the body
//! has none. Each disclosure is `[salt, pointer, value]`, exactly as it
//! travels, so its digest can be recomputed and matched against the record's
//! `_sd`.

use std::collections::HashMap;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use salvage_ledger::disclosure::Disclosure;
use salvage_ledger::entry::{EntryId, LedgerId, SignedEntry};
use serde::Serialize;
use serde_json::Value;

/// The directory a member keeps its disclosures in.
#[derive(Debug, Clone)]
pub struct DisclosuresDir {
    dir: PathBuf,
}

/// One kept file, its members in the order a person reads them.
#[derive(Serialize)]
struct Kept<'a> {
    entry_id: String,
    ledger_id: String,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    giai: Option<&'a str>,
    disclosures: Vec<Value>,
}

impl DisclosuresDir {
    /// The directory at `dir` (created when the first file is kept).
    pub fn new(dir: PathBuf) -> DisclosuresDir {
        DisclosuresDir { dir }
    }

    /// Where the directory is.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The file that keeps the disclosures of `entry`.
    pub fn file_of(&self, entry: EntryId) -> PathBuf {
        self.dir.join(format!("{}.json", entry.to_hex()))
    }

    /// Writes `entry`'s disclosures to [`DisclosuresDir::file_of`] durably: the
    /// directory is created (mode 0700) if missing, the file (mode 0600) is
    /// written under a temporary name, fsynced, renamed into place, and the
    /// directory fsynced, so that once this returns the file survives a crash
    /// and a reader never sees half of it. The error names the path that failed.
    pub fn keep(&self, ledger: LedgerId, entry: &SignedEntry, disclosures: &[Disclosure]) -> Result<PathBuf> {
        let statement = entry.statement();
        let kept = Kept {
            entry_id: entry.id().to_hex(),
            ledger_id: ledger.to_hex(),
            kind: statement.kind.as_str(),
            giai: statement.body.get("giai").and_then(Value::as_str),
            disclosures: disclosures.iter().map(Disclosure::to_value).collect(),
        };
        let mut text = serde_json::to_vec_pretty(&kept).context("writing the disclosures as JSON")?;
        text.push(b'\n');

        // Only this member may list the directory; the files themselves are
        // 0600 as well, so a directory the member chose with wider rights
        // still shows others no more than the entry ids, which are public.
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("cannot create the disclosures directory {}", self.dir.display()))?;
        let path = self.file_of(entry.id());
        // The process id keeps two runs writing the same entry (which only a
        // retry of an identical statement could) from sharing a temporary file.
        let temporary = self.dir.join(format!(".{}.json.{}.tmp", entry.id().to_hex(), std::process::id()));
        if let Err(error) = write_synced(&temporary, &text) {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
        if let Err(error) = std::fs::rename(&temporary, &path) {
            let _ = std::fs::remove_file(&temporary);
            return Err(error).with_context(|| format!("cannot rename {} to {}", temporary.display(), path.display()));
        }
        // The rename is durable only once the directory's entry is.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot fsync the disclosures directory {}", self.dir.display()))?;
        Ok(path)
    }
}

/// The most files [`DisclosuresDir::read_all`] reads, and the largest: a bound
/// on what a directory someone else filled can make an audit hold in memory.
const MAX_FILES: usize = 1_000_000;
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl DisclosuresDir {
    /// Every kept file's disclosures for `ledger`, by entry id (files of other
    /// ledgers are skipped). A file that is not one this module writes is an
    /// error naming it: an auditor must know which values it did not check.
    pub fn read_all(&self, ledger: LedgerId) -> Result<HashMap<EntryId, Vec<Disclosure>>> {
        let mut kept = HashMap::new();
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot read the disclosures directory {}", self.dir.display()))?;
        for (count, entry) in entries.enumerate() {
            if count >= MAX_FILES {
                anyhow::bail!("{} holds more than {MAX_FILES} files", self.dir.display());
            }
            let path = entry.with_context(|| format!("cannot list {}", self.dir.display()))?.path();
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let (entry_id, ledger_id, disclosures) =
                read_kept(&path).with_context(|| format!("{} is not a kept disclosures file", path.display()))?;
            if ledger_id == ledger {
                kept.insert(entry_id, disclosures);
            }
        }
        Ok(kept)
    }
}

/// One kept file: its entry, its ledger and its disclosures.
fn read_kept(path: &Path) -> Result<(EntryId, LedgerId, Vec<Disclosure>)> {
    let size = std::fs::metadata(path).context("cannot read it")?.len();
    anyhow::ensure!(size <= MAX_FILE_BYTES, "it is {size} bytes long, more than a kept file ever is");
    let value: Value = serde_json::from_slice(&std::fs::read(path).context("cannot read it")?).context("not JSON")?;
    let hex = |member: &str| value.get(member).and_then(Value::as_str).with_context(|| format!("no {member}"));
    let entry_id = EntryId::from_hex(hex("entry_id")?).context("entry_id is not 64 lowercase hex digits")?;
    let ledger_id = LedgerId::from_hex(hex("ledger_id")?).context("ledger_id is not 64 lowercase hex digits")?;
    let disclosures = value
        .get("disclosures")
        .and_then(Value::as_array)
        .context("no disclosures array")?
        .iter()
        .map(|disclosure| Disclosure::from_value(disclosure).map_err(|refusal| anyhow::anyhow!("{refusal}")))
        .collect::<Result<Vec<_>>>()?;
    Ok((entry_id, ledger_id, disclosures))
}

/// Creates `path` (mode 0600, not there before), writes `bytes` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot fsync {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

    use std::os::unix::fs::PermissionsExt;

    use salvage_ledger::disclosure::{Salt, withhold};
    use salvage_ledger::entry::Kind;
    use salvage_ledger::testkit::{Fixture, passport};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_kept_file_holds_the_disclosures_whose_digests_the_body_lists() {
        let fixture = Fixture::withholding();
        let mut passport = passport("4750001BEAM-0001", "Steel beam", 253.0);
        passport["origin"]["address"] = json!("Rūpniecības iela 1, Jelgava");
        passport["restricted"] = json!(["/origin/address", "/mass_kg"]);
        let body = json!({"giai": "4750001BEAM-0001", "passport": passport});
        let (public, disclosures) = withhold(Kind::ItemRegister, &body, Salt::random).unwrap().unwrap();
        let entry = fixture.signed(&["baltic-demolition"], Kind::ItemRegister, public.clone());
        let scratch = tempfile::tempdir().unwrap();
        let store = DisclosuresDir::new(scratch.path().join("nested").join("disclosures"));

        let path = store.keep(fixture.ledger_id, &entry, &disclosures).unwrap();

        assert_eq!(path, store.file_of(entry.id()));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o700);
        let kept: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(kept["entry_id"], entry.id().to_hex());
        assert_eq!(kept["ledger_id"], fixture.ledger_id.to_hex());
        assert_eq!(kept["kind"], "item.register");
        assert_eq!(kept["giai"], "4750001BEAM-0001");
        let mut digests: Vec<String> = kept["disclosures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|disclosure| Disclosure::from_value(disclosure).unwrap().digest().to_hex())
            .collect();
        digests.sort();
        assert_eq!(json!(digests), public["_sd"]);
        let leftovers: Vec<_> = std::fs::read_dir(store.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
