//! The Salvage node: serves one ledger over HTTP.
//!
//! Today it renders what items carry and what gets printed: QR codes of GS1
//! Digital Link URIs ([`qr`]) and label sheets for office printers
//! ([`labels`]). The HTTP API, the Digital Link resolver, checkpoint signing
//! and replication arrive with their own issues.
#![deny(missing_docs)]

pub mod config;
pub mod labels;
pub mod provenance;
pub mod qr;
pub mod server;

/// The version of the ledger wire format this node speaks.
pub fn wire_format() -> &'static str {
    salvage_ledger::SIGNING_CONTEXT_LABEL
}
