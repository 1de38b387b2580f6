//! What `salvage bundle --with-attachments`, `salvage verify BUNDLE FILE…` and
//! `salvage audit --attachments` share about attachment files (docs/format.md
//! §15): the references a bundle's records make, the name a copy is kept under
//! (`<blake3>.<extension>`), downloading one file from a node, and judging
//! bytes against a reference.
//!
//! A file is held in memory whole, one at a time, and never more than the
//! reference's `size` (plus one byte, to see that it is longer): the CLI has no
//! streaming BLAKE3 of its own, and attachments are a node's limit at most
//! (20 MiB by default).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use salvage_ledger::attachment::{AttachmentDigest, AttachmentRef, MediaType, Named, Role, named_in};
use salvage_ledger::bundle::Bundle;
use serde_json::Value;

/// The most bytes read of a file whose references give no `size` (documents
/// named before nodes stored attachments): far above any node's usual limit,
/// but a bound, so that a hostile node or a wrong file cannot fill the memory.
pub const UNSIZED_LIMIT: u64 = 256 * 1024 * 1024;

/// One reference a record of a bundle makes.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The reference, where it lies and whether it is public.
    pub named: Named,
    /// The record that makes it.
    pub seq: u64,
}

impl Reference {
    /// `"Title", photo in record 5`, and `(restricted)` for a restricted one.
    pub fn describe(&self) -> String {
        let restricted = if self.named.public { "" } else { ", restricted" };
        format!(
            "{:?}, {} in record {} at {}{restricted}",
            self.named.reference.title,
            role_name(self.named.role),
            self.seq,
            self.named.place
        )
    }
}

/// Every reference the records of `bundle` make, in record order.
pub fn references_in(bundle: &Bundle) -> Vec<Reference> {
    bundle
        .records
        .iter()
        .flat_map(|proven| {
            let statement = proven.record.entry.statement();
            let seq = proven.record.seq.get();
            named_in(statement.kind, &statement.body).into_iter().map(move |named| Reference { named, seq })
        })
        .collect()
}

/// The references that name `digest`.
pub fn naming<'a>(references: &'a [Reference], digest: &AttachmentDigest) -> Vec<&'a Reference> {
    references.iter().filter(|each| each.named.reference.digest == *digest).collect()
}

/// The name a copy of the file is kept under: `<blake3>.<extension>`, the
/// extension from the reference's media type, `bin` for one this build does not know.
pub fn file_name(reference: &AttachmentRef) -> String {
    let extension = MediaType::parse(&reference.media_type).map_or("bin", MediaType::extension);
    format!("{}.{extension}", reference.digest)
}

/// The digest a file name of the form `<blake3>.<extension>` claims, or
/// `None` for any other name (a bundle beside its files, a `.part` left over).
pub fn claimed_digest(name: &str) -> Option<AttachmentDigest> {
    let (stem, extension) = name.split_once('.')?;
    if extension.is_empty() || !extension.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return None;
    }
    AttachmentDigest::parse(stem)
}

/// How statements name the place of a reference, for people.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Photo => "photo",
        Role::Document => "document",
        Role::Report => "report",
    }
}

/// The most bytes a file with these references' sizes can have: the largest
/// size given, or [`UNSIZED_LIMIT`] when some reference gives none.
pub fn read_limit(sizes: impl IntoIterator<Item = Option<u64>>) -> u64 {
    let mut limit = 0;
    for size in sizes {
        match size {
            Some(size) => limit = limit.max(size),
            None => return UNSIZED_LIMIT,
        }
    }
    limit
}

/// Why bytes are not the file a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// They hash to another digest.
    Digest {
        /// The digest of the bytes.
        actual: AttachmentDigest,
    },
    /// They have the digest, but not the length the reference gives.
    Size {
        /// Their length.
        actual: u64,
        /// The reference's `size`.
        expected: u64,
    },
    /// There are more of them than any reference allows: not read further.
    TooLong {
        /// The most the references allow.
        limit: u64,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Digest { actual } => write!(f, "its bytes hash to {actual}"),
            Mismatch::Size { actual, expected } => {
                write!(f, "it has the digest but {actual} bytes, not the {expected} the record gives")
            }
            Mismatch::TooLong { limit } => write!(f, "it is longer than the {limit} bytes the records allow"),
        }
    }
}

/// Whether `bytes` are the file `digest` names, `size` bytes long if given.
pub fn judge(bytes: &[u8], digest: &AttachmentDigest, size: Option<u64>) -> Result<(), Mismatch> {
    let actual = AttachmentDigest::of(bytes);
    if actual != *digest {
        return Err(Mismatch::Digest { actual });
    }
    match size {
        Some(expected) if expected != bytes.len() as u64 => {
            Err(Mismatch::Size { actual: bytes.len() as u64, expected })
        }
        _ => Ok(()),
    }
}

/// What a node or a directory gave for one file.
#[derive(Debug)]
pub enum Fetched {
    /// Its bytes, at most the limit asked for.
    Bytes(Vec<u8>),
    /// It has more bytes than the limit: not the file any reference names.
    TooLong,
    /// It could not be had: why, for people.
    Unavailable(String),
}

