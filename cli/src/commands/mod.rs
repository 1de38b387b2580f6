//! The commands of `salvage`, one file each.

// First, so that its macros are in scope in every command's module.
#[macro_use]
mod output;

mod attach;
mod attachment_files;
mod attest;
mod attest_batch;
mod audit;
mod audit_findings;
mod bundle;
mod cancel;
mod checkpoint;
mod conclude;
mod demo;
mod disclose;
mod dismantle;
mod dispose;
mod dl;
mod epc;
mod export;
mod export_csv;
mod history;
mod import;
mod init;
mod install;
mod key;
mod labels;
mod member;
mod member_args;
mod node;
mod qr;
mod receive;
mod record_source;
mod register;
mod report;
mod serving;
mod show;
mod split;
mod transfer;
mod verify;

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
    /// Create, seed and serve a demo consortium (or reopen one).
    Demo(demo::DemoCommand),
    /// Serve a ledger over HTTP: the API, the resolver and the provenance pages.
    Node(node::NodeCommand),
    /// Create or inspect a member's Ed25519 key file.
    Key(key::KeyCommand),
    /// Write and sign the genesis of a new consortium.
    Init(init::InitCommand),
    /// Admit a member, change one, or revoke a key.
    Member(member::MemberCommand),
    /// Register an item with its material passport (contractors).
    Register(register::RegisterCommand),
    /// Register every item of a pre-demolition inventory (CSV), after checking every row.
    Import(import::ImportCommand),
    /// Offer an item you hold to another member.
    Transfer(transfer::TransferCommand),
    /// Receive an item offered to you.
    Receive(receive::ReceiveCommand),
    /// Withdraw a pending transfer.
    Cancel(cancel::CancelCommand),
    /// Attest an item's condition (certification bodies).
    Attest(attest::AttestCommand),
    /// Sign the conclusion of a custody audit onto the ledger, from its JSON report (certification bodies).
    Conclude(conclude::ConcludeCommand),
    /// Upload photos and documents (metadata stripped) and print their references.
    #[command(long_about = attach::LONG_ABOUT)]
    Attach(attach::AttachCommand),
    /// Split an item into parts with their own passports.
    Split(split::SplitCommand),
    /// Record an item's installation in a building.
    Install(install::InstallCommand),
    /// Record that an installed item was taken out again.
    Dismantle(dismantle::DismantleCommand),
    /// Record an item's recycling or disposal.
    Dispose(dispose::DisposeCommand),
    /// Show an item's current state.
    Show(show::ShowCommand),
    /// Show every record about an item.
    History(history::HistoryCommand),
    /// Download an item's offline proof bundle.
    Bundle(bundle::BundleCommand),
    /// Prove one restricted value of an item, for anyone to verify offline.
    #[command(long_about = disclose::LONG_ABOUT)]
    Disclose(disclose::DiscloseCommand),
    /// Print the node's signed checkpoint.
    Checkpoint(checkpoint::CheckpointCommand),
    /// Export the ledger for other systems: `salvage export epcis` (GS1 EPCIS 2.0).
    Export(export::ExportCommand),
    /// Verify a proof bundle or a disclosure proof offline against the genesis.
    #[command(long_about = verify::LONG_ABOUT)]
    Verify(verify::VerifyCommand),
    /// Audit a whole ledger from a node or a data directory.
    #[command(long_about = audit::LONG_ABOUT)]
    Audit(audit::AuditCommand),
    /// Reports computed from a whole ledger: `salvage report impact` (masses, EU Taxonomy share, CO2e).
    Report(report::ReportCommand),
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
        Command::Demo(command) => command.run(),
        Command::Node(command) => command.run(),
        Command::Key(command) => command.run(),
        Command::Init(command) => command.run(),
        Command::Member(command) => command.run(),
        Command::Register(command) => command.run(),
        Command::Import(command) => command.run(),
        Command::Transfer(command) => command.run(),
        Command::Receive(command) => command.run(),
        Command::Cancel(command) => command.run(),
        Command::Attest(command) => command.run(),
        Command::Conclude(command) => command.run(),
        Command::Attach(command) => command.run(),
        Command::Split(command) => command.run(),
        Command::Install(command) => command.run(),
        Command::Dismantle(command) => command.run(),
        Command::Dispose(command) => command.run(),
        Command::Show(command) => command.run(),
        Command::History(command) => command.run(),
        Command::Bundle(command) => command.run(),
        Command::Disclose(command) => command.run(),
        Command::Checkpoint(command) => command.run(),
        Command::Export(command) => command.run(),
        Command::Verify(command) => command.run(),
        Command::Audit(command) => command.run(),
        Command::Report(command) => command.run(),
        Command::Version => {
            say!("salvage {} (wire format {})", env!("CARGO_PKG_VERSION"), salvage_node::wire_format().trim_end());
            Ok(())
        }
    }
}

/// A GIAI as one path segment of a node's URL: GIAIs may hold `/`, `?`, `#`.
fn path_segment(giai: &str) -> String {
    percent_encoding::utf8_percent_encode(giai, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Writes a whole output file, naming it in any error.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
