//! The commands of `salvage`, one file each.

mod dl;
mod epc;
mod export;
mod labels;
mod node;
mod qr;

use std::path::Path;

use anyhow::{Context, Result};
use clap::Subcommand;

/// What `salvage` can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// EPC tag encodings for RFID (GS1 EPC Tag Data Standard).
    Epc(epc::EpcCommand),
    /// GS1 Digital Link URIs and element strings.
    Dl(dl::DlCommand),
    /// The QR code of an item's Digital Link URI, as PNG or SVG.
    Qr(qr::QrCommand),
    /// A sheet of printable labels for A4 label stock, as PDF or SVG.
    Labels(labels::LabelsCommand),
    /// Serve a ledger over HTTP: the API, the resolver and the provenance pages.
    Node(node::NodeCommand),
    /// Export the ledger for other systems: `salvage export epcis` (GS1 EPCIS 2.0).
    Export(export::ExportCommand),
    /// Print the version and the wire format this build speaks.
    Version,
}

/// Runs one command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Epc(command) => command.run(),
        Command::Dl(command) => command.run(),
        Command::Qr(command) => command.run(),
        Command::Labels(command) => command.run(),
        Command::Node(command) => command.run(),
        Command::Export(command) => command.run(),
        Command::Version => {
            println!("salvage {} (wire format {})", env!("CARGO_PKG_VERSION"), salvage_node::wire_format().trim_end());
            Ok(())
        }
    }
}

/// Writes a whole output file, naming it in any error.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
