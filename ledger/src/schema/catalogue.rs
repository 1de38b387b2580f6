//! The embedded schema files and their compilation into one catalogue of validators.
//!
//! Compilation happens once, on first use, with every document registered under its `$id` so
//! that cross-file `$ref`s resolve in memory; see the module documentation of [`super`] for why
//! a failure here is a build defect rather than an input error.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::{Draft, Registry, Validator};
use serde_json::Value;

use super::cas::is_cas_number;

/// One schema file compiled into the binary.
pub(super) struct Embedded {
    /// The name callers use, e.g. `item.register`.
    pub(super) name: &'static str,
    /// The file's text.
    pub(super) source: &'static str,
}

/// Every schema file, in the order of [`SCHEMA_NAMES`](super::SCHEMA_NAMES).
pub(super) const EMBEDDED: &[Embedded] = &[
    Embedded { name: "common", source: include_str!("../../../schemas/common.schema.json") },
    Embedded { name: "passport", source: include_str!("../../../schemas/passport.schema.json") },
    Embedded { name: "ledger.genesis", source: include_str!("../../../schemas/ledger.genesis.schema.json") },
    Embedded { name: "member.add", source: include_str!("../../../schemas/member.add.schema.json") },
    Embedded { name: "member.update", source: include_str!("../../../schemas/member.update.schema.json") },
    Embedded { name: "node.add", source: include_str!("../../../schemas/node.add.schema.json") },
    Embedded { name: "node.remove", source: include_str!("../../../schemas/node.remove.schema.json") },
    Embedded { name: "giai.allocate", source: include_str!("../../../schemas/giai.allocate.schema.json") },
    Embedded { name: "giai.reserve", source: include_str!("../../../schemas/giai.reserve.schema.json") },
    Embedded { name: "item.register", source: include_str!("../../../schemas/item.register.schema.json") },
    Embedded { name: "item.amend", source: include_str!("../../../schemas/item.amend.schema.json") },
    Embedded { name: "item.transfer", source: include_str!("../../../schemas/item.transfer.schema.json") },
    Embedded { name: "item.receive", source: include_str!("../../../schemas/item.receive.schema.json") },
    Embedded { name: "item.cancel", source: include_str!("../../../schemas/item.cancel.schema.json") },
    Embedded { name: "item.attest", source: include_str!("../../../schemas/item.attest.schema.json") },
    Embedded {
        name: "item.attest_withdraw",
        source: include_str!("../../../schemas/item.attest_withdraw.schema.json"),
    },
    Embedded { name: "item.split", source: include_str!("../../../schemas/item.split.schema.json") },
    Embedded { name: "item.install", source: include_str!("../../../schemas/item.install.schema.json") },
    Embedded { name: "item.dismantle", source: include_str!("../../../schemas/item.dismantle.schema.json") },
    Embedded { name: "item.dispose", source: include_str!("../../../schemas/item.dispose.schema.json") },
    Embedded { name: "audit.conclusion", source: include_str!("../../../schemas/audit.conclusion.schema.json") },
];

/// Every embedded schema, compiled.
// INVARIANT: holds one validator per entry of `EMBEDDED`, each compiled against a registry of
// all embedded documents, so no `$ref` between them is left unresolved.
pub(super) struct Catalogue {
    /// Compiled validators by schema name.
    pub(super) validators: HashMap<&'static str, Validator>,
    /// Parsed schema documents by `$id`, to look up the `description` of a failing keyword.
    pub(super) documents: HashMap<String, Value>,
}

/// Why the embedded schemas failed to compile: always a bug in a schema file, never a
/// consequence of user input.
#[derive(Debug, thiserror::Error)]
pub(super) enum CatalogueError {
    /// A schema file is not JSON.
    #[error("embedded schema `{name}` is not valid JSON: {source}")]
    Parse {
        /// The schema's name.
        name: &'static str,
        /// What the JSON parser objected to.
        source: serde_json::Error,
    },
    /// A schema file has no `$id`, so other schemas cannot reference it.
    #[error("embedded schema `{name}` has no string `$id`")]
    MissingId {
        /// The schema's name.
        name: &'static str,
    },
    /// The documents could not be registered for `$ref` resolution.
    #[error("embedded schemas could not be registered for reference resolution: {0}")]
    Registry(#[from] jsonschema::ReferencingError),
    /// A schema does not compile (it breaks the draft 2020-12 meta-schema, uses an unknown
    /// format or references something that does not exist).
    #[error("embedded schema `{name}` does not compile: {message}")]
    Compile {
        /// The schema's name.
        name: &'static str,
        /// The compiler's explanation.
        message: String,
    },
}

/// The compiled schemas, built on first use.
pub(super) fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // The schemas are compiled into the binary and a test compiles every one of them, so a
        // failure here is a build defect, not something input can cause (see the module docs).
        compile_catalogue().unwrap_or_else(|error| panic!("salvage schema catalogue: {error}"))
    })
}

/// Parses every embedded schema, registers them under their `$id`s and compiles each one.
pub(super) fn compile_catalogue() -> Result<Catalogue, CatalogueError> {
    let mut parsed = Vec::with_capacity(EMBEDDED.len());
    for embedded in EMBEDDED {
        let document: Value = serde_json::from_str(embedded.source)
            .map_err(|source| CatalogueError::Parse { name: embedded.name, source })?;
        let id = document
            .get("$id")
            .and_then(Value::as_str)
            .ok_or(CatalogueError::MissingId { name: embedded.name })?
            .to_owned();
        parsed.push((embedded.name, id, document));
    }

    let validators = compile_validators(&parsed)?;
    let documents = parsed.into_iter().map(|(_, id, document)| (id, document)).collect();
    Ok(Catalogue { validators, documents })
}

/// Compiles each parsed schema (name, `$id`, document) against a registry of all of them.
pub(super) fn compile_validators(
    parsed: &[(&'static str, String, Value)],
) -> Result<HashMap<&'static str, Validator>, CatalogueError> {
    // Every document is registered under its `$id`, so relative references such as
    // `common.schema.json#/$defs/giai` resolve in memory; `offline` makes any reference that
    // is not embedded a compile error instead of a fetch.
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .extend(parsed.iter().map(|(_, id, document)| (id.as_str(), document)))?
        .prepare()?;
    let options = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("cas-number", is_cas_number)
        .with_registry(&registry)
        .offline();
    let mut validators = HashMap::with_capacity(parsed.len());
    for (name, _, document) in parsed {
        let validator =
            options.build(document).map_err(|error| CatalogueError::Compile { name, message: error.to_string() })?;
        validators.insert(*name, validator);
    }
    Ok(validators)
}

impl Catalogue {
    /// The compiled schema called `name`.
    pub(super) fn validator(&self, name: &str) -> Option<&Validator> {
        self.validators.get(name)
    }
}
