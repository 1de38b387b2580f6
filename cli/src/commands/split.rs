//! `salvage split GIAI PART.json…`: the custodian cuts an item into parts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;
use super::register::{passport_giai, read_json};

/// Split an item you hold into parts, each with its own passport (and GIAI).
#[derive(Debug, Args)]
pub struct SplitCommand {
    /// The item's GIAI.
    giai: String,
    /// The parts' passports, JSON, at least two; each names its GIAI in identity.giai.
    #[arg(required = true, num_args = 2..)]
    parts: Vec<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl SplitCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut parts = Vec::new();
        for path in &self.parts {
            let passport = read_json(path)?;
            let giai = passport_giai(&passport)
                .with_context(|| format!("{}: the passport names no identity.giai", path.display()))?;
            parts.push(json!({"giai": giai, "passport": passport}));
        }
        self.signer.submit(Kind::ItemSplit, json!({"giai": self.giai, "parts": parts}))
    }
}
