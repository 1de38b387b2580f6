//! `salvage bundle GIAI --out FILE`: an item's offline proof bundle.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::member_args::NodeArgs;
use super::write_file;

/// Download an item's proof bundle, which `salvage verify` checks offline.
#[derive(Debug, Args)]
pub struct BundleCommand {
    /// The item's GIAI.
    giai: String,
    /// Where to write the bundle (JSON).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

impl BundleCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let path = format!("/v1/items/{}/bundle", super::path_segment(&self.giai));
        let bundle = self.node.client()?.get_bytes(&path, "application/json")?;
        write_file(&self.out, &bundle)?;
        if !self.node.json {
            say!("bundle of {} written to {}", self.giai, self.out.display());
        }
        Ok(())
    }
}
