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

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, JsonType, Registry, ValidationError, Validator};
use serde_json::Value;

/// Names of every embedded schema, as accepted by [`schema_source`]: the shared definitions
/// (`common`), the passport, and the body schema of each statement kind.
pub const SCHEMA_NAMES: &[&str] = &[
    "common",
    "passport",
    "ledger.genesis",
    "member.add",
    "member.update",
    "item.register",
    "item.amend",
    "item.transfer",
    "item.receive",
    "item.cancel",
    "item.attest",
    "item.split",
    "item.install",
    "item.dismantle",
    "item.dispose",
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
    /// The document breaks its schema; every violation found is listed.
    #[error("{}", describe_violations(.0))]
    Invalid(Vec<SchemaViolation>),
}

impl SchemaError {
    /// The violations found, so callers can report them one by one; empty for an unknown schema.
    #[must_use]
    pub fn violations(&self) -> &[SchemaViolation] {
        match self {
            Self::Invalid(violations) => violations,
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
/// [`SchemaError::Invalid`] listing every violation when the body breaks its schema.
pub fn validate_body(kind: &str, body: &Value) -> Result<(), SchemaError> {
    if !BODY_KINDS.contains(&kind) {
        return Err(SchemaError::UnknownSchema(kind.to_owned()));
    }
    let catalogue = catalogue();
    let validator = catalogue
        .validator(kind)
        .ok_or_else(|| SchemaError::UnknownSchema(kind.to_owned()))?;
    let mut violations = catalogue.violations(validator, body);
    check_body_rules(kind, body, &mut violations);
    into_result(violations)
}

/// Checks a material passport against `passport.schema.json` and the rules that go with it,
/// reporting every violation found.
///
/// # Errors
///
/// [`SchemaError::Invalid`] listing every violation when the passport breaks its schema.
pub fn validate_passport(passport: &Value) -> Result<(), SchemaError> {
    let catalogue = catalogue();
    let validator = catalogue
        .validator(PASSPORT)
        .ok_or_else(|| SchemaError::UnknownSchema(PASSPORT.to_owned()))?;
    let mut violations = catalogue.violations(validator, passport);
    check_passport_rules(passport, "", &mut violations);
    into_result(violations)
}

/// The raw text of the embedded schema called `name` (one of [`SCHEMA_NAMES`]), exactly as it
/// is compiled, so a node can publish the schemas it enforces.
#[must_use]
pub fn schema_source(name: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|embedded| embedded.name == name)
        .map(|embedded| embedded.source)
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
    "item.register",
    "item.amend",
    "item.transfer",
    "item.receive",
    "item.cancel",
    "item.attest",
    "item.split",
    "item.install",
    "item.dismantle",
    "item.dispose",
];

/// The largest integer that JSON implementations represent exactly (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// Headroom for floating-point rounding when mass fractions are summed.
const FRACTION_TOLERANCE: f64 = 1e-9;

/// Longest rendering of a submitted value quoted in a message, in characters.
const QUOTE_LIMIT: usize = 60;

/// CAS registry numbers of the asbestos minerals restricted by REACH Annex XVII entry 6, plus
/// the generic asbestos number; a passport declared asbestos-free must not list any of them.
const ASBESTOS_CAS_NUMBERS: &[&str] = &[
    "1332-21-4",   // asbestos
    "12001-28-4",  // crocidolite
    "12172-73-5",  // amosite
    "77536-67-5",  // anthophyllite
    "77536-66-4",  // actinolite
    "77536-68-6",  // tremolite
    "12001-29-5",  // chrysotile
    "132207-32-0", // chrysotile
];

/// One schema file compiled into the binary.
struct Embedded {
    /// The name callers use, e.g. `item.register`.
    name: &'static str,
    /// The file's text.
    source: &'static str,
}

/// Every schema file, in the order of [`SCHEMA_NAMES`].
const EMBEDDED: &[Embedded] = &[
    Embedded {
        name: "common",
        source: include_str!("../../schemas/common.schema.json"),
    },
    Embedded {
        name: "passport",
        source: include_str!("../../schemas/passport.schema.json"),
    },
    Embedded {
        name: "ledger.genesis",
        source: include_str!("../../schemas/ledger.genesis.schema.json"),
    },
    Embedded {
        name: "member.add",
        source: include_str!("../../schemas/member.add.schema.json"),
    },
    Embedded {
        name: "member.update",
        source: include_str!("../../schemas/member.update.schema.json"),
    },
    Embedded {
        name: "item.register",
        source: include_str!("../../schemas/item.register.schema.json"),
    },
    Embedded {
        name: "item.amend",
        source: include_str!("../../schemas/item.amend.schema.json"),
    },
    Embedded {
        name: "item.transfer",
        source: include_str!("../../schemas/item.transfer.schema.json"),
    },
    Embedded {
        name: "item.receive",
        source: include_str!("../../schemas/item.receive.schema.json"),
    },
    Embedded {
        name: "item.cancel",
        source: include_str!("../../schemas/item.cancel.schema.json"),
    },
    Embedded {
        name: "item.attest",
        source: include_str!("../../schemas/item.attest.schema.json"),
    },
    Embedded {
        name: "item.split",
        source: include_str!("../../schemas/item.split.schema.json"),
    },
    Embedded {
        name: "item.install",
        source: include_str!("../../schemas/item.install.schema.json"),
    },
    Embedded {
        name: "item.dismantle",
        source: include_str!("../../schemas/item.dismantle.schema.json"),
    },
    Embedded {
        name: "item.dispose",
        source: include_str!("../../schemas/item.dispose.schema.json"),
    },
];

/// Every embedded schema, compiled.
// INVARIANT: holds one validator per entry of `EMBEDDED`, each compiled against a registry of
// all embedded documents, so no `$ref` between them is left unresolved.
struct Catalogue {
    /// Compiled validators by schema name.
    validators: HashMap<&'static str, Validator>,
    /// Parsed schema documents by `$id`, to look up the `description` of a failing keyword.
    documents: HashMap<String, Value>,
}

/// Why the embedded schemas failed to compile: always a bug in a schema file, never a
/// consequence of user input.
#[derive(Debug, thiserror::Error)]
enum CatalogueError {
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
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        // The schemas are compiled into the binary and a test compiles every one of them, so a
        // failure here is a build defect, not something input can cause (see the module docs).
        compile_catalogue().unwrap_or_else(|error| panic!("salvage schema catalogue: {error}"))
    })
}

