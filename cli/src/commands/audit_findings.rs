//! `salvage audit … --findings`: the certifier's audit of custody chains, beside the integrity
//! audit, in the same pass over the records (docs/audit.md).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::chain::Record;
use salvage_ledger::checkpoint::SignedCheckpoint;
use salvage_ledger::entry::Timestamp;
use salvage_ledger::findings::{ChainBook, CustodyAudit, MAX_SCHEME_BYTES, Sampling, Scheme};
use salvage_ledger::scope::{MAX_ITEM_LINES, Scope};

/// The options of the certifier's audit.
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Judge the custody chains of the items in scope and report findings: member=ID,
    /// building=NAME, since=YYYY-MM-DD or items=FILE; repeat to intersect. Implies --findings.
    #[arg(long, value_name = "SCOPE")]
    scope: Vec<String>,
    /// Judge every item's custody chain (or those of --scope) and report findings with stable
    /// codes, weighed by a certification scheme.
    #[arg(long)]
    findings: bool,
    /// The certification scheme (TOML) that says which findings are errors; the default one
    /// ships with Salvage (ledger/data/audit_scheme.toml).
    #[arg(long, value_name = "FILE")]
    scheme: Option<PathBuf>,
    /// Judge only K items drawn from the scope by a function keyed by the audited checkpoint's
    /// root, which anyone can recompute and no one could predict before the checkpoint.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    sample: Option<u32>,
    /// Also write the findings as CSV (giai, code, severity, record, message).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// What the certifier asked for, read and checked before any record is.
pub struct CustodyAuditPlan {
    scheme: Scheme,
    sample: Option<usize>,
    book: ChainBook,
    /// Where to write the CSV.
    pub csv: Option<PathBuf>,
}

impl FindingsArgs {
    /// The plan, or `None` when no custody audit was asked for. Scopes, item lists and the
    /// scheme are read first, so that a typo costs no download.
    pub fn plan(&self) -> Result<Option<CustodyAuditPlan>> {
        if !self.findings && self.scope.is_empty() && self.sample.is_none() && self.scheme.is_none() {
            if self.csv.is_some() {
                bail!("--csv writes the findings: ask for them with --findings or --scope");
            }
            return Ok(None);
        }
        let scopes = self
            .scope
            .iter()
            .map(|text| {
                Scope::parse_with_files(text, &mut |file| {
                    // A GIAI is at most 30 characters: a list of the most lines takes well under 64 bytes each.
                    let limit = MAX_ITEM_LINES as u64 * 64;
                    let size = std::fs::metadata(file).map_err(|e| format!("cannot read it: {e}"))?.len();
                    if size > limit {
                        return Err(format!("{size} bytes; an item list of at most {MAX_ITEM_LINES} lines is smaller"));
                    }
                    std::fs::read_to_string(file).map_err(|e| format!("cannot read it: {e}"))
                })
                .map_err(|error| anyhow::anyhow!("--scope {text:?}: {error}"))
            })
            .collect::<Result<Vec<Scope>>>()?;
        let scheme = match &self.scheme {
            None => Scheme::default_scheme(),
            Some(path) => {
                let size = std::fs::metadata(path)
                    .with_context(|| format!("cannot read the scheme {}", path.display()))?
                    .len();
                if size > MAX_SCHEME_BYTES as u64 {
                    bail!("the scheme {} has {size} bytes; a scheme has at most {MAX_SCHEME_BYTES}", path.display());
                }
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the scheme {}", path.display()))?;
                Scheme::parse(&path.display().to_string(), &text)?
            }
        };
        let book = ChainBook::new(&scheme, &scopes).map_err(|error| anyhow::anyhow!("--scope: {error}"))?;
        let sample = self.sample.map(|k| k as usize);
        Ok(Some(CustodyAuditPlan { scheme, sample, book, csv: self.csv.clone() }))
    }
}

impl CustodyAuditPlan {
    /// Takes the next record the integrity audit accepted.
    pub fn note(&mut self, record: &Record) {
        self.book.note(record);
    }

    /// The custody audit, with its sample keyed by `checkpoint` (the one the integrity audit
    /// verified against the records and the operators' keys).
    pub fn finish(self, checkpoint: Option<&SignedCheckpoint>) -> Result<CustodyAudit> {
        let sampling = match (self.sample, checkpoint) {
            (None, _) => None,
            (Some(k), Some(checkpoint)) => {
                Some(Sampling { k, checkpoint_size: checkpoint.checkpoint.size(), root: *checkpoint.checkpoint.root() })
            }
            (Some(_), None) => bail!(
                "--sample is keyed by a signed checkpoint's root: audit a --node, or give --checkpoint FILE with --data"
            ),
        };
        Ok(self.book.finish(&Timestamp::now(), &self.scheme, sampling.as_ref()))
    }
}

/// The custody audit as text for people.
pub fn text(audit: &CustodyAudit) -> String {
    let mut text = String::from("Custody chains\n");
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<13}{value}\n"));
    line("scope", if audit.scope.is_empty() { "the whole ledger".into() } else { audit.scope.join(" and ") });
    line("scheme", format!("{} (version {})", audit.scheme.name, audit.scheme.version));
    line("as of", audit.as_of.clone());
    line("items", audit.items_in_scope.to_string());
    if let Some(sample) = &audit.sample {
        line(
            "sample",
            format!(
                "{} of them, keyed by the root {} of checkpoint {}: {}",
                sample.items.len(),
                sample.checkpoint_root,
                sample.checkpoint_size,
                sample.items.join(", ")
            ),
        );
    }
    line(
        "verdict",
        format!(
            "{} ({} error{}, {} warning{})",
            audit.verdict,
            audit.errors,
            s(audit.errors),
            audit.warnings,
            s(audit.warnings)
        ),
    );
    for finding in &audit.findings {
        let at = finding.seq.map(|seq| format!(" record {seq}")).unwrap_or_default();
        text.push_str(&format!(
            "  {:<8} {} {}{at}: {}\n",
            finding.severity.as_str(),
            finding.code.as_str(),
            finding.giai,
            finding.message
        ));
    }
    text
}

/// The findings as CSV: a header, then one row each.
pub fn csv(audit: &CustodyAudit) -> String {
    let mut csv = String::from("giai,code,severity,record,message\n");
    for finding in &audit.findings {
        let seq = finding.seq.map(|seq| seq.to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{seq},{}\n",
            field(finding.giai.as_str()),
            finding.code.as_str(),
            finding.severity.as_str(),
            field(&finding.message)
        ));
    }
    csv
}

/// A CSV field (RFC 4180 §2): quoted when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so that a spreadsheet never runs it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

fn s(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
