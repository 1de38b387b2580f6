//! `salvage checkpoint`: the node's current signed checkpoint.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::member_args::NodeArgs;
use super::write_file;

/// Print (or save) the node's current checkpoint, a signed note of the ledger's size and root.
#[derive(Debug, Args)]
pub struct CheckpointCommand {
    /// Also save it to this file, e.g. for a later consistency check by `salvage audit`.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    node: NodeArgs,
}

impl CheckpointCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let note = self.node.client()?.get_bytes("/v1/checkpoint", "text/plain")?;
        if let Some(out) = &self.out {
            write_file(out, &note)?;
        }
        say_raw!("{}", String::from_utf8_lossy(&note));
        Ok(())
    }
}
