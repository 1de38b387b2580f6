//! `salvage install GIAI --building NAME`: the custodian builds an item into a building.

use anyhow::Result;
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::json;

use super::member_args::SignerArgs;

/// Record that an item you hold was installed in a building.
#[derive(Debug, Args)]
pub struct InstallCommand {
    /// The item's GIAI.
    giai: String,
    /// The receiving building or project.
    #[arg(long)]
    building: String,
    /// Its postal address: restricted, so never public (on a format-2 ledger it
    /// is withheld from the record and kept by you and the consortium's nodes).
    #[arg(long)]
    address: Option<String>,
    /// Its country, ISO 3166-1 alpha-2 (e.g. LV).
    #[arg(long)]
    country: Option<String>,
    /// Where in the building, e.g. "Ground floor, gym hall".
    #[arg(long)]
    location: Option<String>,
    /// The date of installation, YYYY-MM-DD.
    #[arg(long)]
    date: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl InstallCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut site = json!({"building": self.building});
        for (name, value) in [("address", self.address), ("country", self.country), ("location", self.location)] {
            if let Some(value) = value {
                site[name] = json!(value);
            }
        }
        let restricted = site.get("address").is_some();
        let mut body = json!({"giai": self.giai, "site": site});
        if restricted {
            // A client's installation address is personal data (docs/format.md §13).
            body["restricted"] = json!(["/site/address"]);
        }
        if let Some(date) = self.date {
            body["date"] = json!(date);
        }
        self.signer.submit(Kind::ItemInstall, body)
    }
}
