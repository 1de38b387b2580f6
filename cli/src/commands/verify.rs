//! `salvage verify BUNDLE --genesis GENESIS`: one item's proof bundle, checked
//! offline against the genesis alone.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::audit::Problem;
use salvage_ledger::bundle::{Bundle, BundleReport, verify_bundle_requiring};
use salvage_ledger::genesis::Genesis;

/// The long help of `salvage verify --help`.
pub const LONG_ABOUT: &str = "Verify an item's proof bundle offline, trusting nothing but the genesis.

A bundle (from `salvage bundle GIAI --out FILE`) holds the item's records,
every record its parts came from, the membership records that admitted the
signers, an inclusion proof for each record and a checkpoint signed by
consortium operators. This command checks every signature, every inclusion
proof against the checkpoint's root, the checkpoint's operator signatures
and cosignatures (at least --require-signers distinct operators), and every
custody rule, and prints the item as the records leave it.

Exit status 0 when everything verifies; 1 otherwise, after naming each
problem (record, code, message). No network is used.";

/// `salvage verify`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
pub struct VerifyCommand {
    /// The bundle (JSON) to verify.
    bundle: PathBuf,
    /// The consortium's genesis file, the trust anchor: the ledger id, the
    /// founding members and their keys all come from it.
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: PathBuf,
    /// How many distinct consortium operators must have signed or cosigned
    /// the bundle's checkpoint, e.g. 2 of a 3-node consortium; one by default.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    require_signers: u16,
    /// Print the verification report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl VerifyCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let genesis = Genesis::read(&self.genesis)?;
        let bytes =
            std::fs::read(&self.bundle).with_context(|| format!("cannot read the bundle {}", self.bundle.display()))?;
        let bundle: Bundle = serde_json::from_slice(&bytes).with_context(|| {
            format!("{} is not a proof bundle ({})", self.bundle.display(), salvage_ledger::bundle::BUNDLE_FORMAT)
        })?;
        let report = verify_bundle_requiring(&bundle, genesis.entry(), usize::from(self.require_signers));
        if self.json {
            say!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            say_raw!("{}", summary(&report, genesis.consortium()));
        }
        if !report.is_clean() {
            bail!(
                "the bundle of {} does not verify: {} problem{}",
                report.giai,
                report.problems.len(),
                plural(report.problems.len())
            );
        }
        Ok(())
    }
}

/// The report as text for people.
fn summary(report: &BundleReport, consortium: &str) -> String {
    let mut text = format!("Bundle of item {}\n", report.giai);
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<17}{value}\n"));
    line("ledger", format!("{} ({consortium})", report.ledger_id));
    match &report.item {
        Some(item) => {
            line("name", item.name.clone());
            line("custodian", item.custodian.to_string());
            line(
                "status",
                serde_json::to_value(item.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            );
            if let Some(pending) = &item.pending {
                line("offered to", pending.to.to_string());
            }
            line("passport version", item.passport_version.to_string());
            if let Some(parent) = &item.parent {
                line("split from", parent.to_string());
            }
        }
        None => line("item", "not established by the bundle".to_owned()),
    }
    line("records verified", report.records_verified.to_string());
    if let Some(checkpoint) = &report.checkpoint {
        line("checkpoint", format!("size {}, root {}", checkpoint.size, checkpoint.root));
        let signers = if checkpoint.signed_by.is_empty() {
            "nobody in the consortium".to_owned()
        } else {
            checkpoint.signed_by.join(", ")
        };
        line("signed by", format!("{signers} ({} of {} operators)", checkpoint.signed_by.len(), checkpoint.operators));
    }
    if report.is_clean() {
        line("result", "verified: no problem found".to_owned());
    } else {
        line("result", format!("NOT VERIFIED: {} problem{}", report.problems.len(), plural(report.problems.len())));
        text.push_str(&problem_lines(&report.problems));
    }
    text
}

/// Each problem on a line of its own: where, the code, what is wrong.
pub fn problem_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| {
            let place = problem.seq.map_or_else(|| "ledger".to_owned(), |seq| format!("record {seq}"));
            format!("  {place:<14} {}: {}\n", problem.code, problem.message)
        })
        .collect()
}

/// "s" unless there is exactly one.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
