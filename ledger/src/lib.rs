//! Salvage ledger core.
#![deny(missing_docs)]

pub mod canonical;
pub mod checkpoint;
pub mod chain;
pub mod custody;
mod digest;
pub mod entry;
pub mod ident;
pub mod merkle;
pub mod refusal;
pub mod schema;
pub mod store;
pub mod testkit;

/// The domain-separation label that starts every signed message.
pub const SIGNING_CONTEXT_LABEL: &str = "salvage-ledger/v1\n";
