//! Salvage ledger core.
#![deny(missing_docs)]

/// The domain-separation label that starts every signed message.
pub const SIGNING_CONTEXT_LABEL: &str = "salvage-ledger/v1\n";
