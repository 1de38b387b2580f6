//! The attachment store: write-once files named by their BLAKE3 digest under a
//! node's `DATA/attachments/`, and which records name them (docs/format.md §9, §15).
//!
//! A file reaches its final name only whole and durable: it is written to
//! `incoming/`, fsynced, renamed to `objects/<first two hex digits>/<digest>`
//! and the directory fsynced, so a crash leaves at most an unnamed temporary
//! file, which the next open deletes; nothing half-written can be served. A
//! name is never written twice: the same bytes uploaded again find their file.
//!
//! `names.redb` records, for every digest the ledger's records name, the items
//! that name it and whether publicly, so the node can tell who may read a file
//! without searching the ledger; and the digests named but not held yet, which
//! a consortium node fetches from its peers. It follows the ledger up to a
//! size it records with that record's leaf hash, so a node that finds a
//! different ledger under it (a snapshot installed) starts over.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{AttachmentDigest, MediaType, sniff};

/// (digest, GIAI) → how that item's records name the file: [`PUBLIC`] and/or [`RESTRICTED`].
const NAMES: TableDefinition<(&[u8; 32], &str), u8> = TableDefinition::new("names");
/// digest → the first record that named it, for files named but not held.
const MISSING: TableDefinition<&[u8; 32], u64> = TableDefinition::new("missing");
/// `followed` → size (8 bytes, big-endian) ‖ the leaf hash of record size − 1.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const PUBLIC: u8 = 1;
const RESTRICTED: u8 = 2;

/// The most memory the page cache of `names.redb` takes.
const NAMES_CACHE_BYTES: usize = 4 << 20;

/// The most items [`AttachmentStore::naming`] lists for one file.
const MAX_NAMING_ITEMS: usize = 64;

/// The store of one node's attachments.
pub struct AttachmentStore {
    dir: PathBuf,
    names: Database,
    // Makes temporary names unique within the process; the pid, across processes.
    next_temporary: AtomicU64,
}

/// A file put into the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Its digest.
    pub digest: AttachmentDigest,
    /// Its length in bytes.
    pub size: u64,
    /// Its media type, as sniffed.
    pub media_type: MediaType,
    /// `false` when the store held these bytes already.
    pub created: bool,
}

/// What the store holds under a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The file's length in bytes.
    pub size: u64,
    /// Its media type, sniffed from its first bytes.
    pub media_type: MediaType,
}

/// How far a store derived from the ledger follows it: this store's record of
/// names, and the node's other followers of the ledger (its members' holdings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// The records `0..size` have been read.
    pub size: u64,
    /// The leaf hash of record `size − 1`.
    pub last_leaf: [u8; 32],
}

impl Followed {
    /// The mark as the stores keep it: the size (8 bytes, big-endian) ‖ the leaf hash.
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut mark = [0; 40];
        mark[..8].copy_from_slice(&self.size.to_be_bytes());
        mark[8..].copy_from_slice(&self.last_leaf);
        mark
    }

    /// The mark [`Followed::to_bytes`] kept; `None` when it is too short.
    pub fn from_bytes(mark: &[u8]) -> Option<Followed> {
        let size = mark.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok())?;
        let last_leaf = mark.get(8..40).and_then(|b| <[u8; 32]>::try_from(b).ok())?;
        Some(Followed { size: u64::from_be_bytes(size), last_leaf })
    }
}

/// One item's record naming a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameNote {
    /// The file.
    pub digest: AttachmentDigest,
    /// The item whose record names it.
    pub giai: String,
    /// Whether a public field names it.
    pub public: bool,
    /// The record.
    pub seq: u64,
}

/// Who names a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    /// Some record names it in a public field: anyone may read it.
    pub public: bool,
    /// The items whose records name it (at most 64), publicly or not.
    pub items: Vec<String>,
}

