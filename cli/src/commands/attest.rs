//! `salvage attest GIAI ATTESTATION.json`: a certification body attests an item.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;
use super::register::read_json;

/// Attest an item's condition: the attestation binds to the passport version you examined.
#[derive(Debug, Args)]
pub struct AttestCommand {
    /// The item's GIAI.
    giai: String,
    /// The attestation, JSON: {"type", "result", "summary", …} (schemas/item.attest.schema.json).
    attestation: PathBuf,
    /// The passport version examined; by default the item's current one.
    #[arg(long)]
    passport_version: Option<u64>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl AttestCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let attestation = read_json(&self.attestation)?;
        let version = match self.passport_version {
            Some(version) => version,
            None => {
                let item =
                    self.signer.node.client()?.get_json(&format!("/v1/items/{}", super::path_segment(&self.giai)))?;
                item["item"]["passport_version"].as_u64().context("the node's item view has no passport_version")?
            }
        };
        self.signer.submit(
            Kind::ItemAttest,
            json!({"giai": self.giai, "passport_version": version, "attestation": attestation}),
        )
    }
}
