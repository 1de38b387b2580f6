//! `salvage report impact (--node URL | --data DIR) --genesis FILE [--scope S]...`: what a
//! scope of the ledger's items weighs, where it went, the EU Taxonomy share and the CO2e its
//! reuse avoided, as text, JSON, CSV or a self-contained HTML page. The figures are
//! `salvage_ledger::impact`'s; this file reads the records and prints.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgGroup, Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use salvage_ledger::entry::Timestamp;
use salvage_ledger::genesis::Genesis;
use salvage_ledger::impact::{DisposedClass, Impact, ImpactReport};
use salvage_ledger::scope::Scope;
use salvage_node::impact_report::{self, PageContext};
use salvage_node::provenance::Locales;

use super::record_source::RecordSource;
use super::write_file;

/// The long help of `salvage report impact --help`.
pub const IMPACT_ABOUT: &str = "Report the impact of a scope of the ledger's items.

Reads every record of a ledger, from a node (--node, GET /v1/records) or
offline from a node's data directory (--data), checking that record 0 is
the genesis given and that each record links to the one before, and
reports for the items in scope: the mass registered, reused (installed),
available, lost in splits and disposed of (by route and List of Waste
code, hazardous apart), the mass by category, the flows per month, the
EU Taxonomy share of non-hazardous construction and demolition waste
prepared for reuse or recycling, and the CO2e avoided: the sum the
passports declare, and apart from it an estimate from mass with the
factor table that ships with Salvage. Only public facts are read.

A scope is member=ID (items it registered, held or was offered),
building=NAME (items from that donor building or installed in it,
compared trimmed and ignoring case), since=YYYY-MM-DD (items with a
record on or after that day, UTC) or items=FILE (the GIAIs of a file,
one a line; `#` comments and blank lines skipped; a CSV's first column,
a `giai` header allowed). Parts split off an item in a member or
building scope are in it too. Several --scope options intersect.

The summary is text by default; --json prints the report as JSON (field
names in docs/impact.md), --csv one figure a row (section,key,kg), and
--html FILE writes a self-contained page with inline SVG charts, in
English or Latvian (--lang). Masses are rounded to 0.1 kg when printed.";

/// `salvage report`: reports computed from a whole ledger.
#[derive(Debug, Args)]
pub struct ReportCommand {
    #[command(subcommand)]
    report: Report,
}

/// The reports.
#[derive(Debug, Subcommand)]
enum Report {
    /// Masses registered, reused, available and disposed of, the EU Taxonomy share and CO2e avoided.
    #[command(long_about = IMPACT_ABOUT)]
    Impact(ImpactCommand),
}

impl ReportCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self.report {
            Report::Impact(command) => command.run(),
        }
    }
}

/// `salvage report impact`: see [`IMPACT_ABOUT`].
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["node", "data"])))]
#[command(group(ArgGroup::new("format").args(["json", "csv", "html"])))]
struct ImpactCommand {
    /// Read the records from a node, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    node: Option<String>,
    /// Read a node's data directory offline (the directory holding `log/`); safe while it runs.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The consortium's genesis file: record 0 must be it.
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: PathBuf,
    /// Which items: member=ID, building=NAME, since=YYYY-MM-DD or items=FILE; repeat to intersect.
    #[arg(long, value_name = "SCOPE")]
    scope: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Print one figure a row as CSV: section,key,kg.
    #[arg(long)]
    csv: bool,
    /// Write the report as one self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The language of the HTML page.
    #[arg(long, value_name = "CODE", default_value = "en", requires = "html")]
    lang: String,
}

/// The most bytes an `items=` file may have: a million GIAIs of 30 characters, with a few
/// columns beside each.
const MAX_ITEMS_FILE: u64 = 256 * 1024 * 1024;

