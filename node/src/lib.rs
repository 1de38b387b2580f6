//! The Salvage node: serves one ledger over HTTP.
//!
//! The HTTP API, the Digital Link resolver, checkpoint signing and replication
//! arrive with their own issues; today this crate only names the ledger it
//! will serve, so that the dependency direction cli → node → ledger is fixed
//! from the first commit.
#![deny(missing_docs)]

/// The version of the ledger wire format this node speaks.
pub fn wire_format() -> &'static str {
    salvage_ledger::SIGNING_CONTEXT_LABEL
}
