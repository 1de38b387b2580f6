//! `salvage export`: the ledger in the formats other systems read.
//!
//! `salvage export epcis` writes the GS1 EPCIS 2.0 document (JSON-LD) of some
//! items, or of every item, read offline from a ledger's data directory;
//! `salvage export csv` a spreadsheet of items with their EPCs (`export_csv.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use salvage_ledger::entry::Timestamp;
use salvage_ledger::epcis;
use salvage_ledger::ident::Giai;
use salvage_ledger::store::{Ledger, LedgerError};
use serde_json::Value;

use super::dl::resolver;
use super::write_file;

/// Export the ledger for other systems.
#[derive(Debug, Args)]
pub struct ExportCommand {
    #[command(subcommand)]
    format: Format,
}

/// The formats `salvage export` writes.
#[derive(Debug, Subcommand)]
enum Format {
    /// Items' histories as a GS1 EPCIS 2.0 document (JSON-LD), one event per record.
    Epcis(EpcisExport),
    /// Items as CSV: GIAI, name, status, custodian, EPC (hex and tag URI) and Digital Link.
    Csv(super::export_csv::CsvExport),
}

/// Write the EPCIS 2.0 document of items (or of every item), from a node
/// (`--node`, its GET /v1/epcis) or read offline from a ledger's data directory
/// (`--data`; the node serving that directory must be stopped).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(true).args(["data", "node"])))]
struct EpcisExport {
    /// The items, by GIAI; without any, every item of the ledger.
    #[arg(value_name = "GIAI")]
    items: Vec<String>,
    /// The ledger's data directory (the node's --data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// A node's URL, e.g. http://127.0.0.1:8080: the node's own export.
    #[arg(long, env = "SALVAGE_NODE")]
    node: Option<String>,
    /// The file to write the document to.
    #[arg(long)]
    out: PathBuf,
    /// The consortium's resolver, i.e. the public URL of its node: a domain
    /// (https:// is implied) or a base URL. Item, record and member URIs start
    /// with it, so there is no default.
    #[arg(long, env = "SALVAGE_RESOLVER", value_name = "URL")]
    resolver: Option<String>,
}

impl ExportCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self.format {
            Format::Epcis(export) => export.run(),
            Format::Csv(export) => export.run(),
        }
    }
}

impl EpcisExport {
    fn run(self) -> Result<()> {
        let items = self
            .items
            .iter()
            .map(|text| Giai::parse(text).with_context(|| format!("{text:?} is not a GIAI")))
            .collect::<Result<Vec<_>>>()?;
        if let (Some(node), None) = (&self.node, &self.data) {
            let query: Vec<String> =
                items.iter().map(|giai| format!("giai={}", super::path_segment(giai.as_str()))).collect();
            let path = if query.is_empty() { "/v1/epcis".to_owned() } else { format!("/v1/epcis?{}", query.join("&")) };
            let bytes = crate::client::NodeClient::new(node)?.get_bytes(&path, "application/ld+json")?;
            let document: Value = serde_json::from_slice(&bytes).context("the node's EPCIS document is not JSON")?;
            let events = document.pointer("/epcisBody/eventList").and_then(Value::as_array).map_or(0, Vec::len);
            write_file(&self.out, &bytes)?;
            say!("{events} event(s) written to {}", self.out.display());
            return Ok(());
        }
        let Some(data) = &self.data else { bail!("give --data DIR or --node URL") };
        // A missing or mistyped resolver is refused before the ledger is opened (and replayed).
        let Some(domain) = &self.resolver else {
            bail!(
                "give the node's public URL with --resolver URL (or SALVAGE_RESOLVER): the document's URIs start with it"
            );
        };
        let base = resolver(domain)?.to_string();
        let document = epcis_from_directory(data, &items, &base)?;
        let events = document.pointer("/epcisBody/eventList").and_then(Value::as_array).map_or(0, Vec::len);
        let bytes = serde_json::to_vec_pretty(&document).context("encoding the EPCIS document")?;
        write_file(&self.out, &bytes)?;
        say!("{events} event(s) written to {}", self.out.display());
        Ok(())
    }
}

/// The EPCIS document of `items` (all when empty) of the ledger in `dir`, read offline.
fn epcis_from_directory(dir: &Path, items: &[Giai], base: &str) -> Result<Value> {
    let ledger = open_offline(dir)?;
    epcis::export(&ledger, items, base, &Timestamp::now())
        .with_context(|| format!("exporting the ledger in {}", dir.display()))
}

/// Opens a ledger directory that no node is serving, saying so plainly if one is.
fn open_offline(dir: &Path) -> Result<Ledger> {
    match Ledger::open(dir) {
        Ok((ledger, report)) => {
            if let Some(cut) = report.tail_cut {
                let acknowledged = if cut.never_acknowledged { ", never acknowledged" } else { "" };
                eprintln!(
                    "salvage: note: cut a torn tail of {} byte(s){acknowledged} off log segment {} at offset {} ({}); the bytes are kept in log/quarantine",
                    cut.bytes_cut, cut.segment, cut.offset, cut.reason
                );
            }
            Ok(ledger)
        }
        Err(LedgerError::Locked(_)) => bail!(
            "{} is locked: a node (or another salvage command) has it open; stop the node first, or ask it for GET /v1/epcis",
            dir.display()
        ),
        Err(error) => Err(error).with_context(|| format!("cannot open the ledger in {}", dir.display())),
    }
}
