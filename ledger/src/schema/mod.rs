//! Validation of passports and statement bodies against Salvage's JSON Schemas.
//!
//! The schemas live in the repository's `schemas/` folder and are embedded in the binary with
//! `include_str!`, so a node validates exactly what it publishes and never reads a schema from
//! disk or the network at runtime. They are compiled once, on first use, as JSON Schema draft
//! 2020-12 with `format` assertions turned on (dates, URIs, JSON Pointers and the custom
//! `cas-number` format). Cross-file `$ref`s such as `common.schema.json#/$defs/giai` resolve
//! against the embedded documents, which are registered under their `$id`s.
//!
//! Validation reports every violation, each with the JSON Pointer of the offending value in the
//! validated document and a readable message. Rules of a passport that JSON Schema cannot
//! express (mass fractions that sum above 1, an item installed before its building was built,
//! an asbestos-free declaration that lists asbestos) are checked in Rust afterwards and reported
//! the same way. Rules that relate a document to anything else (a passport naming another item,
//! split parts sharing a GIAI, keys already in use) belong to the custody rules, which refuse
//! them with their own refusal codes.
//!
//! Invariant: the embedded schemas always compile. They are part of the binary, not user input,
//! and the test `every_named_schema_compiles` compiles all of them; the lazy initialiser may
//! therefore panic (with a message naming the schema) if that invariant is ever broken, while no
//! input document can make validation panic.

use std::fmt;

use serde_json::Value;

// The public entry points and their types stay here; the submodules hold the steps behind them:
// `catalogue` (embedding and compiling the schemas), `messages` (wording each violation), `rules`
// (the passport rules JSON Schema cannot express) and `cas` (the custom `cas-number` format).
mod cas;
mod catalogue;
mod messages;
mod rules;

use catalogue::{EMBEDDED, catalogue};
use messages::describe_violations;
use rules::{check_body_rules, check_passport_rules};

/// Names of every embedded schema, as accepted by [`schema_source`]: the shared definitions
/// (`common`), the passport, and the body schema of each statement kind.
pub const SCHEMA_NAMES: &[&str] = &[
    "common",
    "passport",
    "ledger.genesis",
    "member.add",
    "member.update",
    "node.add",
    "node.remove",
    "giai.allocate",
    "giai.reserve",
    "item.register",
    "item.amend",
    "item.transfer",
    "item.receive",
    "item.cancel",
    "item.attest",
    "item.attest_withdraw",
    "item.split",
    "item.install",
    "item.dismantle",
    "item.dispose",
    "audit.conclusion",
];

/// One way in which a document breaks its schema or a rule that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// RFC 6901 JSON Pointer to the offending value inside the validated document; the empty
    /// string points at the document itself (e.g. for a missing required field).
    pub pointer: String,
    /// What is wrong, in words a person submitting the document can act on.
    pub message: String,
}

/// Why a document was refused by [`validate_body`] or [`validate_passport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// No body schema exists under this name, so the document cannot be checked; statement kinds
    /// outside Salvage's fixed list are refused rather than accepted unchecked.
    #[error(
        "unknown statement kind `{0}`: there is no body schema for it (the kinds are {kinds})",
        kinds = BODY_KINDS.join(", ")
    )]
    UnknownSchema(String),
    /// The document breaks its schema in `total` places, of which the first (at most
    /// [`LISTED_VIOLATIONS`]) are listed: a document of a million bad values costs a count, not a
    /// million messages.
    #[error("{}", describe_violations(violations, *total))]
    Invalid {
        /// The first violations found, in document order.
        violations: Vec<SchemaViolation>,
        /// How many violations were found in all, listed or not.
        total: usize,
    },
}

/// The most violations a [`SchemaError::Invalid`] lists; the rest are only counted.
pub const LISTED_VIOLATIONS: usize = 20;

impl SchemaError {
    /// The violations found, so callers can report them one by one; empty for an unknown schema.
    #[must_use]
    pub fn violations(&self) -> &[SchemaViolation] {
        match self {
            Self::Invalid { violations, .. } => violations,
            Self::UnknownSchema(_) => &[],
        }
    }
}

/// Checks the body of a statement of kind `kind` (e.g. `"item.register"`) against its schema
/// and the rules that go with it, reporting every violation found.
///
/// # Errors
///
/// [`SchemaError::UnknownSchema`] when `kind` is not a statement kind, and
/// [`SchemaError::Invalid`] counting every violation (and listing the first) when the body
/// breaks its schema.
pub fn validate_body(kind: &str, body: &Value) -> Result<(), SchemaError> {
    if !BODY_KINDS.contains(&kind) {
        return Err(SchemaError::UnknownSchema(kind.to_owned()));
    }
    let catalogue = catalogue();
    let validator = catalogue.validator(kind).ok_or_else(|| SchemaError::UnknownSchema(kind.to_owned()))?;
    let (mut violations, unlisted) = catalogue.violations(validator, body);
    check_body_rules(kind, body, &mut violations);
    into_result(violations, unlisted)
}

/// Checks a material passport against `passport.schema.json` and the rules that go with it,
/// reporting every violation found.
///
/// # Errors
///
/// [`SchemaError::Invalid`] counting every violation (and listing the first) when the passport
/// breaks its schema.
pub fn validate_passport(passport: &Value) -> Result<(), SchemaError> {
    let catalogue = catalogue();
    let validator = catalogue.validator(PASSPORT).ok_or_else(|| SchemaError::UnknownSchema(PASSPORT.to_owned()))?;
    let (mut violations, unlisted) = catalogue.violations(validator, passport);
    check_passport_rules(passport, "", &mut violations);
    into_result(violations, unlisted)
}

/// Whether `cas` is the CAS Registry Number of a substance that makes an item never reusable:
/// one of the asbestos minerals the common schema lists in `never_reusable_cas`.
#[must_use]
pub fn is_never_reusable(cas: &str) -> bool {
    rules::ASBESTOS_CAS_NUMBERS.contains(&cas)
}

/// The raw text of the embedded schema called `name` (one of [`SCHEMA_NAMES`]), exactly as it
/// is compiled, so a node can publish the schemas it enforces.
#[must_use]
pub fn schema_source(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|embedded| embedded.name == name).map(|embedded| embedded.source)
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "at the document root: {}", self.message)
        } else {
            write!(f, "at {}: {}", self.pointer, self.message)
        }
    }
}

/// The name of the passport schema.
const PASSPORT: &str = "passport";

/// Statement kinds, each of which has a body schema named after it.
const BODY_KINDS: &[&str] = &[
    "ledger.genesis",
    "member.add",
    "member.update",
    "node.add",
    "node.remove",
    "giai.allocate",
    "giai.reserve",
    "item.register",
    "item.amend",
    "item.transfer",
    "item.receive",
    "item.cancel",
    "item.attest",
    "item.attest_withdraw",
    "item.split",
    "item.install",
    "item.dismantle",
    "item.dispose",
    "audit.conclusion",
];

/// `Ok` when nothing was found, otherwise the first violations and how many there were in all
/// (`unlisted` more were counted but never built).
fn into_result(mut violations: Vec<SchemaViolation>, unlisted: usize) -> Result<(), SchemaError> {
    if violations.is_empty() && unlisted == 0 {
        return Ok(());
    }
    let total = violations.len() + unlisted;
    violations.truncate(LISTED_VIOLATIONS);
    Err(SchemaError::Invalid { violations, total })
}

#[cfg(test)]
mod tests;
