//! `salvage audit … --findings`: the certifier's audit of custody chains, beside the integrity
//! audit, in the same pass over the records (docs/audit.md).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::audit::{AuditOptions, AuditReport, audit_observing};
use salvage_ledger::chain::Record;
use salvage_ledger::checkpoint::SignedCheckpoint;
use salvage_ledger::entry::{SignedEntry, Timestamp};
use salvage_ledger::findings::{ChainBook, CustodyAudit, MAX_SCHEME_BYTES, Sampling, Scheme, Severity};
use salvage_ledger::scope::{MAX_ITEM_LINES, Scope};
use salvage_node::custody_report;
use salvage_node::provenance::Locale;

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
    /// Also write the findings as CSV (giai, code, severity, record, message); the messages are
    /// English unless --lang asks for another language.
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
    /// Runs the integrity audit of `records` with the custody audit beside it, in the same pass:
    /// the chains are built on a thread of their own from the records the audit accepted, a
    /// chunk at a time, so that the thread replaying the rules does no more than it does for the
    /// integrity audit alone (docs/performance.md, row 32). The chains stop at the checkpoint's
    /// `size`, when there is one: the report describes the ledger the checkpoint names (and a
    /// conclusion of it names), even when the node has grown while the records were read.
    pub fn audit<I, E>(
        &mut self,
        genesis: &SignedEntry,
        records: I,
        options: &AuditOptions,
        progress: &mut dyn FnMut(u64),
    ) -> AuditReport
    where
        I: IntoIterator<Item = Result<Vec<u8>, E>>,
        E: std::fmt::Display,
    {
        let book = &mut self.book;
        let until = options.checkpoint.as_ref().map_or(u64::MAX, |checkpoint| checkpoint.checkpoint.size());
        std::thread::scope(|scope| {
            // A few chunks in hand: memory stays bounded if the chains fall behind.
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Record>>(4);
            let noting = scope.spawn(move || {
                for chunk in receiver {
                    chunk.iter().filter(|record| record.seq.get() < until).for_each(|record| book.note(record));
                }
            });
            let report = audit_observing(genesis, records, options, progress, &mut |chunk| {
                // Only a panic on the noting thread closes the channel; joining says so below.
                let _ = sender.send(chunk);
            });
            drop(sender);
            noting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            report
        })
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

/// The custody audit as text for people, in `locale`'s words (`[custody_audit.text]` of the
/// node's locales, each finding's message from its template); English is the reference.
pub fn text(audit: &CustodyAudit, locale: &Locale) -> String {
    let t = |key: &str| locale.text(&format!("custody_audit.text.{key}")).to_owned();
    let f = |key: &str, args: &[(&str, &str)]| locale.format(&format!("custody_audit.text.{key}"), args);
    // `_one` for 1, `_other` else: a language with other plurals words both alike (docs in en.toml).
    let count = |what: &str, n: usize| {
        let form = if n == 1 { "one" } else { "other" };
        f(&format!("{what}_{form}"), &[("count", &n.to_string())])
    };
    let [scope, scheme, as_of, items, sample, verdict] =
        ["scope", "scheme", "as_of", "items", "sample", "verdict"].map(&t);
    let width = [&scope, &scheme, &as_of, &items, &sample, &verdict].iter().map(|l| l.chars().count()).max();
    let width = width.unwrap_or_default().max(11) + 2;
    let mut text = format!("{}\n", locale.text("custody_audit.heading"));
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<width$}{value}\n"));
    let scopes = audit.scope.join(&format!(" {} ", t("and")));
    line(&scope, if audit.scope.is_empty() { locale.text("custody_audit.scope_all").to_owned() } else { scopes });
    line(&scheme, f("scheme_version", &[("name", &audit.scheme.name), ("version", &audit.scheme.version)]));
    line(&as_of, audit.as_of.clone());
    line(&items, audit.items_in_scope.to_string());
    if let Some(drawn) = &audit.sample {
        let args = [
            ("k", drawn.items.len().to_string()),
            ("root", drawn.checkpoint_root.clone()),
            ("size", drawn.checkpoint_size.to_string()),
            ("items", drawn.items.join(", ")),
        ];
        line(&sample, f("sample_drawn", &args.each_ref().map(|(name, value)| (*name, value.as_str()))));
    }
    let (errors, warnings) = (count("errors", audit.errors), count("warnings", audit.warnings));
    let outcome = locale.text(&format!("audit.verdict.{}", audit.verdict)).to_owned();
    line(&verdict, f("counts", &[("verdict", &outcome), ("errors", &errors), ("warnings", &warnings)]));
    let level = |severity: Severity| t(&format!("level.{}", severity.as_str()));
    let level_width = [Severity::Error, Severity::Warning, Severity::Info].map(|s| level(s).chars().count());
    let level_width = level_width.into_iter().max().unwrap_or_default().max(8);
    for finding in &audit.findings {
        let at =
            finding.seq.map(|seq| format!(" {}", f("record", &[("record", &seq.to_string())]))).unwrap_or_default();
        text.push_str(&format!(
            "  {:<level_width$} {} {}{at}: {}\n",
            level(finding.severity),
            finding.code.as_str(),
            finding.giai,
            custody_report::message(finding, locale)
        ));
    }
    text
}

