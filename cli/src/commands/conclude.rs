//! `salvage conclude REPORT.json`: a certifier signs the conclusion of a custody audit onto the
//! ledger (`audit.conclusion`, docs/format.md §18), from the JSON report `salvage audit …
//! --findings --json` wrote.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde::Deserialize;
use serde_json::json;

use super::member_args::SignerArgs;

/// The most items one conclusion names (the schema's bound).
const MAX_ITEMS: usize = 10_000;

/// The largest report read: the JSON of an audit of 10,000 chains is a few megabytes.
pub(super) const MAX_REPORT_BYTES: u64 = 64 << 20;

/// Sign the conclusion of a custody audit onto the ledger (certification bodies): the checkpoint
/// the audit read, the items it judged, the report's BLAKE3 and the verdict, all taken from the
/// JSON report of `salvage audit --node URL --scope … --findings --json > REPORT.json`. Keep the
/// report exactly as written: its hash is what the ledger holds, and `salvage verify --report`
/// checks it. Items in scope then show the conclusion on their page and carry it in their bundles.
#[derive(Debug, Args)]
pub struct ConcludeCommand {
    /// The audit's JSON report.
    report: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
}

impl ConcludeCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let path = &self.report;
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
        if size > MAX_REPORT_BYTES {
            bail!("{} has {size} bytes; an audit report of at most {MAX_ITEMS} chains is far smaller", path.display());
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let body = conclusion(&bytes)
            .with_context(|| format!("{} is no report a conclusion can be made of", path.display()))?;
        self.signer.submit(Kind::AuditConclusion, body)
    }
}

/// What a conclusion needs of the audit's JSON report.
#[derive(Deserialize)]
struct Report {
    clean: bool,
    checkpoint: Option<Checkpoint>,
    custody: Option<Custody>,
}

#[derive(Deserialize)]
struct Checkpoint {
    size: u64,
    root: String,
    signed_by: Vec<String>,
}

#[derive(Deserialize)]
struct Custody {
    scope: Vec<String>,
    chains: Vec<Named>,
    findings: Vec<Found>,
    errors: u64,
    warnings: u64,
    verdict: String,
}

#[derive(Deserialize)]
struct Named {
    giai: String,
}

#[derive(Deserialize)]
struct Found {
    giai: String,
    severity: String,
}

/// The body of the conclusion of the report whose bytes are `bytes`.
fn conclusion(bytes: &[u8]) -> Result<serde_json::Value> {
    let report: Report = serde_json::from_slice(bytes)
        .context("it is not the JSON that salvage audit --findings --json writes (clean, checkpoint, custody)")?;
    if !report.clean {
        bail!("the integrity audit found problems: a custody audit of a ledger that does not verify concludes nothing");
    }
    let checkpoint = report
        .checkpoint
        .filter(|checkpoint| !checkpoint.signed_by.is_empty())
        .context("the audit verified no signed checkpoint: audit a --node, or give --checkpoint FILE with --data")?;
    let custody = report.custody.context("it has no custody audit: run salvage audit with --scope or --findings")?;
    if custody.chains.is_empty() {
        bail!("the audit judged no item: a conclusion names the items whose chains it judged");
    }
    if custody.chains.len() > MAX_ITEMS {
        bail!(
            "the audit judged {} items; a conclusion names at most {MAX_ITEMS}: narrow the --scope or draw a --sample",
            custody.chains.len()
        );
    }
    let items: Vec<&str> = custody.chains.iter().map(|chain| chain.giai.as_str()).collect();
    // Flagged: the items with a finding the counts count (an error or a warning); one that is
    // only information for the scheme (a withdrawn attestation, by default) is not held against it.
    let flagged: BTreeSet<&str> = custody
        .findings
        .iter()
        .filter(|finding| matches!(finding.severity.as_str(), "error" | "warning"))
        .map(|finding| finding.giai.as_str())
        .collect();
    Ok(json!({
        "scope": custody.scope,
        "checkpoint": {"size": checkpoint.size, "root": checkpoint.root},
        "report": blake3::hash(bytes).to_hex().as_str(),
        "verdict": custody.verdict,
        "findings": {"errors": custody.errors, "warnings": custody.warnings},
        "items": items,
        "flagged": flagged,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn report(clean: bool, signed_by: &[&str], findings: &[&str]) -> Vec<u8> {
        let findings: Vec<_> =
            findings.iter().map(|giai| json!({"giai": giai, "code": "finding.x", "severity": "error"})).collect();
        let errors = findings.len();
        serde_json::to_vec(&json!({
            "clean": clean,
            "checkpoint": {"size": 12, "root": "ab".repeat(32), "signed_by": signed_by},
            "custody": {"scope": ["member=baltic-demolition"], "chains": [{"giai": "4750001A"}, {"giai": "4750001B"}],
                        "findings": findings, "errors": errors, "warnings": 0,
                        "verdict": if errors == 0 { "pass" } else { "fail" }},
        }))
        .unwrap()
    }

    #[test]
    fn a_conclusion_takes_the_checkpoint_items_flags_and_hash_of_the_report() {
        let bytes = report(true, &["regional-planning"], &["4750001B", "4750001B"]);
        let body = conclusion(&bytes).unwrap();
        assert_eq!(body["checkpoint"], json!({"size": 12, "root": "ab".repeat(32)}));
        assert_eq!(body["items"], json!(["4750001A", "4750001B"]));
        assert_eq!(body["flagged"], json!(["4750001B"]));
        assert_eq!(body["verdict"], "fail");
        assert_eq!(body["report"], blake3::hash(&bytes).to_hex().as_str());
    }

    #[test]
    fn a_finding_that_is_only_information_flags_no_item() {
        let mut value: serde_json::Value = serde_json::from_slice(&report(true, &["x"], &[])).unwrap();
        value["custody"]["findings"] =
            json!([{"giai": "4750001A", "code": "finding.attestation_withdrawn", "severity": "info"}]);
        let body = conclusion(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(body["flagged"], json!([]));
        assert_eq!(body["findings"], json!({"errors": 0, "warnings": 0}));
    }

    #[test]
    fn no_conclusion_of_an_unclean_audit_an_unsigned_checkpoint_or_no_custody_audit() {
        let unclean = conclusion(&report(false, &["regional-planning"], &[])).unwrap_err();
        assert!(format!("{unclean:#}").contains("integrity audit found problems"), "{unclean:#}");
        let unsigned = conclusion(&report(true, &[], &[])).unwrap_err();
        assert!(format!("{unsigned:#}").contains("no signed checkpoint"), "{unsigned:#}");
        let mut value: serde_json::Value = serde_json::from_slice(&report(true, &["x"], &[])).unwrap();
        value.as_object_mut().unwrap().remove("custody");
        let none = conclusion(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert!(format!("{none:#}").contains("no custody audit"), "{none:#}");
        assert!(conclusion(b"not json").is_err());
    }
}
