//! The Salvage node: serves one ledger over HTTP, alone or as one of a
//! consortium's nodes.
//!
//! [`run`] is the entry point: from a checked [`config::NodeConfig`], a
//! listener and a shutdown signal it opens the ledger, starts the node (and
//! its part in the consortium when peers are configured), serves until told to
//! stop and stops cleanly. `salvage node` and `salvage demo` only parse their
//! arguments and call it.
//!
//! - [`config`]: `salvage node`'s settings (TOML file, `SALVAGE_*` variables,
//!   flags) and the checks that the key is an operator of the consortium.
//! - [`server`]: the HTTP API (axum on tokio) of every node: submissions,
//!   records, signed checkpoints, proofs, items, and the `/8004/{giai}`
//!   Digital Link resolver.
//! - [`consortium`]: what only a consortium node has: Raft replication, the
//!   routes its peers call, proposals and cosigning. Mounted only when peers
//!   are configured.
//! - [`witness`]: what the node last signed; it never signs two histories.
//! - [`provenance`]: the buyer's provenance page in their language and the
//!   resolver's linkset; restricted passport fields never leave the node.
//! - [`qr`] and [`labels`]: QR codes of Digital Link URIs and printable label sheets.
//! - [`member_auth`]: members' signed reads, HTTP Message Signatures (RFC 9421) with Ed25519.
//! - [`audit_report`]: the HTML report a certification body files after `salvage audit`.
//! - [`attachments`]: members' photos and documents, and the page's thumbnails of the photos.
//! - [`holdings`]: who holds what, is offered what and signed what, for members' own lists.
//! - [`follower`]: following the ledger into the attachments' names and the holdings.
//! - [`app`]: the site app at `/app/`, with which members work from a phone; its key stays there.
#![deny(missing_docs)]

pub mod app;
mod assembly;
pub mod attachments;
pub mod audit_report;
pub mod config;
pub mod consortium;
pub mod custody_report;
pub mod follower;
pub mod holdings;
pub mod impact_report;
// Crate-private parsers opened to the fuzz targets, only in their builds.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod labels;
pub mod member_auth;
pub mod provenance;
pub mod qr;
pub mod server;
mod throttle;
pub mod witness;

pub use assembly::{RunError, run};

/// The version of the ledger wire format this node speaks.
pub fn wire_format() -> &'static str {
    salvage_ledger::SIGNING_CONTEXT_LABEL
}
