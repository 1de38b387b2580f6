//! `salvage audit (--node URL | --data DIR) --genesis GENESIS`: every record
//! of a ledger checked against the genesis, a signed checkpoint and an
//! earlier checkpoint, with a report a certification body can file; with
//! `--attachments`, every file the records name publicly fetched and checked
//! against its name.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args};
use indicatif::{ProgressBar, ProgressStyle};
use salvage_cli::disclosures_dir::DisclosuresDir;
use salvage_ledger::attachment::{AttachmentDigest, can_name, named_in};
use salvage_ledger::audit::{AuditOptions, EarlierCheckpoint, Problem, audit};
use salvage_ledger::checkpoint::SignedCheckpoint;
use salvage_ledger::entry::{Kind, LedgerId, Timestamp};
use salvage_ledger::genesis::Genesis;
use salvage_ledger::store::checkpoint_origin;
use salvage_node::audit_report::{self, AuditSummary, EarlierFinding, Source};
use salvage_node::custody_report;
use salvage_node::provenance::Locales;
use serde::Serialize;
use serde_json::Value;

use super::attachment_files::{Downloads, Fetched, Mismatch, UNSIZED_LIMIT, judge, read_file};
use super::audit_findings::{self, FindingsArgs};
use super::record_source::RecordSource;
use super::verify::{plural, problem_lines};
use super::write_file;

/// The long help of `salvage audit --help`.
pub const LONG_ABOUT: &str = "Audit a whole ledger: download (or read) every record and check everything.

Trusting nothing but the genesis file, the audit checks every record's
position and hash-chain link, every signature (against the keys the
consortium admitted, as the replayed membership records say), every
custody rule, and rebuilds the Merkle tree. Its root is compared with a
checkpoint signed by the consortium's operators: with `--node`, the node's
current checkpoint (`GET /v1/checkpoint`), whose signatures are verified
against the operators' keys known from the ledger, then every record is
streamed (`GET /v1/records`); with `--data`, a node's data directory is
read offline and the checkpoint comes from `--checkpoint FILE`, if given.

`--earlier FILE` checks that the ledger extends a checkpoint saved by an
earlier audit (`--save-checkpoint`) or by `salvage checkpoint --out`: no
record it covered has been changed, dropped or reordered since. The saved
note must carry the signature of an operator of the consortium (with any key
the operator ever had), so an edited file is reported, not trusted.

Reading a data directory changes nothing and takes no lock, so it works
while a node runs there: the audit covers the records written when it
started. Damage in the record log (a bad CRC, a torn last write) is
reported as a problem, never repaired.

A progress bar is drawn on standard error when it is a terminal. The
summary goes to standard output (text, or JSON with `--json`); `--html`
also writes a self-contained report to file. Exit status 0 only when the
audit found no problem; 1 otherwise, after naming each problem (record,
code, message).

`--attachments` also checks the photos and documents the records name
(docs/format.md §15): as the records stream past, the digest of every file
a public field names is kept (once per file); after the audit, each file is
downloaded from the node (`GET /v1/attachments/{blake3}`, one at a time) or,
with `--data`, read from the directory's `attachments/objects/`, and its
bytes must hash to its name and have the `size` its references give. A file
that cannot be had is reported as `attachment.missing`, one whose bytes are
wrong as `attachment.mismatch`, in a section of their own (text, JSON and
HTML) apart from the ledger's problems; either makes the exit status 1.
Files named only in restricted fields are counted as not checked
(restricted): their digests are all a public record shows.";

