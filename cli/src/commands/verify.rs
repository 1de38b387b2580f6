//! `salvage verify BUNDLE [FILE…] --genesis GENESIS`: one item's proof bundle,
//! or a proof of one of its restricted values, checked offline against the
//! genesis alone; and attachment files checked against what its records name.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::attachment::AttachmentDigest;
use salvage_ledger::audit::Problem;
use salvage_ledger::bundle::{BUNDLE_FORMAT, Bundle, BundleReport, verify_bundle_requiring};
use salvage_ledger::disclosure_proof::{
    DisclosureProof, PROOF_FORMAT, ProofError, ProvenValue, verify_disclosure_proof,
};
use salvage_ledger::genesis::Genesis;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::attachment_files::{
    Fetched, Reference, claimed_digest, naming, read_file, read_limit, references_in, role_name,
};

/// The long help of `salvage verify --help`.
pub const LONG_ABOUT: &str = "Verify a proof bundle or a disclosure proof offline, trusting nothing but the genesis.

A bundle (from `salvage bundle GIAI --out FILE`) holds the item's records,
every record its parts came from, the membership records that admitted the
signers, an inclusion proof for each record and a checkpoint signed by
consortium operators. This command checks every signature, every inclusion
proof against the checkpoint's root, the checkpoint's operator signatures
and cosignatures (at least --require-signers distinct operators), and every
custody rule, and prints the item as the records leave it.

A disclosure proof (from `salvage disclose GIAI --field POINTER --out FILE`,
format salvage-disclosure-proof/v1) carries one restricted value, its salt
and the item's bundle. Besides the bundle, this command checks that the
record it names restricts that place and lists the value's fingerprint
(digest) among those it signed, and prints the proven value and who
recorded it. An edited value, salt or place does not verify.

Each FILE after the bundle (or the proof) is an attachment to check against
what the bundle's records name: it is good when its BLAKE3 digest is one a
record names (the title, record and role are printed) and its length is the
`size` every such reference gives. A FILE that no record names, or of another
length, fails the verification. A directory stands for every file in it named
`<blake3>.<extension>`, as `salvage bundle --with-attachments` writes them
(other files, the bundle among them, are left alone); such a file must also
hash to its name.

Exit status 0 when everything verifies; 1 otherwise, after naming each
problem (record, code, message). No network is used.";

