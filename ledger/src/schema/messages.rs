//! Violation messages: turning the schema compiler's errors into [`SchemaViolation`]s whose
//! words say what was found, what was expected and, where the schema describes it, why.
//!
//! The phrasing rules (quoting values briefly, plurals, articles) are kept in one place so every
//! message reads the same way.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

use super::catalogue::Catalogue;
use super::{LISTED_VIOLATIONS, SchemaViolation};

impl Catalogue {
    /// The first [`LISTED_VIOLATIONS`] schema violations of `instance`, each with a readable
    /// message, and how many more there are (counted, not described, so that their number costs
    /// time in proportion to the document but no memory).
    pub(super) fn violations(&self, validator: &Validator, instance: &Value) -> (Vec<SchemaViolation>, usize) {
        // Nearly every instance is valid: the boolean check allocates nothing and
        // stops at nothing, while collecting errors walks the schema building
        // error locations. Both come from the same compiled keywords.
        if validator.is_valid(instance) {
            return (Vec::new(), 0);
        }
        let mut errors = validator.iter_errors(instance);
        let listed = errors
            .by_ref()
            .take(LISTED_VIOLATIONS)
            .map(|error| SchemaViolation {
                pointer: error.instance_path().as_str().to_owned(),
                message: self.explain(&error),
            })
            .collect();
        (listed, errors.count())
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
                    unexpected.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(", ")
                );
            }
            ValidationErrorKind::Maximum { limit } | ValidationErrorKind::ExclusiveMaximum { limit }
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
                    TypeKind::Multiple(many) => many.iter().map(with_article).collect::<Vec<_>>().join(" or "),
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
                format!("{found} is not the required value {}", quote(expected_value))
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
                    format!("{found} is shorter than {limit} character{}", plural(*limit))
                }
            }
            ValidationErrorKind::MaxLength { limit } => format!(
                "text of {} characters is longer than the limit of {limit}",
                instance.as_str().map_or(0, |text| text.chars().count())
            ),
            ValidationErrorKind::MinItems { limit } => {
                format!("{}; at least {limit} {} required", count_of(instance), if *limit == 1 { "is" } else { "are" })
            }
            ValidationErrorKind::MaxItems { limit } => {
                format!("{}; at most {limit} {} allowed", count_of(instance), if *limit == 1 { "is" } else { "are" })
            }
            ValidationErrorKind::UniqueItems => "an entry appears more than once; each may appear only once".to_owned(),
            ValidationErrorKind::MinProperties { limit } => {
                format!("{}; at least {limit} {} required", count_of(instance), if *limit == 1 { "is" } else { "are" })
            }
            ValidationErrorKind::MaxProperties { limit } => {
                format!("{}; at most {limit} {} allowed", count_of(instance), if *limit == 1 { "is" } else { "are" })
            }
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
        let pointer: String = segments.iter().map(|segment| format!("/{segment}")).collect();
        document.pointer(&pointer)?.get("description").and_then(Value::as_str)
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

/// The largest integer that JSON implementations represent exactly (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// Longest rendering of a submitted value quoted in a message, in characters.
const QUOTE_LIMIT: usize = 60;

/// The text of [`SchemaError::Invalid`]: a count, then the violations listed.
///
/// [`SchemaError::Invalid`]: super::SchemaError::Invalid
pub(super) fn describe_violations(violations: &[SchemaViolation], total: usize) -> String {
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let first = if violations.len() < total { format!(" (the first {})", violations.len()) } else { String::new() };
    format!("the document breaks its schema in {total} place{}{first}: {}", plural(total), listed.join("; "))
}

/// A submitted value as quoted in a message: short values verbatim, objects and arrays by size,
/// long strings cut short.
fn quote(value: &Value) -> String {
    match value {
        Value::Object(fields) => format!("an object with {} field{}", fields.len(), plural(fields.len())),
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
            format!("the object has {} field{}", fields.len(), plural(fields.len()))
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
    if count.try_into().ok() == Some(1) { "" } else { "s" }
}
