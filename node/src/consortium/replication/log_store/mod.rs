//! The Raft log and vote, in our own append-only segment files, fsynced
//! before Raft is told they are stored.
//!
//! Raft's safety rests on two promises of the store: a vote, once reported
//! saved, survives a crash (or a node could vote twice in one term), and log
//! entries, once reported appended, survive a crash (or a leader could count a
//! follower towards a majority for an entry the follower then forgets).
//!
//! # Why not sled
//!
//! The log used to live in sled. Under load sled cost 15 to 20 % of a node's
//! CPU: each Raft entry (a batch of up to 256 signed entries, 20 to 200 KB of
//! JSON) became a blob file of its own, created, written and fsynced, its tree
//! split, and every read for replication decoded it again. A Raft log needs far
//! less than a database: entries are only ever appended at the end, cut off at
//! the end (truncate) or dropped at the start (purge), and read by index. Plain
//! files that are appended to do exactly that.
//!
//! # Files
//!
//! The segments are those of the record log, with the same framing, scan and
//! recovery (`salvage_ledger::store::frame_log`), so that damage is judged the
//! same way in both logs (docs/format.md §9 is normative):
//!
//! - `{first_index:020}.log`: segments, each the header `SLVGRFT2` followed by
//!   the frames of consecutive entries from the one it is named for. A frame is
//!   `len (u32 LE) ‖ crc (u32 LE, CRC-32 of the length field and the payload) ‖
//!   payload`, the payload being the `openraft::Entry` as JSON (`frame`). The
//!   newest is appended to; once it passes 64 MiB the next entry starts a new
//!   one. A segment is deleted once a purge covers all of its entries.
//! - `{first_index:020}.seg`: version-1 segments, left by a version of Salvage
//!   before the Raft log shared the record log's format: no header, a CRC of the
//!   payload alone. They are read, never appended to (the next entry starts a
//!   version-2 segment), and purged like the others, so an upgraded node keeps
//!   its log and everything it promised to store.
//! - `acknowledged.mark`: where the entries reported stored end (the shared
//!   layer's mark: two CRC-checked slots, fdatasynced in place).
//! - `vote.json` and `purged.json`: the vote and the last purged log id, each
//!   replaced whole (written to `X.tmp`, fsynced, renamed over `X`, and the
//!   directory fsynced), so a crash leaves the old value or the new one.
//! - `quarantine/`: the torn tails opening cut, kept.
//! - `LOCK`: locked while a process has the store open.
//!
//! # Durability
//!
//! One thread, `salvage-raft-log`, does all writing, in the order Raft asked
//! (openraft requires vote, append, truncate and purge to be serialized).
//! `append` puts the entries in memory, where readers find them at once, and
//! queues them; the thread writes every append queued, fsyncs once (group
//! commit) and only then tells Raft they are stored; the mark's own thread
//! then records that end in `acknowledged.mark`, off the writer's path, so the
//! mark never names bytes that are not durable and trails by one mark write at
//! most. `save_vote`, `truncate` and `purge` return once the thread has made
//! them durable; a truncation lowers the mark before it cuts anything. A purge
//! first waits until the state machine's applied position at or past it is
//! durable (`purge_gate`): openraft asks for it before that, and a crash in
//! between would leave the entries in neither. After a failed write or fsync
//! every later one fails too, since the kernel may have dropped the pages that
//! failed and a later fsync would wrongly report them stored.
//!
//! # Recovery
//!
//! Opening reads every frame back and checks it, then every segment before
//! anything is written. A crash can only tear what was never acknowledged: the
//! end of the newest segment past the acknowledged mark (where, after a power
//! cut, a hole may even be followed by whole frames). That end is saved in
//! `quarantine/` and cut off, with a warning that says it was never
//! acknowledged. Anywhere else a bad frame (a flipped bit in the middle of the
//! newest segment included), a segment shorter than the mark, or indexes that
//! do not follow one another mean the disk or someone altered the files, and
//! opening fails naming the file and byte, changing nothing. A store written
//! before the mark existed opens by the rule it was written under (damage is a
//! torn tail only when no valid frame follows it) and is marked from then on.
//! Opening fsyncs the newest segment and makes the end of what it read the mark.
//!
//! `save_committed` keeps openraft's default (nothing saved): the state machine
//! records what it applied, so a restarted node loses nothing but the chance to
//! apply committed entries before it hears from the leader again, and saving
//! the committed id would cost a write on the writer thread per commit.

mod frame;
// The frame codec, for the fuzz targets (docs/fuzzing.md).
#[cfg(fuzzing)]
pub mod fuzzing;
mod index;
mod recovery;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt::Debug;
use std::fs::File;
use std::io::{self, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SendError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, Entry, LogId, RaftLogReader, StorageError, StorageIOError, Vote};
use salvage_ledger::store::frame_log::{IoFailure, MarkWriter};
use serde::Serialize;
use tokio::sync::oneshot;