/// `salvage verify`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
pub struct VerifyCommand {
    /// The bundle or disclosure proof (JSON) to verify.
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// Attachment files (or directories of `<blake3>.<extension>` files) to
    /// check against what the bundle's records name.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The consortium's genesis file, the trust anchor: the ledger id, the
    /// founding members and their keys all come from it.
    #[arg(long, env = "SALVAGE_GENESIS")]
    genesis: PathBuf,
    /// How many distinct consortium operators must have signed or cosigned
    /// the bundle's checkpoint, e.g. 2 of a 3-node consortium; one by default.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    require_signers: u16,
    /// Print the verification report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// A certifier's audit report (the JSON `salvage audit --findings --json` wrote): it must be
    /// the report an audit conclusion in the bundle names, byte for byte (its BLAKE3).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// The `format` member, which tells a disclosure proof from a bundle.
#[derive(Deserialize)]
struct Tagged {
    format: Option<String>,
}

impl VerifyCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let genesis = Genesis::read(&self.genesis)?;
        let bytes = std::fs::read(&self.bundle).with_context(|| format!("cannot read {}", self.bundle.display()))?;
        // Anything but a disclosure proof is read as a bundle, so that a file
        // that is neither is refused as before, as no proof bundle.
        let format = serde_json::from_slice::<Tagged>(&bytes).ok().and_then(|tagged| tagged.format);
        if format.as_deref() == Some(PROOF_FORMAT) {
            return self.verify_proof(&bytes, &genesis);
        }
        let bundle: Bundle = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a proof bundle ({BUNDLE_FORMAT})", self.bundle.display()))?;
        let mut report = verify_bundle_requiring(&bundle, genesis.entry(), usize::from(self.require_signers));
        if let Some(path) = &self.report {
            report.problems.extend(check_report(path, &report)?);
        }
        let files = self.check_files(&bundle);
        if self.json {
            let mut value = serde_json::to_value(&report)?;
            self.add_files(&mut value, &files)?;
            say!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            say_raw!("{}", summary(&report, genesis.consortium()));
            say_raw!("{}", self.file_lines(&files));
        }
        let failed = (!report.is_clean()).then(|| {
            format!(
                "the bundle of {} does not verify: {} problem{}",
                report.giai,
                report.problems.len(),
                plural(report.problems.len())
            )
        });
        verdict(failed, &files)
    }

    /// Verifies a disclosure proof: its bundle, then that the disclosure
    /// belongs to the record it names.
    fn verify_proof(&self, bytes: &[u8], genesis: &Genesis) -> Result<()> {
        let proof: DisclosureProof = serde_json::from_slice(bytes)
            .with_context(|| format!("{} is not a disclosure proof ({PROOF_FORMAT})", self.bundle.display()))?;
        let required = usize::from(self.require_signers);
        let verified = verify_disclosure_proof(&proof, genesis.entry(), required);
        let report = match &verified {
            Ok((_, report)) => report.clone(),
            Err(ProofError::Bundle(report)) => (**report).clone(),
            // The bundle verified; only the disclosure failed.
            Err(_) => verify_bundle_requiring(&proof.bundle, genesis.entry(), required),
        };
        let files = self.check_files(&proof.bundle);
        if self.json {
            let proven = verified.as_ref().ok().map(|(proven, _)| proven);
            let error = verified.as_ref().err().map(ToString::to_string);
            let mut value = json!({"proven": proven, "bundle": report, "error": error});
            self.add_files(&mut value, &files)?;
            say!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            say_raw!("{}", summary(&report, genesis.consortium()));
            match &verified {
                Ok((proven, _)) => say!("{}", proven_line(proven)),
                // A bundle that does not verify has said so, problem by problem.
                Err(error) if report.is_clean() => say!("  {:<17}NOT PROVEN: {error}", "disclosure"),
                Err(_) => {}
            }
            say_raw!("{}", self.file_lines(&files));
        }
        let failed = match verified {
            Ok(_) => None,
            Err(ProofError::Bundle(report)) => Some(format!(
                "the proof's bundle of {} does not verify: {} problem{}",
                report.giai,
                report.problems.len(),
                plural(report.problems.len())
            )),
            Err(error) => Some(format!("the proof of a value of {} does not verify: {error}", proof.bundle.giai)),
        };
        verdict(failed, &files)
    }

    /// Checks every FILE given (each file of a directory given) against the
    /// references `bundle`'s records make; nothing when none was given.
    fn check_files(&self, bundle: &Bundle) -> Vec<FileCheck> {
        if self.files.is_empty() {
            return Vec::new();
        }
        let references = references_in(bundle);
        // No file longer than every reference allows is read: it cannot be one of them.
        let limit = read_limit(references.iter().map(|each| each.named.reference.size));
        let mut checks = Vec::new();
        for path in &self.files {
            if !path.is_dir() {
                checks.push(check_file(path, None, &references, limit));
                continue;
            }
            match attachment_files_in(path) {
                Ok(found) if found.is_empty() => checks.push(FileCheck::failed(
                    path,
                    "the directory holds no file named <blake3>.<extension> to check".into(),
                )),
                Ok(found) => checks.extend(
                    found.into_iter().map(|(file, claimed)| check_file(&file, Some(claimed), &references, limit)),
                ),
                Err(error) => checks.push(FileCheck::failed(path, format!("{error:#}"))),
            }
        }
        checks
    }

    /// Adds the file checks to a JSON report as `files`, when FILEs were given.
    fn add_files(&self, value: &mut Value, files: &[FileCheck]) -> Result<()> {
        if let (false, Some(object)) = (self.files.is_empty(), value.as_object_mut()) {
            object.insert("files".into(), serde_json::to_value(files)?);
        }
        Ok(())
    }

    /// The file checks as text for people, after the bundle's summary.
    fn file_lines(&self, files: &[FileCheck]) -> String {
        if self.files.is_empty() {
            return String::new();
        }
        let mut text = String::from("Files checked against the bundle\n");
        for check in files {
            let named = check.named_by.iter().map(|each| each.description.as_str()).collect::<Vec<_>>().join("; ");
            match &check.problem {
                None => text.push_str(&format!(
                    "  {}: good: {named} ({} bytes)\n",
                    check.file.display(),
                    check.size.unwrap_or_default()
                )),
                Some(problem) => text.push_str(&format!("  {}: NOT GOOD: {problem}\n", check.file.display())),
            }
        }
        let bad = files.iter().filter(|check| check.problem.is_some()).count();
        let result = if bad == 0 { "all good".to_owned() } else { format!("{bad} NOT GOOD") };
        text.push_str(&format!("  {:<17}{} checked: {result}\n", "files", files.len()));
        text
    }
}

