//! `salvage attach FILE…`: upload photos and documents to the node, and what
//! `register`, `import` and `attest` share to upload the files they are given.
//!
//! Every image is stripped of its metadata here, before it leaves the phone
//! or laptop (Exif with GPS and camera serials, XMP, comments, appended
//! images; the orientation is kept), because a node refuses any image that
//! still says where it was taken (docs/format.md §15). The upload is signed
//! with the member's key and names the file's BLAKE3 in its query, which the
//! signature covers, so the node stores exactly these bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use ed25519_dalek::SigningKey;
use salvage_cli::strip::strip_metadata;
use salvage_ledger::attachment::{AttachmentDigest, DEFAULT_LIMIT, MediaType, location_metadata, sniff};
use serde_json::{Value, json};

use super::member_args::{SignerArgs, read_keys};
use crate::client::NodeClient;

/// The long help of `salvage attach --help`.
pub const LONG_ABOUT: &str = "Upload photos and documents (JPEG, PNG, WebP, PDF) to your node.

Images are stripped of their metadata first: GPS position, camera serial
numbers, XMP and comments are removed, so a photo never tells anyone where it
was taken; its orientation is kept. Each file is printed as the reference a
passport or an attestation takes, to paste into `photos`, `documents` or
`report`:

    {\"title\": \"beam-north-end\", \"media_type\": \"image/jpeg\", \"blake3\": \"…\", \"size\": 184213}

`salvage register`, `salvage import` and `salvage attest` upload the files
their passports and attestations name by path, so you rarely need this
command on its own.";

/// `salvage attach`: see [`LONG_ABOUT`].
#[derive(Debug, Args)]
pub struct AttachCommand {
    /// The files to upload.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A title for each file, in order [default: the file's name].
    #[arg(long)]
    title: Vec<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl AttachCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if self.title.len() > self.files.len() {
            bail!("{} --title for {} file(s): give at most one title per file", self.title.len(), self.files.len());
        }
        // Every file is read and checked before the first is sent.
        let prepared = self
            .files
            .iter()
            .enumerate()
            .map(|(index, path)| Prepared::read(path, self.title.get(index).map(String::as_str)))
            .collect::<Result<Vec<_>>>()?;
        let uploader = Uploader::new(&self.signer)?;
        let references = prepared.iter().map(|file| uploader.upload(file)).collect::<Result<Vec<_>>>()?;
        let shown = if references.len() == 1 { references[0].clone() } else { Value::Array(references) };
        say!("{}", serde_json::to_string_pretty(&shown).unwrap_or_default());
        Ok(())
    }
}

/// A file read, checked and stripped, ready to upload.
pub struct Prepared {
    path: PathBuf,
    bytes: Vec<u8>,
    media_type: MediaType,
    digest: AttachmentDigest,
    title: String,
}

impl Prepared {
    /// Reads `path`, refusing what a node would refuse, and strips an image's metadata.
    pub fn read(path: &Path, title: Option<&str>) -> Result<Prepared> {
        let length = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
        // Stripping only shrinks a file; far beyond the limit is not worth reading.
        if length > 4 * DEFAULT_LIMIT {
            bail!("{}: {length} bytes is far more than a node takes ({DEFAULT_LIMIT} bytes)", path.display());
        }
        let original = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let Some(media_type) = sniff(&original) else {
            bail!("{}: not a JPEG, PNG, WebP or PDF file (judged from its contents, not its name)", path.display());
        };
        let bytes =
            strip_metadata(&original, media_type).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        if let Some(found) = location_metadata(&bytes, media_type) {
            bail!(
                "{}: still carries location metadata after stripping ({found}); export it without location",
                path.display()
            );
        }
        if bytes.len() as u64 > DEFAULT_LIMIT {
            bail!(
                "{}: {} bytes is more than a node takes by default ({} MiB); send a smaller photo or split the document",
                path.display(),
                bytes.len(),
                DEFAULT_LIMIT / (1024 * 1024)
            );
        }
        let title = match title {
            Some(title) => title.to_owned(),
            None => path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        if title.trim().is_empty() {
            bail!("{}: give the file a --title", path.display());
        }
        Ok(Prepared { path: path.to_owned(), digest: AttachmentDigest::of(&bytes), bytes, media_type, title })
    }
}

/// Uploads files to one node as one member.
pub struct Uploader {
    client: NodeClient,
    key: SigningKey,
}

impl Uploader {
    /// An uploader to the node and with the (first) key of `signer`.
    pub fn new(signer: &SignerArgs) -> Result<Uploader> {
        let key = read_keys(&signer.key)?.into_iter().next().context("no --key given")?;
        Ok(Uploader { client: signer.node.client()?, key })
    }

