//! Reading a pre-demolition inventory (CSV) into passports: what `salvage import` checks before
//! it sends anything (the columns are listed in the command's documentation,
//! `cli/src/commands/import.rs`).
//!
//! It lives in the CLI's library rather than in the command so that the fuzz target
//! `import_csv` (docs/fuzzing.md) can drive it with any bytes; it does no input or output.

use std::collections::HashMap;
use std::io::Read;

use anyhow::{Context, Result, bail};
use salvage_ledger::ident::epc::identity_named_by;
use salvage_ledger::ident::{Giai, PureIdentity};
use serde_json::{Value, json};

/// The data rows of the inventory read from `source`, with their spreadsheet row numbers, as
/// column → cell (empty cells left out); `file` names the file in messages.
pub fn read_inventory(source: impl Read, file: &str) -> Result<Vec<(usize, HashMap<String, String>)>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(source);
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{file}: no header row"))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let unknown: Vec<&String> =
        headers.iter().filter(|header| !COLUMNS.iter().any(|(name, _, _)| name == header)).collect();
    if !unknown.is_empty() {
        bail!(
            "{file}: unknown column(s) {unknown:?}; the columns are {}",
            COLUMNS.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(", ")
        );
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.with_context(|| format!("{file}: row {row} is not valid CSV"))?;
        let cells = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .filter(|(_, cell)| !cell.is_empty())
            .collect();
        rows.push((row, cells));
    }
    Ok(rows)
}

/// A row's passport, or every problem with it as (column, message).
pub fn passport_of(cells: &HashMap<String, String>) -> std::result::Result<Value, Vec<(String, String)>> {
    let mut passport = json!({"quantity": {"value": 1, "unit": "H87"}, "legal_status": {"status": "used_product"}});
    let mut problems = Vec::new();
    for (column, pointer, cell) in COLUMNS {
        let Some(text) = cells.get(*column) else { continue };
        let value = match cell {
            Cell::Text => Ok(json!(text)),
            Cell::Number => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| json!(n))
                .ok_or_else(|| format!("{text:?} is not a number")),
            Cell::Integer => {
                text.parse::<i64>().map(|n| json!(n)).map_err(|_| format!("{text:?} is not a whole number"))
            }
            Cell::YesNo => match text.to_ascii_lowercase().as_str() {
                "yes" | "true" | "y" | "1" => Ok(json!(true)),
                "no" | "false" | "n" | "0" => Ok(json!(false)),
                _ => Err(format!("{text:?} is not yes or no")),
            },
            Cell::Materials => materials(text),
            Cell::Columns => restricted(text),
            // Uploaded by the command, which puts their references in: see [`files_of`].
            Cell::Files => continue,
            Cell::Epc => match (giai_of_epc(text), cells.get("giai")) {
                (Ok(named), Some(giai)) if named != *giai => {
                    Err(format!("{text:?} is the EPC of {named}, not of the giai column's {giai}"))
                }
                // The giai column says it already.
                (Ok(_), Some(_)) => continue,
                (Ok(named), None) => Ok(json!(named)),
                (Err(message), _) => Err(message),
            },
        };
        match value {
            Ok(value) => set(&mut passport, pointer, value),
            Err(message) => problems.push(((*column).to_owned(), message)),
        }
    }
    for required in ["giai", "name", "category"] {
        // A tag read stands for the GIAI it encodes.
        if required == "giai" && cells.contains_key("epc") {
            continue;
        }
        if !cells.contains_key(required) {
            problems.push((required.to_owned(), "is empty; every item needs one".to_owned()));
        }
    }
    if let Some(giai) = cells.get("giai")
        && let Err(error) = Giai::parse(giai)
    {
        problems.push(("giai".to_owned(), format!("{giai:?} is not a GIAI: {error}")));
    }
    if problems.is_empty()
        && let Err(error) = salvage_ledger::schema::validate_passport(&passport)
    {
        for violation in error.violations() {
            problems.push((column_of(&violation.pointer), violation.message.clone()));
        }
    }
    if problems.is_empty() { Ok(passport) } else { Err(problems) }
}

/// The GIAI an EPC names: a binary EPC in hex (as an RFID reader reports it), an EPC tag URI
/// or a pure identity URI (GS1 EPC Tag Data Standard §6, §12, §14), of a GIAI.
pub fn giai_of_epc(text: &str) -> std::result::Result<String, String> {
    let identity = identity_named_by(text).map_err(|error| format!("{text:?} is not an EPC: {error}"))?;
    match identity {
        PureIdentity::Giai(giai) => Ok(giai.giai()),
        _ => Err(format!("{text:?} is not the EPC of a GIAI (an item's asset identifier)")),
    }
}

/// The files a row names for its passport, as (passport field, paths): the `photos` and
/// `documents` cells, paths separated by `;`, relative to the inventory's directory.
pub fn files_of(cells: &HashMap<String, String>) -> Vec<(&'static str, Vec<String>)> {
    ["photos", "documents"]
        .into_iter()
        .filter_map(|field| {
            let paths: Vec<String> = cells
                .get(field)?
                .split(';')
                .map(str::trim)
                .filter(|path| !path.is_empty())
                .map(str::to_owned)
                .collect();
            (!paths.is_empty()).then_some((field, paths))
        })
        .collect()
}

/// The column a JSON pointer into the passport came from (or the pointer itself).
fn column_of(pointer: &str) -> String {
    let columns: Vec<&str> = COLUMNS
        .iter()
        .filter(|(_, field, _)| {
            pointer == *field
                || pointer.starts_with(&format!("{field}/"))
                || (!pointer.is_empty() && field.starts_with(&format!("{pointer}/")))
        })
        .map(|(name, _, _)| *name)
        .collect();
    match (columns.is_empty(), pointer.is_empty()) {
        (false, _) => columns.join("/"),
        (true, true) => "(passport)".to_owned(),
        (true, false) => format!("(passport {pointer})"),
    }
}

