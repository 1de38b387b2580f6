//! `salvage import INVENTORY.csv`: a pre-demolition inventory, registered at once.
//!
//! Every row is checked before anything is sent: its cells parse, its passport
//! passes the passport schema, its GIAI is not repeated in the file and is not
//! registered yet. All problems are reported with their row (as a spreadsheet
//! numbers it: the header is row 1) and column, and then nothing is submitted.
//! A clean file is registered in batches, with a progress bar on a terminal.
//! On a format-2 ledger each row's restricted values are withheld from what is
//! signed and kept, one file per entry, in the `--disclosures` directory
//! before anything is sent (see `member_args.rs`).
//!
//! The columns (header names, any order, any case; empty cells are left out):
//!
//! | column | passport field | |
//! |---|---|---|
//! | `giai` | `identity.giai` | required, unless `epc` gives it |
//! | `epc` | `identity.giai` | the EPC read from the item's RFID tag (hex, tag URI or pure identity URI); it must encode the `giai` column's GIAI, or stands for it |
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
//! | `photos`, `documents` | `photos`, `documents` | files, `;`-separated paths relative to the CSV; stripped of metadata and uploaded first |
//! | `restricted` | `restricted` | columns kept from the public page, e.g. `address` |

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use salvage_cli::inventory::{files_of, passport_of, read_inventory};
use salvage_ledger::entry::Kind;
use serde_json::{Value, json};

use super::attach::{Prepared, Uploader};
use super::member_args::SignerArgs;

/// Register every item of an inventory spreadsheet (CSV); nothing is sent unless every row is valid.
#[derive(Debug, Args)]
pub struct ImportCommand {
    /// The inventory, CSV with a header row (see `salvage import --help` and the README for columns).
    inventory: PathBuf,
    /// Entries per request (a node takes at most 1000 in one).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch: u16,
    #[command(flatten)]
    signer: SignerArgs,
}

impl ImportCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let file = std::fs::File::open(&self.inventory)
            .with_context(|| format!("cannot read {}", self.inventory.display()))?;
        let rows = read_inventory(file, &self.inventory.display().to_string())?;
        let client = self.signer.node.client()?;
        // The keys and the ledger's format, once for every row: on a format-2
        // ledger each row's restricted values are withheld while the rows are
        // checked, so a row that cannot withhold them is reported with the others.
        let signer = self.signer.signer(&client)?;
        let mut problems: Vec<String> = Vec::new();
        let mut bodies = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut rows_read = Vec::new();
        let base = self.inventory.parent().unwrap_or(std::path::Path::new(""));
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
                        // A GIAI reserved (its label printed ahead) is there to be registered;
                        // whether it is reserved for this member, the ledger judges.
                        Ok(item) if item.pointer("/item/status").and_then(Value::as_str) == Some("reserved") => {}
                        Ok(_) => {
                            let column = if cells.contains_key("giai") { "giai" } else { "epc" };
                            problems
                                .push(format!("row {row}, column {column}: {giai} is already registered on the ledger"))
                        }
                        Err(error)
                            if error
                                .downcast_ref::<crate::client::Refused>()
                                .is_some_and(|refused| refused.status == 404) => {}
                        Err(error) => return Err(error.context(format!("checking row {row}'s GIAI {giai}"))),
                    }
                    let mut files = Vec::new();
                    for (field, paths) in files_of(cells) {
                        for path in paths {
                            match Prepared::read(&base.join(&path), None) {
                                Ok(file) => files.push((field, file)),
                                Err(error) => problems.push(format!("row {row}, column {field}: {error:#}")),
                            }
                        }
                    }
                    rows_read.push((*row, giai, passport, files));
                }
            }
        }
        if problems.is_empty() {
            // Files go up only once every row is valid; the entries follow once every file is up.
            let uploader = if rows_read.iter().any(|(.., files)| !files.is_empty()) {
                Some(Uploader::new(&self.signer)?)
            } else {
                None
            };
            for (row, giai, mut passport, files) in rows_read {
                for (field, file) in files {
                    let Some(uploader) = &uploader else { break };
                    let reference = uploader.upload(&file).with_context(|| format!("row {row}"))?;
                    if let Some(list) = passport
                        .as_object_mut()
                        .and_then(|p| p.entry(field).or_insert_with(|| json!([])).as_array_mut())
                    {
                        list.push(reference);
                    }
                }
                match signer.withhold(Kind::ItemRegister, json!({"giai": giai, "passport": passport}))? {
                    Ok(withheld) => bodies.push((row, withheld)),
                    Err(refusal) => problems.push(format!("row {row}, column restricted: {}", refusal.message)),
                }
            }
        }
        if !problems.is_empty() {
            for problem in &problems {
                eprintln!("{}: {problem}", self.inventory.display());
            }
            bail!("{} problem(s) in {}; nothing was submitted", problems.len(), self.inventory.display());
        }
        if bodies.is_empty() {
            bail!("{} holds no items to register", self.inventory.display());
        }

        let mut row_of = Vec::with_capacity(bodies.len());
        let mut entries = Vec::with_capacity(bodies.len());
        for (row, (public, disclosures)) in bodies {
            row_of.push(row);
            entries.push(signer.sign_public(Kind::ItemRegister, public, disclosures)?);
        }
        // Every row's values are kept before the first batch is sent, so a
        // directory that cannot take them stops the import with nothing sent.
        let (mut withheld, mut files) = (0, 0);
        for (row, entry) in row_of.iter().zip(&entries) {
            if signer.keep(entry).with_context(|| format!("row {row}"))?.is_some() {
                withheld += entry.disclosures.len();
                files += 1;
            }
        }
        let progress = progress_bar(entries.len() as u64);
        let mut refused = Vec::new();
        let mut positions = Vec::new();
        let batch = usize::from(self.batch);
        for (rows, entries) in row_of.chunks(batch).zip(entries.chunks(batch)) {
            for (row, outcome) in rows.iter().zip(client.submit_disclosed(entries)?) {
                match outcome {
                    Ok(receipt) => positions.push(receipt["seq"].as_u64().unwrap_or_default()),
                    Err(refusal) => refused.push(format!("row {row}: {refusal}")),
                }
            }
            progress.inc(entries.len() as u64);
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
        if !self.signer.node.json && files > 0 {
            say!(
                "  {withheld} restricted value(s) withheld; disclosures kept in {} ({files} file(s), one per entry)",
                signer.store().path().display()
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

fn progress_bar(length: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} items registered ({eta} left)") {
        bar.set_style(style);
    }
    bar
}