impl Naming {
    /// Whether any record names the file.
    pub fn is_named(&self) -> bool {
        !self.items.is_empty()
    }
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// To which path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The record of names (`names.redb`) failed.
    #[error("the attachments' record of names ({}) failed: {reason}", path.display())]
    Names {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The bytes are none of the accepted kinds.
    #[error("the file is not a JPEG, PNG, WebP or PDF")]
    Unsupported,
}

impl AttachmentStore {
    /// Opens (creating) the store in `dir`, deleting what a crash left in `incoming/`.
    pub fn open(dir: &Path) -> Result<AttachmentStore, AttachmentError> {
        let incoming = dir.join("incoming");
        if incoming.exists() {
            fs::remove_dir_all(&incoming).map_err(io("clear", &incoming))?;
        }
        for sub in [&incoming, &dir.join("objects")] {
            fs::create_dir_all(sub).map_err(io("create", sub))?;
        }
        let path = dir.join("names.redb");
        // A bounded page cache (redb's default is 1 GiB): the names grow with the ledger.
        let names =
            Database::builder().set_cache_size(NAMES_CACHE_BYTES).create(&path).map_err(|e| names_failed(&path, &e))?;
        let store = AttachmentStore { dir: dir.to_owned(), names, next_temporary: AtomicU64::new(0) };
        store.write(|txn| {
            txn.open_table(NAMES)?;
            txn.open_table(MISSING)?;
            txn.open_table(META)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Stores `bytes` under their digest, durably, unless it holds them already.
    /// The caller has judged the bytes acceptable; the store only sniffs their type.
    pub fn put(&self, bytes: &[u8]) -> Result<Stored, AttachmentError> {
        let media_type = sniff(bytes).ok_or(AttachmentError::Unsupported)?;
        let digest = AttachmentDigest::of(bytes);
        let path = self.path(&digest);
        let held = fs::metadata(&path).is_ok_and(|meta| meta.len() == bytes.len() as u64);
        if !held {
            self.write_durably(&path, bytes)?;
        }
        self.write(|txn| {
            txn.open_table(MISSING)?.remove(digest.as_bytes())?;
            Ok(())
        })?;
        Ok(Stored { digest, size: bytes.len() as u64, media_type, created: !held })
    }

    /// What the store holds under `digest`, if anything.
    pub fn held(&self, digest: &AttachmentDigest) -> Result<Option<Held>, AttachmentError> {
        let path = self.path(digest);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io("open", &path)(error)),
        };
        let size = file.metadata().map_err(io("read the length of", &path))?.len();
        let mut head = [0u8; 16];
        let mut read = 0;
        while read < head.len() {
            match file.read(&mut head[read..]).map_err(io("read", &path))? {
                0 => break,
                n => read += n,
            }
        }
        Ok(sniff(&head[..read]).map(|media_type| Held { size, media_type }))
    }

    /// The whole file stored under `digest`.
    pub fn read(&self, digest: &AttachmentDigest) -> Result<Vec<u8>, AttachmentError> {
        let path = self.path(digest);
        fs::read(&path).map_err(io("read", &path))
    }

    /// Where the file of `digest` is (or would be).
    pub fn path(&self, digest: &AttachmentDigest) -> PathBuf {
        let hex = digest.to_hex();
        self.dir.join("objects").join(&hex[..2]).join(hex)
    }

    /// Where a file derived from `digest`'s (e.g. its thumbnail, `suffix`
    /// `thumb.jpg`) is kept, beside the original.
    pub fn derived_path(&self, digest: &AttachmentDigest, suffix: &str) -> PathBuf {
        let mut path = self.path(digest).into_os_string();
        path.push(".");
        path.push(suffix);
        PathBuf::from(path)
    }

    /// Keeps `bytes` as the file derived from `digest`'s under `suffix`, whole or not at all.
    pub fn put_derived(&self, digest: &AttachmentDigest, suffix: &str, bytes: &[u8]) -> Result<(), AttachmentError> {
        self.write_durably(&self.derived_path(digest, suffix), bytes)
    }

    /// How far the record of names follows the ledger; `None` before the first record.
    pub fn followed(&self) -> Result<Option<Followed>, AttachmentError> {
        let txn = self.names.begin_read().map_err(|e| self.failed(&e))?;
        let meta = txn.open_table(META).map_err(|e| self.failed(&e))?;
        let Some(value) = meta.get("followed").map_err(|e| self.failed(&e))? else { return Ok(None) };
        let Some(followed) = Followed::from_bytes(value.value()) else {
            return Err(AttachmentError::Names { path: self.names_path(), reason: "a malformed mark".into() });
        };
        Ok(Some(followed))
    }

    /// Records `notes`, the names of the records up to `followed.size`, in one
    /// transaction with the new mark; files named but not held become missing.
    pub fn note_names(&self, followed: Followed, notes: &[NameNote]) -> Result<(), AttachmentError> {
        let held: Vec<bool> = notes.iter().map(|note| self.path(&note.digest).exists()).collect();
        self.write(|txn| {
            let mut names = txn.open_table(NAMES)?;
            let mut missing = txn.open_table(MISSING)?;
            for (note, held) in notes.iter().zip(held) {
                let key = (note.digest.as_bytes(), note.giai.as_str());
                let before = names.get(key)?.map_or(0, |flags| flags.value());
                names.insert(key, before | if note.public { PUBLIC } else { RESTRICTED })?;
                if !held && missing.get(note.digest.as_bytes())?.is_none() {
                    missing.insert(note.digest.as_bytes(), note.seq)?;
                }
            }
            txn.open_table(META)?.insert("followed", followed.to_bytes().as_slice())?;
            Ok(())
        })
    }

    /// Forgets every name and the mark: the ledger under the store is not the one it followed.
    pub fn forget_names(&self) -> Result<(), AttachmentError> {
        self.write(|txn| {
            txn.delete_table(NAMES)?;
            txn.delete_table(MISSING)?;
            txn.delete_table(META)?;
            txn.open_table(NAMES)?;
            txn.open_table(MISSING)?;
            txn.open_table(META)?;
            Ok(())
        })
    }

    /// Who names the file `digest`.
    pub fn naming(&self, digest: &AttachmentDigest) -> Result<Naming, AttachmentError> {
        let txn = self.names.begin_read().map_err(|e| self.failed(&e))?;
        let names = txn.open_table(NAMES).map_err(|e| self.failed(&e))?;
        let mut naming = Naming::default();
        let range = names.range((digest.as_bytes(), "")..).map_err(|e| self.failed(&e))?;
        for entry in range {
            let (key, flags) = entry.map_err(|e| self.failed(&e))?;
            let (named, giai) = key.value();
            if named != digest.as_bytes() || naming.items.len() == MAX_NAMING_ITEMS {
                break;
            }
            naming.public |= flags.value() & PUBLIC != 0;
            naming.items.push(giai.to_owned());
        }
        Ok(naming)
    }

    /// Up to `limit` files named but not held, in digest order after `after`
    /// (from the first when `None`): whoever walks a long list goes round it a
    /// page at a time, reading only that page.
    pub fn missing(
        &self,
        after: Option<&AttachmentDigest>,
        limit: usize,
    ) -> Result<Vec<AttachmentDigest>, AttachmentError> {
        let txn = self.names.begin_read().map_err(|e| self.failed(&e))?;
        let missing = txn.open_table(MISSING).map_err(|e| self.failed(&e))?;
        let range = match after {
            Some(after) => {
                missing.range::<&[u8; 32]>((std::ops::Bound::Excluded(after.as_bytes()), std::ops::Bound::Unbounded))
            }
            None => missing.range::<&[u8; 32]>(..),
        }
        .map_err(|e| self.failed(&e))?;
        let mut found = Vec::new();
        for entry in range.take(limit) {
            let (digest, _) = entry.map_err(|e| self.failed(&e))?;
            found.push(AttachmentDigest(*digest.value()));
        }
        Ok(found)
    }

    /// Takes `digest` off the missing files, once it is held (it may have been
    /// uploaded while its record was being noted).
    pub fn found(&self, digest: &AttachmentDigest) -> Result<(), AttachmentError> {
        self.write(|txn| {
            txn.open_table(MISSING)?.remove(digest.as_bytes())?;
            Ok(())
        })
    }

    /// How many files are named but not held.
    pub fn missing_count(&self) -> Result<u64, AttachmentError> {
        let txn = self.names.begin_read().map_err(|e| self.failed(&e))?;
        let missing = txn.open_table(MISSING).map_err(|e| self.failed(&e))?;
        missing.len().map_err(|e| self.failed(&e))
    }

    /// Writes `bytes` to `path` through a temporary file: fsynced, renamed, the directory fsynced.
    fn write_durably(&self, path: &Path, bytes: &[u8]) -> Result<(), AttachmentError> {
        let Some(parent) = path.parent() else {
            return Err(io("find the directory of", path)(std::io::ErrorKind::NotFound.into()));
        };
        fs::create_dir_all(parent).map_err(io("create", parent))?;
        let serial = self.next_temporary.fetch_add(1, Ordering::Relaxed);
        let temporary = self.dir.join("incoming").join(format!("{}-{serial}.part", std::process::id()));
        let written = File::create(&temporary)
            .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
            .map_err(io("write", &temporary));
        if let Err(error) = written.and_then(|()| fs::rename(&temporary, path).map_err(io("name", path))) {
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
        File::open(parent).and_then(|dir| dir.sync_all()).map_err(io("fsync", parent))
    }

    fn write(
        &self,
        change: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), AttachmentError> {
        let txn = self.names.begin_write().map_err(|e| self.failed(&e))?;
        change(&txn).map_err(|e| self.failed(&e))?;
        txn.commit().map_err(|e| self.failed(&e))
    }

    fn names_path(&self) -> PathBuf {
        self.dir.join("names.redb")
    }

    fn failed(&self, error: &dyn std::fmt::Display) -> AttachmentError {
        names_failed(&self.names_path(), error)
    }
}

fn names_failed(path: &Path, error: &dyn std::fmt::Display) -> AttachmentError {
    AttachmentError::Names { path: path.to_owned(), reason: error.to_string() }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AttachmentError {
    let path = path.to_owned();
    move |source| AttachmentError::Io { action, path, source }
}
