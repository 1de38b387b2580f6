//! `salvage dismantle GIAI`: an installed item is taken out again.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Record that an installed item you hold was taken out of its building.
#[derive(Debug, Args)]
pub struct DismantleCommand {
    /// The item's GIAI.
    giai: String,
    /// Why it was taken out.
    #[arg(long)]
    reason: Option<String>,
    /// The date of dismantling, YYYY-MM-DD.
    #[arg(long)]
    date: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl DismantleCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut body = json!({"giai": self.giai});
        for (name, value) in [("reason", self.reason), ("date", self.date)] {
            if let Some(value) = value {
                body[name] = json!(value);
            }
        }
        self.signer.submit(Kind::ItemDismantle, body)
    }
}
