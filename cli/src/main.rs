//! `salvage`: the command-line entry point of Salvage.
//!
//! Commands arrive with their issues (identifiers, node, CLI). Today the
//! binary reports its version and the wire format it speaks.

use anyhow::Result;
use clap::Parser;

/// Salvage: a traceability ledger for reused construction materials.
#[derive(Debug, Parser)]
#[command(name = "salvage", version, about)]
struct Cli {}

fn main() -> Result<()> {
    let _cli = Cli::parse();
    println!(
        "salvage {} (wire format {})",
        env!("CARGO_PKG_VERSION"),
        salvage_node::wire_format().trim_end()
    );
    Ok(())
}