/// Reads the file at `path`, at most `limit` bytes of it.
pub fn read_file(path: &Path, limit: u64) -> Fetched {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Fetched::Unavailable(format!("{} does not exist", path.display()));
        }
        Err(error) => return Fetched::Unavailable(format!("cannot open {}: {error}", path.display())),
    };
    // The length first, so that a file too long to be the one named is never read.
    match file.metadata() {
        Ok(meta) if meta.len() > limit => return Fetched::TooLong,
        Ok(_) => {}
        Err(error) => return Fetched::Unavailable(format!("cannot read the length of {}: {error}", path.display())),
    }
    read_at_most(file, limit)
        .unwrap_or_else(|error| Fetched::Unavailable(format!("cannot read {}: {error}", path.display())))
}

/// Reads `reader` to its end, or to one byte past `limit` (then [`Fetched::TooLong`]).
fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Fetched> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(if bytes.len() as u64 > limit { Fetched::TooLong } else { Fetched::Bytes(bytes) })
}

/// Downloads attachments from a node, one request at a time, without signing:
/// what anyone may read (a public field names the file).
pub struct Downloads {
    base: String,
    agent: ureq::Agent,
}

impl Downloads {
    /// Downloads from the node at `base` (already checked to be an http(s) URL
    /// by the command's node client).
    pub fn new(base: &str) -> Downloads {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            // No overall limit, as a large file on a slow link takes a while; a stalled one does not.
            .timeout_per_read(Some(Duration::from_secs(120)))
            .build()
            .into();
        Downloads { base: base.trim_end_matches('/').to_owned(), agent }
    }

    /// `GET /v1/attachments/{blake3}`: the file's bytes, at most `limit` of them.
    pub fn get(&self, digest: &AttachmentDigest, limit: u64) -> Fetched {
        let url = format!("{}/v1/attachments/{digest}", self.base);
        let mut response = match self.agent.get(&url).header("Accept", "*/*").call() {
            Ok(response) => response,
            Err(error) => return Fetched::Unavailable(format!("cannot reach the node at {url}: {error}")),
        };
        let status = response.status().as_u16();
        let reader = response.body_mut().as_reader();
        if status == 200 {
            return read_at_most(reader, limit)
                .unwrap_or_else(|error| Fetched::Unavailable(format!("the download of {url} broke off: {error}")));
        }
        // An error answer is small JSON; more is not read.
        let mut body = Vec::new();
        let _ = reader.take(64 * 1024).read_to_end(&mut body);
        Fetched::Unavailable(refusal(status, &body))
    }
}

/// A node's error answer for people: `the node answered 503 attachment.fetching: …`.
fn refusal(status: u16, body: &[u8]) -> String {
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &answer["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => format!("the node answered {status} {code}: {message}"),
        (Some(code), None) => format!("the node answered {status} {code}"),
        _ => format!("the node answered status {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_named_by_its_digest_and_the_media_types_extension() {
        let digest = AttachmentDigest::of(b"%PDF-1.7\n");
        let reference =
            AttachmentRef { digest, media_type: "application/pdf".into(), size: Some(9), title: "x".into() };
        assert_eq!(file_name(&reference), format!("{digest}.pdf"));
        let odd = AttachmentRef { media_type: "text/plain".into(), ..reference };
        assert_eq!(file_name(&odd), format!("{digest}.bin"));
        assert_eq!(claimed_digest(&format!("{digest}.pdf")), Some(digest));
        assert_eq!(claimed_digest(&format!("{digest}.pdf.part")), None);
        assert_eq!(claimed_digest(&format!("{digest}.")), None);
        assert_eq!(claimed_digest("door.bundle.json"), None);
        assert_eq!(claimed_digest(&format!("{}.jpg", digest.to_hex().to_uppercase())), None);
    }

    #[test]
    fn bytes_are_judged_by_their_digest_then_their_length() {
        let bytes = b"%PDF-1.7\n%%EOF\n";
        let digest = AttachmentDigest::of(bytes);
        assert_eq!(judge(bytes, &digest, Some(bytes.len() as u64)), Ok(()));
        assert_eq!(judge(bytes, &digest, None), Ok(()));
        assert_eq!(judge(bytes, &digest, Some(3)), Err(Mismatch::Size { actual: bytes.len() as u64, expected: 3 }));
        let mut flipped = bytes.to_vec();
        flipped[3] ^= 1;
        assert!(matches!(judge(&flipped, &digest, None), Err(Mismatch::Digest { .. })));
    }

    #[test]
    fn the_read_limit_is_the_largest_size_unless_one_is_missing() {
        assert_eq!(read_limit([Some(5), Some(9)]), 9);
        assert_eq!(read_limit([Some(5), None]), UNSIZED_LIMIT);
        assert!(matches!(read_at_most(&b"12345"[..], 5), Ok(Fetched::Bytes(bytes)) if bytes.len() == 5));
        assert!(matches!(read_at_most(&b"123456"[..], 5), Ok(Fetched::TooLong)));
    }
}
