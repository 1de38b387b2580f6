//! Removing the passport fields a contractor marked as not for the public.
//!
//! The redaction itself is pure and shared with the ledger's EPCIS export, so
//! it lives in [`salvage_ledger::redact`]; the provenance page and the API take
//! every passport field through [`public_passport`], re-exported here.

pub use salvage_ledger::redact::public_passport;
