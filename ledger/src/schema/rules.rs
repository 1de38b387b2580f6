//! The rules of a passport that JSON Schema cannot express: mass fractions that sum above 1, an
//! item installed before its building was built, an asbestos-free declaration listing asbestos.
//!
//! They run after schema validation and report [`SchemaViolation`]s the same way, so a
//! submitter sees one list of everything wrong with a document.

use serde_json::Value;

use super::SchemaViolation;

/// Headroom for floating-point rounding when mass fractions are summed.
const FRACTION_TOLERANCE: f64 = 1e-9;

/// CAS registry numbers of the asbestos minerals restricted by REACH Annex XVII entry 6, plus
/// the generic asbestos number; a passport declared asbestos-free must not list any of them.
pub(super) const ASBESTOS_CAS_NUMBERS: &[&str] = &[
    "1332-21-4",   // asbestos
    "12001-28-4",  // crocidolite
    "12172-73-5",  // amosite
    "77536-67-5",  // anthophyllite
    "77536-66-4",  // actinolite
    "77536-68-6",  // tremolite
    "12001-29-5",  // chrysotile
    "132207-32-0", // chrysotile
];

/// Checks the rules of a statement body that its schema cannot express and that belong to the
/// documents themselves: those of every passport the body carries.
///
/// Rules that relate a body to something else — a passport naming another item, split parts
/// that repeat a GIAI, founding members that share a key, an unreachable admin threshold — are
/// left to the custody rules, which refuse them with their own refusal codes.
pub(super) fn check_body_rules(kind: &str, body: &Value, violations: &mut Vec<SchemaViolation>) {
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
pub(super) fn check_passport_rules(passport: &Value, at: &str, violations: &mut Vec<SchemaViolation>) {
    if let Some(materials) = passport.get("materials").and_then(Value::as_array) {
        let total: f64 = materials.iter().filter_map(|material| material.get("fraction").and_then(Value::as_f64)).sum();
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
    let year = |field: &str| origin.and_then(|origin| origin.get(field)).and_then(Value::as_i64);
    if let (Some(built), Some(installed)) = (year("year_built"), year("year_installed"))
        && installed < built
    {
        violations.push(SchemaViolation {
            pointer: format!("{at}/origin/year_installed"),
            message: format!(
                "the item cannot have been installed in {installed}, before its building was \
                 built in {built}"
            ),
        });
    }

    let hazards = passport.get("hazards");
    let declared_free = hazards.and_then(|hazards| hazards.get("asbestos_free")).and_then(Value::as_bool) == Some(true);
    if declared_free {
        let substances = hazards.and_then(|hazards| hazards.get("substances")).and_then(Value::as_array);
        let asbestos = substances.into_iter().flatten().enumerate().find(|(_, substance)| {
            substance.get("cas").and_then(Value::as_str).is_some_and(|cas| ASBESTOS_CAS_NUMBERS.contains(&cas))
        });
        if let Some((index, substance)) = asbestos {
            let cas = substance.get("cas").and_then(Value::as_str).unwrap_or_default();
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
