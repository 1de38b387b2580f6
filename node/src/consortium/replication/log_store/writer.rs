//! The thread that owns the write side of the store: it writes frames, cuts
//! and deletes segments, and replaces the vote and purged-id files, one
//! command after the other in the order Raft issued them, as openraft requires
//! of all write IO.
//!
//! Appends are group-committed: the thread writes every append already
//! queued, fsyncs once, and only then reports them stored, in order. Under
//! load one fsync thus covers many appends, and Raft never waits on a disk
//! while it prepares the next one. After each fsync the acknowledged mark is
//! advanced to the end it made durable (the mark's own thread writes it, off
//! this path); a truncation lowers the mark, durably, before it cuts anything.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use openraft::storage::LogFlushed;
use openraft::{LogId, Vote};
use salvage_ledger::store::frame_log::{Mark, MarkWriter, release_durable_pages};
use tokio::sync::oneshot;

use super::index::{Index, Location, SegmentFile};
use super::{PURGED_FILE, VOTE_FILE, frame, lock_index, segment_path, sync_dir, write_replacing};
use crate::consortium::replication::{NodeId, TypeConfig};

/// The encoded frames of one append, each with its entry's log id.
pub(super) type Frames = Vec<(LogId<NodeId>, Vec<u8>)>;

/// What the store asks of its writer; handled strictly in the order sent.
pub(super) enum Command {
    /// Write these frames (each with its entry's log id) and report them
    /// through `callback` once they are on disk.
    Append { frames: Frames, callback: LogFlushed<TypeConfig> },
    /// Cut the log from this index on, durably.
    Truncate { index: u64, done: oneshot::Sender<io::Result<()>> },
    /// Record this log id as the last purged one, durably, then drop the
    /// entries up to it and the segments they alone fill.
    Purge { log_id: LogId<NodeId>, done: oneshot::Sender<io::Result<()>> },
    /// Replace the saved vote, durably.
    Vote { vote: Vote<NodeId>, done: oneshot::Sender<io::Result<()>> },
}

/// One segment file as the writer sees it.
// INVARIANT: `offsets[k]` is the first byte of the frame of entry `first + k`;
// the segment holds entries `first..first + offsets.len()`, consecutive, and
// `len` is where the next frame goes (the file's length).
pub(super) struct Segment {
    pub(super) file: Arc<SegmentFile>,
    pub(super) first: u64,
    pub(super) offsets: Vec<u64>,
    pub(super) len: u64,
    /// How much of the file has been released from the page cache.
    pub(super) released: u64,
}

impl Segment {
    /// The index the segment's next frame would have.
    fn next(&self) -> u64 {
        self.first + self.offsets.len() as u64
    }
}

/// The writer's state.
// INVARIANT: `segments` are sorted by `first` and do not overlap; the last is
// the active one, the only one written to.
pub(super) struct Writer {
    pub(super) dir: PathBuf,
    pub(super) index: Arc<Mutex<Index>>,
    pub(super) segments: Vec<Segment>,
    pub(super) purged: Option<u64>,
    pub(super) segment_bytes: u64,
    /// Keeps the acknowledged mark level with what the group commits made
    /// durable; dropped with the writer, after its last write.
    mark: MarkWriter,
    /// Held for as long as the thread runs, so no other process opens the
    /// store while this one may still write to it.
    _lock: File,
    /// Why an earlier write failed; then every later command fails too, so
    /// nothing written after a failed fsync is ever reported durable.
    poisoned: Option<String>,
}

impl Writer {
    /// Starts the writer thread; commands go to the returned sender, and the
    /// thread ends once every sender is dropped.
    pub(super) fn spawn(
        dir: PathBuf,
        index: Arc<Mutex<Index>>,
        segments: Vec<Segment>,
        purged: Option<u64>,
        segment_bytes: u64,
        mark: MarkWriter,
        lock: File,
    ) -> io::Result<(Sender<Command>, JoinHandle<()>)> {
        let mut writer = Writer { dir, index, segments, purged, segment_bytes, mark, _lock: lock, poisoned: None };
        // Segments left behind by a deletion that a crash interrupted.
        writer.delete_purged_segments();
        let (commands, received) = mpsc::channel();
        let thread =
            std::thread::Builder::new().name("salvage-raft-log".to_owned()).spawn(move || writer.run(received))?;
        Ok((commands, thread))
    }