/// What checking one FILE found.
#[derive(Debug, Serialize)]
struct FileCheck {
    /// The file.
    file: PathBuf,
    /// Its BLAKE3 digest, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    blake3: Option<String>,
    /// Its length, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Whether it is the file the references naming its digest name.
    good: bool,
    /// The references that name its digest.
    named_by: Vec<NamedBy>,
    /// Why it is not good.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

impl FileCheck {
    /// A file that could not be checked, or is no attachment of the bundle.
    fn failed(file: &Path, problem: String) -> FileCheck {
        FileCheck {
            file: file.to_owned(),
            blake3: None,
            size: None,
            good: false,
            named_by: Vec::new(),
            problem: Some(problem),
        }
    }
}

/// One reference that names a file, for the report.
#[derive(Debug, Serialize)]
struct NamedBy {
    /// The record that names it.
    seq: u64,
    /// The title it gives.
    title: String,
    /// `photo`, `document` or `report`.
    role: &'static str,
    /// Where in the record's body, a JSON Pointer.
    place: String,
    /// The `size` it gives, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Whether a public field names it.
    public: bool,
    /// All of it, for people.
    #[serde(skip)]
    description: String,
}

impl From<&Reference> for NamedBy {
    fn from(each: &Reference) -> NamedBy {
        let reference = &each.named.reference;
        NamedBy {
            seq: each.seq,
            title: reference.title.clone(),
            role: role_name(each.named.role),
            place: each.named.place.to_string(),
            size: reference.size,
            public: each.named.public,
            description: each.describe(),
        }
    }
}

/// Checks one file against `references`; `claimed` is the digest its name
/// gives, for a file found in a directory.
fn check_file(path: &Path, claimed: Option<AttachmentDigest>, references: &[Reference], limit: u64) -> FileCheck {
    let bytes = match read_file(path, limit) {
        Fetched::Bytes(bytes) => bytes,
        Fetched::TooLong if references.is_empty() => {
            return FileCheck::failed(path, "no record of the bundle names any attachment".into());
        }
        Fetched::TooLong => {
            return FileCheck::failed(
                path,
                format!("it is longer than any file the bundle names ({limit} bytes at most)"),
            );
        }
        Fetched::Unavailable(why) => return FileCheck::failed(path, why),
    };
    let digest = AttachmentDigest::of(&bytes);
    let size = bytes.len() as u64;
    let named_by = naming(references, &digest);
    let problem = if let Some(claimed) = claimed.filter(|claimed| *claimed != digest) {
        Some(format!("its bytes hash to {digest}, not to the {claimed} its name gives"))
    } else if named_by.is_empty() {
        Some(format!("its BLAKE3 digest {digest} is named by no record of the bundle"))
    } else {
        named_by.iter().find_map(|each| match each.named.reference.size {
            Some(expected) if expected != size => Some(format!(
                "it has a named digest but {size} bytes, not the {expected} that record {} gives ({})",
                each.seq,
                each.describe()
            )),
            _ => None,
        })
    };
    FileCheck {
        file: path.to_owned(),
        blake3: Some(digest.to_hex()),
        size: Some(size),
        good: problem.is_none(),
        named_by: named_by.into_iter().map(NamedBy::from).collect(),
        problem,
    }
}

/// The files of `dir` named `<blake3>.<extension>`, with the digest each name
/// gives, in name order.
fn attachment_files_in(dir: &Path) -> Result<Vec<(PathBuf, AttachmentDigest)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read the directory {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read the directory {}", dir.display()))?;
        let Some(claimed) = entry.file_name().to_str().and_then(claimed_digest) else { continue };
        if entry.file_type().is_ok_and(|kind| kind.is_file()) {
            found.push((entry.path(), claimed));
        }
    }
    found.sort();
    Ok(found)
}

