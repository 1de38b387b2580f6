//! Tamper test: changing any single byte of a stored record (sampled across the
//! log) is detected by open, by the check of the stored ledger a node runs as
//! soon as it serves (`Ledger::check_stored_state`), or by an audit.
//!
//! A ledger of about 200 records is built once per test and closed. Each sample
//! copies its directory, changes one byte of the copy's record log and opens
//! the copy. Half the copies keep the index and half lose it, because a
//! derived index must never vouch for damaged records: opening from the index
//! verifies only the records after it, and the check reads the whole log.
//!
//! Two kinds of tampering are sampled:
//!
//! * a plain byte flip anywhere in the log file (segment header, frame headers,
//!   payloads). The frame CRC catches it, so `Ledger::open` refuses the log: even
//!   in the very last frame, where a flip looks exactly like a torn write, since
//!   the log's acknowledged mark says every record was reported durable;
//! * a flip inside a record's payload whose frame CRC is then recomputed, as a
//!   deliberate forger would. Open (without the index) or the check (with it:
//!   the record no longer hashes to the leaf it was recorded with) must then
//!   refuse the record, except for what nothing in the log covers: the
//!   `accepted` time of the very last record. That change is caught by an audit
//!   against a checkpoint signed before the tampering.
#![allow(clippy::unwrap_used, reason = "test code: a failed unwrap is a failed test")]

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use salvage_ledger::audit::{AuditOptions, audit};
use salvage_ledger::checkpoint::{NoteSigner, SignedCheckpoint};
use salvage_ledger::entry::{SignedEntry, Timestamp};
use salvage_ledger::testkit::Fixture;
use salvage_ledger::{Ledger, LedgerError};
use tempfile::TempDir;

/// The only segment of the small ledgers built here.
const SEGMENT: &str = "log/segment-000001.log";

/// The segment header: the magic `SLVGLOG1`.
const SEGMENT_HEADER_BYTES: usize = 8;

/// Each frame starts with its payload length and a CRC, four bytes each.
const FRAME_HEADER_BYTES: usize = 8;

/// Items in the sample ledger; each contributes five records.
const ITEMS: u64 = 40;

/// The stages every item goes through (see [`custody_plan`]).
const STAGES: u64 = 5;

/// The values a sampled byte is XORed with: the lowest bit, a case bit, all bits.
const FLIPS: [u8; 3] = [0x01, 0x20, 0xff];

/// How many byte offsets of the log the plain-flip test samples.
const PLAIN_SAMPLES: usize = 300;

#[test]
fn an_untampered_copy_opens_cleanly_with_the_same_root() {
    let original = Original::build();
    for keep_index in [true, false] {
        let copy = original.copy(keep_index);
        let (ledger, report) = Ledger::open(copy.path()).unwrap();
        assert!(report.tail_cut.is_none(), "an untampered copy had a tail cut: {:?}", report.tail_cut);
        assert_eq!(ledger.size(), original.size);
        assert_eq!(ledger.root_at(original.size).unwrap(), original.root(original.size));
        let audit = original.audit(&ledger);
        assert!(audit.is_empty(), "the audit of an untampered copy finds problems: {audit:?}");
    }
}

#[test]
fn flipping_any_sampled_byte_of_the_log_is_detected_by_open() {
    let started = Instant::now();
    let original = Original::build();
    let offsets = original.plain_sample();
    assert!(offsets.len() >= PLAIN_SAMPLES, "only {} offsets sampled", offsets.len());
    let mut refused = 0;
    let mut undetected = Vec::new();
    for (i, &offset) in offsets.iter().enumerate() {
        let flip = FLIPS[i % FLIPS.len()];
        let keep_index = i % 2 == 0;
        let copy = original.copy(keep_index);
        flip_byte(&copy.path().join(SEGMENT), offset, flip, false, &original.frames);
        let what = format!(
            "{} XOR {flip:#04x} (index {})",
            original.describe(offset),
            if keep_index { "kept" } else { "deleted" }
        );
        match Ledger::open(copy.path()) {
            Err(_) => refused += 1,
            Ok((ledger, report)) if report.tail_cut.is_none() && ledger.check_stored_state().is_err() => refused += 1,
            Ok((ledger, report)) => undetected.push(match report.tail_cut {
                // Every record was acknowledged, so none may pass for a torn write.
                Some(tail_cut) => format!("{what}: cut as a torn tail although acknowledged: {tail_cut:?}"),
                None => format!(
                    "{what}: opened with {} records (original {}), same root: {}",
                    ledger.size(),
                    original.size,
                    ledger.size() == original.size
                        && ledger.root_at(original.size).unwrap() == original.root(original.size),
                ),
            }),
        }
    }
    eprintln!(
        "plain flips: {} offsets in {:?}: {refused} refused by open or the check, {} cut or undetected",
        offsets.len(),
        started.elapsed(),
        undetected.len()
    );
    assert!(undetected.is_empty(), "tampered logs opened:\n{}", undetected.join("\n"));
}