    /// Carries out the commands in the order received, until the store is dropped.
    fn run(mut self, commands: Receiver<Command>) {
        let mut next = commands.recv().ok();
        while let Some(command) = next.take() {
            match command {
                Command::Append { frames, callback } => {
                    let mut group = vec![(frames, callback)];
                    // Every append already queued joins this group; the first
                    // other command waits for the group, keeping the order.
                    while let Ok(queued) = commands.try_recv() {
                        match queued {
                            Command::Append { frames, callback } => group.push((frames, callback)),
                            other => {
                                next = Some(other);
                                break;
                            }
                        }
                    }
                    self.append_group(group);
                }
                Command::Truncate { index, done } => {
                    // A requester that gave up no longer listens; the write
                    // is done either way.
                    let _ = done.send(self.guarded(|writer| writer.truncate(index)));
                }
                Command::Purge { log_id, done } => {
                    let _ = done.send(self.guarded(|writer| writer.purge(log_id)));
                }
                Command::Vote { vote, done } => {
                    let _ = done.send(self.guarded(|writer| write_replacing(&writer.dir, VOTE_FILE, &vote)));
                }
            }
            if next.is_none() {
                next = commands.recv().ok();
            }
        }
        // The lock is released as the writer is dropped, after its last write.
    }

    /// Runs `write` unless an earlier write failed, and remembers its failure.
    fn guarded(&mut self, write: impl FnOnce(&mut Writer) -> io::Result<()>) -> io::Result<()> {
        if let Some(why) = &self.poisoned {
            return Err(io::Error::other(format!("the Raft log refuses writes since an earlier one failed: {why}")));
        }
        write(self).inspect_err(|e| {
            tracing::error!(error = %e, dir = %self.dir.display(), "writing the Raft log failed; every later write will fail too");
            self.poisoned = Some(e.to_string());
        })
    }

    /// Writes a group of appends, fsyncs once, then reports each in order.
    fn append_group(&mut self, group: Vec<(Frames, LogFlushed<TypeConfig>)>) {
        let (appends, callbacks): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let outcome = self.guarded(|writer| writer.write_frames(appends.into_iter().flatten()));
        for callback in callbacks {
            callback
                .log_io_completed(outcome.as_ref().map(|_| ()).map_err(|e| io::Error::new(e.kind(), e.to_string())));
        }
    }

    fn write_frames(&mut self, frames: impl Iterator<Item = (LogId<NodeId>, Vec<u8>)>) -> io::Result<()> {
        let mut written = Vec::new();
        for (log_id, frame) in frames {
            let active = self.active_for(log_id.index)?;
            active.file.file.write_all_at(&frame, active.len).map_err(|e| in_file(&active.file.path, e))?;
            written.push((log_id, Location { segment: active.file.clone(), offset: active.len }));
            active.offsets.push(active.len);
            active.len += frame.len() as u64;
        }
        // Readable from the file now (the page cache holds it), so the cache
        // may let these entries go even before the fsync.
        lock_index(&self.index)?.written(written);
        if let Some(active) = self.segments.last_mut() {
            active.file.file.sync_data().map_err(|e| in_file(&active.file.path, e))?;
            // Readers find recent entries in the cache; the page cache would
            // only spend fresh memory on every frame (see the function's doc).
            active.released = release_durable_pages(&active.file.file, active.released, active.len);
            // Durable now, and reported stored as soon as this returns.
            let end = Mark { segment: active.first, offset: active.len };
            self.mark.handle().advance(end).map_err(io::Error::other)?;
        }
        Ok(())
    }