impl ImpactCommand {
    fn run(self) -> Result<()> {
        let scopes = self
            .scope
            .iter()
            .map(|text| Scope::parse_with_files(text, &mut read_items_file))
            .collect::<Result<Vec<_>, _>>()?;
        // The page's language is checked before the records are read, which may take minutes.
        let locales = match &self.html {
            Some(_) => Some(Locales::embedded().map_err(|error| anyhow!("{error}"))?),
            None => None,
        };
        let locale = match &locales {
            Some(locales) => {
                let found = locales.get(&self.lang).filter(|locale| locale.code() == self.lang.to_ascii_lowercase());
                let Some(locale) = found else {
                    let codes: Vec<&str> = locales.iter().map(|locale| locale.code()).collect();
                    bail!("no language {:?}; the report speaks {}", self.lang, codes.join(", "));
                };
                Some(locale)
            }
            None => None,
        };
        let genesis = Genesis::read(&self.genesis)?;
        let reading = RecordSource::given(self.node.as_ref(), self.data.as_ref(), "read")?;
        let (source, records) = (reading.name(), reading.records()?);
        let bar = progress_bar();
        let mut impact = Impact::new(Some(genesis.ledger_id()), &scopes)?;
        for bytes in records {
            impact.push_bytes(&bytes.with_context(|| format!("reading the records from {source}"))?)?;
            bar.set_position(impact.records());
        }
        bar.finish_and_clear();
        let report = impact.report()?;

        if let (Some(path), Some(locale)) = (&self.html, locale) {
            let context = PageContext {
                tool: format!("salvage {}", env!("CARGO_PKG_VERSION")),
                generated_at: Timestamp::now().to_string(),
                source,
                languages: Vec::new(),
            };
            write_file(path, impact_report::html(&report, locale, &context).as_bytes())?;
            say!("impact report written to {}", path.display());
        } else if self.json {
            say!("{}", serde_json::to_string_pretty(&report)?);
        } else if self.csv {
            say_raw!("{}", csv(&report));
        } else {
            say_raw!("{}", text(&report));
        }
        Ok(())
    }
}

/// Reads an `items=` file for [`Scope::parse_with_files`], refusing one too large to be a list.
fn read_items_file(path: &str) -> std::result::Result<String, String> {
    let size = std::fs::metadata(path).map_err(|error| format!("cannot read {path}: {error}"))?.len();
    if size > MAX_ITEMS_FILE {
        return Err(format!("{path} has {size} bytes, more than a list of a million GIAIs needs"));
    }
    std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))
}

/// A progress bar of the records read, on standard error when it is a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} reading: {pos} records ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    )
}