#[test]
fn a_flipped_payload_byte_with_a_recomputed_crc_is_detected_by_open_or_audit() {
    let started = Instant::now();
    let original = Original::build();
    let offsets = original.payload_sample();

    let mut refused = 0;
    let mut checked = 0;
    let mut audited = 0;
    let mut undetected = Vec::new();
    for (i, &offset) in offsets.iter().enumerate() {
        let flip = FLIPS[i % FLIPS.len()];
        let keep_index = i % 2 == 1;
        let copy = original.copy(keep_index);
        flip_byte(&copy.path().join(SEGMENT), offset, flip, true, &original.frames);
        let what = format!(
            "{} XOR {flip:#04x}, CRC recomputed (index {})",
            original.describe(offset),
            if keep_index { "kept" } else { "deleted" }
        );
        match Ledger::open(copy.path()) {
            Err(LedgerError::Invalid { .. }) => refused += 1,
            Err(error) => panic!("{what}: refused for another reason than an invalid record: {error}"),
            Ok((ledger, report)) => {
                // The frame is sound, so there is nothing for open to cut.
                assert!(report.tail_cut.is_none(), "{what}: a sound frame was cut: {:?}", report.tail_cut);
                match ledger.check_stored_state() {
                    Err(LedgerError::Invalid { .. }) => {
                        checked += 1;
                        continue;
                    }
                    Err(error) => panic!("{what}: the check fails for another reason than an invalid record: {error}"),
                    Ok(_) => {}
                }
                let problems = original.audit(&ledger);
                if problems.is_empty() {
                    undetected.push(format!("{what}: opened with {} records and audits clean", ledger.size()));
                } else {
                    audited += 1;
                }
            }
        }
    }
    eprintln!(
        "forged flips: {} payload offsets in {:?}: {refused} refused by open, {checked} by the check, {audited} caught by the audit, {} undetected",
        offsets.len(),
        started.elapsed(),
        undetected.len()
    );
    assert!(undetected.is_empty(), "forged records went unnoticed:\n{}", undetected.join("\n"));
}

/// The sample ledger, closed, with what it looked like before any tampering.
struct Original {
    dir: TempDir,
    fixture: Fixture,
    /// Records in the ledger.
    size: u64,
    /// `roots[n - 1]` is the Merkle root of the first `n` records.
    roots: Vec<[u8; 32]>,
    /// A checkpoint of the whole ledger, signed by two operators before any tampering.
    checkpoint: SignedCheckpoint,
    /// Where each frame sits in the segment file.
    frames: Vec<Frame>,
    /// Where the value of the last record's `accepted` time sits in the segment file.
    last_accepted: std::ops::Range<usize>,
}

/// A frame of the segment file, located by parsing the file independently of the ledger.
struct Frame {
    /// The offset of its length field.
    start: usize,
    /// The payload length.
    payload_len: usize,
}

impl Frame {
    fn payload_start(&self) -> usize {
        self.start + FRAME_HEADER_BYTES
    }

    fn end(&self) -> usize {
        self.payload_start() + self.payload_len
    }
}

