//! The buyer-facing provenance page and the Digital Link resolver's linkset.
//!
//! A buyer scans the QR code on a salvaged item and lands on the item's page:
//! what it is, its hazards, where it came from, who held it, what was
//! certified, whose audit judged its custody chain, and how the record was
//! verified against the consortium's signed checkpoint. [`view::Provenance`] gathers that from the ledger (restricted
//! passport fields removed by [`redact::public_passport`]), [`page`] renders it
//! as one self-contained HTML document in the buyer's language ([`locale`]),
//! and `linkset` answers machines that ask the resolver for every link of an
//! item.

pub mod attachments_view;
pub mod attestations_view;
pub mod linkset;
pub mod locale;
pub mod page;
pub mod redact;
pub mod reserved;
pub mod view;
mod words;

pub use linkset::linkset;
pub use locale::{Locale, LocaleError, Locales};
pub use page::{NotFound, render, render_not_found};
pub use redact::public_passport;
pub use reserved::reservation;
pub use view::{Provenance, public_passport_of};

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod audit_tests;