/// `salvage audit`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["node", "data"])))]
pub struct AuditCommand {
    /// Audit the ledger a node serves, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    node: Option<String>,
    /// Audit a node's data directory offline (the directory holding `log/`,
    /// or the log directory itself); read-only, safe while the node runs.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The consortium's genesis file, the trust anchor: the ledger id, the
    /// founding members and their keys all come from it.
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: PathBuf,
    /// A signed checkpoint note to compare the records with, instead of the
    /// node's current one (e.g. one cosigned by other nodes, or, with --data,
    /// one saved by `salvage checkpoint --out`).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// A checkpoint note saved by an earlier audit or `salvage checkpoint
    /// --out`: the ledger must extend it (an RFC 6962 consistency check).
    #[arg(long, value_name = "FILE")]
    earlier: Option<PathBuf>,
    /// A directory of disclosures you hold (what `salvage register` keeps on a
    /// format-2 ledger): the records they belong to are checked whole, their
    /// restricted values against the schemas and rules, not only publicly.
    #[arg(long, value_name = "DIR")]
    disclosures: Option<PathBuf>,
    /// After a clean audit, save the audited checkpoint note here, for the
    /// next audit's --earlier. Nothing is saved when the audit finds problems.
    #[arg(long, value_name = "FILE")]
    save_checkpoint: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page (no external
    /// assets), for the certification body's files.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// How many distinct consortium operators must have signed or cosigned
    /// the checkpoint, e.g. 2 of a 3-node consortium; one by default.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    require_signers: u16,
    /// Print the summary as JSON for scripts instead of text for people.
    #[arg(long)]
    json: bool,
    /// Also fetch every attachment a public field of a record names, from
    /// the node or the data directory, and check its bytes against its name
    /// and size; missing or wrong files make the audit fail.
    #[arg(long)]
    attachments: bool,
    #[command(flatten)]
    custody: FindingsArgs,
    /// The language of the custody audit (--findings): en (the default) or lv. It says the
    /// custody part of the text on standard output, the custody section of the HTML report and,
    /// when given other than en, the CSV's messages in it; the integrity part of the text, the
    /// JSON and the CSV's header stay English.
    #[arg(long, value_name = "CODE", value_parser = ["en", "lv"])]
    lang: Option<String>,
}

impl AuditCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let genesis = Genesis::read(&self.genesis)?;
        let ledger_id = genesis.ledger_id();
        let earlier = match &self.earlier {
            Some(path) => Some(read_note(path, &ledger_id, "earlier checkpoint")?),
            None => None,
        };
        let given = match &self.checkpoint {
            Some(path) => Some(read_note(path, &ledger_id, "checkpoint")?),
            None => None,
        };
        let mut custody = self.custody.plan()?;
        if self.save_checkpoint.is_some() && given.is_none() && self.node.is_none() {
            bail!("--save-checkpoint needs a checkpoint to save: audit a --node, or give --checkpoint FILE");
        }

        // The checkpoint first, then the records: the records then cover it.
        let mut extra_problems = Vec::new();
        let reading = RecordSource::given(self.node.as_ref(), self.data.as_ref(), "audit")?;
        let (source, checkpoint) = match &reading {
            RecordSource::Node { url, client } => {
                let checkpoint = match given {
                    Some(note) => Some(note),
                    None => {
                        let bytes = client.get_bytes("/v1/checkpoint", "text/plain")?;
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        match SignedCheckpoint::parse(&text) {
                            Ok(signed) => Some(Note { file: None, text, signed }),
                            Err(error) => {
                                extra_problems.push(problem(
                                    "checkpoint.malformed",
                                    format!("the node's checkpoint is not a signed note: {error}"),
                                ));
                                None
                            }
                        }
                    }
                };
                (Source::Node(url.clone()), checkpoint)
            }
            RecordSource::Data { dir, .. } => (Source::Data(dir.clone()), given),
        };
        let records = reading.records()?.map(|item| item.map_err(|error| format!("{error:#}")));