impl Original {
    /// Builds the ledger: the genesis and 40 items taken through five custody
    /// stages, submitted in batches of 1 to 16 entries.
    fn build() -> Original {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture::new();
        let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap();
        let entries = custody_plan(&fixture);
        let mut rest = entries.as_slice();
        let mut batch_len = 1;
        while !rest.is_empty() {
            let (batch, later) = rest.split_at(batch_len.min(rest.len()));
            for outcome in ledger.submit(batch.to_vec()).unwrap() {
                outcome.unwrap();
            }
            rest = later;
            batch_len = batch_len % 16 + 1;
        }
        let size = ledger.size();
        assert_eq!(size, 1 + ITEMS * STAGES);
        let roots = (1..=size).map(|n| ledger.root_at(n).unwrap()).collect();
        let mut checkpoint = SignedCheckpoint::sign(
            ledger.checkpoint().unwrap(),
            &NoteSigner { name: "regional-planning", key: &Fixture::key("regional-planning") },
        )
        .unwrap();
        checkpoint.cosign(&NoteSigner { name: "city-of-jelgava", key: &Fixture::key("city-of-jelgava") }).unwrap();
        let last_record = ledger.record_bytes(size - 1).unwrap();
        ledger.flush().unwrap();
        drop(ledger);

        let segment = fs::read(dir.path().join(SEGMENT)).unwrap();
        let frames = parse_frames(&segment);
        assert_eq!(frames.len() as u64, size, "the segment holds another number of frames than the ledger has records");
        let last = frames.last().unwrap();
        assert_eq!(&segment[last.payload_start()..last.end()], last_record.as_slice());
        let key = b"\"accepted\":\"";
        let at = last_record.windows(key.len()).position(|window| window == key).unwrap() + key.len();
        let len = last_record[at..].iter().position(|&byte| byte == b'"').unwrap();
        let last_accepted = last.payload_start() + at..last.payload_start() + at + len;
        Original { dir, fixture, size, roots, checkpoint, frames, last_accepted }
    }

    /// The Merkle root of the first `size` records.
    fn root(&self, size: u64) -> [u8; 32] {
        self.roots[size as usize - 1]
    }

    /// A copy of the ledger directory, with or without its index.
    fn copy(&self, keep_index: bool) -> TempDir {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(self.dir.path(), copy.path(), &|path| keep_index || path.file_name() != Some("index.redb".as_ref()));
        copy
    }

    /// Audits every record of an opened ledger against the checkpoint signed
    /// before the tampering, and returns the problems found.
    fn audit(&self, ledger: &Ledger) -> Vec<String> {
        let records = (0..ledger.size()).map(|seq| ledger.record_bytes(seq));
        let options = AuditOptions { checkpoint: Some(self.checkpoint.clone()), ..AuditOptions::default() };
        let report = audit(&self.fixture.genesis, records, &options, &mut |_| {});
        report.problems.into_iter().map(|problem| format!("{}: {}", problem.code, problem.message)).collect()
    }

    /// Offsets spread over the whole segment file: the segment header, every
    /// field of the first, second, a middle, the next-to-last and the last
    /// frame, a header byte of every tenth frame, and evenly spaced offsets.
    fn plain_sample(&self) -> Vec<usize> {
        let file_len = self.frames.last().unwrap().end();
        let mut offsets = vec![0, 3, 7];
        let n = self.frames.len();
        for index in [0, 1, n / 2, n - 2, n - 1] {
            let frame = &self.frames[index];
            let payload_end = frame.end() - 1;
            offsets.extend([frame.start, frame.start + 3, frame.start + 4, frame.start + 7]);
            offsets.extend([frame.payload_start(), frame.payload_start() + frame.payload_len / 2, payload_end]);
        }
        for (index, frame) in self.frames.iter().enumerate().step_by(10) {
            offsets.push(frame.start + index / 10 % FRAME_HEADER_BYTES);
        }
        let spread = PLAIN_SAMPLES + 20 - offsets.len();
        offsets.extend((0..spread).map(|k| SEGMENT_HEADER_BYTES + k * (file_len - SEGMENT_HEADER_BYTES) / spread));
        offsets.sort_unstable();
        offsets.dedup();
        offsets
    }

    /// Payload offsets: spread over the first, a middle and the last record,
    /// every byte of the last record's `accepted` time, and evenly spaced over
    /// every payload.
    fn payload_sample(&self) -> Vec<usize> {
        let mut offsets: Vec<usize> = self.last_accepted.clone().collect();
        let n = self.frames.len();
        for index in [0, n / 2, n - 1] {
            let frame = &self.frames[index];
            offsets.extend((0..12).map(|k| frame.payload_start() + k * (frame.payload_len - 1) / 11));
        }
        let payload_bytes: usize = self.frames.iter().map(|frame| frame.payload_len).sum();
        let spread = 80;
        for k in 0..spread {
            let mut rank = k * payload_bytes / spread;
            let frame = self.frames.iter().find(|frame| {
                let inside = rank < frame.payload_len;
                if !inside {
                    rank -= frame.payload_len;
                }
                inside
            });
            offsets.push(frame.unwrap().payload_start() + rank);
        }
        offsets.sort_unstable();
        offsets.dedup();
        offsets
    }

