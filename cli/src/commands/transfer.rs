//! `salvage transfer GIAI --to MEMBER`: the custodian offers an item to another member.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Offer an item you hold to another member; custody moves when they receive it.
#[derive(Debug, Args)]
pub struct TransferCommand {
    /// The item's GIAI.
    giai: String,
    /// The member id of the recipient.
    #[arg(long)]
    to: String,
    /// A remark for the recipient, e.g. delivery arrangements.
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl TransferCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut body = json!({"giai": self.giai, "to": self.to});
        if let Some(note) = self.note {
            body["note"] = json!(note);
        }
        self.signer.submit(Kind::ItemTransfer, body)
    }
}