        let options = AuditOptions {
            checkpoint: checkpoint.as_ref().map(|note| note.signed.clone()),
            earlier: earlier.as_ref().map(|note| EarlierCheckpoint::from_note(note.signed.clone())),
            required_signers: usize::from(self.require_signers),
            disclosures: match &self.disclosures {
                Some(dir) => DisclosuresDir::new(dir.clone()).read_all(LedgerId(genesis.entry().id().0))?,
                None => Default::default(),
            },
        };
        let bar = progress_bar(checkpoint.as_ref().map(|note| note.signed.checkpoint.size()));
        // The records pass the attachments' tally on their way into the audit, so they are read once.
        let mut named = NamedFiles::default();
        let records = records.inspect(|item| {
            if let (true, Ok(record)) = (self.attachments, item) {
                named.note(record);
            }
        });
        let mut progress = |read| {
            if bar.length().is_some_and(|length| read > length) {
                bar.set_length(read);
            }
            bar.set_position(read);
        };
        let mut report = match custody.as_mut() {
            Some(plan) => plan.audit(genesis.entry(), records, &options, &mut progress),
            None => audit(genesis.entry(), records, &options, &mut progress),
        };
        bar.finish_and_clear();
        for extra in extra_problems {
            report.problem_count += 1;
            report.problems.push(extra);
        }

        let summary = AuditSummary {
            tool: format!("salvage {}", env!("CARGO_PKG_VERSION")),
            audited_at: Timestamp::now().to_string(),
            source,
            genesis: self.genesis.clone(),
            consortium: genesis.consortium().to_owned(),
            clean: report.is_clean(),
            earlier: earlier.map(|note| EarlierFinding {
                file: note.file.unwrap_or_default(),
                size: note.signed.checkpoint.size(),
                root: hex_root(&note.signed),
                extended: !report.problems.iter().any(|p| p.code == "proof.consistency"),
            }),
            report,
        };
        // The sample is keyed by the checkpoint the audit verified; no verified checkpoint, no sample.
        let verified = checkpoint
            .as_ref()
            .filter(|_| summary.report.checkpoint.as_ref().is_some_and(|found| !found.signed_by.is_empty()));
        let custody_csv = custody.as_ref().and_then(|plan| plan.csv.clone());
        let custody = custody.map(|plan| plan.finish(verified.map(|note| &note.signed))).transpose()?;
        let attachments = match (self.attachments, &self.node, &self.data) {
            (false, _, _) => None,
            (true, Some(url), _) => Some(named.check(&FileSource::Node(Downloads::new(url)))),
            (true, None, Some(dir)) => Some(named.check(&FileSource::Data(attachments_directory(dir)))),
            (true, None, None) => None,
        };
        // The custody audit's language; English, the reference, when not asked for.
        let locales = custody.as_ref().map(|_| Locales::embedded()).transpose()?;
        let locale = locales.as_ref().map(|locales| locales.negotiate(None, self.lang.as_deref()));
        if let Some(path) = &self.html {
            let mut page = audit_report::html(&summary);
            if let Some(attachments) = &attachments {
                attachments.add_to_html(&mut page);
            }
            if let (Some(custody), Some(locale)) = (&custody, locale) {
                custody_report::add_custody(&mut page, custody, locale);
            }
            write_file(path, page.as_bytes())?;
        }
        if let (Some(custody), Some(path)) = (&custody, custody_csv) {
            // Scripts read the CSV: its messages stay English unless another language is asked for.
            let messages = locale.filter(|_| self.lang.as_deref().is_some_and(|lang| lang != "en"));
            write_file(&path, audit_findings::csv(custody, messages).as_bytes())?;
        }
        if self.json {
            let mut value = serde_json::to_value(&summary)?;
            if let (Some(attachments), Some(object)) = (&attachments, value.as_object_mut()) {
                object.insert("attachments".into(), serde_json::to_value(attachments)?);
            }
            if let (Some(custody), Some(object)) = (&custody, value.as_object_mut()) {
                object.insert("custody".into(), serde_json::to_value(custody)?);
            }
            say!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            say_raw!("{}", text(&summary));
            if let Some(attachments) = &attachments {
                say_raw!("{}", attachments.text());
            }
            if let (Some(custody), Some(locale)) = (&custody, locale) {
                say_raw!("{}", audit_findings::text(custody, locale));
            }
        }
        let count = summary.report.problem_count;
        let bad_files = attachments.as_ref().map_or(0, AttachmentsFinding::bad);
        let custody_errors = custody.as_ref().map_or(0, |custody| custody.errors);
        if count > 0 || bad_files > 0 || custody_errors > 0 {
            if self.save_checkpoint.is_some() {
                eprintln!("salvage: the checkpoint was not saved, as the audit found problems");
            }
            let mut found = Vec::new();
            if count > 0 {
                found.push(format!("{count} problem{}", plural(usize::try_from(count).unwrap_or(usize::MAX))));
            }
            if bad_files > 0 {
                let files = usize::try_from(bad_files).unwrap_or(usize::MAX);
                found.push(format!("{bad_files} attachment{} missing or not as named", plural(files)));
            }
            if let Some(custody) = custody.as_ref().filter(|custody| custody.errors > 0) {
                found.push(format!(
                    "{} finding{} that {} counts as error{}",
                    custody.errors,
                    plural(custody.errors),
                    custody.scheme.name,
                    plural(custody.errors)
                ));
            }
            bail!("the audit found {}", found.join(" and "));
        }
        if let (Some(path), Some(note)) = (&self.save_checkpoint, &checkpoint) {
            write_file(path, note.text.as_bytes())?;
            if !self.json {
                say!(
                    "checkpoint of size {} saved to {} for the next audit's --earlier",
                    note.signed.checkpoint.size(),
                    path.display()
                );
            }
        }
        Ok(())
    }
}

