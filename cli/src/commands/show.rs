//! `salvage show GIAI`: an item as the node serves it publicly.

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::member_args::NodeArgs;

/// Show an item: what it is, who holds it, its status and attestations.
#[derive(Debug, Args)]
pub struct ShowCommand {
    /// The item's GIAI.
    giai: String,
    #[command(flatten)]
    node: NodeArgs,
}

impl ShowCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let view = self.node.client()?.get_json(&format!("/v1/items/{}", super::path_segment(&self.giai)))?;
        if self.node.json {
            say!("{view}");
            return Ok(());
        }
        let text = |value: &Value| value.as_str().unwrap_or("-").to_owned();
        let (item, passport) = (&view["item"], &view["passport"]);
        say!("{}  {}", self.giai, text(&passport["name"]));
        say!("  status       {}", text(&item["status"]));
        say!("  custodian    {}", text(&item["custodian"]));
        if let Some(to) = item["pending"]["to"].as_str() {
            say!("  offered to   {to}");
        }
        if let Some(mass) = passport["mass_kg"].as_f64() {
            say!("  mass         {mass} kg");
        }
        if let Some(grade) = passport["condition"]["grade"].as_str() {
            say!("  condition    {grade}");
        }
        say!("  passport     version {}", item["passport_version"]);
        for attestation in item["attestations"].as_array().into_iter().flatten() {
            say!("  attested     {}", attestation);
        }
        Ok(())
    }
}
