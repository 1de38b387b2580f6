//! `salvage labels`: a sheet of printable labels (QR code, name, GIAI, consortium) for A4 label stock.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use salvage_node::labels::{Label, SheetLayout, sheet_pdf, sheet_svg};

use super::qr::{digital_link_of, extension};
use super::write_file;

/// Write a sheet of labels (A4, 3 × 8 labels of 70 × 37 mm) as PDF or SVG.
///
/// Items come from `--item GIAI=NAME` (repeatable) and/or `--items FILE.csv`, a
/// CSV file with a header row naming the columns `giai` and `name`.
#[derive(Debug, Args)]
pub struct LabelsCommand {
    /// The output file: .pdf (all pages in one file) or .svg (one file per page,
    /// FILE.svg, FILE-2.svg, … when there is more than one page).
    #[arg(long)]
    out: PathBuf,
    /// An item as GIAI=NAME; repeat for more.
    #[arg(long = "item", value_name = "GIAI=NAME")]
    items: Vec<String>,
    /// A CSV file with columns giai and name.
    #[arg(long = "items", value_name = "FILE.csv", conflicts_with = "items")]
    items_file: Option<PathBuf>,
    /// The consortium name printed on every label.
    #[arg(long, env = "SALVAGE_CONSORTIUM")]
    consortium: String,
    /// The consortium's resolver, for the Digital Link URIs in the QR codes.
    #[arg(long, env = "SALVAGE_RESOLVER", default_value = "id.gs1.org")]
    resolver: String,
}

impl LabelsCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut pairs = Vec::new();
        for item in &self.items {
            let (giai, name) = item.split_once('=').with_context(|| format!("--item {item:?} must be GIAI=NAME"))?;
            pairs.push((giai.trim().to_owned(), name.trim().to_owned(), format!("--item {item:?}")));
        }
        if let Some(path) = &self.items_file {
            pairs.extend(read_csv(path)?);
        }
        if pairs.is_empty() {
            bail!("no items: give --item GIAI=NAME or --items FILE.csv");
        }
        let mut labels = Vec::with_capacity(pairs.len());
        for (giai, name, place) in pairs {
            let uri = digital_link_of(&giai, &self.resolver).with_context(|| place.clone())?;
            labels.push(Label { giai, name, consortium: self.consortium.clone(), uri });
        }
        let layout = SheetLayout::default();
        match extension(&self.out).as_deref() {
            Some("pdf") => write_file(&self.out, &sheet_pdf(&labels, &layout)?)?,
            Some("svg") => {
                for (page, svg) in sheet_svg(&labels, &layout)?.into_iter().enumerate() {
                    write_file(&page_path(&self.out, page), svg.as_bytes())?;
                }
            }
            _ => bail!("{}: the output file must end in .pdf or .svg", self.out.display()),
        }
        say!("{} label(s) on {} page(s)", labels.len(), layout.page_count(labels.len()));
        Ok(())
    }
}

/// `FILE.svg` for the first page, `FILE-2.svg` for the second, and so on.
fn page_path(out: &Path, page: usize) -> PathBuf {
    if page == 0 {
        return out.to_owned();
    }
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}-{}.svg", page + 1))
}

/// Reads (giai, name, place) rows from a CSV file with a header naming `giai` and `name`.
fn read_csv(path: &Path) -> Result<Vec<(String, String, String)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .with_context(|| format!("{}: the header row has no column {name:?}", path.display()))
    };
    let (giai_column, name_column) = (column("giai")?, column("name")?);
    let mut rows = Vec::new();
    for (index, row) in reader.records().enumerate() {
        // Row 1 is the header, so data rows start at 2, as a spreadsheet numbers them.
        let place = format!("{} row {}", path.display(), index + 2);
        let row = row.with_context(|| place.clone())?;
        let giai = row.get(giai_column).unwrap_or_default().trim().to_owned();
        let name = row.get(name_column).unwrap_or_default().trim().to_owned();
        rows.push((giai, name, place));
    }
    Ok(rows)
}
