//! `salvage cancel GIAI`: the custodian withdraws a pending transfer.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Withdraw the pending transfer of an item you hold.
#[derive(Debug, Args)]
pub struct CancelCommand {
    /// The item's GIAI.
    giai: String,
    /// Why the transfer is withdrawn.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl CancelCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut body = json!({"giai": self.giai});
        if let Some(reason) = self.reason {
            body["reason"] = json!(reason);
        }
        self.signer.submit(Kind::ItemCancel, body)
    }
}