    /// The segment the frame of entry `index` goes to: the active one, or a
    /// new one when the active one is full or `index` does not follow its
    /// last entry (after a purge past the end of the log).
    fn active_for(&mut self, index: u64) -> io::Result<&mut Segment> {
        let roll = match self.segments.last() {
            None => true,
            Some(active) if index < active.next() => {
                return Err(io::Error::other(format!(
                    "entry {index} would overwrite {} without a truncation",
                    active.file.path.display()
                )));
            }
            // A version-1 segment is never appended to: the next entry starts a
            // version-2 one.
            Some(active) => {
                active.len >= self.segment_bytes || index > active.next() || active.file.format != frame::FORMAT
            }
        };
        if roll {
            if let Some(active) = self.segments.last() {
                // The full segment is made durable before the next one starts,
                // since the group's one fsync covers only the active segment.
                active.file.file.sync_data().map_err(|e| in_file(&active.file.path, e))?;
                release_durable_pages(&active.file.file, active.released, active.len);
            }
            let path = segment_path(&self.dir, index);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| in_file(&path, e))?;
            // The header is made durable by the group's fsync, with the first
            // frames; a crash before that leaves a torn header, which opening
            // cuts like any torn tail.
            file.write_all_at(&frame::MAGIC, 0).map_err(|e| in_file(&path, e))?;
            // The new file's name must survive a crash along with its frames.
            sync_dir(&self.dir)?;
            self.segments.push(Segment {
                file: Arc::new(SegmentFile { path, file, format: frame::FORMAT }),
                first: index,
                offsets: Vec::new(),
                len: frame::MAGIC.len() as u64,
                released: 0,
            });
            self.delete_purged_segments();
        }
        self.segments.last_mut().ok_or_else(|| io::Error::other("no active segment after starting one"))
    }

    /// Cuts the log from `index` on: the segments that begin there or later
    /// go, newest first, then the one holding `index` is shortened.
    fn truncate(&mut self, index: u64) -> io::Result<()> {
        // Where the log will end: the mark may not name anything past it once
        // the entries are gone, or a later torn write there would pass for
        // damage to acknowledged entries. Lowered first, so that a crash in
        // between leaves entries past the mark, never a mark past the log.
        let end = match self.segments.iter().rev().find(|segment| segment.first < index) {
            Some(kept) => {
                let offset = kept.offsets.get((index - kept.first) as usize).copied().unwrap_or(kept.len);
                Mark { segment: kept.first, offset }
            }
            None => Mark::NOTHING,
        };
        self.mark.lower(end).map_err(io::Error::other)?;
        let mut deleted = false;
        while let Some(last) = self.segments.last() {
            if last.first < index {
                break;
            }
            std::fs::remove_file(&last.file.path).map_err(|e| in_file(&last.file.path, e))?;
            self.segments.pop();
            deleted = true;
        }
        if deleted {
            // The deletions are durable before the remaining segment is cut,
            // so a crash cannot leave a shortened segment followed by one that
            // no longer follows it.
            sync_dir(&self.dir)?;
        }
        if let Some(active) = self.segments.last_mut()
            && let Some(&offset) = active.offsets.get((index - active.first) as usize)
        {
            active.file.file.set_len(offset).map_err(|e| in_file(&active.file.path, e))?;
            active.file.file.sync_data().map_err(|e| in_file(&active.file.path, e))?;
            active.offsets.truncate((index - active.first) as usize);
            active.len = offset;
            active.released = active.released.min(offset);
        }
        Ok(())
    }

    /// Records `log_id` as purged before anything is dropped, so a crash
    /// leaves entries already counted as purged, never a hole.
    fn purge(&mut self, log_id: LogId<NodeId>) -> io::Result<()> {
        if self.purged.is_some_and(|purged| purged >= log_id.index) {
            // Already purged further: writing the older id would count the
            // entries in between as present again, though they are gone.
            return Ok(());
        }
        write_replacing(&self.dir, PURGED_FILE, &log_id)?;
        lock_index(&self.index)?.purge(log_id);
        self.purged = Some(log_id.index);
        self.delete_purged_segments();
        Ok(())
    }

    /// Deletes the segments, oldest first, whose entries are all purged; never
    /// the active one. A segment left behind by a failed deletion is harmless
    /// (its entries are skipped on opening) and is tried again next time.
    fn delete_purged_segments(&mut self) {
        let Some(purged) = self.purged else { return };
        while self.segments.len() > 1 && self.segments[0].next() <= purged + 1 {
            let path = &self.segments[0].file.path;
            if let Err(error) = std::fs::remove_file(path) {
                tracing::warn!(%error, path = %path.display(), "a purged segment of the Raft log could not be deleted; it is tried again at the next purge");
                return;
            }
            self.segments.remove(0);
        }
    }
}

/// `error`, saying which file it happened on.
pub(super) fn in_file(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