/// The findings as CSV: a header, then one row each; the messages in `language`'s words when
/// one is given, else as the findings' English `message`.
pub fn csv(audit: &CustodyAudit, language: Option<&Locale>) -> String {
    let mut csv = String::from("giai,code,severity,record,message\n");
    for finding in &audit.findings {
        let seq = finding.seq.map(|seq| seq.to_string()).unwrap_or_default();
        let message =
            language.map_or_else(|| finding.message.clone(), |locale| custody_report::message(finding, locale));
        csv.push_str(&format!(
            "{},{},{},{seq},{}\n",
            field(finding.giai.as_str()),
            finding.code.as_str(),
            finding.severity.as_str(),
            field(&message)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use salvage_ledger::findings::{Sample, examples};
    use salvage_node::provenance::Locales;

    use super::*;

    /// The English text as it was before it came from the locales, for comparison.
    fn english_as_before(audit: &CustodyAudit) -> String {
        let s = |count: usize| if count == 1 { "" } else { "s" };
        let mut text = String::from("Custody chains\n");
        let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<13}{value}\n"));
        line("scope", if audit.scope.is_empty() { "the whole ledger".into() } else { audit.scope.join(" and ") });
        line("scheme", format!("{} (version {})", audit.scheme.name, audit.scheme.version));
        line("as of", audit.as_of.clone());
        line("items", audit.items_in_scope.to_string());
        if let Some(sample) = &audit.sample {
            let items = sample.items.join(", ");
            let (root, size) = (&sample.checkpoint_root, sample.checkpoint_size);
            line(
                "sample",
                format!("{} of them, keyed by the root {root} of checkpoint {size}: {items}", sample.items.len()),
            );
        }
        let (errors, warnings) = (audit.errors, audit.warnings);
        line("verdict", format!("{} ({errors} error{}, {warnings} warning{})", audit.verdict, s(errors), s(warnings)));
        for finding in &audit.findings {
            let at = finding.seq.map(|seq| format!(" record {seq}")).unwrap_or_default();
            let (severity, code, giai) = (finding.severity.as_str(), finding.code.as_str(), &finding.giai);
            text.push_str(&format!("  {severity:<8} {code} {giai}{at}: {}\n", finding.message));
        }
        text
    }

    #[test]
    fn the_text_is_english_as_before_or_latvian_and_the_csv_english_unless_asked() {
        let locales = Locales::embedded().unwrap();
        let (en, lv) = (locales.get("en").unwrap(), locales.get("lv").unwrap());
        let mut audits = examples::audits();
        audits[1].scope = vec!["member=baltic-demolition".into(), "since=2026-01-01".into()];
        audits[1].sample = Some(Sample {
            k: 1,
            checkpoint_size: 7,
            checkpoint_root: "ab".repeat(32),
            method: "",
            items: vec![examples::BEAM.into()],
        });
        for audit in &audits {
            assert_eq!(text(audit, en), english_as_before(audit));
        }

        let latvian = text(&audits[0], lv);
        assert!(latvian.starts_with("Piegādes ķēdes\n  tvērums       visa virsgrāmata\n"), "{latvian}");
        assert!(latvian.contains("  slēdziens     neatbilst (kļūdas: 5, brīdinājumi: 1)\n"), "{latvian}");
        assert!(
            latvian.contains(
                "  kļūda       finding.waste_installed 4750002ROOF-0001 ieraksts nr. 4: 4750002ROOF-0001 ir azbestu \
                 saturoši atkritumi, taču tika iebūvēts ēkā Jelgava kindergarten Pasaciņa\n"
            ),
            "{latvian}"
        );
        let latvian = text(&audits[1], lv);
        assert!(latvian.contains("member=baltic-demolition un since=2026-01-01"), "{latvian}");
        assert!(latvian.contains("  izlase        izvēlēti (skaits: 1), par atslēgu"), "{latvian}");
        assert!(latvian.contains("  informācija finding.attestation_withdrawn"), "{latvian}");

        let english = csv(&audits[0], None);
        assert!(english.starts_with("giai,code,severity,record,message\n"));
        assert!(english.contains("which is no waste handler"), "{english}");
        let latvian = csv(&audits[0], Some(lv));
        assert!(latvian.starts_with("giai,code,severity,record,message\n"), "the header stays English");
        assert!(latvian.contains("kas nav atkritumu apsaimniekotājs") && !latvian.contains("no waste handler"));
    }
}