pub(crate) use self::frame::MAX_ENTRY_BYTES;
use self::index::Index;
use self::writer::{Command, Writer, in_file};
use super::purge_gate::PurgeGate;
use super::{NodeId, TypeConfig};

/// Past this size the active segment is closed and the next entry starts a
/// new one, so purged entries can be deleted a segment at a time.
const SEGMENT_BYTES: u64 = 64 << 20;

/// How many bytes of encoded entries the cache keeps decoded, newest first:
/// enough for every follower's replication to read from memory.
const CACHE_BYTES: usize = 64 << 20;

const VOTE_FILE: &str = "vote.json";
const PURGED_FILE: &str = "purged.json";

/// How the names of version-2 segments end, after the index of their first entry.
const SEGMENT_SUFFIX: &str = ".log";

/// How the names of version-1 segments end: read, never written.
const LEGACY_SEGMENT_SUFFIX: &str = ".seg";

/// The name of the thread that keeps the acknowledged mark up to date.
const MARK_THREAD: &str = "salvage-raft-mark";

/// The Raft log and vote of one node.
pub struct LogStore {
    reader: LogReader,
    /// The vote last saved; only `save_vote` changes it.
    vote: Option<Vote<NodeId>>,
    /// Commands to the writer thread; taken on drop to end the thread.
    commands: Option<Sender<Command>>,
    writer: Option<JoinHandle<()>>,
    /// Holds each purge until the state machine durably covers it (see
    /// `purge_gate`); none in tests of the log alone.
    gate: Option<PurgeGate>,
}

/// Reads log entries while the store appends: it shares the store's index and
/// cache, and reads older entries back from their segment files.
#[derive(Clone)]
pub struct LogReader {
    index: Arc<Mutex<Index>>,
}

/// Why the log store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogStoreError {
    /// A file or the directory of the store could not be created, read or
    /// written (missing permissions, a full disk, a failing disk).
    #[error("the Raft log could not use {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file holds bytes that the store did not write, where no crash can
    /// have left them: the disk or someone altered it. Opening stops rather
    /// than forget entries that Raft may have counted as stored here.
    #[error("the Raft log file {path} is damaged at byte {offset}: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Where in it the damage begins.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The directory holds the Raft store of an earlier version, in sled,
    /// which this version does not read.
    #[error(
        "{dir} holds a Raft store written by an earlier version of Salvage (in sled), which this version does not read: \
         stop the node, move that directory aside and start the node with an empty Raft directory, so that it copies the ledger from the other nodes"
    )]
    EarlierVersion {
        /// The directory.
        dir: PathBuf,
    },
    /// Another process has the store open (it holds `LOCK`): two processes
    /// appending to one log would corrupt it.
    #[error(
        "the Raft log in {dir} is in use by another process, which holds its LOCK file: stop that node first, or give this one its own directory"
    )]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
}

impl LogStore {
    /// Opens the store in directory `dir`, creating it if missing, and starts
    /// its writer thread.
    ///
    /// Reads every segment back (at start-up only), cutting off a torn end
    /// left by a crash.
    pub fn open(dir: &Path) -> Result<LogStore, LogStoreError> {
        LogStore::open_with(dir, SEGMENT_BYTES, CACHE_BYTES)
    }

    /// [`LogStore::open`] with the segment size and cache budget given, which
    /// tests make tiny to exercise rolling and eviction.
    fn open_with(dir: &Path, segment_bytes: u64, cache_bytes: usize) -> Result<LogStore, LogStoreError> {
        std::fs::create_dir_all(dir).map_err(|source| LogStoreError::Io { path: dir.to_owned(), source })?;
        recovery::refuse_earlier_version(dir)?;
        let lock = recovery::lock(dir)?;
        let recovered = recovery::recover(dir)?;
        let mark = MarkWriter::start(dir, recovered.end, MARK_THREAD, std::time::Duration::ZERO).map_err(io_failure)?;
        let index = Arc::new(Mutex::new(Index::recovered(recovered.purged, recovered.entries, cache_bytes)));
        let purged = recovered.purged.map(|id| id.index);
        let (commands, writer) =
            Writer::spawn(dir.to_owned(), index.clone(), recovered.segments, purged, segment_bytes, mark, lock)
                .map_err(|source| LogStoreError::Io { path: dir.to_owned(), source })?;
        Ok(LogStore {
            reader: LogReader { index },
            vote: recovered.vote,
            commands: Some(commands),
            writer: Some(writer),
            gate: None,
        })
    }

    /// Makes every purge wait until the state machine's applied position at
    /// or past it is durable, so that no crash leaves entries dropped from the
    /// log that the state machine has not kept.
    pub fn hold_purges_for(&mut self, gate: PurgeGate) {
        self.gate = Some(gate);
    }

