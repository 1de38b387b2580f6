//! Impact reports: what a scope of the ledger's items weighs, where it went, and the
//! emissions its reuse avoided.
//!
//! A municipality asks what came out of its building and what became of it; a developer
//! needs the EU Taxonomy's share of construction and demolition waste prepared for reuse or
//! recycling. [`Impact`] reads a ledger's records in order (record 0 first) and
//! [`Impact::report`] gives the [`ImpactReport`] of its [`Scope`]s: masses registered,
//! reused (installed), available, lost in splits and disposed (by route and List of Waste
//! code, hazardous apart), mass by category, flows per month, the Taxonomy share, and CO2e
//! avoided as the passports declare it and as estimated from mass with the factor table of
//! [`factors`]. The definitions, and the JSON field names, are in `docs/impact.md`.
//!
//! Everything is judged publicly: a passport field its `restricted` list names is not read
//! (on a format-2 ledger it is not even in the record), so a report shows nothing a public
//! view would not, and an item whose mass is restricted or absent is counted as such rather
//! than dropped. Every figure can be recomputed from the ledger's EPCIS export, which
//! carries the same public passports (a test does so).
//!
//! Memory grows with the ledger's items, not its records: what is kept of an item is a few
//! numbers of its latest passport, its state, its flows' months and one bit per scope
//! ([`crate::scope::ScopeMatcher`], which gives the verdicts of
//! [`crate::scope::ScopeFacts`]), under 200 bytes. The records' chain links are checked and
//! their Merkle root computed on the way, so a report names the ledger size and root it
//! describes; signatures and rules are the audit's business (`crate::audit`).

pub mod factors;
mod figures;
mod tally;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::chain::Record;
use crate::entry::LedgerId;
use crate::scope::{Scope, ScopeError, ScopeMatcher};
use crate::store::{Ledger, LedgerError};
pub use factors::{FactorTable, TableName};
use tally::Tally;

/// Why an impact report could not be made.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ImpactError {
    /// A record could not be read, or does not follow the one before it.
    #[error("record {position}: {reason}")]
    Record {
        /// Its position in what was read (from 0).
        position: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Record 0 is not the genesis expected.
    #[error("record 0 is not the genesis of ledger {expected}: {reason}")]
    Genesis {
        /// The ledger id expected.
        expected: String,
        /// What record 0 is instead.
        reason: String,
    },
    /// The scopes cannot be matched together (more than [`crate::scope::MAX_SCOPES`]).
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// The shipped factor table is broken (a build defect, which the tests catch).
    #[error("{0}")]
    Factors(String),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// An impact report in the making: the records read so far, in order.
#[derive(Debug)]
pub struct Impact {
    tally: Tally,
}

impl Impact {
    /// The report of the items in every one of `scopes` (every item without one), nothing
    /// read yet; record 0 must be the genesis of `ledger`, if given.
    pub fn new(ledger: Option<LedgerId>, scopes: &[Scope]) -> Result<Impact, ImpactError> {
        Ok(Impact { tally: Tally::new(ledger, ScopeMatcher::new(scopes)?) })
    }

    /// Reads the next record, as the canonical bytes a node stores and serves.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), ImpactError> {
        self.tally.push_bytes(bytes)
    }

    /// Reads the next record, already decoded.
    pub fn push(&mut self, record: &Record) -> Result<(), ImpactError> {
        self.tally.push_bytes(&record.canonical_bytes())
    }

    /// How many records have been read.
    pub fn records(&self) -> u64 {
        self.tally.records()
    }

    /// How many items the records read so far made.
    pub fn items(&self) -> usize {
        self.tally.items.len()
    }

    /// The report, as of the records read so far.
    pub fn report(&self) -> Result<ImpactReport, ImpactError> {
        let factors = FactorTable::embedded().map_err(ImpactError::Factors)?;
        Ok(figures::report(&self.tally, factors))
    }
}

/// The report of a ledger's durable records, read from the first to the size it had when
/// this began.
pub fn of_ledger(ledger: &Ledger, scopes: &[Scope]) -> Result<ImpactReport, ImpactError> {
    let mut impact = Impact::new(Some(ledger.ledger_id()), scopes)?;
    for seq in 0..ledger.size() {
        impact.push_bytes(&ledger.record_bytes(seq)?)?;
    }
    impact.report()
}

/// An impact report. Masses are in kilograms, unrounded; field names are stable
/// (`docs/impact.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactReport {
    /// The scopes, in their canonical spelling; empty for the whole ledger.
    pub scope: Vec<String>,
    /// The ledger the report describes, at the size it was read to.
    pub ledger: LedgerPoint,
    /// How many items are in scope, and those whose mass is not known.
    pub items: ItemCounts,
    /// Where the mass went.
    pub mass_kg: Masses,
    /// What was disposed of, non-hazardous and hazardous apart.
    pub disposed: Disposed,
    /// The masses by passport category.
    pub by_category: BTreeMap<String, CategoryMasses>,
    /// Mass registered, installed and disposed per calendar month (UTC) of the records.
    pub flows: Vec<MonthFlow>,
    /// The EU Taxonomy share of non-hazardous construction and demolition waste prepared for
    /// reuse or recycling.
    pub taxonomy: Taxonomy,
    /// Emissions avoided by reuse: declared and estimated, apart.
    pub co2e: Co2e,
}

/// The ledger at the size a report was computed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerPoint {
    /// The ledger id (hex), once record 0 was read.
    pub ledger_id: Option<String>,
    /// How many records were read.
    pub size: u64,
    /// The Merkle root of those records (hex): compare it with a signed checkpoint of that size.
    pub root: String,
}

