//! `salvage dispose GIAI --route ROUTE`: an item leaves reuse for good.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Record that an item you hold went to recycling, recovery or disposal; it never changes again.
#[derive(Debug, Args)]
pub struct DisposeCommand {
    /// The item's GIAI.
    giai: String,
    /// The treatment route: recycling, energy_recovery, landfill or hazardous_waste_treatment.
    #[arg(long)]
    route: String,
    /// The treatment facility, e.g. its name and permit number.
    #[arg(long)]
    facility: Option<String>,
    /// The European List of Waste code, e.g. "17 06 05*".
    #[arg(long)]
    waste_code: Option<String>,
    /// The date of handover, YYYY-MM-DD.
    #[arg(long)]
    date: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl DisposeCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut body = json!({"giai": self.giai, "route": self.route});
        for (name, value) in [("facility", self.facility), ("waste_code", self.waste_code), ("date", self.date)] {
            if let Some(value) = value {
                body[name] = json!(value);
            }
        }
        self.signer.submit(Kind::ItemDispose, body)
    }
}
