//! `salvage history GIAI`: every record about an item, in ledger order: its
//! position, when the ledger accepted it, its kind, the members who signed it
//! and its entry id (for `salvage show`-ing or citing it).

use anyhow::Result;
use clap::Args;

use super::member_args::NodeArgs;

/// Show an item's history: every record about it, with its position, time, kind and who signed it.
#[derive(Debug, Args)]
pub struct HistoryCommand {
    /// The item's GIAI.
    giai: String,
    #[command(flatten)]
    node: NodeArgs,
}

impl HistoryCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let view = self.node.client()?.get_json(&format!("/v1/items/{}", super::path_segment(&self.giai)))?;
        let history = view["history"].as_array().cloned().unwrap_or_default();
        if self.node.json {
            say!("{}", serde_json::Value::Array(history));
            return Ok(());
        }
        for record in &history {
            let text = |name: &str| record[name].as_str().unwrap_or("-").to_owned();
            let signers: Vec<&str> =
                record["signers"].as_array().into_iter().flatten().filter_map(|signer| signer.as_str()).collect();
            say!(
                "{:>8}  {}  {:<16} {:<24} {}",
                record["seq"],
                text("accepted"),
                text("kind"),
                signers.join(","),
                text("entry_id")
            );
        }
        Ok(())
    }
}