/// Item counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemCounts {
    /// Items in scope, parts included.
    pub in_scope: u64,
    /// Items in scope whose mass no public passport gives, left out of every mass.
    pub unknown_mass: UnknownMass,
    /// Splits in scope whose loss cannot be computed, because a mass is not known.
    pub splits_without_loss: u64,
}

/// Items whose mass is not known, by why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownMass {
    /// The passport restricts it (`restricted` names `/mass_kg`).
    pub restricted: u64,
    /// The passport does not give it.
    pub absent: u64,
}

/// Where the mass in scope went. `registered` = `installed` + `available` + `disposed` +
/// `split_losses` + `split_parts_outside_scope`, of the items whose masses are known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Masses {
    /// Mass that entered the scope: items registered, and parts split off items outside it.
    pub registered: f64,
    /// Reused: installed in a building now.
    pub installed: f64,
    /// Registered, not installed, not disposed of, not split: in circulation.
    pub available: f64,
    /// Disposed of, by any route.
    pub disposed: f64,
    /// Parents' masses minus their parts' masses, of the splits in scope.
    pub split_losses: f64,
    /// Parts outside the scope split off items in it (only an `items=` scope leaves parts out).
    pub split_parts_outside_scope: f64,
}

/// What was disposed of: non-hazardous and hazardous apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disposed {
    /// Neither a hazardous List of Waste code nor asbestos.
    pub non_hazardous: DisposedClass,
    /// A List of Waste code marked `*`, or asbestos in the passport.
    pub hazardous: DisposedClass,
}

/// Disposals of one class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DisposedClass {
    /// Their mass.
    pub total_kg: f64,
    /// By the route `item.dispose` gave.
    pub by_route: BTreeMap<String, f64>,
    /// By List of Waste code (the disposal's, else the passport's; `none` when neither gives one).
    pub by_waste_code: BTreeMap<String, f64>,
}

/// The masses of one category.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryMasses {
    /// See [`Masses::registered`].
    pub registered_kg: f64,
    /// See [`Masses::installed`].
    pub installed_kg: f64,
    /// See [`Masses::available`].
    pub available_kg: f64,
    /// See [`Masses::disposed`].
    pub disposed_kg: f64,
    /// See [`Masses::split_losses`], by the parent's category.
    pub split_losses_kg: f64,
}

/// The flows of one calendar month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonthFlow {
    /// `YYYY-MM`.
    pub month: String,
    /// Mass that entered the scope that month.
    pub registered_kg: f64,
    /// Mass installed that month (an item installed twice counts twice).
    pub installed_kg: f64,
    /// Mass disposed of that month.
    pub disposed_kg: f64,
}

/// The EU Taxonomy criterion: Climate Delegated Act (Regulation (EU) 2021/2139), Annex I,
/// 7.1 and 7.2, "at least 70 % (by weight) of the non-hazardous construction and demolition
/// waste (excluding naturally occurring material defined in category 17 05 04 in the European
/// List of Waste …) generated on the construction site is prepared for re-use, recycling and
/// other material recovery"; computed as `docs/impact.md` defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Taxonomy {
    /// Non-hazardous, non-17 05 04 mass reused, available for reuse or disposed of by `recycling`.
    pub prepared_for_reuse_or_recycling_kg: f64,
    /// Of it: installed.
    pub reused_kg: f64,
    /// Of it: available, in circulation.
    pub available_kg: f64,
    /// Of it: disposed of by `recycling`.
    pub recycled_kg: f64,
    /// Every non-hazardous, non-17 05 04 mass in scope where it ended: installed, available,
    /// disposed of, and lost in splits.
    pub non_hazardous_kg: f64,
    /// Hazardous mass, left out of both.
    pub excluded_hazardous_kg: f64,
    /// Soil and stones (17 05 04), left out of both.
    pub excluded_soil_and_stones_kg: f64,
    /// `prepared_for_reuse_or_recycling_kg / non_hazardous_kg`; `None` when there is none.
    pub share: Option<f64>,
    /// 0.7.
    pub threshold: f64,
    /// Whether the share reaches the threshold; `None` without a share.
    pub meets_threshold: Option<bool>,
}

/// Emissions avoided by reusing the items installed and available: what their passports
/// declare, and an estimate from mass, kept apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Co2e {
    /// The sum of the current passports' `environment.co2e_avoided_kg`.
    pub declared: DeclaredCo2e,
    /// Mass × the factor of its category.
    pub estimated: EstimatedCo2e,
}

/// The declared figure.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeclaredCo2e {
    /// Of the items installed.
    pub reused_kg: f64,
    /// Of the items available.
    pub available_kg: f64,
    /// Both.
    pub total_kg: f64,
    /// Items installed or available whose passport declares a figure.
    pub items_declaring: u64,
    /// Items installed or available whose public passport declares none.
    pub items_not_declaring: u64,
}

/// The estimated figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimatedCo2e {
    /// Of the items installed.
    pub reused_kg: f64,
    /// Of the items available.
    pub available_kg: f64,
    /// Both.
    pub total_kg: f64,
    /// By category: mass installed and available, the factor, the estimate.
    pub by_category: BTreeMap<String, CategoryEstimate>,
    /// Mass installed or available of categories without a factor.
    pub mass_without_factor_kg: f64,
    /// The factor table used.
    pub factor_table: TableName,
}

/// One category's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryEstimate {
    /// Mass installed and available.
    pub mass_kg: f64,
    /// kg CO2e per kg, from the factor table.
    pub factor: f64,
    /// `mass_kg × factor`.
    pub co2e_kg: f64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]
mod tests;
