//! `salvage register PASSPORT.json`: a contractor registers a salvaged item.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use salvage_ledger::entry::Kind;
use serde_json::{Value, json};

use super::attach::FileFields;
use super::member_args::SignerArgs;

/// Register an item with its material passport (the GIAI is the passport's identity.giai).
///
/// The passport's `photos` and `documents` may name local files by path (relative to the
/// passport file), as `"beam.jpg"` or `{"file": "beam.jpg", "title": "North end"}`: they
/// are stripped of metadata, uploaded and replaced by their references first.
#[derive(Debug, Args)]
pub struct RegisterCommand {
    /// The passport, JSON (schemas/passport.schema.json).
    passport: PathBuf,
    /// A photo of the item (JPEG, PNG, WebP) to upload and add to the passport's photos.
    #[arg(long, value_name = "FILE")]
    photo: Vec<PathBuf>,
    /// A document (PDF or image) to upload and add to the passport's documents.
    #[arg(long, value_name = "FILE")]
    document: Vec<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl RegisterCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let mut passport = read_json(&self.passport)?;
        add_files(&mut passport, "photos", &self.photo)?;
        add_files(&mut passport, "documents", &self.document)?;
        let base = self.passport.parent().unwrap_or(std::path::Path::new(""));
        FileFields { holder: &mut passport, lists: &["photos", "documents"], single: &[] }
            .upload(base, &self.signer)?;
        let giai = passport_giai(&passport)
            .with_context(|| format!("{}: the passport names no identity.giai", self.passport.display()))?;
        self.signer.submit(Kind::ItemRegister, json!({"giai": giai, "passport": passport}))
    }
}

/// The GIAI a passport is for.
pub fn passport_giai(passport: &Value) -> Option<String> {
    passport.pointer("/identity/giai").and_then(Value::as_str).map(str::to_owned)
}

/// Reads a JSON document strictly (duplicate keys refused), naming the file in any error.
pub fn read_json(path: &std::path::Path) -> Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    salvage_ledger::canonical::parse_strict(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))
}

/// Appends `files` (given on the command line, so relative to the working directory) to the
/// list `field` of `holder`, as paths for [`FileFields`] to upload.
pub fn add_files(holder: &mut Value, field: &str, files: &[PathBuf]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let Some(object) = holder.as_object_mut() else { anyhow::bail!("the document is not a JSON object") };
    let list = object.entry(field).or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else { anyhow::bail!("{field} is not a list") };
    for file in files {
        let absolute = std::path::absolute(file).with_context(|| format!("cannot find {}", file.display()))?;
        list.push(Value::String(absolute.to_string_lossy().into_owned()));
    }
    Ok(())
}