/// Parses every embedded schema, registers them under their `$id`s and compiles each one.
fn compile_catalogue() -> Result<Catalogue, CatalogueError> {
    let mut parsed = Vec::with_capacity(EMBEDDED.len());
    for embedded in EMBEDDED {
        let document: Value =
            serde_json::from_str(embedded.source).map_err(|source| CatalogueError::Parse {
                name: embedded.name,
                source,
            })?;
        let id = document
            .get("$id")
            .and_then(Value::as_str)
            .ok_or(CatalogueError::MissingId {
                name: embedded.name,
            })?
            .to_owned();
        parsed.push((embedded.name, id, document));
    }

    let validators = compile_validators(&parsed)?;
    let documents = parsed
        .into_iter()
        .map(|(_, id, document)| (id, document))
        .collect();
    Ok(Catalogue {
        validators,
        documents,
    })
}

/// Compiles each parsed schema (name, `$id`, document) against a registry of all of them.
fn compile_validators(
    parsed: &[(&'static str, String, Value)],
) -> Result<HashMap<&'static str, Validator>, CatalogueError> {
    // Every document is registered under its `$id`, so relative references such as
    // `common.schema.json#/$defs/giai` resolve in memory; `offline` makes any reference that
    // is not embedded a compile error instead of a fetch.
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .extend(
            parsed
                .iter()
                .map(|(_, id, document)| (id.as_str(), document)),
        )?
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
        let validator = options
            .build(document)
            .map_err(|error| CatalogueError::Compile {
                name,
                message: error.to_string(),
            })?;
        validators.insert(*name, validator);
    }
    Ok(validators)
}

impl Catalogue {
    /// The compiled schema called `name`.
    fn validator(&self, name: &str) -> Option<&Validator> {
        self.validators.get(name)
    }

    /// Every schema violation of `instance`, each with a readable message.
    fn violations(&self, validator: &Validator, instance: &Value) -> Vec<SchemaViolation> {
        validator
            .iter_errors(instance)
            .map(|error| SchemaViolation {
                pointer: error.instance_path().as_str().to_owned(),
                message: self.explain(&error),
            })
            .collect()
    }