    /// Names the byte at `offset` of the segment file, for failure messages.
    fn describe(&self, offset: usize) -> String {
        if offset < SEGMENT_HEADER_BYTES {
            return format!("segment header byte {offset}");
        }
        let (seq, frame) =
            self.frames.iter().enumerate().find(|(_, frame)| (frame.start..frame.end()).contains(&offset)).unwrap();
        let within = offset - frame.start;
        let last = if seq + 1 == self.frames.len() { " (the last record)" } else { "" };
        match within {
            0..4 => format!("offset {offset}: record {seq}{last}, length byte {within}"),
            4..8 => format!("offset {offset}: record {seq}{last}, CRC byte {}", within - 4),
            _ => format!(
                "offset {offset}: record {seq}{last}, payload byte {} of {}{}",
                within - FRAME_HEADER_BYTES,
                frame.payload_len,
                if self.last_accepted.contains(&offset) { " (its accepted time)" } else { "" }
            ),
        }
    }
}

/// The sample ledger's entries: every item is registered by a contractor,
/// offered to the reuse hub, accepted, offered to the builder and accepted.
/// Each stage's statements are made one second after the previous stage's,
/// because an `item.receive` body names only the item and an entry id covers
/// only the statement: the hub's and the builder's receipts of one item made at
/// the same time would be one statement.
fn custody_plan(fixture: &Fixture) -> Vec<SignedEntry> {
    let staged = |stage: u64| {
        let mut staged = fixture.clone();
        staged.time = Timestamp::from_instant(fixture.time.instant() + Duration::from_secs(stage));
        staged
    };
    let mut entries = Vec::new();
    for group in 0..ITEMS / 8 {
        let items: Vec<(String, &str)> = (group * 8..group * 8 + 8)
            .map(|n| {
                (
                    format!("4750001TIMBER-{n:04}"),
                    if n.is_multiple_of(2) { "baltic-demolition" } else { "riga-deconstruction" },
                )
            })
            .collect();
        let stages = (0..STAGES).map(staged).collect::<Vec<_>>();
        entries
            .extend(items.iter().map(|(giai, contractor)| stages[0].register(contractor, giai, "glulam beam", 240.0)));
        entries.extend(items.iter().map(|(giai, contractor)| stages[1].transfer(contractor, giai, "reuse-hub")));
        entries.extend(items.iter().map(|(giai, _)| stages[2].receive("reuse-hub", giai)));
        entries.extend(items.iter().map(|(giai, _)| stages[3].transfer("reuse-hub", giai, "timber-builders")));
        entries.extend(items.iter().map(|(giai, _)| stages[4].receive("timber-builders", giai)));
    }
    entries
}

/// Locates every frame of a segment file, checking the layout on the way.
fn parse_frames(segment: &[u8]) -> Vec<Frame> {
    assert_eq!(&segment[..SEGMENT_HEADER_BYTES], b"SLVGLOG1");
    let mut frames = Vec::new();
    let mut start = SEGMENT_HEADER_BYTES;
    while start < segment.len() {
        let header = &segment[start..start + FRAME_HEADER_BYTES];
        let payload_len = u32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
        let frame = Frame { start, payload_len };
        let stored_crc = u32::from_le_bytes(header[4..].try_into().unwrap());
        assert_eq!(
            frame_crc(&segment[start..frame.end()]),
            stored_crc,
            "frame at {start} fails its CRC before tampering"
        );
        start = frame.end();
        frames.push(frame);
    }
    assert_eq!(start, segment.len(), "the last frame runs past the end of the segment");
    frames
}

/// XORs the byte at `offset` of a segment file with `flip`; with `fix_crc`,
/// then rewrites the CRC of the frame holding it so that the frame checks out.
fn flip_byte(segment: &Path, offset: usize, flip: u8, fix_crc: bool, frames: &[Frame]) {
    let mut bytes = fs::read(segment).unwrap();
    bytes[offset] ^= flip;
    if fix_crc {
        let frame = frames.iter().find(|frame| (frame.payload_start()..frame.end()).contains(&offset)).unwrap();
        let crc = frame_crc(&bytes[frame.start..frame.end()]);
        bytes[frame.start + 4..frame.payload_start()].copy_from_slice(&crc.to_le_bytes());
    }
    fs::write(segment, bytes).unwrap();
}

/// The CRC-32 of a frame: over its length field and its payload, skipping the CRC field.
fn frame_crc(frame: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&frame[..4]);
    hasher.update(&frame[FRAME_HEADER_BYTES..]);
    hasher.finalize()
}

/// Copies a directory tree, leaving out the entries `keep` refuses.
fn copy_dir(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if !keep(&path) {
            continue;
        }
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target, keep);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}
