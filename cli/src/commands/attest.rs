//! `salvage attest GIAI ATTESTATION.json`: a certification body attests an item;
//! `salvage attest GIAI --withdraw SEQ --reason TEXT` withdraws one it made;
//! `salvage attest --batch FILE.csv` attests many (see `attest_batch.rs`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::attach::FileFields;
use super::member_args::SignerArgs;
use super::register::read_json;

/// Attest an item's condition: the attestation binds to the passport version you examined.
/// With `--withdraw SEQ --reason TEXT`, withdraw the attestation you recorded at record SEQ.
/// With `--batch FILE.csv`, attest every row of the file (columns giai, passport_version, type,
/// result, summary, grade, standard, certificate_id, valid_until); nothing is sent unless every
/// row is valid.
#[derive(Debug, Args)]
pub struct AttestCommand {
    /// The item's GIAI.
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    giai: Option<String>,
    /// The attestation, JSON: {"type", "result", "summary", …} (schemas/item.attest.schema.json).
    #[arg(required_unless_present_any = ["withdraw", "batch"], conflicts_with = "withdraw")]
    attestation: Option<PathBuf>,
    /// Attest every row of a CSV file.
    #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["withdraw", "report", "passport_version"])]
    batch: Option<PathBuf>,
    /// Withdraw the attestation recorded at this record (its seq, as `salvage show` lists it).
    #[arg(long, value_name = "SEQ", requires = "reason")]
    withdraw: Option<u64>,
    /// Why the attestation is withdrawn (with --withdraw).
    #[arg(long, value_name = "TEXT", requires = "withdraw")]
    reason: Option<String>,
    /// The passport version examined; by default the item's current one.
    #[arg(long)]
    passport_version: Option<u64>,
    /// The report or certificate (PDF or image) to upload and name as the attestation's `report`.
    /// The attestation's `report` and `documents` may also name files by path, relative to it.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl AttestCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if let Some(batch) = &self.batch {
            return super::attest_batch::run(batch, &self.signer);
        }
        let giai = self.giai.clone().unwrap_or_default();
        let (Some(path), None) = (&self.attestation, self.withdraw) else {
            return self.signer.submit(
                Kind::ItemAttestWithdraw,
                json!({"giai": giai, "attestation": self.withdraw, "reason": self.reason}),
            );
        };
        let mut attestation = read_json(path)?;
        if let Some(report) = &self.report {
            let absolute = std::path::absolute(report).with_context(|| format!("cannot find {}", report.display()))?;
            if let Some(object) = attestation.as_object_mut() {
                object.insert("report".into(), serde_json::Value::String(absolute.to_string_lossy().into_owned()));
            }
        }
        let base = path.parent().unwrap_or(std::path::Path::new(""));
        FileFields { holder: &mut attestation, lists: &["documents"], single: &["report"] }
            .upload(base, &self.signer)?;
        let version = match self.passport_version {
            Some(version) => version,
            None => {
                let item = self.signer.node.client()?.get_json(&format!("/v1/items/{}", super::path_segment(&giai)))?;
                item["item"]["passport_version"].as_u64().context("the node's item view has no passport_version")?
            }
        };
        self.signer
            .submit(Kind::ItemAttest, json!({"giai": giai, "passport_version": version, "attestation": attestation}))
    }
}
