//! The factor table of the CO2e estimate: `ledger/data/impact_factors.toml`, compiled in.
//!
//! Each passport category has a factor (kg CO2e emitted to make one kilogram of a new
//! equivalent) that names its unit, the material it stands for, its source document and where
//! in that document it is (`reference`), or the reason it has none. The file is part of the
//! binary, not input: a unit test parses it and checks that every category of the passport
//! schema is listed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The table's text, as shipped.
const EMBEDDED: &str = include_str!("../../data/impact_factors.toml");

/// The only unit the table may use; the estimate multiplies it by kilograms.
pub const FACTOR_UNIT: &str = "kg CO2e/kg";

/// The factor table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorTable {
    /// Its name and version.
    pub table: TableName,
    /// The documents factors come from, by id.
    pub source: BTreeMap<String, FactorSource>,
    /// Each passport category's factor, or why it has none.
    pub category: BTreeMap<String, CategoryFactor>,
}

/// A table's name and version, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TableName {
    /// The table's name.
    pub name: String,
    /// Its version: changed whenever a factor is.
    pub version: String,
}

/// A published document factors are taken from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FactorSource {
    /// Its title.
    pub title: String,
    /// Who published it.
    pub publisher: String,
    /// The year it was published.
    pub year: u16,
    /// The version of the document.
    pub version: String,
    /// Where it can be had, if anywhere public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What a reader should know about how its values are taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One category's entry: a factor, or the reason there is none.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryFactor {
    /// kg CO2e per kg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Always [`FACTOR_UNIT`] for a factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The material of the source the factor stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// The id of its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Where in the source the factor is: the material, type and row as the source words them,
    /// so that a reader can find and check the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Why the category has no factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_factor: Option<String>,
}

impl FactorTable {
    /// The table shipped with the project, parsed once and checked.
    pub fn embedded() -> Result<&'static FactorTable, String> {
        static TABLE: OnceLock<Result<FactorTable, String>> = OnceLock::new();
        TABLE.get_or_init(|| FactorTable::parse(EMBEDDED)).as_ref().map_err(Clone::clone)
    }

    /// Parses a table and checks it: every factor positive and finite, in [`FACTOR_UNIT`],
    /// naming a material and a source that the table lists; every category either a factor
    /// or a reason for none.
    pub fn parse(text: &str) -> Result<FactorTable, String> {
        let table: FactorTable = toml::from_str(text).map_err(|error| format!("the factor table: {error}"))?;
        for (category, entry) in &table.category {
            let fail = |why: &str| Err(format!("the factor table, category {category}: {why}"));
            match (entry.factor, &entry.no_factor) {
                (Some(factor), None) => {
                    if !(factor.is_finite() && factor > 0.0) {
                        return fail("a factor must be a positive number");
                    }
                    if entry.unit.as_deref() != Some(FACTOR_UNIT) {
                        return fail(&format!("the unit must be {FACTOR_UNIT:?}"));
                    }
                    if entry.material.as_deref().is_none_or(str::is_empty) {
                        return fail("a factor names the material it stands for");
                    }
                    match &entry.source {
                        Some(source) if table.source.contains_key(source) => {}
                        Some(source) => return fail(&format!("no source {source:?} is listed")),
                        None => return fail("a factor names its source"),
                    }
                }
                (None, Some(reason)) if !reason.trim().is_empty() => {}
                _ => return fail("give either a factor or the reason for none (no_factor)"),
            }
        }
        Ok(table)
    }

    /// The factor of a category (kg CO2e per kg), if it has one.
    pub fn factor(&self, category: &str) -> Option<f64> {
        self.category.get(category).and_then(|entry| entry.factor)
    }
}