    /// Words for one schema error: what was found, what was expected and, where the schema
    /// describes the failing value, what the value is meant to be.
    fn explain(&self, error: &ValidationError<'_>) -> String {
        let instance = error.instance();
        let found = quote(instance);
        let message = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let mut message = format!("missing required field {property}");
                // A field required by `then` exists only because of a condition; the schema's
                // description of the enclosing object explains which.
                if let Some(description) = self.description_of(error, Ascent::EnclosingIfThen) {
                    message.push_str(&format!(" ({description})"));
                }
                return message;
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                return format!(
                    "unexpected field{} {}: the schema allows only the fields it names",
                    plural(unexpected.len()),
                    unexpected
                        .iter()
                        .map(|name| format!("\"{name}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit }
                if limit.as_u64() == Some(MAX_SAFE_INTEGER) =>
            {
                return format!(
                    "{found} is above 2^53−1 ({MAX_SAFE_INTEGER}), the largest integer signed \
                     data may carry"
                );
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(single) => with_article(*single).to_owned(),
                    TypeKind::Multiple(many) => many
                        .iter()
                        .map(with_article)
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                format!("expected {expected}, found {}", json_type(instance))
            }
            ValidationErrorKind::Enum { options } => {
                let allowed = options
                    .as_array()
                    .map(|values| values.iter().map(quote).collect::<Vec<_>>().join(", "))
                    .unwrap_or_else(|| quote(options));
                format!("{found} is not one of the allowed values {allowed}")
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!(
                    "{found} is not the required value {}",
                    quote(expected_value)
                )
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{found} does not match the pattern {pattern}")
            }
            ValidationErrorKind::Format { format } => format!("{found} is not a valid {format}"),
            ValidationErrorKind::Minimum { limit } => {
                format!("{found} is less than the minimum of {limit}")
            }
            ValidationErrorKind::ExclusiveMinimum { limit } => {
                format!("{found} must be greater than {limit}")
            }
            ValidationErrorKind::Maximum { limit } => {
                format!("{found} is greater than the maximum of {limit}")
            }
            ValidationErrorKind::ExclusiveMaximum { limit } => {
                format!("{found} must be less than {limit}")
            }
            ValidationErrorKind::MinLength { limit } => {
                if instance.as_str().is_some_and(str::is_empty) {
                    "must not be empty".to_owned()
                } else {
                    format!(
                        "{found} is shorter than {limit} character{}",
                        plural(*limit)
                    )
                }
            }
            ValidationErrorKind::MaxLength { limit } => format!(
                "text of {} characters is longer than the limit of {limit}",
                instance.as_str().map_or(0, |text| text.chars().count())
            ),
            ValidationErrorKind::MinItems { limit } => format!(
                "{}; at least {limit} {} required",
                count_of(instance),
                if *limit == 1 { "is" } else { "are" }
            ),
            ValidationErrorKind::MaxItems { limit } => format!(
                "{}; at most {limit} {} allowed",
                count_of(instance),
                if *limit == 1 { "is" } else { "are" }
            ),
            ValidationErrorKind::UniqueItems => {
                "an entry appears more than once; each may appear only once".to_owned()
            }
            ValidationErrorKind::MinProperties { limit } => format!(
                "{}; at least {limit} {} required",
                count_of(instance),
                if *limit == 1 { "is" } else { "are" }
            ),
            ValidationErrorKind::MaxProperties { limit } => format!(
                "{}; at most {limit} {} allowed",
                count_of(instance),
                if *limit == 1 { "is" } else { "are" }
            ),
            _ => truncate(&error.to_string(), 300),
        };
        match self.description_of(error, Ascent::Keyword) {
            Some(description) => format!("{message}; expected: {description}"),
            None => message,
        }
    }

    /// The `description` of the subschema that holds the failing keyword (or, with
    /// [`Ascent::EnclosingIfThen`], of the subschema whose `then` holds it).
    fn description_of(&self, error: &ValidationError<'_>, ascent: Ascent) -> Option<&str> {
        let location = error.absolute_keyword_location()?;
        let (id, fragment) = location.as_str().split_once('#')?;
        let document = self.documents.get(id)?;
        let mut segments: Vec<&str> = fragment.split('/').skip(1).collect();
        // Drop the keyword itself (`pattern`, `format`, …) to reach the subschema holding it.
        segments.pop()?;
        if ascent == Ascent::EnclosingIfThen {
            if segments.last() != Some(&"then") {
                return None;
            }
            segments.pop();
        }
        let pointer: String = segments
            .iter()
            .map(|segment| format!("/{segment}"))
            .collect();
        document
            .pointer(&pointer)?
            .get("description")
            .and_then(Value::as_str)
    }
}

/// How far up from a failing keyword to look for a description.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ascent {
    /// The subschema that holds the keyword.
    Keyword,
    /// The subschema whose `then` holds the keyword; nothing if the keyword is not in a `then`.
    EnclosingIfThen,
}

/// Whether `candidate` is a CAS Registry Number with a correct check digit.
///
/// A CAS number is 2–7 digits, a hyphen, 2 digits, a hyphen and a check digit. The check digit
/// is the sum of the other digits, each multiplied by its position counted from the right
/// (starting at 1), modulo 10; for 1332-21-4 that is (1·1 + 2·2 + 2·3 + 3·4 + 3·5 + 1·6) mod 10.
fn is_cas_number(candidate: &str) -> bool {
    let mut groups = candidate.split('-');
    let (Some(first), Some(second), Some(check), None) =
        (groups.next(), groups.next(), groups.next(), groups.next())
    else {
        return false;
    };
    let all_digits = |group: &str| group.bytes().all(|byte| byte.is_ascii_digit());
    if !(2..=7).contains(&first.len())
        || second.len() != 2
        || check.len() != 1
        || !all_digits(first)
        || !all_digits(second)
        || !all_digits(check)
    {
        return false;
    }
    let weighted_sum: u32 = first
        .bytes()
        .chain(second.bytes())
        .rev()
        .zip(1u32..)
        .map(|(digit, position)| u32::from(digit - b'0') * position)
        .sum();
    check.bytes().next().map(|digit| u32::from(digit - b'0')) == Some(weighted_sum % 10)
}

/// Checks the rules of a statement body that its schema cannot express and that belong to the
/// documents themselves: those of every passport the body carries.
///
/// Rules that relate a body to something else — a passport naming another item, split parts
/// that repeat a GIAI, founding members that share a key, an unreachable admin threshold — are
/// left to the custody rules, which refuse them with their own refusal codes.
fn check_body_rules(kind: &str, body: &Value, violations: &mut Vec<SchemaViolation>) {
    match kind {
        "item.register" | "item.amend" => {
            if let Some(passport) = body.get("passport") {
                check_passport_rules(passport, "/passport", violations);
            }
        }
        "item.split" => {
            let parts = body.get("parts").and_then(Value::as_array);
            for (index, part) in parts.into_iter().flatten().enumerate() {
                if let Some(passport) = part.get("passport") {
                    check_passport_rules(passport, &format!("/parts/{index}/passport"), violations);
                }
            }
        }
        _ => {}
    }
}

/// Checks the rules of a passport that its schema cannot express; `at` is the pointer of the
/// passport inside the validated document.
fn check_passport_rules(passport: &Value, at: &str, violations: &mut Vec<SchemaViolation>) {
    if let Some(materials) = passport.get("materials").and_then(Value::as_array) {
        let total: f64 = materials
            .iter()
            .filter_map(|material| material.get("fraction").and_then(Value::as_f64))
            .sum();
        if total > 1.0 + FRACTION_TOLERANCE {
            violations.push(SchemaViolation {
                pointer: format!("{at}/materials"),
                message: format!(
                    "the material mass fractions sum to {total}, above 1: each is a share of the \
                     same item's mass"
                ),
            });
        }
    }

    let origin = passport.get("origin");
    let year = |field: &str| {
        origin
            .and_then(|origin| origin.get(field))
            .and_then(Value::as_i64)
    };
    if let (Some(built), Some(installed)) = (year("year_built"), year("year_installed")) {
        if installed < built {
            violations.push(SchemaViolation {
                pointer: format!("{at}/origin/year_installed"),
                message: format!(
                    "the item cannot have been installed in {installed}, before its building was \
                     built in {built}"
                ),
            });
        }
    }

    let hazards = passport.get("hazards");
    let declared_free = hazards
        .and_then(|hazards| hazards.get("asbestos_free"))
        .and_then(Value::as_bool)
        == Some(true);
    if declared_free {
        let substances = hazards
            .and_then(|hazards| hazards.get("substances"))
            .and_then(Value::as_array);
        let asbestos = substances
            .into_iter()
            .flatten()
            .enumerate()
            .find(|(_, substance)| {
                substance
                    .get("cas")
                    .and_then(Value::as_str)
                    .is_some_and(|cas| ASBESTOS_CAS_NUMBERS.contains(&cas))
            });
        if let Some((index, substance)) = asbestos {
            let cas = substance
                .get("cas")
                .and_then(Value::as_str)
                .unwrap_or_default();
            violations.push(SchemaViolation {
                pointer: format!("{at}/hazards/asbestos_free"),
                message: format!(
                    "the item is declared asbestos-free, but substance {index} has the CAS number \
                     {cas} of an asbestos mineral"
                ),
            });
        }
    }
}

/// `Ok` when nothing was found, otherwise every violation.
fn into_result(violations: Vec<SchemaViolation>) -> Result<(), SchemaError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Invalid(violations))
    }
}