    /// Uploads `file` and returns the reference a statement takes.
    pub fn upload(&self, file: &Prepared) -> Result<Value> {
        let path = format!("/v1/attachments?blake3={}", file.digest);
        let (status, answer) = self.client.post_signed(&path, &self.key, &file.bytes)?;
        if !matches!(status, 200 | 201) {
            return Err(anyhow::Error::from(crate::client::refused(status, &answer)))
                .with_context(|| format!("uploading {}", file.path.display()));
        }
        let stored: Value = serde_json::from_slice(&answer)
            .with_context(|| format!("uploading {}: the node's answer is not JSON", file.path.display()))?;
        if stored["blake3"].as_str() != Some(file.digest.to_hex().as_str()) {
            bail!("uploading {}: the node stored other bytes ({})", file.path.display(), stored["blake3"]);
        }
        if status == 201 {
            eprintln!("uploaded {} ({}, {} bytes)", file.path.display(), file.media_type, file.bytes.len());
        } else {
            eprintln!("{}: the node holds it already", file.path.display());
        }
        Ok(json!({
            "title": file.title,
            "media_type": file.media_type.as_str(),
            "blake3": file.digest.to_hex(),
            "size": file.bytes.len(),
        }))
    }
}

/// Where a statement may name files by path, relative to the JSON file's directory:
/// `photos` and `documents` entries that are a path (`"beam.jpg"`) or `{"file": "beam.jpg",
/// "title": "…"}`, and an attestation's `report`.
pub struct FileFields<'a> {
    /// The passport or attestation holding them.
    pub holder: &'a mut Value,
    /// The fields that list files.
    pub lists: &'static [&'static str],
    /// The fields that hold one file.
    pub single: &'static [&'static str],
}

impl FileFields<'_> {
    /// The files named by path, read and checked, with where each goes.
    pub fn prepare(&self, base: &Path) -> Result<Vec<(String, Option<usize>, Prepared)>> {
        let mut found = Vec::new();
        for field in self.lists {
            let Some(Value::Array(elements)) = self.holder.get(*field) else { continue };
            for (index, element) in elements.iter().enumerate() {
                if let Some((path, title)) = named_file(element) {
                    found.push(((*field).to_owned(), Some(index), Prepared::read(&base.join(path), title)?));
                }
            }
        }
        for field in self.single {
            if let Some((path, title)) = self.holder.get(*field).and_then(named_file) {
                found.push(((*field).to_owned(), None, Prepared::read(&base.join(path), title)?));
            }
        }
        Ok(found)
    }

    /// Puts `reference` where the file was named.
    pub fn put(&mut self, field: &str, index: Option<usize>, reference: Value) {
        match index {
            Some(index) => {
                if let Some(slot) = self.holder.get_mut(field).and_then(|list| list.get_mut(index)) {
                    *slot = reference;
                }
            }
            None => {
                if let Some(slot) = self.holder.get_mut(field) {
                    *slot = reference;
                }
            }
        }
    }

    /// Uploads every file named by path (to `signer`'s node, as its member) and
    /// replaces it with its reference; every file is read and checked first.
    pub fn upload(&mut self, base: &Path, signer: &SignerArgs) -> Result<()> {
        let files = self.prepare(base)?;
        if files.is_empty() {
            return Ok(());
        }
        let uploader = Uploader::new(signer)?;
        for (field, index, file) in files {
            let reference = uploader.upload(&file)?;
            self.put(&field, index, reference);
        }
        Ok(())
    }
}

/// The path and title of a file named by path rather than by reference.
fn named_file(element: &Value) -> Option<(&str, Option<&str>)> {
    match element {
        Value::String(path) => Some((path, None)),
        Value::Object(fields) if fields.contains_key("file") && !fields.contains_key("blake3") => {
            Some((fields.get("file")?.as_str()?, fields.get("title").and_then(Value::as_str)))
        }
        _ => None,
    }
}
