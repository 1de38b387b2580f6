//! `salvage export csv`: items as a spreadsheet for people and for RFID tools: each item's
//! GIAI, name, status, custodian, the EPC its tag carries (hex and tag URI) and the Digital
//! Link its QR code carries, read from a node.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::ident::Giai;
use serde_json::Value;

use super::dl::node_resolver;
use super::path_segment;
use super::qr::digital_link_of;
use crate::client::NodeClient;

/// The columns written, in order. `giai`, `name` and `epc` are also columns `salvage import`
/// reads.
const COLUMNS: [&str; 7] = ["giai", "name", "status", "custodian", "epc", "epc_tag_uri", "digital_link"];

/// Write the items named (by GIAI, or the `giai` column of `--items FILE.csv`, such as an
/// inventory `salvage import` read) as CSV, one row per item, from a node.
#[derive(Debug, Args)]
pub struct CsvExport {
    /// The items, by GIAI.
    #[arg(value_name = "GIAI")]
    items: Vec<String>,
    /// A CSV file with a `giai` column naming more items.
    #[arg(long = "items", value_name = "FILE.csv")]
    items_file: Option<PathBuf>,
    /// A node's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "SALVAGE_NODE")]
    node: String,
    /// The file to write the CSV to.
    #[arg(long)]
    out: PathBuf,
}

impl CsvExport {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut named = self.items.clone();
        if let Some(path) = &self.items_file {
            named.extend(giais_in(path)?);
        }
        if named.is_empty() {
            bail!("no items: give GIAIs or --items FILE.csv with a giai column");
        }
        let giais = named
            .iter()
            .map(|text| Giai::parse(text).with_context(|| format!("{text:?} is not a GIAI")))
            .collect::<Result<Vec<_>>>()?;
        let client = NodeClient::new(&self.node)?;
        let base = node_resolver(&client, &self.node)?;
        // Every row is fetched before the file is written, so that a failure leaves no half a file.
        let mut rows = Vec::with_capacity(giais.len());
        for giai in &giais {
            let answer = client
                .get_json(&format!("/v1/items/{}", path_segment(giai.as_str())))
                .with_context(|| format!("reading item {giai} from {}", self.node))?;
            let text = |pointer: &str| answer.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
            rows.push([
                giai.to_string(),
                text("/item/name"),
                text("/item/status"),
                text("/item/custodian"),
                text("/item/epc/hex"),
                text("/item/epc/tag_uri"),
                digital_link_of(giai.as_str(), &base.resolver)?,
            ]);
        }
        let mut writer =
            csv::Writer::from_path(&self.out).with_context(|| format!("cannot write {}", self.out.display()))?;
        writer.write_record(COLUMNS)?;
        for row in &rows {
            writer.write_record(row)?;
        }
        writer.flush().with_context(|| format!("cannot write {}", self.out.display()))?;
        say!("{} item(s) written to {}", giais.len(), self.out.display());
        Ok(())
    }
}

/// The `giai` column of a CSV file.
fn giais_in(path: &std::path::Path) -> Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let column = headers
        .iter()
        .position(|header| header.trim().eq_ignore_ascii_case("giai"))
        .with_context(|| format!("{}: the header row has no column \"giai\"", path.display()))?;
    let mut giais = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{} row {}", path.display(), index + 2))?;
        if let Some(giai) = row.get(column).map(str::trim).filter(|giai| !giai.is_empty()) {
            giais.push(giai.to_owned());
        }
    }
    Ok(giais)
}