/// A checkpoint note as read, and parsed.
struct Note {
    /// The file it came from, if any.
    file: Option<PathBuf>,
    /// Its text, saved as is.
    text: String,
    /// The parsed note.
    signed: SignedCheckpoint,
}

/// Reads a checkpoint note from a file, refusing one of another ledger.
fn read_note(path: &Path, ledger_id: &LedgerId, what: &str) -> Result<Note> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let signed = SignedCheckpoint::parse(&text)
        .with_context(|| format!("the {what} {} is not a signed checkpoint note", path.display()))?;
    let origin = checkpoint_origin(ledger_id);
    if signed.checkpoint.origin() != origin {
        bail!(
            "the {what} {} is of {:?}, not of this genesis's ledger {origin:?}",
            path.display(),
            signed.checkpoint.origin()
        );
    }
    Ok(Note { file: Some(path.to_owned()), text, signed })
}

/// A progress bar on standard error when it is a terminal; hidden otherwise,
/// so that logs and pipes get no control characters.
fn progress_bar(expected: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match expected {
        Some(length) => ProgressBar::new(length).with_style(
            ProgressStyle::with_template("auditing {bar:40} {pos}/{len} records ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} auditing: {pos} records ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn problem(code: &str, message: String) -> Problem {
    Problem { seq: None, code: code.to_owned(), message }
}

fn hex_root(signed: &SignedCheckpoint) -> String {
    signed.checkpoint.root().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The summary as text for people.
fn text(summary: &AuditSummary) -> String {
    let report = &summary.report;
    let mut text = format!("Audit of ledger {} ({})\n", report.ledger_id, summary.consortium);
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<13}{value}\n"));
    line(
        "source",
        match &summary.source {
            Source::Node(url) => format!("node {url}"),
            Source::Data(dir) => format!("data directory {}", dir.display()),
        },
    );
    line("genesis", summary.genesis.display().to_string());
    line("records", report.records.to_string());
    line("signatures", report.signatures.to_string());
    line("items", report.items.to_string());
    line("members", report.members.to_string());
    if report.records_withholding > 0 || report.values_checked > 0 {
        // Format 2: signatures, chain and digests cover withheld values; only their disclosures show the values.
        line(
            "restricted",
            format!(
                "{} value{} withheld in {} record{}: digests verified, values not checked (they are the holders'); \
                 {} checked with disclosures given",
                report.values_unchecked,
                plural(report.values_unchecked as usize),
                report.records_withholding,
                plural(report.records_withholding as usize),
                report.values_checked
            ),
        );
    }
    if report.giais_unallocated > 0 {
        // A ledger from before allocation took them; one that allocates would not (docs/rules.md §10).
        let examples: Vec<String> =
            report.unallocated.iter().take(5).map(|found| format!("{} by {}", found.giai, found.registrant)).collect();
        line(
            "unallocated",
            format!(
                "{} GIAI{} outside the registrant's company prefixes and ranges, which a ledger that allocates \
                 GIAIs would refuse (giai.not_allocated), e.g. {}",
                report.giais_unallocated,
                plural(report.giais_unallocated as usize),
                examples.join(", ")
            ),
        );
    }
    if report.rules_would_refuse > 0 {
        // A ledger from before the waste rules took them; one of rules 2 would not (docs/rules.md §11).
        let examples: Vec<String> =
            report.would_refuse.iter().take(5).map(|found| format!("record {} {}", found.seq, found.code)).collect();
        line(
            "rules 2",
            format!(
                "{} entr{} that the waste and attestation rules (docs/rules.md §11) would refuse, e.g. {}",
                report.rules_would_refuse,
                if report.rules_would_refuse == 1 { "y" } else { "ies" },
                examples.join(", ")
            ),
        );
    }
    line("root", report.root.clone());
    line("state", report.state.clone());
    match &report.checkpoint {
        Some(checkpoint) => {
            line("checkpoint", format!("size {}, root {}", checkpoint.size, checkpoint.root));
            let signers = if checkpoint.signed_by.is_empty() {
                "nobody in the consortium".to_owned()
            } else {
                checkpoint.signed_by.join(", ")
            };
            line(
                "signed by",
                format!("{signers} ({} of {} operators)", checkpoint.signed_by.len(), checkpoint.operators),
            );
        }
        None => line("checkpoint", "none checked".to_owned()),
    }
    if let Some(earlier) = &summary.earlier {
        let verdict = if earlier.extended { "extended by the ledger" } else { "NOT extended by the ledger" };
        line("earlier", format!("size {}, root {}: {verdict}", earlier.size, earlier.root));
    }
    line("audited at", format!("{} by {}", summary.audited_at, summary.tool));
    if summary.clean {
        line("result", "clean: no problem found".to_owned());
    } else {
        let count = report.problem_count;
        line("result", format!("{count} PROBLEM{}", if count == 1 { "" } else { "S" }));
        text.push_str(&problem_lines(&report.problems));
        let unlisted = count.saturating_sub(report.problems.len() as u64);
        if unlisted > 0 {
            text.push_str(&format!("  … and {unlisted} more not listed\n"));
        }
    }
    text
}

/// The most attachment problems listed; all are counted.
const MAX_LISTED: usize = 1000;

/// The attachments the audited records name, gathered as the records stream
/// past: one small entry per distinct file, nothing of the records kept.
#[derive(Default)]
struct NamedFiles {
    files: HashMap<AttachmentDigest, NamedFile>,
}

/// What the records say of one file.
struct NamedFile {
    /// The first record that names it publicly (or, while none does, at all).
    seq: u64,
    /// Whether a public field names it.
    public: bool,
    /// The `size` that record gives.
    size: Option<u64>,
    /// Any other size another record gives, with that record: at most one of them can be right.
    others: Vec<(Option<u64>, u64)>,
}

impl NamedFiles {
    /// Notes the files the record `bytes` (canonical JSON) names.
    fn note(&mut self, bytes: &[u8]) {
        // Most records name no file: only those that hold a digest's member are parsed again.
        if !bytes.windows(BLAKE3_MEMBER.len()).any(|window| window == BLAKE3_MEMBER) {
            return;
        }
        // A record that does not parse is the audit's problem, reported there.
        let Ok(record) = serde_json::from_slice::<Value>(bytes) else { return };
        let statement = &record["entry"]["statement"];
        let Some(kind) = statement["kind"].as_str().and_then(|kind| kind.parse::<Kind>().ok()) else { return };
        if !can_name(kind) {
            return;
        }
        let seq = record["seq"].as_u64().unwrap_or_default();
        for named in named_in(kind, &statement["body"]) {
            let reference = named.reference;
            let file = self.files.entry(reference.digest).or_insert(NamedFile {
                seq,
                public: named.public,
                size: reference.size,
                others: Vec::new(),
            });
            if named.public && !file.public {
                file.public = true;
                file.seq = seq;
            }
            if reference.size != file.size && !file.others.iter().any(|(size, _)| *size == reference.size) {
                file.others.push((reference.size, seq));
            }
        }
    }

    /// Fetches every publicly named file from `source` and checks it, in the
    /// order the records first name them.
    fn check(&self, source: &FileSource) -> AttachmentsFinding {
        let mut finding = AttachmentsFinding { named: self.files.len() as u64, ..AttachmentsFinding::default() };
        let mut public: Vec<(&AttachmentDigest, &NamedFile)> =
            self.files.iter().filter(|(_, file)| file.public).collect();
        public.sort_by_key(|(digest, file)| (file.seq, **digest));
        finding.not_checked_restricted = finding.named - public.len() as u64;
        let bar = checking_bar(public.len() as u64);
        for (digest, file) in public {
            finding.checked += 1;
            if let Some(problem) = check_one(source, digest, file) {
                if problem.code == "attachment.missing" {
                    finding.missing += 1;
                } else {
                    finding.mismatched += 1;
                }
                if finding.problems.len() < MAX_LISTED {
                    finding.problems.push(problem);
                }
            } else {
                finding.verified += 1;
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        finding
    }
}

/// The member that makes a record name a file, as canonical JSON writes it.
const BLAKE3_MEMBER: &[u8] = b"\"blake3\":";

/// Where the audit reads attachments from.
enum FileSource {
    /// A node, as anyone may: only what public fields name.
    Node(Downloads),
    /// A data directory's `attachments/`.
    Data(PathBuf),
}

/// The problem with one file, if any: it cannot be had, or its bytes are not
/// the ones its name and sizes say.
fn check_one(source: &FileSource, digest: &AttachmentDigest, file: &NamedFile) -> Option<Problem> {
    let sizes: Vec<(Option<u64>, u64)> = std::iter::once((file.size, file.seq)).chain(file.others.clone()).collect();
    let limit = if sizes.iter().any(|(size, _)| size.is_none()) {
        UNSIZED_LIMIT
    } else {
        sizes.iter().filter_map(|(size, _)| *size).max().unwrap_or(UNSIZED_LIMIT)
    };
    let fetched = match source {
        FileSource::Node(downloads) => downloads.get(digest, limit),
        FileSource::Data(dir) => {
            let hex = digest.to_hex();
            read_file(&dir.join("objects").join(&hex[..2]).join(&hex), limit)
        }
    };
    let problem = |code: &str, why: String| {
        Some(Problem { seq: Some(file.seq), code: code.to_owned(), message: format!("{digest}: {why}") })
    };
    let bytes = match fetched {
        Fetched::Bytes(bytes) => bytes,
        Fetched::TooLong => return problem("attachment.mismatch", Mismatch::TooLong { limit }.to_string()),
        Fetched::Unavailable(why) => return problem("attachment.missing", why),
    };
    for (size, seq) in sizes {
        match judge(&bytes, digest, size) {
            Ok(()) => {}
            Err(Mismatch::Size { actual, expected }) => {
                return problem(
                    "attachment.mismatch",
                    format!("it has the digest but {actual} bytes, not the {expected} record {seq} gives"),
                );
            }
            Err(mismatch) => return problem("attachment.mismatch", mismatch.to_string()),
        }
    }
    None
}

/// The attachments of a data directory: beside `log/`, or beside the log directory given.
fn attachments_directory(dir: &Path) -> PathBuf {
    if dir.join("log").is_dir() {
        return dir.join("attachments");
    }
    dir.parent().map_or_else(|| PathBuf::from("attachments"), |parent| parent.join("attachments"))
}

/// A progress bar of the files checked, on standard error when it is a terminal.
fn checking_bar(files: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() || files == 0 {
        return ProgressBar::hidden();
    }
    ProgressBar::new(files).with_style(
        ProgressStyle::with_template("checking attachments {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// What checking the attachments found: a section of the report of its own,
/// apart from the ledger's problems (whose codes docs/format.md §8 lists).
#[derive(Debug, Default, Serialize)]
struct AttachmentsFinding {
    /// Distinct files the records name.
    named: u64,
    /// Those named in a public field, each fetched and checked.
    checked: u64,
    /// Those whose bytes have their name and sizes.
    verified: u64,
    /// Those that could not be had (`attachment.missing`).
    missing: u64,
    /// Those whose bytes are not as named (`attachment.mismatch`).
    mismatched: u64,
    /// Those named only in restricted fields: not checked (restricted).
    not_checked_restricted: u64,
    /// Each file missing or wrong, up to [`MAX_LISTED`].
    problems: Vec<Problem>,
}

impl AttachmentsFinding {
    /// How many files are missing or wrong.
    fn bad(&self) -> u64 {
        self.missing + self.mismatched
    }

    /// The section as text for people, after the audit's summary.
    fn text(&self) -> String {
        let mut text = String::from("Attachments\n");
        let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<13}{value}\n"));
        line("checked", format!("{} named in public fields", self.checked));
        line("not checked", format!("{} named only in restricted fields (restricted)", self.not_checked_restricted));
        if self.bad() == 0 {
            line("result", format!("{} verified: every file has its name's bytes", self.verified));
        } else {
            line(
                "result",
                format!("{} verified, {} MISSING, {} NOT AS NAMED", self.verified, self.missing, self.mismatched),
            );
            text.push_str(&problem_lines(&self.problems));
            let unlisted = self.bad().saturating_sub(self.problems.len() as u64);
            if unlisted > 0 {
                text.push_str(&format!("  … and {unlisted} more not listed\n"));
            }
        }
        text
    }

    /// Adds the section to the HTML report, before its footer.
    fn add_to_html(&self, page: &mut String) {
        let section = maud::html! {
            h2 { "Attachments" }
            @if self.bad() == 0 {
                p.verdict.clean { "Every attachment named in a public field was fetched and has the bytes its name says: " (self.verified) " files." }
            } @else {
                p.verdict.problems { "Attachments missing or not as named: " (self.bad()) ". Each is listed below." }
            }
            table {
                tr { th { "Named in public fields, checked" } td { (self.checked) } }
                tr { th { "Verified" } td { (self.verified) } }
                tr { th { "Missing" } td { (self.missing) } }
                tr { th { "Not as named" } td { (self.mismatched) } }
                tr { th { "Not checked (restricted)" } td { (self.not_checked_restricted) } }
            }
            @if !self.problems.is_empty() {
                table.list {
                    tr { th { "Record" } th { "Code" } th { "What is wrong" } }
                    @for problem in &self.problems {
                        tr {
                            td { @if let Some(seq) = problem.seq { (seq) } }
                            td { code { (problem.code) } }
                            td { (problem.message) }
                        }
                    }
                }
            }
        }
        .into_string();
        let at = page.rfind("<footer>").or_else(|| page.rfind("</body>")).unwrap_or(page.len());
        page.insert_str(at, &section);
    }
}
