//! `salvage bundle GIAI --out FILE [--with-attachments]`: an item's offline
//! proof bundle, and with it the files its records name.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use salvage_ledger::attachment::AttachmentDigest;
use salvage_ledger::bundle::{BUNDLE_FORMAT, Bundle};
use serde::Serialize;

use super::attachment_files::{
    Downloads, Fetched, Mismatch, Reference, file_name, judge, naming, read_limit, references_in,
};
use super::member_args::NodeArgs;
use super::write_file;

/// Download an item's proof bundle, which `salvage verify` checks offline.
#[derive(Debug, Args)]
pub struct BundleCommand {
    /// The item's GIAI.
    giai: String,
    /// Where to write the bundle (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Also download every photo and document the bundle's records name in a
    /// public field, beside the bundle as `<blake3>.<extension>`, each checked
    /// against its BLAKE3 name before it is written; `salvage verify BUNDLE
    /// FILE…` checks them again offline. Files named only in restricted fields
    /// are listed, not downloaded.
    #[arg(long)]
    with_attachments: bool,
    #[command(flatten)]
    node: NodeArgs,
}

/// What became of one file the bundle names.
#[derive(Debug, Serialize)]
struct Outcome {
    /// The file's digest.
    blake3: String,
    /// Where the first record that names it names it, for people.
    named: String,
    /// `written`, `restricted` (not downloaded) or `failed`.
    status: &'static str,
    /// Where it was written, or would have been.
    path: PathBuf,
    /// Its length, when written.
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Why it was not written.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl BundleCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let path = format!("/v1/items/{}/bundle", super::path_segment(&self.giai));
        let bundle = self.node.client()?.get_bytes(&path, "application/json")?;
        write_file(&self.out, &bundle)?;
        if !self.node.json {
            say!("bundle of {} written to {}", self.giai, self.out.display());
        }
        if !self.with_attachments {
            return Ok(());
        }
        let bundle: Bundle = serde_json::from_slice(&bundle)
            .with_context(|| format!("the node's answer is not a proof bundle ({BUNDLE_FORMAT})"))?;
        // Beside the bundle: `--out door.json` puts them in the current directory.
        let dir = match self.out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let downloads = Downloads::new(&self.node.node);
        let references = references_in(&bundle);
        let mut outcomes = Vec::new();
        for digest in distinct(&references) {
            let named_by = naming(&references, &digest);
            // A public reference, if any: anyone may then download the file.
            let Some(first) = named_by.iter().find(|each| each.named.public).or(named_by.first()).copied() else {
                continue;
            };
            let outcome = fetch_one(&downloads, &dir, first, &named_by);
            if !self.node.json {
                say!("{}", line(&outcome));
            }
            outcomes.push(outcome);
        }
        let failed = outcomes.iter().filter(|outcome| outcome.status == "failed").count();
        if self.node.json {
            let answer = serde_json::json!({"giai": self.giai, "bundle": self.out, "attachments": outcomes});
            say!("{}", serde_json::to_string_pretty(&answer)?);
        } else if outcomes.is_empty() {
            say!("  no record of the bundle names an attachment");
        }
        if failed > 0 {
            bail!(
                "{failed} of {} attachment{} could not be written; the others and the bundle were",
                outcomes.len(),
                if outcomes.len() == 1 { "" } else { "s" }
            );
        }
        Ok(())
    }
}

/// The digests the references name, each once, in the order first named.
fn distinct(references: &[Reference]) -> Vec<AttachmentDigest> {
    let mut seen = std::collections::HashSet::new();
    references.iter().map(|each| each.named.reference.digest).filter(|digest| seen.insert(*digest)).collect()
}

/// Downloads the file the references in `naming` (all of one digest, `first`
/// among them) name and writes it into `dir`, unless only restricted fields name it.
fn fetch_one(downloads: &Downloads, dir: &Path, first: &Reference, naming: &[&Reference]) -> Outcome {
    let reference = &first.named.reference;
    let mut outcome = Outcome {
        blake3: reference.digest.to_hex(),
        named: first.describe(),
        status: "failed",
        path: dir.join(file_name(reference)),
        size: None,
        error: None,
    };
    if !first.named.public {
        // This command signs nothing (it has no member key), and a stranger is not told such files exist.
        outcome.status = "restricted";
        return outcome;
    }
    let limit = read_limit(naming.iter().map(|each| each.named.reference.size));
    let bytes = match downloads.get(&reference.digest, limit) {
        Fetched::Bytes(bytes) => bytes,
        Fetched::TooLong => {
            outcome.error = Some(format!("the node's file is not the one named: {}", Mismatch::TooLong { limit }));
            return outcome;
        }
        Fetched::Unavailable(why) => {
            outcome.error = Some(why);
            return outcome;
        }
    };
    // Every reference's size must hold, as `salvage verify` will check it against each.
    let judged = naming.iter().try_for_each(|each| judge(&bytes, &reference.digest, each.named.reference.size));
    if let Err(mismatch) = judged {
        outcome.error = Some(format!("the node's file is not the one named: {mismatch}"));
        return outcome;
    }
    match write_whole(&outcome.path, &bytes) {
        Ok(()) => {
            outcome.status = "written";
            outcome.size = Some(bytes.len() as u64);
        }
        Err(error) => outcome.error = Some(format!("{error:#}")),
    }
    outcome
}

/// Writes `bytes` to `path` through `path.part` and a rename, so that a file
/// under a digest's name is always whole: `salvage verify DIR` trusts none of
/// them, but a cut one would only confuse.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".part");
    let temporary = PathBuf::from(temporary);
    write_file(&temporary, bytes)?;
    std::fs::rename(&temporary, path).with_context(|| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot name {} {}", temporary.display(), path.display())
    })
}

/// One line for people: the file and what became of it.
fn line(outcome: &Outcome) -> String {
    let name = outcome.path.display();
    match (outcome.status, outcome.size, &outcome.error) {
        ("written", Some(size), _) => format!("  {name}: written ({size} bytes; {})", outcome.named),
        ("restricted", _, _) => format!("  {name}: not downloaded: restricted ({})", outcome.named),
        (_, _, error) => format!("  {name}: NOT WRITTEN: {} ({})", error.as_deref().unwrap_or("failed"), outcome.named),
    }
}