fn materials(text: &str) -> std::result::Result<Value, String> {
    text.split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, fraction) = part.rsplit_once(':').ok_or_else(|| format!("{part:?} is not name:fraction"))?;
            let fraction: f64 =
                fraction.trim().parse().map_err(|_| format!("{part:?}: {fraction:?} is not a fraction"))?;
            Ok(json!({"name": name.trim(), "fraction": fraction}))
        })
        .collect::<std::result::Result<Vec<_>, String>>()
        .map(Value::Array)
}

fn restricted(text: &str) -> std::result::Result<Value, String> {
    text.split([';', ','])
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            COLUMNS
                .iter()
                .find(|(column, _, _)| column.eq_ignore_ascii_case(name))
                .map(|(_, pointer, _)| json!(pointer))
                .ok_or_else(|| format!("{name:?} is not a column that can be restricted"))
        })
        .collect::<std::result::Result<Vec<_>, String>>()
        .map(Value::Array)
}

/// Sets the value at a JSON pointer of plain object keys, creating objects on the way.
fn set(document: &mut Value, pointer: &str, value: Value) {
    let mut target = document;
    let mut keys = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(key) = keys.next() {
        if !target.is_object() {
            *target = json!({});
        }
        let Some(object) = target.as_object_mut() else { return };
        if keys.peek().is_none() {
            object.insert(key.to_owned(), value);
            return;
        }
        target = object.entry(key.to_owned()).or_insert_with(|| json!({}));
    }
}

/// How a column's cells become a passport field.
#[derive(Clone, Copy)]
enum Cell {
    Text,
    Number,
    Integer,
    YesNo,
    Materials,
    Columns,
    Files,
    /// The EPC a handheld read from the item's RFID tag: hex, tag URI or pure identity URI.
    /// It names the GIAI (see [`giai_of_epc`]), so it is checked against the `giai` column, or
    /// stands for it.
    Epc,
}

/// Every column: its name, where it goes in the passport, and its type.
const COLUMNS: &[(&str, &str, Cell)] = &[
    ("giai", "/identity/giai", Cell::Text),
    ("epc", "/identity/giai", Cell::Epc),
    ("name", "/name", Cell::Text),
    ("category", "/category", Cell::Text),
    ("description", "/description", Cell::Text),
    ("quantity", "/quantity/value", Cell::Number),
    ("unit", "/quantity/unit", Cell::Text),
    ("mass_kg", "/mass_kg", Cell::Number),
    ("length_mm", "/dimensions_mm/length", Cell::Number),
    ("width_mm", "/dimensions_mm/width", Cell::Number),
    ("height_mm", "/dimensions_mm/height", Cell::Number),
    ("thickness_mm", "/dimensions_mm/thickness", Cell::Number),
    ("materials", "/materials", Cell::Materials),
    ("condition_grade", "/condition/grade", Cell::Text),
    ("condition_notes", "/condition/notes", Cell::Text),
    ("building", "/origin/building", Cell::Text),
    ("address", "/origin/address", Cell::Text),
    ("country", "/origin/country", Cell::Text),
    ("year_built", "/origin/year_built", Cell::Integer),
    ("location", "/origin/location_in_building", Cell::Text),
    ("dismantling_date", "/dismantling/date", Cell::Text),
    ("dismantling_method", "/dismantling/method", Cell::Text),
    ("asbestos_free", "/hazards/asbestos_free", Cell::YesNo),
    ("hazard_survey", "/hazards/survey_reference", Cell::Text),
    ("legal_status", "/legal_status/status", Cell::Text),
    ("waste_code", "/legal_status/list_of_waste_code", Cell::Text),
    ("photos", "/photos", Cell::Files),
    ("documents", "/documents", Cell::Files),
    ("restricted", "/restricted", Cell::Columns),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn row(cells: &[(&str, &str)]) -> HashMap<String, String> {
        cells.iter().map(|(column, cell)| ((*column).to_owned(), (*cell).to_owned())).collect()
    }

    #[test]
    fn an_epc_read_from_a_tag_stands_for_the_giai_or_must_agree_with_it() {
        // TDS's own example: urn:epc:tag:giai-96:3.0614141.5678.
        let hex = "3474257BF40000000000162E";
        let base = [("name", "Steel beam"), ("category", "structural_steel")];
        let passport = passport_of(&row(&[base[0], base[1], ("epc", hex)])).unwrap();
        assert_eq!(passport["identity"]["giai"], "06141415678");
        for epc in [hex, "urn:epc:tag:giai-96:3.0614141.5678", "urn:epc:id:giai:0614141.5678"] {
            assert!(passport_of(&row(&[base[0], base[1], ("giai", "06141415678"), ("epc", epc)])).is_ok(), "{epc}");
        }
        let problems = passport_of(&row(&[base[0], base[1], ("giai", "06141415679"), ("epc", hex)])).unwrap_err();
        assert!(
            problems.iter().any(|(column, message)| column == "epc" && message.contains("06141415678")),
            "{problems:?}"
        );
        let problems = passport_of(&row(&[base[0], base[1], ("epc", "3074257BF7194E4000001A85")])).unwrap_err();
        assert!(problems.iter().any(|(_, message)| message.contains("not the EPC of a GIAI")), "{problems:?}");
        let problems = passport_of(&row(&[base[0], base[1], ("epc", "34XX")])).unwrap_err();
        assert!(problems.iter().any(|(column, _)| column == "epc"), "{problems:?}");
    }
}
