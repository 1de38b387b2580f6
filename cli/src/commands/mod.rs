//! The commands of `salvage`, one file each.

use anyhow::Result;
use clap::Subcommand;

/// What `salvage` can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version and the wire format this build speaks.
    Version,
}

/// Runs one command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Version => {
            println!("salvage {} (wire format {})", env!("CARGO_PKG_VERSION"), salvage_node::wire_format().trim_end());
            Ok(())
        }
    }
}
