//! `salvage verify FILE --genesis GENESIS`: one item's proof bundle, or a
//! proof of one of its restricted values, checked offline against the genesis
//! alone.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::audit::Problem;
use salvage_ledger::bundle::{BUNDLE_FORMAT, Bundle, BundleReport, verify_bundle_requiring};
use salvage_ledger::disclosure_proof::{
    DisclosureProof, PROOF_FORMAT, ProofError, ProvenValue, verify_disclosure_proof,
};
use salvage_ledger::genesis::Genesis;
use serde::Deserialize;
use serde_json::json;

/// The long help of `salvage verify --help`.
pub const LONG_ABOUT: &str = "Verify a proof bundle or a disclosure proof offline, trusting nothing but the genesis.

A bundle (from `salvage bundle GIAI --out FILE`) holds the item's records,
every record its parts came from, the membership records that admitted the
signers, an inclusion proof for each record and a checkpoint signed by
consortium operators. This command checks every signature, every inclusion
proof against the checkpoint's root, the checkpoint's operator signatures
and cosignatures (at least --require-signers distinct operators), and every
custody rule, and prints the item as the records leave it.

A disclosure proof (from `salvage disclose GIAI --field POINTER --out FILE`,
format salvage-disclosure-proof/v1) carries one restricted value, its salt
and the item's bundle. Besides the bundle, this command checks that the
record it names restricts that place and lists the value's fingerprint
(digest) among those it signed, and prints the proven value and who
recorded it. An edited value, salt or place does not verify.

Exit status 0 when everything verifies; 1 otherwise, after naming each
problem (record, code, message). No network is used.";

/// `salvage verify`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
pub struct VerifyCommand {
    /// The bundle or disclosure proof (JSON) to verify.
    #[arg(value_name = "FILE")]
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

/// The `format` member, which tells a disclosure proof from a bundle.
#[derive(Deserialize)]
struct Tagged {
    format: Option<String>,
}

impl VerifyCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let genesis = Genesis::read(&self.genesis)?;
        let bytes = std::fs::read(&self.bundle).with_context(|| format!("cannot read {}", self.bundle.display()))?;
        // Anything but a disclosure proof is read as a bundle, so that a file
        // that is neither is refused as before, as no proof bundle.
        let format = serde_json::from_slice::<Tagged>(&bytes).ok().and_then(|tagged| tagged.format);
        if format.as_deref() == Some(PROOF_FORMAT) {
            return self.verify_proof(&bytes, &genesis);
        }
        let bundle: Bundle = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a proof bundle ({BUNDLE_FORMAT})", self.bundle.display()))?;
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

    /// Verifies a disclosure proof: its bundle, then that the disclosure
    /// belongs to the record it names.
    fn verify_proof(&self, bytes: &[u8], genesis: &Genesis) -> Result<()> {
        let proof: DisclosureProof = serde_json::from_slice(bytes)
            .with_context(|| format!("{} is not a disclosure proof ({PROOF_FORMAT})", self.bundle.display()))?;
        let required = usize::from(self.require_signers);
        let verified = verify_disclosure_proof(&proof, genesis.entry(), required);
        let report = match &verified {
            Ok((_, report)) => report.clone(),
            Err(ProofError::Bundle(report)) => (**report).clone(),
            // The bundle verified; only the disclosure failed.
            Err(_) => verify_bundle_requiring(&proof.bundle, genesis.entry(), required),
        };
        if self.json {
            let proven = verified.as_ref().ok().map(|(proven, _)| proven);
            let error = verified.as_ref().err().map(ToString::to_string);
            say!("{}", serde_json::to_string_pretty(&json!({"proven": proven, "bundle": report, "error": error}))?);
        } else {
            say_raw!("{}", summary(&report, genesis.consortium()));
            match &verified {
                Ok((proven, _)) => say!("{}", proven_line(proven)),
                // A bundle that does not verify has said so, problem by problem.
                Err(error) if report.is_clean() => say!("  {:<17}NOT PROVEN: {error}", "disclosure"),
                Err(_) => {}
            }
        }
        match verified {
            Ok(_) => Ok(()),
            Err(ProofError::Bundle(report)) => bail!(
                "the proof's bundle of {} does not verify: {} problem{}",
                report.giai,
                report.problems.len(),
                plural(report.problems.len())
            ),
            Err(error) => bail!("the proof of a value of {} does not verify: {error}", proof.bundle.giai),
        }
    }
}

/// `Proven: POINTER = VALUE — recorded at position N by SIGNERS`.
fn proven_line(proven: &ProvenValue) -> String {
    let signers =
        if proven.signed_by.is_empty() { "an unknown signer".to_owned() } else { proven.signed_by.join(", ") };
    format!(
        "Proven: {} = {} — recorded at position {} by {signers} ({})",
        proven.pointer, proven.value, proven.seq, proven.kind
    )
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