/// The text of [`SchemaError::Invalid`]: a count, then every violation.
fn describe_violations(violations: &[SchemaViolation]) -> String {
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    format!(
        "the document breaks its schema in {} place{}: {}",
        violations.len(),
        plural(violations.len()),
        listed.join("; ")
    )
}

/// A submitted value as quoted in a message: short values verbatim, objects and arrays by size,
/// long strings cut short.
fn quote(value: &Value) -> String {
    match value {
        Value::Object(fields) => format!(
            "an object with {} field{}",
            fields.len(),
            plural(fields.len())
        ),
        Value::Array(items) => format!("an array of {} item{}", items.len(), plural(items.len())),
        other => truncate(&other.to_string(), QUOTE_LIMIT),
    }
}

/// The JSON type of a value, with an article, for "expected …, found …" messages.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON Schema type name with its article, for "expected …" messages.
fn with_article(json_type: JsonType) -> &'static str {
    match json_type {
        JsonType::Array => "an array",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Null => "null",
        JsonType::Number => "a number",
        JsonType::Object => "an object",
        JsonType::String => "a string",
    }
}

/// How many entries an array or object has, e.g. "the array has 1 item".
fn count_of(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("the array has {} item{}", items.len(), plural(items.len())),
        Value::Object(fields) => {
            format!(
                "the object has {} field{}",
                fields.len(),
                plural(fields.len())
            )
        }
        other => format!("found {}", json_type(other)),
    }
}

