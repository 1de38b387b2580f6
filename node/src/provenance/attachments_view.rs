//! The files an item's page names: the photos of its passport and the documents
//! backing its passport and attestations (docs/format.md §15).
//!
//! Plain data like the rest of the view, read from values that are already
//! public: the passport after [`super::redact::public_passport`], an
//! attestation's body (which restricts nothing). This file imports nothing from
//! `view.rs`, which imports it (house rule 2: no import cycles), so
//! [`MemberRef`], naming who attached a file, is defined here.

use std::collections::BTreeSet;

use salvage_ledger::attachment::{AttachmentDigest, named_in};
use salvage_ledger::entry::Kind;
use serde_json::Value;

/// Where the node serves attachments: `{ATTACHMENTS}/{blake3}` and
/// `{ATTACHMENTS}/{blake3}/thumbnail`.
const ATTACHMENTS: &str = "/v1/attachments";

/// A consortium member as the page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// Its stable id.
    pub id: String,
    /// Its name (the id, if the ledger knows no such member).
    pub name: String,
}

/// A photo of the item, from its public passport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// Its title, the image's alternative text.
    pub title: String,
    /// blake3 of the image, 64 lowercase hex digits: its name on the node.
    pub blake3: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub media_type: String,
    /// The image's length in bytes (the schema requires it of photos).
    pub size: Option<u64>,
    /// Width and height of the node's thumbnail of it, or `None` while this node
    /// does not hold the image (or could not make one): the view leaves it
    /// `None`, the node fills it ([`super::view::Provenance::set_thumbnails`]).
    pub thumbnail: Option<(u32, u32)>,
}

impl Photo {
    /// The image's digest (always some: the view keeps only photos that have one).
    pub fn digest(&self) -> Option<AttachmentDigest> {
        AttachmentDigest::parse(&self.blake3)
    }

    /// Where the node serves the image.
    pub fn href(&self) -> String {
        format!("{ATTACHMENTS}/{}", self.blake3)
    }

    /// Where the node serves its thumbnail, a JPEG at most 480 px wide.
    pub fn thumbnail_href(&self) -> String {
        format!("{ATTACHMENTS}/{}/thumbnail", self.blake3)
    }
}

/// A document backing a passport or attestation.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Its title.
    pub title: String,
    /// Its media type.
    pub media_type: Option<String>,
    /// blake3 of the file, hex: a buyer given the file can check it is this one.
    pub blake3: Option<String>,
    /// The file's length in bytes. References made since nodes store
    /// attachments give it; older ones may not, and name no stored file.
    pub size: Option<u64>,
    /// Where a copy lies, if the statement says so.
    pub uri: Option<String>,
    /// Who signed the record naming it: for a passport's documents, the signers
    /// of the record holding the shown passport; for an attestation's, the certifier.
    pub attached_by: Vec<MemberRef>,
}

impl Document {
    /// Where a buyer gets the file: the node's copy when it is a stored
    /// attachment (it has a size), else the copy the statement points to.
    /// Only `http(s)` addresses are linked: a `javascript:` or `data:` URI
    /// would run or show whatever its author wrote, under the node's name.
    pub fn href(&self) -> Option<String> {
        let stored = self.size.and(self.blake3.as_deref()).and_then(AttachmentDigest::parse);
        match (stored, &self.uri) {
            (Some(digest), _) => Some(format!("{ATTACHMENTS}/{}", digest.to_hex())),
            (None, Some(uri)) if is_web_address(uri) => Some(uri.clone()),
            _ => None,
        }
    }

    /// Whether [`Self::href`] leads away from the node.
    pub fn links_elsewhere(&self) -> bool {
        self.href().is_some_and(|href| !href.starts_with(ATTACHMENTS))
    }
}

/// The photos of a public passport, skipping any the page could not show
/// (a withheld title, a malformed digest).
pub fn photos(passport: &Value) -> Vec<Photo> {
    elements(passport, "/photos")
        .filter_map(|photo| {
            let digest = AttachmentDigest::parse(text(photo, "/blake3")?)?;
            Some(Photo {
                title: text(photo, "/title")?.to_owned(),
                blake3: digest.to_hex(),
                media_type: text(photo, "/media_type")?.to_owned(),
                size: photo.get("size").and_then(Value::as_u64),
                thumbnail: None,
            })
        })
        .collect()
}

/// The documents of the array at `pointer` of `holder` (a public passport or an
/// attestation's body), attached by `attached_by`.
pub fn documents(holder: &Value, pointer: &str, attached_by: &[MemberRef]) -> Vec<Document> {
    elements(holder, pointer).filter_map(|value| document(value, attached_by)).collect()
}

/// The document a reference object makes, if it has a title (a withheld title
/// leaves nothing to show).
pub fn document(value: &Value, attached_by: &[MemberRef]) -> Option<Document> {
    Some(Document {
        title: text(value, "/title")?.to_owned(),
        media_type: text(value, "/media_type").map(str::to_owned),
        blake3: text(value, "/blake3").map(str::to_owned),
        size: value.get("size").and_then(Value::as_u64),
        uri: text(value, "/uri").map(str::to_owned),
        attached_by: attached_by.to_vec(),
    })
}

/// The files a statement names only in restricted places (docs/format.md §15:
/// a restricted size or type makes its file restricted too). A public passport
/// can still hold the rest of such a reference; the page leaves it out, since
/// the node does not serve the file to the public.
pub fn named_only_privately(kind: Kind, body: &Value) -> BTreeSet<AttachmentDigest> {
    let named = named_in(kind, body);
    let public: BTreeSet<AttachmentDigest> = named.iter().filter(|n| n.public).map(|n| n.reference.digest).collect();
    named.iter().filter(|n| !n.public).map(|n| n.reference.digest).filter(|d| !public.contains(d)).collect()
}

fn is_web_address(uri: &str) -> bool {
    let scheme = uri.split_once(':').map_or("", |(scheme, _)| scheme);
    scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn elements<'a>(value: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    value.pointer(pointer).and_then(Value::as_array).into_iter().flatten()
}
