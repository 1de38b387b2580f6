//! The node's attachments: the content-addressed files that passports and
//! attestations name (docs/format.md §15), kept in `DATA/attachments/`.
//!
//! - [`Attachments::judge_upload`]: what a member may upload (an accepted
//!   kind, within the limit, no location metadata).
//! - [`Attachments::check_references`]: the admission check a node makes of
//!   every entry it takes (`attachment.missing`, `attachment.mismatch`);
//!   records applied from peers are never refused for a file.
//! - [`Attachments::follow`]: reads the records the store has not seen and
//!   notes which items name which files, publicly or not, so a read can be
//!   judged without searching the ledger, and what is named but not held (a
//!   consortium node fetches it from its peers: `consortium::attachments`).
//!   It follows the ledger as every store of the node's does
//!   (`crate::follower`); [`Attachments::naming`] catches up itself when a
//!   file is named by no record read so far.
//! - [`thumbnail`]: the page's thumbnails, derived once and kept beside the original.
//!
//! The HTTP side is `server/attachments.rs`.

pub mod thumbnail;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use salvage_ledger::Ledger;
use salvage_ledger::attachment::{
    AttachmentDigest, AttachmentError, AttachmentStore, Held, MediaType, NameNote, Naming, can_name, location_metadata,
    named_in, sniff,
};
use salvage_ledger::chain::Record;
use salvage_ledger::disclosure::{Disclosure, reveal};
use salvage_ledger::entry::SignedEntry;
use salvage_ledger::refusal::{Refusal, RefusalCode};
use serde_json::Value;

use crate::follower::{Followed, Follower, Notes, followed_to};

/// A node's attachment store with its limits.
pub struct Attachments {
    follower: Arc<Follower<AttachmentStore>>,
    limit: u64,
}

/// The suffix of a thumbnail beside its original (docs/format.md §15).
pub const THUMBNAIL_SUFFIX: &str = "thumb.jpg";

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailFailure {
    /// The store could not read the original or keep the thumbnail.
    #[error("{0}")]
    Store(AttachmentError),
    /// The image does not decode (or is too large to).
    #[error("{0}")]
    Undecodable(thumbnail::ThumbnailError),
}