/// `text`, cut to at most `limit` characters with an ellipsis when longer.
fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or(text)),
        None => text.to_owned(),
    }
}

/// The plural suffix for a count.
fn plural<N: TryInto<u64>>(count: N) -> &'static str {
    if count.try_into().ok() == Some(1) {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;

    /// The repository's example folder, read at test time so new examples need no code change.
    fn examples_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples")
    }

    /// One example file: which schema it is for, the document, and (for invalid ones) where an
    /// error must be reported.
    struct Example {
        file: String,
        schema: String,
        document: Value,
        expected_pointer: Option<String>,
    }

    fn examples(folder: &str) -> Vec<Example> {
        let mut paths: Vec<PathBuf> = fs::read_dir(examples_dir().join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                let text = fs::read_to_string(&path).unwrap();
                let example: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|error| panic!("{file} is not JSON: {error}"));
                let description = example["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{file} has no description");
                Example {
                    schema: example["schema"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{file} names no schema"))
                        .to_owned(),
                    document: example["document"].clone(),
                    expected_pointer: example["expected_pointer"].as_str().map(str::to_owned),
                    file,
                }
            })
            .collect()
    }

    fn validate(schema: &str, document: &Value) -> Result<(), SchemaError> {
        if schema == PASSPORT {
            validate_passport(document)
        } else {
            validate_body(schema, document)
        }
    }

    fn pointers(error: &SchemaError) -> Vec<&str> {
        error
            .violations()
            .iter()
            .map(|violation| violation.pointer.as_str())
            .collect()
    }

    fn steel_beam() -> Value {
        json!({
            "identity": {"giai": "0614141HEA300-0001"},
            "name": "Steel beam HEA 300, 6.00 m",
            "category": "structural_steel",
            "quantity": {"value": 1, "unit": "H87"},
            "mass_kg": 529.8,
            "legal_status": {"status": "used_product"}
        })
    }

    #[test]
    fn every_named_schema_compiles() {
        let catalogue = compile_catalogue().unwrap();
        assert_eq!(catalogue.validators.len(), SCHEMA_NAMES.len());
        for name in SCHEMA_NAMES {
            assert!(
                catalogue.validator(name).is_some(),
                "{name} is not compiled"
            );
        }
    }

    #[test]
    fn references_outside_the_embedded_schemas_are_not_fetched() {
        let id = "https://salvage.example/schemas/broken.schema.json".to_owned();
        let dangling = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": id,
            "$ref": "https://schemas.example.org/elsewhere.schema.json"
        });
        // Whether the registry or the compiler notices first, the reference must fail rather
        // than be retrieved.
        let error = compile_validators(&[("broken", id, dangling)]).unwrap_err();
        assert!(
            error.to_string().contains("elsewhere.schema.json"),
            "{error}"
        );
    }

    #[test]
    fn a_misspelt_format_is_a_compile_error_not_a_silent_pass() {
        let id = "https://salvage.example/schemas/typo.schema.json".to_owned();
        let typo = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": id,
            "type": "string",
            "format": "cas_number"
        });
        assert!(compile_validators(&[("typo", id, typo)]).is_err());
    }

    #[test]
    fn every_schema_file_is_embedded_under_its_own_name_and_id() {
        let names: Vec<&str> = EMBEDDED.iter().map(|embedded| embedded.name).collect();
        assert_eq!(names, SCHEMA_NAMES);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        let mut on_disk: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|entry| {
                let file = entry.unwrap().file_name().to_string_lossy().into_owned();
                file.strip_suffix(".schema.json").map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> =
            SCHEMA_NAMES.iter().map(|name| (*name).to_owned()).collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "a schema file is not embedded, or vice versa"
        );
        for name in SCHEMA_NAMES {
            let source = schema_source(name).unwrap();
            let on_disk = fs::read_to_string(dir.join(format!("{name}.schema.json"))).unwrap();
            assert_eq!(source, on_disk);
            let document: Value = serde_json::from_str(source).unwrap();
            assert_eq!(
                document["$id"],
                format!("https://salvage.example/schemas/{name}.schema.json")
            );
            assert_eq!(
                document["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
        }
    }

    #[test]
    fn every_statement_kind_has_a_body_schema() {
        for kind in BODY_KINDS {
            assert!(SCHEMA_NAMES.contains(kind), "{kind}");
        }
        assert_eq!(BODY_KINDS.len() + 2, SCHEMA_NAMES.len());
    }

    #[test]
    fn schema_source_refuses_unknown_names() {
        assert!(schema_source("item.teleport").is_none());
        assert!(schema_source("passport.schema.json").is_none());
    }

    #[test]
    fn valid_examples_pass() {
        let examples = examples("valid");
        assert!(
            examples.len() >= 12,
            "only {} valid examples",
            examples.len()
        );
        for example in &examples {
            assert!(example.expected_pointer.is_none(), "{}", example.file);
            if let Err(error) = validate(&example.schema, &example.document) {
                panic!("{} was refused: {error}", example.file);
            }
        }
        for kind in BODY_KINDS {
            assert!(
                examples.iter().any(|example| example.schema == *kind),
                "no valid example of {kind}"
            );
        }
        assert!(examples.iter().any(|example| example.schema == PASSPORT));
    }

    #[test]
    fn invalid_examples_fail_at_their_expected_pointer() {
        let examples = examples("invalid");
        assert!(
            examples.len() >= 15,
            "only {} invalid examples",
            examples.len()
        );
        for example in &examples {
            let expected = example
                .expected_pointer
                .as_deref()
                .unwrap_or_else(|| panic!("{} has no expected_pointer", example.file));
            match validate(&example.schema, &example.document) {
                Ok(()) => panic!("{} was accepted", example.file),
                Err(error) => assert!(
                    pointers(&error).contains(&expected),
                    "{}: expected a violation at {expected:?}, got {error}",
                    example.file
                ),
            }
        }
    }

    #[test]
    fn cas_check_digits() {
        for valid in [
            "1332-21-4",
            "7440-47-3",
            "12001-29-5",
            "7439-92-1",
            "132207-32-0",
            "50-00-0",
        ] {
            assert!(is_cas_number(valid), "{valid} should pass");
        }
        for invalid in [
            "1332-21-5",
            "7440-47-4",
            "12001-29-6",
            "1-00-1",
            "12345678-90-1",
            "1332-2-4",
            "1332-211-4",
            "1332-21-44",
            "1332-21",
            "1332214",
            "1332-21-4-",
            "-1332-21-4",
            "1a32-21-4",
            "١٣٣٢-21-4",
            "",
        ] {
            assert!(!is_cas_number(invalid), "{invalid} should fail");
        }
    }

    #[test]
    fn asbestos_cas_numbers_have_valid_check_digits() {
        for cas in ASBESTOS_CAS_NUMBERS {
            assert!(is_cas_number(cas), "{cas}");
        }
    }

    #[test]
    fn a_document_with_several_errors_reports_all_of_them() {
        let mut passport = steel_beam();
        passport["mass_kg"] = json!(-1);
        passport["quantity"]["unit"] = json!("PCS");
        passport["hazards"] = json!({"substances": [{"name": "Asbestos", "cas": "1332-21-5"}]});
        passport["materials"] = json!([
            {"name": "Steel", "fraction": 0.9},
            {"name": "Paint", "fraction": 0.2}
        ]);
        passport.as_object_mut().unwrap().remove("category");
        let error = validate_passport(&passport).unwrap_err();
        let found = pointers(&error);
        for expected in [
            "/mass_kg",
            "/quantity/unit",
            "/hazards/substances/0/cas",
            "/materials",
            "",
        ] {
            assert!(
                found.contains(&expected),
                "{expected:?} missing from {error}"
            );
        }
        let text = error.to_string();
        for violation in error.violations() {
            assert!(text.contains(&violation.message), "{text}");
        }
        assert!(
            text.contains(&format!("in {} places", error.violations().len())),
            "{text}"
        );
    }

    #[test]
    fn integers_beyond_two_to_the_53_are_refused() {
        let attest = |version: Value| {
            json!({
                "giai": "0614141HEA300-0001",
                "passport_version": version,
                "attestation": {"type": "test", "result": "pass", "summary": "Tensile test."}
            })
        };
        validate_body("item.attest", &attest(json!(9_007_199_254_740_991_u64))).unwrap();
        for too_big in [
            json!(9_007_199_254_740_992_u64),
            json!(u64::MAX),
            serde_json::from_str::<Value>("1e300").unwrap(),
        ] {
            let error = validate_body("item.attest", &attest(too_big.clone())).unwrap_err();
            assert_eq!(
                pointers(&error),
                ["/passport_version"],
                "{too_big}: {error}"
            );
        }
        let error =
            validate_body("item.attest", &attest(json!(9_007_199_254_740_992_u64))).unwrap_err();
        assert!(error.to_string().contains("2^53−1"), "{error}");
    }

    #[test]
    fn measures_written_as_huge_integers_are_refused() {
        let mut passport = steel_beam();
        passport["mass_kg"] = json!(9_007_199_254_740_992_u64);
        passport["dimensions_mm"] = json!({"length": u64::MAX});
        let error = validate_passport(&passport).unwrap_err();
        let mut found = pointers(&error);
        found.sort_unstable();
        assert_eq!(found, ["/dimensions_mm/length", "/mass_kg"], "{error}");
    }

    #[test]
    fn unknown_kinds_are_refused_not_accepted_unchecked() {
        for kind in ["item.teleport", "passport", "common", ""] {
            match validate_body(kind, &json!({})) {
                Err(SchemaError::UnknownSchema(name)) => assert_eq!(name, kind),
                other => panic!("{kind}: {other:?}"),
            }
        }
    }

    #[test]
    fn cross_file_references_are_enforced() {
        // The GIAI pattern lives in common.schema.json; a body must still be held to it.
        let error = validate_body("item.receive", &json!({"giai": "not a giai"})).unwrap_err();
        assert_eq!(pointers(&error), ["/giai"]);
        assert!(error.to_string().contains("GS1"), "{error}");
        // The passport is a separate file referenced by item.register.
        let mut passport = steel_beam();
        passport["quantity"]["value"] = json!(0);
        let body = json!({"giai": "0614141HEA300-0001", "passport": passport});
        let error = validate_body("item.register", &body).unwrap_err();
        assert_eq!(pointers(&error), ["/passport/quantity/value"]);
    }

    #[test]
    fn giai_follows_gs1_rules() {
        let receive = |giai: &str| validate_body("item.receive", &json!({ "giai": giai }));
        for valid in [
            "0614141HEA300-0001",
            "06141415000123",
            "123456!\"%&'()*+,-./:;<=>?_zZ",
            "1234567",
        ] {
            receive(valid).unwrap_or_else(|error| panic!("{valid}: {error}"));
        }
        let thirty = format!("123456{}", "A".repeat(24));
        receive(&thirty).unwrap();
        for invalid in [
            "123456",
            "12345A-0001",
            "0614141 HEA300",
            "0614141HEA#300",
            "0614141HÉA300",
            &format!("123456{}", "A".repeat(25)),
        ] {
            assert!(receive(invalid).is_err(), "{invalid} should be refused");
        }
    }

    #[test]
    fn materials_fractions_may_reach_one_but_not_exceed_it() {
        let mut passport = steel_beam();
        passport["materials"] = json!([
            {"name": "Steel", "fraction": 0.7},
            {"name": "Concrete", "fraction": 0.2},
            {"name": "Paint", "fraction": 0.1}
        ]);
        validate_passport(&passport).unwrap();
        passport["materials"] = json!([
            {"name": "Steel", "fraction": 0.7},
            {"name": "Concrete", "fraction": 0.31}
        ]);
        let error = validate_passport(&passport).unwrap_err();
        assert_eq!(pointers(&error), ["/materials"]);
    }

    #[test]
    fn passport_rules_apply_inside_bodies_at_the_right_pointer() {
        let mut passport = steel_beam();
        passport["materials"] = json!([
            {"name": "Steel", "fraction": 0.9},
            {"name": "Paint", "fraction": 0.2}
        ]);
        let register = json!({"giai": "0614141HEA300-0001", "passport": passport.clone()});
        let error = validate_body("item.register", &register).unwrap_err();
        assert_eq!(pointers(&error), ["/passport/materials"]);

        let mut second = passport.clone();
        second["identity"]["giai"] = json!("0614141HEA300-0001B");
        let mut first = steel_beam();
        first["identity"]["giai"] = json!("0614141HEA300-0001A");
        let split = json!({"giai": "0614141HEA300-0001", "parts": [
            {"giai": "0614141HEA300-0001A", "passport": first},
            {"giai": "0614141HEA300-0001B", "passport": second}
        ]});
        let error = validate_body("item.split", &split).unwrap_err();
        assert_eq!(pointers(&error), ["/parts/1/passport/materials"]);
    }

    #[test]
    fn rules_with_their_own_refusal_codes_are_left_to_custody() {
        // Custody refuses these with specific codes (PassportGiaiMismatch, SplitDuplicatePart,
        // LedgerGenesisInvalid, MemberExists, KeyInUse); the schema must let them through.
        let mut other = steel_beam();
        other["identity"]["giai"] = json!("0614141OTHER");
        validate_body(
            "item.register",
            &json!({"giai": "0614141HEA300-0001", "passport": other}),
        )
        .unwrap();
        let part = json!({"giai": "0614141P1", "passport": {
            "identity": {"giai": "0614141P1"}, "name": "Part", "category": "structural_steel",
            "quantity": {"value": 1, "unit": "H87"}, "legal_status": {"status": "used_product"}
        }});
        validate_body(
            "item.split",
            &json!({"giai": "0614141P1", "parts": [part, part]}),
        )
        .unwrap();
        let key = "11ee2307fe084d5423192e019e632de13ba3c44b2a3fbeb82548e392122bf073";
        let founder = json!({"id": "a", "name": "A", "roles": ["admin"], "keys": [key]});
        let genesis = json!({
            "consortium": {"name": "C"},
            "admin_threshold": 3,
            "members": [founder, founder]
        });
        validate_body("ledger.genesis", &genesis).unwrap();
    }

    #[test]
    fn formats_are_asserted() {
        let install = |date: &str| {
            validate_body(
                "item.install",
                &json!({"giai": "0614141RAD-0310", "site": {"building": "School"}, "date": date}),
            )
        };
        install("2025-09-22").unwrap();
        for bad in [
            "2025-9-22",
            "22-09-2025",
            "2025-02-29",
            "2025-09-22T10:00:00Z",
        ] {
            let error = install(bad).unwrap_err();
            assert_eq!(pointers(&error), ["/date"], "{bad}");
        }
        let genesis = |website: &str| {
            json!({
                "consortium": {"name": "C", "website": website},
                "admin_threshold": 1,
                "members": [{"id": "a", "name": "A", "roles": ["admin"],
                             "keys": ["11ee2307fe084d5423192e019e632de13ba3c44b2a3fbeb82548e392122bf073"]}]
            })
        };
        validate_body("ledger.genesis", &genesis("https://circular.example/")).unwrap();
        let error = validate_body("ledger.genesis", &genesis("not a uri")).unwrap_err();
        assert_eq!(pointers(&error), ["/consortium/website"]);
    }

    #[test]
    fn messages_say_what_is_expected_without_echoing_whole_documents() {
        let mut passport = steel_beam();
        passport["hazards"] = json!({"substances": [{"name": "Asbestos", "cas": "1332-21-5"}]});
        passport["legal_status"] = json!({"status": "waste"});
        passport["identity"] = json!("0614141HEA300-0001");
        let error = validate_passport(&passport).unwrap_err();
        let message = |pointer: &str| {
            error
                .violations()
                .iter()
                .find(|violation| violation.pointer == pointer)
                .map(|violation| violation.message.clone())
                .unwrap_or_else(|| panic!("nothing at {pointer}: {error}"))
        };
        assert!(message("/hazards/substances/0/cas").contains("check digit"));
        assert!(message("/legal_status").contains("list_of_waste_code"));
        assert!(message("/legal_status").contains("List of Waste"));
        assert!(message("/identity").starts_with("expected an object, found a string"));

        let huge = json!({"giai": "0614141HEA300-0001", "passport": "x".repeat(10_000)});
        let error = validate_body("item.register", &huge).unwrap_err();
        assert!(error.to_string().len() < 500, "{error}");
    }

    #[test]
    fn violation_display_names_the_place() {
        let at_root = SchemaViolation {
            pointer: String::new(),
            message: "missing required field \"to\"".to_owned(),
        };
        assert_eq!(
            at_root.to_string(),
            "at the document root: missing required field \"to\""
        );
        let nested = SchemaViolation {
            pointer: "/mass_kg".to_owned(),
            message: "-1 must be greater than 0".to_owned(),
        };
        assert_eq!(nested.to_string(), "at /mass_kg: -1 must be greater than 0");
    }

    #[test]
    fn hostile_documents_do_not_panic() {
        let hostile = [
            json!(null),
            json!([]),
            json!("passport"),
            json!({"materials": "all of them", "origin": [], "hazards": {"substances": {}}}),
            json!({"giai": 7, "parts": [null, {"passport": []}, {"giai": []}]}),
            json!({"members": [null, {"keys": {}, "roles": "admin"}], "admin_threshold": -1}),
            json!({"add_keys": "k", "revoke_keys": [1, null]}),
        ];
        for document in &hostile {
            assert!(validate_passport(document).is_err());
            for kind in BODY_KINDS {
                assert!(
                    validate_body(kind, document).is_err(),
                    "{kind} accepted {document}"
                );
            }
        }
    }
}