    /// Queues `command` for the writer thread. If the thread is gone, an
    /// append's callback hears so too.
    fn send(&self, command: Command) -> io::Result<()> {
        let stopped = || io::Error::other("the Raft log's writer thread has stopped");
        let Some(commands) = &self.commands else { return Err(stopped()) };
        commands.send(command).map_err(|SendError(command)| {
            if let Command::Append { callback, .. } = command {
                callback.log_io_completed(Err(stopped()));
            }
            stopped()
        })
    }

    /// Has the writer thread carry out the command `make` builds, and waits
    /// until it has, durably.
    async fn request(&self, make: impl FnOnce(oneshot::Sender<io::Result<()>>) -> Command) -> io::Result<()> {
        let (done, outcome) = oneshot::channel();
        self.send(make(done))?;
        outcome.await.map_err(|_| io::Error::other("the Raft log's writer thread stopped before answering"))?
    }
}

impl Drop for LogStore {
    /// Closes the writer's queue and waits for it to finish what was queued,
    /// so the directory's lock is free once the store is dropped.
    fn drop(&mut self) {
        self.commands.take();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the Raft log's writer thread panicked");
        }
    }
}

impl LogReader {
    fn entries(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let index = lock_index(&self.index).map_err(|e| StorageIOError::read_logs(AnyError::new(&e)))?;
        Ok(index.read(&range).map_err(|e| StorageIOError::read_logs(AnyError::new(&e)))?)
    }
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        self.entries(range)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        self.reader.entries(range)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let index = lock_index(&self.reader.index).map_err(|e| StorageIOError::read_logs(AnyError::new(&e)))?;
        Ok(LogState { last_purged_log_id: index.purged(), last_log_id: index.last_log_id() })
    }

    async fn get_log_reader(&mut self) -> LogReader {
        self.reader.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let vote = *vote;
        self.request(|done| Command::Vote { vote, done })
            .await
            .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)))?;
        self.vote = Some(vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        Ok(self.vote)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut frames = Vec::new();
        let mut decoded = Vec::new();
        for entry in entries {
            let frame =
                frame::encode(&entry).map_err(|e| StorageIOError::write_log_entry(entry.log_id, AnyError::new(&e)))?;
            let log_id = entry.log_id;
            decoded.push((entry, frame.len()));
            frames.push((log_id, frame));
        }
        // In memory first: readable as soon as this returns. The callback
        // fires on the writer thread, after the fsync.
        lock_index(&self.reader.index)
            .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?
            .append(decoded)
            .map_err(|why| StorageIOError::write_logs(AnyError::error(why)))?;
        self.send(Command::Append { frames, callback }).map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?;
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // Removes the entries from `log_id` on, which a new leader's replace:
        // from memory first, so no reader sees them while the file is cut.
        lock_index(&self.reader.index)
            .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?
            .truncate(log_id.index);
        let index = log_id.index;
        self.request(|done| Command::Truncate { index, done })
            .await
            .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // openraft purges up to a snapshot it has only just handed to the
        // state machine to install, or up to entries whose applied position
        // sled has not yet made durable: written first, the purge would let a
        // crash leave the entries in between in neither (`purge_gate`). This
        // waits for the install (the state machine's worker carries it out
        // without Raft's core, which waits here), so nothing deadlocks.
        if let Some(gate) = &self.gate {
            gate.covered(log_id).await.map_err(|why| StorageIOError::write_logs(AnyError::error(why)))?;
        }
        self.request(|done| Command::Purge { log_id, done })
            .await
            .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?;
        Ok(())
    }
}

/// Locks the shared index. A panic while it was locked may have left it
/// half-updated, so the store then refuses to go on rather than guess.
fn lock_index(index: &Mutex<Index>) -> io::Result<MutexGuard<'_, Index>> {
    index.lock().map_err(|_| io::Error::other("the Raft log's index was left half-updated by a panic"))
}

/// The path of the (version-2) segment whose first entry has index `first`.
fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}{SEGMENT_SUFFIX}"))
}

/// An I/O failure of the shared frame-log layer, as the store reports one.
fn io_failure(failure: IoFailure) -> LogStoreError {
    let IoFailure { action, path, source } = failure;
    LogStoreError::Io { path, source: io::Error::new(source.kind(), format!("could not {action}: {source}")) }
}

/// Makes the directory's entries (files created, renamed or deleted) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(|e| in_file(dir, e))
}

/// Replaces file `name` of `dir` with `value` as JSON, so that a crash leaves
/// either the old value or the new one, never a mix.
fn write_replacing(dir: &Path, name: &str, value: &impl Serialize) -> io::Result<()> {
    let bytes = serde_json::to_vec(value)?;
    let (temporary, path) = (dir.join(format!("{name}.tmp")), dir.join(name));
    let mut file = File::create(&temporary).map_err(|e| in_file(&temporary, e))?;
    file.write_all(&bytes).and_then(|()| file.sync_data()).map_err(|e| in_file(&temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| in_file(&path, e))?;
    sync_dir(dir)
}
