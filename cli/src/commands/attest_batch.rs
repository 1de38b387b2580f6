//! `salvage attest --batch FILE.csv`: a certification body attests many items at once, one row
//! each, after an inspection round.
//!
//! Every row is checked before anything is sent (its cells, the attestation schema, a GIAI not
//! repeated in the file); problems are reported with their row (the header is row 1) and
//! column, and then nothing is submitted. A clean file is signed and submitted in one
//! submission per 1,000 rows; each row's outcome is printed, and a row the ledger refuses
//! (an expired `valid_until`, an item not registered) leaves the others recorded.
//!
//! The columns (header names, any order, any case; empty cells are left out):
//!
//! | column | field | |
//! |---|---|---|
//! | `giai` | `giai` | required |
//! | `passport_version` | `passport_version` | default: the item's current version, asked of the node |
//! | `type` | `attestation.type` | required: inspection, certification, hazard_survey, test, end_of_waste |
//! | `result` | `attestation.result` | required: pass, fail, conditional |
//! | `summary` | `attestation.summary` | required |
//! | `grade`, `standard`, `certificate_id`, `valid_until` | `attestation.*` | |

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use salvage_ledger::entry::Kind;
use salvage_ledger::schema::validate_body;
use serde_json::{Map, Value, json};

use super::member_args::SignerArgs;

/// The most rows a batch file may have.
const MAX_ROWS: usize = 100_000;
/// Entries per submission: the node takes at most 1,000.
const PER_SUBMISSION: usize = 1000;
/// The optional text columns, as the attestation names them.
const OPTIONAL: [&str; 4] = ["grade", "standard", "certificate_id", "valid_until"];

/// Attests every row of `file`.
pub fn run(file: &Path, signer_args: &SignerArgs) -> Result<()> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    if size > 64 * 1024 * 1024 {
        bail!("{} has {size} bytes; a batch of attestations is at most 64 MiB", file.display());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: row 1 is no CSV header", file.display()))?
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for required in ["giai", "type", "result", "summary"] {
        if !header.iter().any(|name| name == required) {
            bail!(
                "{}: row 1 has no {required:?} column; the columns are giai, passport_version, type, result, summary, grade, standard, certificate_id, valid_until",
                file.display()
            );
        }
    }
    let known = ["giai", "passport_version", "type", "result", "summary"];
    if let Some(unknown) =
        header.iter().find(|name| !known.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()))
    {
        bail!("{}: row 1 names a column {unknown:?} that an attestation has no field for", file.display());
    }

    let client = signer_args.node.client()?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        if rows.len() + problems.len() >= MAX_ROWS {
            bail!("{} has more than {MAX_ROWS} rows; split it", file.display());
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("row {row}: {error}"));
                continue;
            }
        };
        let cell = |name: &str| {
            header
                .iter()
                .position(|column| column == name)
                .and_then(|at| record.get(at))
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
        };
        let giai = cell("giai").unwrap_or_default().to_owned();
        if !seen.insert(giai.clone()) {
            problems.push(format!("row {row}, column giai: {giai} is attested twice in this file"));
        }
        let mut attestation = Map::new();
        for field in ["type", "result", "summary"].into_iter().chain(OPTIONAL) {
            if let Some(value) = cell(field) {
                attestation.insert(field.to_owned(), json!(value));
            }
        }
        let version = match cell("passport_version") {
            Some(text) => match text.parse::<u64>() {
                Ok(version) => json!(version),
                Err(_) => {
                    problems.push(format!("row {row}, column passport_version: {text:?} is no whole number"));
                    continue;
                }
            },
            // A placeholder that the schema accepts; the node's current version replaces it below.
            None => Value::Null,
        };
        let mut body = json!({"giai": giai, "passport_version": if version.is_null() { json!(1) } else { version.clone() }, "attestation": attestation});
        if let Err(error) = validate_body(Kind::ItemAttest.as_str(), &body) {
            for violation in error.violations() {
                problems.push(format!("row {row}, field {}: {}", violation.pointer, violation.message));
            }
            continue;
        }
        if version.is_null() {
            body["passport_version"] = Value::Null;
        }
        rows.push((row, body));
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{}: {problem}", file.display());
        }
        bail!("{} problem(s) in {}; nothing was submitted", problems.len(), file.display());
    }
    if rows.is_empty() {
        bail!("{} holds no attestations", file.display());
    }
    // The current passport version of every row that names none, asked once per item.
    for (row, body) in &mut rows {
        if body["passport_version"].is_null() {
            let giai = body["giai"].as_str().unwrap_or_default().to_owned();
            let item = client
                .get_json(&format!("/v1/items/{}", super::path_segment(&giai)))
                .with_context(|| format!("{}: row {row}: cannot read {giai} from the node", file.display()))?;
            body["passport_version"] = item["item"]["passport_version"].clone();
        }
    }

    let signer = signer_args.signer(&client)?;
    let entries =
        rows.iter().map(|(_, body)| signer.sign(Kind::ItemAttest, body.clone())).collect::<Result<Vec<_>>>()?;
    let (mut recorded, mut refused) = (Vec::new(), Vec::new());
    for (rows, entries) in rows.chunks(PER_SUBMISSION).zip(entries.chunks(PER_SUBMISSION)) {
        for ((row, body), outcome) in rows.iter().zip(client.submit_disclosed(entries)?) {
            let giai = body["giai"].as_str().unwrap_or_default();
            match outcome {
                Ok(receipt) => recorded.push(json!({"row": row, "giai": giai, "seq": receipt["seq"]})),
                Err(refusal) => refused.push(format!("row {row} ({giai}): {refusal}")),
            }
        }
    }
    if signer_args.node.json {
        say!("{}", json!({"recorded": recorded, "refused": refused}));
    } else {
        for done in &recorded {
            say!(
                "row {}: {} attested, recorded at position {}",
                done["row"],
                done["giai"].as_str().unwrap_or_default(),
                done["seq"]
            );
        }
    }
    if !refused.is_empty() {
        for refusal in &refused {
            eprintln!("{}: {refusal}", file.display());
        }
        bail!("{} row(s) refused by the node; the other {} were recorded", refused.len(), recorded.len());
    }
    Ok(())
}