/// Every figure of the report in kilograms (of mass, or of CO2e in `co2e.*`), as
/// (section, key, kg): the rows of `--csv`, and the lines of the text summary.
fn figures(report: &ImpactReport) -> Vec<(String, String, f64)> {
    let mut rows = Vec::new();
    let mut row = |section: &str, key: &str, kg: f64| rows.push((section.to_owned(), key.to_owned(), kg));
    let m = &report.mass_kg;
    for (key, kg) in [
        ("registered", m.registered),
        ("installed", m.installed),
        ("available", m.available),
        ("disposed", m.disposed),
        ("split_losses", m.split_losses),
        ("split_parts_outside_scope", m.split_parts_outside_scope),
    ] {
        row("mass", key, kg);
    }
    let disposed = |rows: &mut dyn FnMut(&str, &str, f64), class: &str, disposals: &DisposedClass| {
        rows(&format!("disposed.{class}"), "total", disposals.total_kg);
        for (route, kg) in &disposals.by_route {
            rows(&format!("disposed.{class}.route"), route, *kg);
        }
        for (code, kg) in &disposals.by_waste_code {
            rows(&format!("disposed.{class}.waste_code"), code, *kg);
        }
    };
    disposed(&mut row, "non_hazardous", &report.disposed.non_hazardous);
    disposed(&mut row, "hazardous", &report.disposed.hazardous);
    for (category, masses) in &report.by_category {
        let section = format!("category.{category}");
        row(&section, "registered", masses.registered_kg);
        row(&section, "installed", masses.installed_kg);
        row(&section, "available", masses.available_kg);
        row(&section, "disposed", masses.disposed_kg);
        row(&section, "split_losses", masses.split_losses_kg);
    }
    for flow in &report.flows {
        let section = format!("flow.{}", flow.month);
        row(&section, "registered", flow.registered_kg);
        row(&section, "installed", flow.installed_kg);
        row(&section, "disposed", flow.disposed_kg);
    }
    let t = &report.taxonomy;
    for (key, kg) in [
        ("prepared_for_reuse_or_recycling", t.prepared_for_reuse_or_recycling_kg),
        ("reused", t.reused_kg),
        ("available", t.available_kg),
        ("recycled", t.recycled_kg),
        ("non_hazardous", t.non_hazardous_kg),
        ("excluded_hazardous", t.excluded_hazardous_kg),
        ("excluded_soil_and_stones", t.excluded_soil_and_stones_kg),
    ] {
        row("taxonomy", key, kg);
    }
    let (declared, estimated) = (&report.co2e.declared, &report.co2e.estimated);
    row("co2e.declared", "reused", declared.reused_kg);
    row("co2e.declared", "available", declared.available_kg);
    row("co2e.declared", "total", declared.total_kg);
    row("co2e.estimated", "reused", estimated.reused_kg);
    row("co2e.estimated", "available", estimated.available_kg);
    row("co2e.estimated", "total", estimated.total_kg);
    for (category, estimate) in &estimated.by_category {
        row("co2e.estimated.category", category, estimate.co2e_kg);
    }
    rows
}

/// The report as CSV, one figure a row, rounded to 0.1 kg.
fn csv(report: &ImpactReport) -> String {
    let mut out = String::from("section,key,kg\n");
    for (section, key, kg) in figures(report) {
        out.push_str(&format!("{},{},{}\n", csv_field(&section), csv_field(&key), tenth(kg)));
    }
    out
}

/// A CSV field, quoted when it must be (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// A mass rounded to 0.1 kg, never `-0.0`.
fn tenth(kg: f64) -> String {
    let rounded = (kg * 10.0).round() / 10.0;
    format!("{:.1}", if rounded == 0.0 { 0.0 } else { rounded })
}

/// The report for people: what it covers, its figures by section, the Taxonomy share.
fn text(report: &ImpactReport) -> String {
    let scope = if report.scope.is_empty() { "the whole ledger".to_owned() } else { report.scope.join(" and ") };
    let mut out = format!("Impact report: {scope}\n");
    let ledger = &report.ledger;
    out.push_str(&format!(
        "  ledger {} at {} records, root {}\n",
        ledger.ledger_id.as_deref().unwrap_or("?"),
        ledger.size,
        ledger.root
    ));
    let unknown = &report.items.unknown_mass;
    out.push_str(&format!(
        "  {} items in scope; not in any mass: {} with a restricted mass, {} without one, {} splits' losses\n",
        report.items.in_scope, unknown.restricted, unknown.absent, report.items.splits_without_loss
    ));
    let mut section = String::new();
    for (this, key, kg) in figures(report) {
        if this != section {
            out.push_str(&format!("{this}\n"));
            section = this;
        }
        out.push_str(&format!("  {key:<36}{:>14} kg\n", tenth(kg)));
    }
    let t = &report.taxonomy;
    match t.share {
        Some(share) => out.push_str(&format!(
            "EU Taxonomy: {:.1} % of the non-hazardous mass prepared for reuse or recycling ({} the 70 % criterion)\n",
            share * 100.0,
            if t.meets_threshold == Some(true) { "meets" } else { "does not meet" }
        )),
        None => out.push_str("EU Taxonomy: no non-hazardous mass in scope, no share\n"),
    }
    let table = &report.co2e.estimated.factor_table;
    out.push_str(&format!(
        "CO2e estimated with the factor table {} version {}: an estimate, apart from what passports declare\n",
        table.name, table.version
    ));
    out
}