/// The command's outcome: what did not verify (`failed`), and any file that
/// is not good, each make it fail.
fn verdict(failed: Option<String>, files: &[FileCheck]) -> Result<()> {
    let bad = files.iter().filter(|check| !check.good).count();
    let files_note = (bad > 0).then(|| {
        format!(
            "{bad} of {} file{} {} not what the bundle's records name",
            files.len(),
            plural(files.len()),
            if bad == 1 { "is" } else { "are" }
        )
    });
    match (failed, files_note) {
        (None, None) => Ok(()),
        (Some(failed), None) => bail!("{failed}"),
        (None, Some(note)) => bail!("{note}"),
        (Some(failed), Some(note)) => bail!("{failed}; and {note}"),
    }
}

/// `Proven: POINTER = VALUE — recorded at position N by SIGNERS`.
fn proven_line(proven: &ProvenValue) -> String {
    let signers =
        if proven.signed_by.is_empty() { "an unknown signer".to_owned() } else { proven.signed_by.join(", ") };
    format!(
        "Proven: {} = {} — recorded at position {} by {signers} ({})",
        proven.pointer, proven.value, proven.seq, proven.kind
    )
}

/// The report as text for people.
fn summary(report: &BundleReport, consortium: &str) -> String {
    let mut text = format!("Bundle of item {}\n", report.giai);
    let mut line = |label: &str, value: String| text.push_str(&format!("  {label:<17}{value}\n"));
    line("ledger", format!("{} ({consortium})", report.ledger_id));
    match &report.item {
        Some(item) => {
            line("name", item.name.clone());
            line("custodian", item.custodian.to_string());
            line(
                "status",
                serde_json::to_value(item.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            );
            if let Some(pending) = &item.pending {
                line("offered to", pending.to.to_string());
            }
            line("passport version", item.passport_version.to_string());
            if let Some(parent) = &item.parent {
                line("split from", parent.to_string());
            }
        }
        None => line("item", "not established by the bundle".to_owned()),
    }
    line("records verified", report.records_verified.to_string());
    for conclusion in &report.conclusions {
        let findings = if conclusion.flagged { "findings noted for this item" } else { "no findings for this item" };
        line(
            "audited",
            format!(
                "by {} at record {} (ledger of {} records): {findings}, overall {}; report BLAKE3 {}",
                conclusion.certifier, conclusion.seq, conclusion.checkpoint_size, conclusion.verdict, conclusion.report
            ),
        );
    }
    if let Some(checkpoint) = &report.checkpoint {
        line("checkpoint", format!("size {}, root {}", checkpoint.size, checkpoint.root));
        let signers = if checkpoint.signed_by.is_empty() {
            "nobody in the consortium".to_owned()
        } else {
            checkpoint.signed_by.join(", ")
        };
        line("signed by", format!("{signers} ({} of {} operators)", checkpoint.signed_by.len(), checkpoint.operators));
    }
    if report.is_clean() {
        line("result", "verified: no problem found".to_owned());
    } else {
        line("result", format!("NOT VERIFIED: {} problem{}", report.problems.len(), plural(report.problems.len())));
        text.push_str(&problem_lines(&report.problems));
    }
    text
}

/// Checks that the report file is one an audit conclusion of the bundle names: a problem when
/// none does (or the bundle holds no conclusion).
fn check_report(path: &Path, report: &BundleReport) -> Result<Option<Problem>> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read the report {}", path.display()))?.len();
    if size > super::conclude::MAX_REPORT_BYTES {
        bail!("the report {} has {size} bytes; an audit report a conclusion names is far smaller", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the report {}", path.display()))?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if report.conclusions.iter().any(|conclusion| conclusion.report == hash) {
        return Ok(None);
    }
    let named: Vec<&str> = report.conclusions.iter().map(|conclusion| conclusion.report.as_str()).collect();
    let message = if named.is_empty() {
        format!("{} (BLAKE3 {hash}): the bundle holds no audit conclusion to check it against", path.display())
    } else {
        format!(
            "{} has BLAKE3 {hash}, which no audit conclusion of the bundle names ({}): it is not the report concluded, or it was changed",
            path.display(),
            named.join(", ")
        )
    };
    Ok(Some(Problem { seq: None, code: "audit.report_mismatch".to_owned(), message }))
}

/// Each problem on a line of its own: where, the code, what is wrong.
pub fn problem_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| {
            let place = problem.seq.map_or_else(|| "ledger".to_owned(), |seq| format!("record {seq}"));
            format!("  {place:<14} {}: {}\n", problem.code, problem.message)
        })
        .collect()
}

/// "s" unless there is exactly one.
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
