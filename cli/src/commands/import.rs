//! `salvage import INVENTORY.csv`: a pre-demolition inventory, registered at once.
//!
//! Every row is checked before anything is sent: its cells parse, its passport
//! passes the passport schema, its GIAI is not repeated in the file and is not
//! registered yet. All problems are reported with their row (as a spreadsheet
//! numbers it: the header is row 1) and column, and then nothing is submitted.
//! A clean file is registered in batches, with a progress bar on a terminal.
//!
//! The columns (header names, any order, any case; empty cells are left out):
//!
//! | column | passport field | |
//! |---|---|---|
//! | `giai` | `identity.giai` | required |
//! | `name` | `name` | required |
//! | `category` | `category` | required, e.g. `structural_steel`, `door` |
//! | `description` | `description` | |
//! | `quantity`, `unit` | `quantity.value`, `.unit` | default 1 `H87` (piece) |
//! | `mass_kg` | `mass_kg` | number |
//! | `length_mm`, `width_mm`, `height_mm`, `thickness_mm` | `dimensions_mm.*` | numbers |
//! | `materials` | `materials` | `name:fraction; name:fraction`, e.g. `Oak:0.9; Steel:0.1` |
//! | `condition_grade`, `condition_notes` | `condition.grade`, `.notes` | grade A–D |
//! | `building`, `address`, `country`, `year_built`, `location` | `origin.building`, `.address`, `.country`, `.year_built`, `.location_in_building` | |
//! | `dismantling_date`, `dismantling_method` | `dismantling.date`, `.method` | |
//! | `asbestos_free`, `hazard_survey` | `hazards.asbestos_free`, `.survey_reference` | yes/no |
//! | `legal_status`, `waste_code` | `legal_status.status`, `.list_of_waste_code` | default `used_product` |
//! | `restricted` | `restricted` | columns kept from the public page, e.g. `address` |

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use salvage_ledger::entry::{Kind, SignedEntry};
use salvage_ledger::ident::Giai;
use serde_json::{Value, json};

use super::member_args::SignerArgs;

/// Register every item of an inventory spreadsheet (CSV); nothing is sent unless every row is valid.
#[derive(Debug, Args)]
pub struct ImportCommand {
    /// The inventory, CSV with a header row (see `salvage import --help` and the README for columns).
    inventory: PathBuf,
    /// Entries per request.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=2000))]
    batch: u16,
    #[command(flatten)]
    signer: SignerArgs,
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
}

/// Every column: its name, where it goes in the passport, and its type.
const COLUMNS: &[(&str, &str, Cell)] = &[
    ("giai", "/identity/giai", Cell::Text),
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
    ("restricted", "/restricted", Cell::Columns),
];

impl ImportCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let rows = read_inventory(&self.inventory)?;
        let client = self.signer.node.client()?;
        let mut problems: Vec<String> = Vec::new();
        let mut passports = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (row, cells) in &rows {
            match passport_of(cells) {
                Err(row_problems) => problems.extend(
                    row_problems.into_iter().map(|(column, message)| format!("row {row}, column {column}: {message}")),
                ),
                Ok(passport) => {
                    let giai =
                        passport.pointer("/identity/giai").and_then(Value::as_str).unwrap_or_default().to_owned();
                    if let Some(first) = seen.insert(giai.clone(), *row) {
                        problems.push(format!("row {row}, column giai: {giai} is already on row {first}"));
                        continue;
                    }
                    let path = format!("/v1/items/{}", super::path_segment(&giai));
                    match client.get_json(&path) {
                        Ok(_) => {
                            problems.push(format!("row {row}, column giai: {giai} is already registered on the ledger"))
                        }
                        Err(error)
                            if error
                                .downcast_ref::<crate::client::Refused>()
                                .is_some_and(|refused| refused.status == 404) => {}
                        Err(error) => return Err(error.context(format!("checking row {row}'s GIAI {giai}"))),
                    }
                    passports.push((*row, giai, passport));
                }
            }
        }
        if !problems.is_empty() {
            for problem in &problems {
                eprintln!("{}: {problem}", self.inventory.display());
            }
            bail!("{} problem(s) in {}; nothing was submitted", problems.len(), self.inventory.display());
        }
        if passports.is_empty() {
            bail!("{} holds no items to register", self.inventory.display());
        }

        let entries: Vec<(usize, SignedEntry)> = passports
            .into_iter()
            .map(|(row, giai, passport)| {
                Ok((row, self.signer.sign(&client, Kind::ItemRegister, json!({"giai": giai, "passport": passport}))?))
            })
            .collect::<Result<_>>()?;
        let progress = progress_bar(entries.len() as u64);
        let mut refused = Vec::new();
        let mut positions = Vec::new();
        for batch in entries.chunks(usize::from(self.batch)) {
            let signed: Vec<SignedEntry> = batch.iter().map(|(_, entry)| entry.clone()).collect();
            for ((row, _), outcome) in batch.iter().zip(client.submit(&signed)?) {
                match outcome {
                    Ok(receipt) => positions.push(receipt["seq"].as_u64().unwrap_or_default()),
                    Err(refusal) => refused.push(format!("row {row}: {refusal}")),
                }
            }
            progress.inc(batch.len() as u64);
        }
        progress.finish_and_clear();
        let (first, last) = (positions.iter().min(), positions.iter().max());
        if self.signer.node.json {
            say!("{}", json!({"registered": positions.len(), "refused": refused}));
        } else if let (Some(first), Some(last)) = (first, last) {
            say!(
                "registered {} items from {} (positions {first} to {last})",
                positions.len(),
                self.inventory.display()
            );
        }
        if !refused.is_empty() {
            for refusal in &refused {
                eprintln!("{}: {refusal}", self.inventory.display());
            }
            bail!("{} row(s) refused by the node; the others were registered", refused.len());
        }
        Ok(())
    }
}

/// The data rows with their spreadsheet row numbers, as column → cell.
fn read_inventory(path: &std::path::Path) -> Result<Vec<(usize, HashMap<String, String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let unknown: Vec<&String> =
        headers.iter().filter(|header| !COLUMNS.iter().any(|(name, _, _)| name == header)).collect();
    if !unknown.is_empty() {
        bail!(
            "{}: unknown column(s) {unknown:?}; the columns are {}",
            path.display(),
            COLUMNS.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(", ")
        );
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.with_context(|| format!("{}: row {row} is not valid CSV", path.display()))?;
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
fn passport_of(cells: &HashMap<String, String>) -> std::result::Result<Value, Vec<(String, String)>> {
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
        };
        match value {
            Ok(value) => set(&mut passport, pointer, value),
            Err(message) => problems.push(((*column).to_owned(), message)),
        }
    }
    for required in ["giai", "name", "category"] {
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

fn progress_bar(length: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} items registered ({eta} left)") {
        bar.set_style(style);
    }
    bar
}
