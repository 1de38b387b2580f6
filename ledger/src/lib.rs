//! The pure core of Salvage, a traceability ledger for reused construction materials.
//!
//! Members of a consortium submit signed statements about salvaged items
//! (register a steel beam with its material passport, offer it to a reuse hub,
//! accept it, attest its condition, install it in a new building). A [`Ledger`]
//! checks each statement against the rules in `docs/rules.md`, appends it as a
//! record to a durable, hash-chained log, and proves it with an RFC 6962 Merkle
//! tree whose root is published in signed checkpoints. Anyone holding the
//! genesis can verify one item from a [`bundle`] or replay everything with
//! [`audit`]. The wire formats are specified in `docs/format.md`.
//!
//! This crate is synchronous and knows nothing of HTTP or async runtimes; the
//! node and the CLI build on it.
//!
//! # Example
//!
//! The demo consortium below comes from `testkit`, which is built only with the
//! cargo feature `testkit` (the crate's tests and examples turn it on).
//!
//! ```
//! use salvage_ledger::{Ledger, testkit::Fixture};
//! use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
//! use salvage_ledger::bundle::verify_bundle;
//! use salvage_ledger::ident::Giai;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! // A demo consortium: a planning office and a city (admins), two demolition
//! // contractors, a reuse hub, a builder and a certification body.
//! let fixture = Fixture::new();
//! let ledger = Ledger::create(dir.path(), fixture.genesis.clone())?;
//!
//! // A contractor registers a beam and offers it to the reuse hub, which accepts it.
//! let outcomes = ledger.submit(vec![
//!     fixture.register("baltic-demolition", "4750001BEAM-0001", "HEA 160 steel beam", 182.4),
//!     fixture.transfer("baltic-demolition", "4750001BEAM-0001", "reuse-hub"),
//!     fixture.receive("reuse-hub", "4750001BEAM-0001"),
//! ])?;
//! let receipt = outcomes[2].as_ref().map_err(|refusal| refusal.to_string())?;
//! assert_eq!(receipt.seq.get(), 3);
//!
//! // Receipts come back only once the records are on disk; the item's state follows.
//! let beam = Giai::parse("4750001BEAM-0001")?;
//! assert_eq!(ledger.item(&beam)?.map(|item| item.custodian.to_string()), Some("reuse-hub".into()));
//!
//! // An operator signs a checkpoint; the bundle of the beam verifies offline.
//! let key = Fixture::key("regional-planning");
//! let checkpoint = SignedCheckpoint::sign(ledger.checkpoint()?, &NoteSigner { name: "regional-planning", key: &key })?;
//! let bundle = ledger.bundle(&beam, &checkpoint)?;
//! let report = verify_bundle(&bundle, &fixture.genesis);
//! assert!(report.is_clean());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod attachment;
pub mod audit;
pub mod bundle;
pub mod canonical;
pub mod chain;
pub mod checkpoint;
pub mod custody;
mod digest;
pub mod disclosure;
pub mod disclosure_proof;
pub mod entry;
pub mod epcis;
pub mod findings;
// Crate-private parsers and rules opened to the fuzz targets, only in their builds.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod genesis;
pub mod hex;
pub mod ident;
pub mod impact;
pub mod key;
pub mod merkle;
pub mod operator;
pub mod redact;
pub mod refusal;
pub mod schema;
pub mod scope;
mod signature;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use refusal::{Refusal, RefusalCode, UnknownRefusalCode};
pub use store::{Ledger, LedgerError, PendingOutcomes, Receipt};

/// The domain-separation label that starts every signed message.
pub const SIGNING_CONTEXT_LABEL: &str = "salvage-ledger/v1\n";
