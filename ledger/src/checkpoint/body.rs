//! The checkpoint body: the tree head (origin, size, root, extensions) that every signature
//! covers, and the strict parser of its note text.
//!
//! It knows nothing of signatures, so it can be read and tested on its own; the signed note
//! around it is in [`super::note`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{CheckpointError, check_no_control_characters, line_count};

/// A tree head: which log, how many leaves, and the Merkle root over them.
///
/// INVARIANT: `origin` is non-empty and has no control character (so no newline); every
/// extension line is non-empty and has no control character. Hence [`Checkpoint::body`] is
/// always a valid note text that [`Checkpoint::parse_body`] reads back to an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: [u8; 32],
    extensions: Vec<String>,
}

impl Checkpoint {
    /// Builds a checkpoint without extension lines.
    ///
    /// Fails with [`CheckpointError::BadOrigin`] when the origin is empty or holds a control
    /// character, because either would make the note text unparseable.
    pub fn new(origin: impl Into<String>, size: u64, root: [u8; 32]) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        check_origin(&origin)?;
        Ok(Self { origin, size, root, extensions: Vec::new() })
    }

    /// Appends an extension line after the root hash.
    ///
    /// The tlog-checkpoint spec discourages extensions because monitors cannot audit them;
    /// they are supported so that checkpoints from other logs can be read and re-serialised.
    pub fn with_extension(mut self, line: impl Into<String>) -> Result<Self, CheckpointError> {
        let line = line.into();
        check_extension(&line, FIRST_EXTENSION_LINE + self.extensions.len())?;
        self.extensions.push(line);
        Ok(self)
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle root over the first [`Checkpoint::size`] leaves.
    pub fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The extension lines, in order (usually none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text that signatures cover: `origin\nsize\nbase64(root)\n` followed by one
    /// line per extension.
    pub fn body(&self) -> String {
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Parses a note text as a checkpoint body, strictly.
    ///
    /// Only the canonical form is accepted (no leading zeros, canonical padded base64, final
    /// newline, no empty line), so `parse_body(t)?.body() == t`: signatures verified against
    /// [`Checkpoint::body`] cover exactly the bytes that were received.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        check_no_control_characters(text, 1)?;
        let Some(content) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MalformedNote {
                line: line_count(text).max(1),
                reason: "the note text does not end in a newline",
            });
        };
        let mut lines = content.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::MalformedNote {
                line: line_count(text) + 1,
                reason: "a checkpoint body needs an origin, a tree size and a root hash line",
            });
        };
        check_origin(origin)?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for (index, line) in lines.enumerate() {
            check_extension(line, FIRST_EXTENSION_LINE + index)?;
            extensions.push(line.to_owned());
        }
        Ok(Self { origin: origin.to_owned(), size, root, extensions })
    }
}

/// The note line holding the first extension: after origin, size and root.
const FIRST_EXTENSION_LINE: usize = 4;

/// The length of `base64(32-byte root)` with padding.
const ROOT_BASE64_LEN: usize = 44;

/// Checks an origin line.
fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() {
        return Err(CheckpointError::BadOrigin { reason: "the origin is empty" });
    }
    if origin.chars().any(|c| c < ' ') {
        return Err(CheckpointError::BadOrigin {
            reason: "the origin contains a control character (a newline would split the body)",
        });
    }
    Ok(())
}

/// Parses the tree size: ASCII decimal digits, no sign, no leading zero unless it is `0`.
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::BadSize { reason: "the tree size is empty" });
    }
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckpointError::BadSize { reason: "the tree size must be ASCII decimal digits only" });
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(CheckpointError::BadSize { reason: "the tree size has a leading zero" });
    }
    line.parse().map_err(|_| CheckpointError::BadSize { reason: "the tree size does not fit in 64 bits" })
}

/// Parses the root hash: canonical padded standard base64 of exactly 32 bytes.
fn parse_root(line: &str) -> Result<[u8; 32], CheckpointError> {
    if line.len() != ROOT_BASE64_LEN {
        return Err(CheckpointError::BadRoot { reason: "the root hash must be base64 of 32 bytes (44 characters)" });
    }
    let decoded = BASE64
        .decode(line)
        .map_err(|_| CheckpointError::BadRoot { reason: "the root hash is not canonical standard base64" })?;
    decoded
        .as_slice()
        .try_into()
        .map_err(|_| CheckpointError::BadRoot { reason: "the root hash does not decode to 32 bytes" })
}

/// Checks an extension line, reported at note line `line_number`.
fn check_extension(line: &str, line_number: usize) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::BadExtension {
            line: line_number,
            reason: "extension lines must not be empty (an empty line ends the note text)",
        });
    }
    if line.chars().any(|c| c < ' ') {
        return Err(CheckpointError::BadExtension {
            line: line_number,
            reason: "the extension line contains a control character",
        });
    }
    Ok(())
}