/// Why an upload is refused: a code for clients and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRefusal {
    /// `attachment.unsupported`, `attachment.too_large`, `attachment.location` or `attachment.empty`.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl Attachments {
    /// Opens the store in `dir`; files larger than `limit` bytes are refused.
    pub fn open(dir: &Path, limit: u64) -> Result<Attachments, AttachmentError> {
        let follower = Follower::new(AttachmentStore::open(dir)?)?;
        Ok(Attachments { follower: Arc::new(follower), limit })
    }

    /// The store.
    pub fn store(&self) -> &AttachmentStore {
        self.follower.notes()
    }

    /// The largest file taken, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The media type of `bytes` if a member may upload them.
    pub fn judge_upload(&self, bytes: &[u8]) -> Result<MediaType, UploadRefusal> {
        if bytes.is_empty() {
            return Err(UploadRefusal { code: "attachment.empty", message: "the file is empty".into() });
        }
        if bytes.len() as u64 > self.limit {
            return Err(too_large(self.limit));
        }
        let Some(media_type) = sniff(bytes) else {
            return Err(UploadRefusal {
                code: "attachment.unsupported",
                message: "the file is not a JPEG, PNG, WebP or PDF (its type is read from its first bytes, \
                          not from its name or the request's Content-Type)"
                    .into(),
            });
        };
        if let Some(found) = location_metadata(bytes, media_type) {
            return Err(UploadRefusal {
                code: "attachment.location",
                message: format!(
                    "the image carries location metadata ({found}), which would tell anyone who reads it where the \
                     photo was taken; remove it first: `salvage attach FILE` strips it, or export the photo \
                     without location (e.g. `exiftool -gps:all= -xmp:all= FILE`)"
                ),
            });
        }
        Ok(media_type)
    }

    /// The admission check of an entry a node takes: every file it names, in
    /// public or restricted fields, is held, of the declared type and length.
    pub fn check_references(&self, entry: &SignedEntry, disclosures: &[Disclosure]) -> Result<(), Refusal> {
        for named in named_by(entry, disclosures) {
            let reference = &named.reference;
            let held = self.store().held(&reference.digest).map_err(|error| {
                tracing::error!(%error, "reading the attachment store");
                Refusal::new(
                    RefusalCode::AttachmentMissing,
                    "the node cannot read its attachment store; try again later",
                )
            })?;
            let Some(Held { size, media_type }) = held else {
                return Err(Refusal::new(
                    RefusalCode::AttachmentMissing,
                    format!(
                        "{} names the attachment {} (\"{}\"), which this node does not hold: upload the file first \
                         (`salvage attach FILE`, or POST /v1/attachments), then submit again",
                        named.place, reference.digest, reference.title
                    ),
                ));
            };
            if reference.media_type != media_type.as_str() || reference.size.is_some_and(|declared| declared != size) {
                return Err(Refusal::new(
                    RefusalCode::AttachmentMismatch,
                    format!(
                        "{} says the attachment {} is {} of {} bytes, but the file is {media_type} of {size} bytes",
                        named.place,
                        reference.digest,
                        reference.media_type,
                        reference.size.map_or_else(|| "unstated".to_owned(), |size| size.to_string()),
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The files `entry` names that this node does not hold.
    pub fn unheld(&self, entry: &SignedEntry, disclosures: &[Disclosure]) -> Vec<AttachmentDigest> {
        let mut unheld: Vec<AttachmentDigest> = named_by(entry, disclosures)
            .into_iter()
            .map(|named| named.reference.digest)
            .filter(|digest| matches!(self.store().held(digest), Ok(None)))
            .collect();
        unheld.sort();
        unheld.dedup();
        unheld
    }

    /// Derives and keeps the thumbnail of the image `digest` unless it is kept
    /// already; returns its length in bytes.
    pub fn derive_thumbnail(&self, digest: &AttachmentDigest, media_type: MediaType) -> Result<u64, ThumbnailFailure> {
        let kept = self.store().derived_path(digest, THUMBNAIL_SUFFIX);
        if let Ok(meta) = std::fs::metadata(&kept) {
            return Ok(meta.len());
        }
        let original = self.store().read(digest).map_err(ThumbnailFailure::Store)?;
        let derived = thumbnail::thumbnail(&original, media_type, thumbnail::THUMBNAIL_WIDTH)
            .map_err(ThumbnailFailure::Undecodable)?;
        self.store().put_derived(digest, THUMBNAIL_SUFFIX, &derived.jpeg).map_err(ThumbnailFailure::Store)?;
        Ok(derived.jpeg.len() as u64)
    }

    /// The width and height of `digest`'s thumbnail, derived now if this node
    /// holds the image but has no thumbnail yet; `None` when it does not hold
    /// it or cannot decode it (the page then links the photo without one).
    pub fn thumbnail_size(&self, digest: &AttachmentDigest) -> Option<(u32, u32)> {
        let kept = self.store().derived_path(digest, THUMBNAIL_SUFFIX);
        if !kept.exists() {
            let held = self.store().held(digest).ok()??;
            if !held.media_type.is_image() {
                return None;
            }
            if let Err(error) = self.derive_thumbnail(digest, held.media_type) {
                tracing::warn!(%digest, %error, "no thumbnail");
                return None;
            }
        }
        thumbnail::jpeg_dimensions(&std::fs::read(kept).ok()?)
    }

    /// Who names `digest`, after catching up with the ledger if no record
    /// noted so far names it (a file named by a record just written).
    pub fn naming(&self, ledger: &Ledger, digest: &AttachmentDigest) -> Result<Naming, AttachmentError> {
        let naming = self.store().naming(digest)?;
        if naming.is_named() || self.followed_size() >= ledger.size() {
            return Ok(naming);
        }
        // Never waits for the background follower, which may be reading a whole
        // ledger after an upgrade: the file is then named a little later.
        if self.follower.try_follow(ledger)?.is_none() {
            return Ok(naming);
        }
        self.store().naming(digest)
    }

    /// Waits, at most `patience`, until the store has read `size` records: a
    /// read that found the background follower busy (a node that just received
    /// many records from its peers) waits for it rather than answer
    /// "unknown" for a file a record already names. Returns whether it got there.
    pub async fn caught_up(&self, size: u64, patience: Duration) -> bool {
        self.follower.caught_up(size, patience).await
    }

    /// How many of the ledger's records the store has read.
    pub fn followed_size(&self) -> u64 {
        self.follower.followed_size()
    }

    /// Reads the records the store has not seen, noting which items name which
    /// files; starts over when the ledger under the store is another one.
    /// Returns the size followed.
    pub fn follow(&self, ledger: &Ledger) -> Result<u64, AttachmentError> {
        self.follower.follow(ledger)
    }

    /// Follows the ledger in the background, every `every`, until the node stops.
    pub(crate) fn follow_in_the_background(&self, ledger: Arc<Ledger>, every: Duration) {
        self.follower.follow_in_the_background(ledger, every);
    }
}

impl Notes for AttachmentStore {
    type Error = AttachmentError;

    const WHAT: &'static str = "attachments";

    fn followed(&self) -> Result<Option<Followed>, AttachmentError> {
        AttachmentStore::followed(self)
    }

    /// Notes which items name which files in all of `records`, restricted
    /// fields included (revealed from the records' disclosures).
    fn note_records(&self, ledger: &Ledger, records: &[Record]) -> Result<Followed, AttachmentError> {
        let last = records.last().ok_or_else(|| Self::ledger_failed(&"no records to follow"))?;
        let mut notes = Vec::new();
        for record in records {
            let statement = record.entry.statement();
            if !can_name(statement.kind) {
                continue;
            }
            let seq = record.seq.get();
            let disclosures = ledger.disclosures(seq).map_err(|error| Self::ledger_failed(&error))?;
            let revealed = disclosures.and_then(|d| reveal(statement.kind, &statement.body, &d).ok());
            let body = revealed.as_ref().unwrap_or(&statement.body);
            for named in named_in(statement.kind, body) {
                let Some(giai) = naming_item(body, &named.place) else { continue };
                notes.push(NameNote { digest: named.reference.digest, giai, public: named.public, seq });
            }
        }
        let followed = followed_to(last);
        self.note_names(followed, &notes)?;
        Ok(followed)
    }

    fn start_over(&self) -> Result<(), AttachmentError> {
        self.forget_names()
    }

    fn ledger_failed(error: &dyn std::fmt::Display) -> AttachmentError {
        AttachmentError::Names { path: "the ledger".into(), reason: error.to_string() }
    }
}

/// The references `entry` makes, restricted ones included (revealed from
/// `disclosures`); none when it cannot name files or does not reveal (the
/// ledger refuses such an entry with the reason).
fn named_by(entry: &SignedEntry, disclosures: &[Disclosure]) -> Vec<salvage_ledger::attachment::Named> {
    let statement = entry.statement();
    if !can_name(statement.kind) {
        return Vec::new();
    }
    if disclosures.is_empty() {
        return named_in(statement.kind, &statement.body);
    }
    match reveal(statement.kind, &statement.body, disclosures) {
        Ok(whole) => named_in(statement.kind, &whole),
        Err(_) => Vec::new(),
    }
}

/// The item whose record names the attachment at `place`: a split's part
/// (`/parts/N/…`) names it for the part, every other body for its `giai`.
fn naming_item(body: &Value, place: &salvage_ledger::disclosure::Place) -> Option<String> {
    let item = match place.tokens() {
        [parts, index, ..] if parts == "parts" => {
            body.get("parts")?.get(index.parse::<usize>().ok()?)?.pointer("/passport/identity/giai")
        }
        _ => body.get("giai"),
    };
    item?.as_str().map(str::to_owned)
}

fn too_large(limit: u64) -> UploadRefusal {
    UploadRefusal {
        code: "attachment.too_large",
        message: format!(
            "the file is larger than this node takes ({limit} bytes, {}); send a smaller photo or split the document",
            in_binary_units(limit)
        ),
    }
}

/// `bytes` in the largest binary unit that keeps one decimal, e.g. `20 MiB`, `64 KiB`.
fn in_binary_units(bytes: u64) -> String {
    let (value, unit) = match bytes {
        b if b >= 1 << 30 => (b as f64 / f64::from(1u32 << 30), "GiB"),
        b if b >= 1 << 20 => (b as f64 / f64::from(1u32 << 20), "MiB"),
        b if b >= 1 << 10 => (b as f64 / 1024.0, "KiB"),
        b => return format!("{b} bytes"),
    };
    let shown = format!("{value:.1}");
    format!("{} {unit}", shown.strip_suffix(".0").unwrap_or(&shown))
}

/// The refusal of an upload declared larger than `limit` before its body is read.
pub(crate) fn refuse_declared_length(limit: u64) -> UploadRefusal {
    too_large(limit)
}
