//! Attachments: the photos and documents that passports and attestations name
//! by the BLAKE3 digest of their exact bytes (docs/format.md §15).
//!
//! What is pure lives here: which files are accepted ([`sniff`]), which images
//! are refused for the location they would give away ([`location_metadata`]),
//! the reference a statement carries ([`AttachmentRef`]) and which references a
//! body makes, public or restricted ([`named_in`]). The content-addressed files
//! themselves are kept by [`AttachmentStore`]. Who may upload and read them, and
//! how nodes pass them to each other, is the node's business.

mod location;
mod sniff;
mod store;

use serde_json::Value;

use crate::disclosure::{Place, restricted_places};
use crate::entry::Kind;

pub use location::{LocationMetadata, location_metadata};
pub use sniff::{MediaType, sniff};
pub use store::{AttachmentError, AttachmentStore, Followed, Held, NameNote, Naming, Stored};

/// The largest attachment a node takes unless configured otherwise: 20 MiB.
pub const DEFAULT_LIMIT: u64 = 20 * 1024 * 1024;

crate::digest::hash_newtype! {
    /// The BLAKE3 digest of an attachment's exact bytes: its name everywhere.
    AttachmentDigest
}

impl AttachmentDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> AttachmentDigest {
        AttachmentDigest(*blake3::hash(bytes).as_bytes())
    }

    /// A digest from its 64 lowercase hex digits, as statements and URLs write it.
    pub fn parse(text: &str) -> Option<AttachmentDigest> {
        AttachmentDigest::from_hex(text).ok()
    }
}

/// What a statement says of an attachment: `{title, media_type, blake3, size}`
/// (`common.schema.json#/$defs/document`). `size` is optional only because
/// documents named before attachments were stored did not give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRef {
    /// The digest of the file's bytes.
    pub digest: AttachmentDigest,
    /// The media type the statement declares, as written (the schema bounds it).
    pub media_type: String,
    /// The file's length in bytes, when the statement gives it.
    pub size: Option<u64>,
    /// The human title.
    pub title: String,
}

impl AttachmentRef {
    /// The reference a document object makes, or `None` when it is not one
    /// (the schema refuses such objects; a withheld element is `null`).
    pub fn from_value(value: &Value) -> Option<AttachmentRef> {
        let digest = AttachmentDigest::parse(value.get("blake3")?.as_str()?)?;
        Some(AttachmentRef {
            digest,
            media_type: value.get("media_type")?.as_str()?.to_owned(),
            size: value.get("size").and_then(Value::as_u64),
            title: value.get("title").and_then(Value::as_str).unwrap_or_default().to_owned(),
        })
    }

    /// The reference as a statement carries it.
    pub fn to_value(&self) -> Value {
        let mut value = serde_json::json!({
            "title": self.title,
            "media_type": self.media_type,
            "blake3": self.digest.to_hex(),
        });
        if let (Some(size), Some(object)) = (self.size, value.as_object_mut()) {
            object.insert("size".into(), size.into());
        }
        value
    }
}

/// Where in a body an attachment is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A passport's `photos`.
    Photo,
    /// A passport's or an attestation's `documents`.
    Document,
    /// An attestation's `report`.
    Report,
}

/// One reference a body makes, with whether anyone may read the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The reference.
    pub reference: AttachmentRef,
    /// What the body names it as.
    pub role: Role,
    /// Where in the body, e.g. `/passport/photos/0`.
    pub place: Place,
    /// `false` when the reference lies in, or holds, a restricted place of the
    /// body (docs/format.md §13): only entitled members may read such a file.
    pub public: bool,
}

/// Whether statements of `kind` can name attachments: registrations,
/// amendments and splits (their passports) and attestations.
pub fn can_name(kind: Kind) -> bool {
    matches!(kind, Kind::ItemRegister | Kind::ItemAmend | Kind::ItemSplit | Kind::ItemAttest)
}

/// Every attachment `body`, a statement of `kind` with its restricted values
/// in place (revealed, or as signed on a format-1 ledger), names: the
/// passports' photos and documents (`/passport`, `/parts/N/passport`) and an
/// attestation's report and documents. A withheld value (`null`) names nothing.
pub fn named_in(kind: Kind, body: &Value) -> Vec<Named> {
    let restricted = restricted_places(kind, body);
    let mut named = Vec::new();
    let mut collect = |holder: Place, object: Option<&Value>, lists: &[(&str, Role)]| {
        let Some(object) = object else { return };
        for (field, role) in lists {
            let place = holder.join(&Place::member(field));
            match object.get(*field) {
                Some(Value::Array(elements)) => {
                    for (index, element) in elements.iter().enumerate() {
                        add(&mut named, &restricted, place.element(index), element, *role);
                    }
                }
                Some(element @ Value::Object(_)) => add(&mut named, &restricted, place, element, *role),
                _ => {}
            }
        }
    };
    const PASSPORT: [(&str, Role); 2] = [("photos", Role::Photo), ("documents", Role::Document)];
    match kind {
        Kind::ItemRegister | Kind::ItemAmend => collect(Place::member("passport"), body.get("passport"), &PASSPORT),
        Kind::ItemSplit => {
            if let Some(Value::Array(parts)) = body.get("parts") {
                for (index, part) in parts.iter().enumerate() {
                    let place = Place::member("parts").element(index).join(&Place::member("passport"));
                    collect(place, part.get("passport"), &PASSPORT);
                }
            }
        }
        Kind::ItemAttest => collect(
            Place::member("attestation"),
            body.get("attestation"),
            &[("report", Role::Report), ("documents", Role::Document)],
        ),
        _ => {}
    }
    named
}

fn add(named: &mut Vec<Named>, restricted: &[Place], place: Place, element: &Value, role: Role) {
    let Some(reference) = AttachmentRef::from_value(element) else { return };
    // Fail closed: a restricted title or a restricted list makes the file restricted too.
    let public = !restricted.iter().any(|r| place.is_within(r) || r.is_within(&place));
    named.push(Named { reference, role, place, public });
}

#[cfg(test)]
mod tests;
