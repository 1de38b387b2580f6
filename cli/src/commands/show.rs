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
            println!("{view}");
            return Ok(());
        }
        let text = |value: &Value| value.as_str().unwrap_or("-").to_owned();
        let (item, passport) = (&view["item"], &view["passport"]);
        println!("{}  {}", self.giai, text(&passport["name"]));
        println!("  status       {}", text(&item["status"]));
        println!("  custodian    {}", text(&item["custodian"]));
        if let Some(to) = item["pending"]["to"].as_str() {
            println!("  offered to   {to}");
        }
        if let Some(mass) = passport["mass_kg"].as_f64() {
            println!("  mass         {mass} kg");
        }
        if let Some(grade) = passport["condition"]["grade"].as_str() {
            println!("  condition    {grade}");
        }
        println!("  passport     version {}", item["passport_version"]);
        for attestation in item["attestations"].as_array().into_iter().flatten() {
            println!("  attested     {}", attestation);
        }
        Ok(())
    }
}
