//! `salvage history GIAI`: every record about an item, in ledger order.

use anyhow::Result;
use clap::Args;

use super::member_args::NodeArgs;

/// Show an item's history: every record about it, with its position and time.
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
            say!("{:>8}  {}  {:<16} {}", record["seq"], text("accepted"), text("kind"), text("entry_id"));
        }
        Ok(())
    }
}
