//! `salvage receive GIAI`: the recipient of a transfer takes custody.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Receive an item offered to you: you become its custodian.
#[derive(Debug, Args)]
pub struct ReceiveCommand {
    /// The item's GIAI.
    giai: String,
    /// A remark on receipt, e.g. the state the item arrived in.
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl ReceiveCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut body = json!({"giai": self.giai});
        if let Some(note) = self.note {
            body["note"] = json!(note);
        }
        self.signer.submit(Kind::ItemReceive, body)
    }
}
