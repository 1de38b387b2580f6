//! The Salvage node: serves one ledger over HTTP.
//!
//! - [`server`]: the HTTP API (axum on tokio): submissions, records, signed
//!   checkpoints, proofs, items, and the `/8004/{giai}` Digital Link resolver;
//!   `server::run(listener, node, shutdown)` serves until told to stop.
//! - [`provenance`]: the buyer's provenance page in their language and the
//!   resolver's linkset; restricted passport fields never leave the node.
//! - [`config`]: `salvage node`'s settings (TOML file, `SALVAGE_*` variables,
//!   flags) and the checks that the key is an operator of the consortium.
//! - [`qr`] and [`labels`]: QR codes of Digital Link URIs and printable label sheets.
//!
//! Replication between consortium nodes arrives with its own issue.
#![deny(missing_docs)]

pub mod config;
pub mod labels;
pub mod provenance;
pub mod qr;
pub mod replication;
pub mod server;
pub mod witness;

/// The version of the ledger wire format this node speaks.
pub fn wire_format() -> &'static str {
    salvage_ledger::SIGNING_CONTEXT_LABEL
}
