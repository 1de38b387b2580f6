//! Tests of the record log: durability across reopen and rotation, torn-tail recovery,
//! refusal of corruption without touching the disk, and concurrent appending, syncing and reading.
//!
//! They sit in their own file so that the implementation files stay short enough to read whole;
//! `tests_tail` (opening only the tail, streaming frames) shares their helpers.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread;

use std::fs::{self, OpenOptions};
use std::sync::Mutex;

use super::format::segment_path;
use super::segments::{list_segments, parse_segment_number};
use crate::store::frame_log::{MARK_FILE, QUARANTINE_DIR};

pub(super) fn tiny() -> LogOptions {
    LogOptions { segment_bytes: 96, ..LogOptions::default() }
}

pub(super) fn payload(index: usize) -> Vec<u8> {
    format!("{{\"record\":{index},\"pad\":\"{}\"}}", "x".repeat(index % 7)).into_bytes()
}

/// Writes `count` payloads into a fresh log in `dir` and returns them with their positions.
pub(super) fn build(dir: &Path, count: usize) -> Vec<(LogPosition, Vec<u8>)> {
    let (mut log, contents) = RecordLog::open(dir, tiny()).unwrap();
    assert!(contents.frames.is_empty());
    let written: Vec<_> = (0..count)
        .map(|index| {
            let bytes = payload(index);
            (log.append(&bytes).unwrap(), bytes)
        })
        .collect();
    log.sync().unwrap();
    written
}

/// Every file under `dir`, recursively, with its bytes (the scan's tests use it too).
pub(super) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.insert(path.clone(), fs::read(&path).unwrap());
        }
    }
    files
}

pub(super) fn copy_log(from: &Path, to: &Path) {
    for (path, bytes) in snapshot(from) {
        let target = to.join(path.strip_prefix(from).unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
    }
}

pub(super) fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[usize::try_from(offset).unwrap()] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

pub(super) fn last_segment(dir: &Path) -> (u32, PathBuf) {
    let numbers = list_segments(dir).unwrap();
    let last = *numbers.last().unwrap();
    (last, segment_path(dir, last))
}

/// Opens `dir`, expects `Corrupt`, and returns where it says the damage is.
pub(super) fn expect_corrupt(dir: &Path) -> (u32, u64) {
    expect_corrupt_reason(dir).0
}

fn expect_corrupt_reason(dir: &Path) -> ((u32, u64), String) {
    match RecordLog::open(dir, tiny()) {
        Err(LogError::Corrupt { segment, offset, reason }) => ((segment, offset), reason),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn new_directory_becomes_an_empty_log_with_one_header_only_segment() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("nested").join("log");
    let (log, contents) = RecordLog::open(&dir, LogOptions::default()).unwrap();
    assert!(log.is_empty());
    assert_eq!(log.frame_count(), Some(0));
    assert_eq!(contents, LogContents::empty());
    assert_eq!(fs::read(dir.join("segment-000001.log")).unwrap(), b"SLVGLOG1");
    drop(log);
    let (log, contents) = RecordLog::open(&dir, LogOptions::default()).unwrap();
    assert!(log.is_empty());
    assert_eq!(contents, LogContents::empty());
}

#[test]
fn appends_survive_reopen_across_several_segments() {
    let temp = tempfile::tempdir().unwrap();
    let mut written = build(temp.path(), 40);
    let segments = list_segments(temp.path()).unwrap();
    assert!(segments.len() > 5, "tiny segments must rotate: {segments:?}");
    assert_eq!(segments, (1..=segments.len() as u32).collect::<Vec<_>>());
    for path in snapshot(temp.path()).keys() {
        let len = fs::metadata(path).unwrap().len();
        assert!(len <= tiny().segment_bytes, "{} is {len} bytes", path.display());
    }

    let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(contents.frames, written);
    assert_eq!(contents.tail_cut, None);
    assert_eq!(log.frame_count(), Some(40));

    // An oversized frame gets a segment of its own, and appending continues after it.
    let big = vec![7u8; 300];
    written.push((log.append(&big).unwrap(), big));
    written.push((log.append(b"").unwrap(), Vec::new()));
    log.sync().unwrap();
    assert_eq!(written[40].0.segment + 1, written[41].0.segment);
    drop(log);
    let (log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(contents.frames, written);
    assert_eq!(log.frame_count(), Some(42));
}

#[test]
fn read_at_returns_every_frame_and_refuses_positions_that_are_not_frames() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 25);
    let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    for (position, bytes) in &written {
        assert_eq!(&log.read_at(*position).unwrap(), bytes);
    }

    let first = written[0].0;
    let inside = LogPosition { offset: first.offset + 3, ..first };
    assert!(matches!(log.read_at(inside), Err(LogError::Corrupt { .. })));
    let past_end = LogPosition { offset: 10_000, ..first };
    assert!(matches!(log.read_at(past_end), Err(LogError::BadPosition { .. })));
    let missing = LogPosition { segment: 999, offset: 8 };
    assert!(matches!(log.read_at(missing), Err(LogError::BadPosition { .. })));
    let in_header = LogPosition { segment: 1, offset: 4 };
    assert!(matches!(log.read_at(in_header), Err(LogError::BadPosition { .. })));
}

#[test]
fn read_at_reports_damage_that_appears_after_opening() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    let position = log.append(b"{\"record\":1}").unwrap();
    log.sync().unwrap();
    flip_byte(&segment_path(temp.path(), 1), position.offset + 10);
    match log.read_at(position) {
        Err(LogError::Corrupt { segment, offset, .. }) => {
            assert_eq!((segment, offset), (position.segment, position.offset));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_cut_anywhere_inside_the_last_frame_is_a_torn_tail() {
    let template = tempfile::tempdir().unwrap();
    let mut written = build(template.path(), 12);
    // A short final frame keeps the number of cuts, each a full reopen with fsyncs, small
    // while still covering a partial header, a missing payload and a partial payload. It is
    // not synced: a crash can only tear what was never acknowledged.
    let (mut log, _) = RecordLog::open(template.path(), tiny()).unwrap();
    let short = b"{\"r\":1}".to_vec();
    written.push((log.append(&short).unwrap(), short));
    drop(log);
    let (last_number, _) = last_segment(template.path());
    let (last_position, _) = *written.last().unwrap();
    assert_eq!(last_position.segment, last_number);
    let original = fs::read(segment_path(template.path(), last_number)).unwrap();
    let end = original.len() as u64;

    for cut_at in last_position.offset + 1..end {
        let temp = tempfile::tempdir().unwrap();
        copy_log(template.path(), temp.path());
        let path = segment_path(temp.path(), last_number);
        OpenOptions::new().write(true).open(&path).unwrap().set_len(cut_at).unwrap();

        let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        let kept = &written[..written.len() - 1];
        assert_eq!(contents.frames, kept, "cut at {cut_at}");
        let cut = contents.tail_cut.expect("a torn tail must be reported");
        assert_eq!(cut.segment, last_number);
        assert_eq!(cut.offset, last_position.offset);
        assert_eq!(cut.bytes_cut, cut_at - last_position.offset);
        let saved = fs::read(cut.quarantine_file.unwrap()).unwrap();
        let start = usize::try_from(last_position.offset).unwrap();
        let stop = usize::try_from(cut_at).unwrap();
        assert_eq!(saved, original[start..stop]);
        assert_eq!(fs::metadata(&path).unwrap().len(), last_position.offset);

        let position = log.append(b"after the cut").unwrap();
        log.sync().unwrap();
        drop(log);
        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.tail_cut, None);
        let mut expected = kept.to_vec();
        expected.push((position, b"after the cut".to_vec()));
        assert_eq!(contents.frames, expected);
    }
}

#[test]
fn a_cut_exactly_at_a_frame_boundary_is_no_damage() {
    let temp = tempfile::tempdir().unwrap();
    let mut written = build(temp.path(), 11);
    let (mut log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    written.push((log.append(&payload(11)).unwrap(), payload(11)));
    drop(log);
    let (last_position, _) = *written.last().unwrap();
    let (_, path) = last_segment(temp.path());
    OpenOptions::new().write(true).open(&path).unwrap().set_len(last_position.offset).unwrap();
    let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(contents.frames, written[..written.len() - 1]);
    assert_eq!(contents.tail_cut, None);
}

#[test]
fn trailing_zero_bytes_are_cut_and_kept_in_quarantine() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 5);
    let (_, path) = last_segment(temp.path());
    let whole = fs::metadata(&path).unwrap().len();
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0u8; 37]);
    fs::write(&path, bytes).unwrap();

    let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(contents.frames, written);
    let cut = contents.tail_cut.unwrap();
    assert_eq!((cut.offset, cut.bytes_cut), (whole, 37));
    assert_eq!(fs::read(cut.quarantine_file.unwrap()).unwrap(), vec![0u8; 37]);
    assert_eq!(fs::metadata(&path).unwrap().len(), whole);
}

#[test]
fn bad_crcs_on_the_final_frames_are_a_torn_tail() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    let mut positions: Vec<_> = (0..3).map(|index| log.append(&payload(index)).unwrap()).collect();
    log.sync().unwrap();
    // The last two are never synced, so a crash may tear them.
    positions.extend((3..5).map(|index| log.append(&payload(index)).unwrap()));
    drop(log);
    let path = segment_path(temp.path(), 1);
    flip_byte(&path, positions[3].offset + 9);
    flip_byte(&path, positions[4].offset + 9);

    let (_, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    assert_eq!(contents.frames.len(), 3);
    let cut = contents.tail_cut.unwrap();
    assert_eq!(cut.offset, positions[3].offset);
    assert!(cut.reason.contains("CRC"), "{}", cut.reason);
}

#[test]
fn a_torn_header_on_the_last_segment_is_rewritten() {
    let template = tempfile::tempdir().unwrap();
    let written = build(template.path(), 12);
    let (last_number, _) = last_segment(template.path());
    let next = last_number + 1;
    let torn_headers: Vec<Vec<u8>> = (0..SEGMENT_MAGIC.len())
        .map(|len| SEGMENT_MAGIC[..len].to_vec())
        .chain([vec![0u8; 8], vec![0u8; 20]])
        .collect();

    for torn in torn_headers {
        let temp = tempfile::tempdir().unwrap();
        copy_log(template.path(), temp.path());
        fs::write(segment_path(temp.path(), next), &torn).unwrap();

        let (mut log, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames, written);
        let cut = contents.tail_cut.unwrap();
        assert_eq!((cut.segment, cut.offset), (next, 0));
        assert_eq!(cut.bytes_cut, torn.len() as u64);
        match cut.quarantine_file {
            Some(file) => assert_eq!(fs::read(file).unwrap(), torn),
            None => assert!(torn.is_empty()),
        }
        assert_eq!(fs::read(segment_path(temp.path(), next)).unwrap(), SEGMENT_MAGIC);

        let position = log.append(b"fresh").unwrap();
        assert_eq!(position.segment, next);
        drop(log);
        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        assert_eq!(contents.frames.last().unwrap(), &(position, b"fresh".to_vec()));
        assert_eq!(contents.tail_cut, None);
    }
}

#[test]
fn repeated_cuts_at_the_same_offset_keep_every_quarantine_file() {
    let temp = tempfile::tempdir().unwrap();
    build(temp.path(), 3);
    let (_, path) = last_segment(temp.path());
    let whole = fs::metadata(&path).unwrap().len();
    let mut files = Vec::new();
    for garbage in [&[0u8, 0, 1][..], &[0u8, 0, 2][..]] {
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(garbage);
        fs::write(&path, bytes).unwrap();
        let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
        let cut = contents.tail_cut.unwrap();
        assert_eq!(cut.offset, whole);
        let file = cut.quarantine_file.unwrap();
        assert_eq!(fs::read(&file).unwrap(), garbage);
        files.push(file);
    }
    assert_ne!(files[0], files[1]);
    assert_eq!(fs::read(&files[0]).unwrap(), [0, 0, 1]);
}

#[test]
fn damage_followed_by_a_valid_frame_is_corruption_and_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    let positions: Vec<_> = (0..6).map(|index| log.append(&payload(index)).unwrap()).collect();
    log.sync().unwrap();
    drop(log);
    let path = segment_path(temp.path(), 1);

    // A flipped payload byte, then a flipped length byte, in a middle frame: before the
    // acknowledged mark, and in a log without a mark (of an earlier version), where the valid
    // frames after it tell.
    for (with_mark, why) in [(true, "acknowledged mark"), (false, "valid frame follows")] {
        if !with_mark {
            fs::remove_file(temp.path().join(MARK_FILE)).unwrap();
        }
        for flip_at in [positions[2].offset + 12, positions[2].offset] {
            let original = fs::read(&path).unwrap();
            flip_byte(&path, flip_at);
            let before = snapshot(temp.path());
            let (at, reason) = expect_corrupt_reason(temp.path());
            assert_eq!(at, (1, positions[2].offset));
            assert!(reason.contains(why), "{reason}");
            assert_eq!(snapshot(temp.path()), before);
            assert!(!temp.path().join(QUARANTINE_DIR).exists());
            fs::write(&path, original).unwrap();
        }
    }
}

#[test]
fn damage_in_a_non_final_segment_is_corruption_and_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 20);
    let (last_in_first, _) = *written.iter().rev().find(|(position, _)| position.segment == 1).unwrap();
    let first = segment_path(temp.path(), 1);
    let original = fs::read(&first).unwrap();

    // The final frame of segment 1 has a bad CRC: a torn tail anywhere but the last segment
    // cannot come from a crash.
    flip_byte(&first, last_in_first.offset + 9);
    let before = snapshot(temp.path());
    assert_eq!(expect_corrupt(temp.path()), (1, last_in_first.offset));
    assert_eq!(snapshot(temp.path()), before);

    // So is a partial frame at the end of segment 1.
    fs::write(&first, &original[..original.len() - 3]).unwrap();
    let before = snapshot(temp.path());
    assert_eq!(expect_corrupt(temp.path()).0, 1);
    assert_eq!(snapshot(temp.path()), before);
}

#[test]
fn a_bad_magic_header_is_corruption() {
    let temp = tempfile::tempdir().unwrap();
    build(temp.path(), 20);
    let (last, last_path) = last_segment(temp.path());

    flip_byte(&segment_path(temp.path(), 1), 0);
    let before = snapshot(temp.path());
    assert_eq!(expect_corrupt(temp.path()), (1, 0));
    assert_eq!(snapshot(temp.path()), before);
    flip_byte(&segment_path(temp.path(), 1), 0);

    // On the last segment, a header that is neither the magic, a prefix of it, nor zeros.
    flip_byte(&last_path, 2);
    let before = snapshot(temp.path());
    assert_eq!(expect_corrupt(temp.path()), (last, 0));
    assert_eq!(snapshot(temp.path()), before);
}

#[test]
fn a_gap_in_segment_numbers_is_corruption() {
    let temp = tempfile::tempdir().unwrap();
    build(temp.path(), 20);
    fs::remove_file(segment_path(temp.path(), 2)).unwrap();
    assert_eq!(expect_corrupt(temp.path()), (2, 0));

    let temp = tempfile::tempdir().unwrap();
    build(temp.path(), 20);
    fs::remove_file(segment_path(temp.path(), 1)).unwrap();
    assert_eq!(expect_corrupt(temp.path()), (1, 0));
}

#[test]
fn a_non_canonical_segment_name_is_refused() {
    for name in ["segment-1.log", "segment-0000001.log", "segment-000000.log", "segment-x.log"] {
        let temp = tempfile::tempdir().unwrap();
        build(temp.path(), 3);
        fs::write(temp.path().join(name), SEGMENT_MAGIC).unwrap();
        assert!(matches!(RecordLog::open(temp.path(), tiny()), Err(LogError::UnexpectedFile { .. })), "{name}");
    }
    assert_eq!(parse_segment_number("1000000"), Some(1_000_000));
}

#[test]
fn oversized_payloads_are_refused_and_leave_the_log_untouched() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    log.append(b"before").unwrap();
    let bytes_before = log.appended_bytes();
    let oversized = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        log.append(&oversized),
        Err(LogError::PayloadTooLarge { len, max })
            if len == MAX_PAYLOAD_BYTES + 1 && max == MAX_PAYLOAD_BYTES
    ));
    assert!(matches!(
        log.append_batch(&[b"fits".as_slice(), oversized.as_slice()]),
        Err(LogError::PayloadTooLarge { .. })
    ));
    assert_eq!(log.appended_bytes(), bytes_before);
    assert_eq!(log.frame_count(), Some(1));

    // A payload of exactly the maximum is accepted and reads back.
    let largest = vec![b'y'; MAX_PAYLOAD_BYTES];
    let position = log.append(&largest).unwrap();
    assert_eq!(log.read_at(position).unwrap(), largest);
    drop(log);
    let (_, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    assert_eq!(contents.frames.len(), 2);
    assert_eq!(contents.frames[1].1.len(), MAX_PAYLOAD_BYTES);
}

#[test]
fn positions_round_trip_through_bytes_in_log_order() {
    let positions = [
        LogPosition { segment: 1, offset: 8 },
        LogPosition { segment: 1, offset: 300 },
        LogPosition { segment: 1, offset: 1 << 40 },
        LogPosition { segment: 2, offset: 8 },
        LogPosition { segment: u32::MAX, offset: u64::MAX },
    ];
    for pair in positions.windows(2) {
        assert!(pair[0] < pair[1]);
        assert!(pair[0].to_bytes() < pair[1].to_bytes());
    }
    for position in positions {
        assert_eq!(LogPosition::from_bytes(&position.to_bytes()).unwrap(), position);
    }
    assert!(matches!(LogPosition::from_bytes(&[0; 11]), Err(LogError::BadPosition { .. })));
    let zero_segment = LogPosition { segment: 0, offset: 8 }.to_bytes();
    assert!(matches!(LogPosition::from_bytes(&zero_segment), Err(LogError::BadPosition { .. })));
    let in_header = LogPosition { segment: 1, offset: 7 }.to_bytes();
    assert!(matches!(LogPosition::from_bytes(&in_header), Err(LogError::BadPosition { .. })));
}

#[test]
fn append_batch_writes_the_same_bytes_as_single_appends() {
    let single = tempfile::tempdir().unwrap();
    let batched = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..30).map(payload).chain([vec![1u8; 200]]).collect();
    let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();

    let (mut one_by_one, _) = RecordLog::open(single.path(), tiny()).unwrap();
    let expected: Vec<_> = slices.iter().map(|p| one_by_one.append(p).unwrap()).collect();
    let (mut log, _) = RecordLog::open(batched.path(), tiny()).unwrap();
    assert!(log.append_batch(&[]).unwrap().is_empty());
    let positions = log.append_batch(&slices[..10]).unwrap();
    let rest = log.append_batch(&slices[10..]).unwrap();
    assert_eq!([positions, rest].concat(), expected);
    assert_eq!(log.frame_count(), one_by_one.frame_count());
    assert_eq!(log.appended_bytes(), one_by_one.appended_bytes());

    let strip = |dir: &Path| -> Vec<Vec<u8>> { snapshot(dir).into_values().collect() };
    assert_eq!(strip(batched.path()), strip(single.path()));
    for (position, bytes) in expected.iter().zip(&payloads) {
        assert_eq!(&log.read_at(*position).unwrap(), bytes);
    }
}

#[test]
fn appended_bytes_counts_every_byte_written() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    let mut previous = log.appended_bytes();
    for index in 0..20 {
        log.append(&payload(index)).unwrap();
        assert!(log.appended_bytes() > previous);
        previous = log.appended_bytes();
    }
    let segments = snapshot(temp.path()).into_iter().filter(|(path, _)| !path.ends_with(MARK_FILE));
    let on_disk: u64 = segments.map(|(_, bytes)| bytes.len() as u64).sum();
    assert_eq!(log.appended_bytes(), on_disk);
    drop(log);
    let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(log.appended_bytes(), 0);
    assert_eq!(log.frame_count(), Some(20));
}

#[test]
fn sync_handles_work_from_other_threads_while_appending() {
    fn assert_shareable<T: Send + Sync>() {}
    assert_shareable::<RecordLog>();
    assert_shareable::<SyncHandle>();
    assert_shareable::<LogReader>();

    let temp = tempfile::tempdir().unwrap();
    let (log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    let log = Arc::new(Mutex::new(log));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for index in 0..10 {
                    let bytes = format!("worker {worker} record {index}").into_bytes();
                    let (position, handle) = {
                        let mut log = log.lock().unwrap();
                        let position = log.append(&bytes).unwrap();
                        (position, log.sync_handle().unwrap())
                    };
                    handle.sync().unwrap();
                    acknowledged.push((position, bytes));
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged: Vec<_> = workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect();
    acknowledged.sort();
    drop(log);

    let (_, contents) = RecordLog::open(temp.path(), tiny()).unwrap();
    assert_eq!(contents.frames, acknowledged);
    assert!(list_segments(temp.path()).unwrap().len() > 3);
}

#[test]
fn a_reader_reads_while_another_thread_appends() {
    let temp = tempfile::tempdir().unwrap();
    let options = LogOptions { segment_bytes: 1024, ..LogOptions::default() };
    let (mut log, _) = RecordLog::open(temp.path(), options).unwrap();
    let reader = log.reader();
    let (sender, receiver) = mpsc::channel::<(LogPosition, Vec<u8>)>();
    let checker = thread::spawn(move || {
        let mut checked = 0;
        for (position, bytes) in receiver {
            assert_eq!(reader.read_at(position).unwrap(), bytes);
            checked += 1;
        }
        checked
    });
    for index in 0..200 {
        let bytes = payload(index);
        let position = log.append(&bytes).unwrap();
        sender.send((position, bytes)).unwrap();
    }
    drop(sender);
    assert_eq!(checker.join().unwrap(), 200);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_cut_log_keeps_exactly_a_prefix_of_what_was_written(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 1..24),
        segment_bytes in 48u64..600,
        cut_fraction in 0.0f64..=1.0,
    ) {
        let temp = tempfile::tempdir().unwrap();
        let options = LogOptions { segment_bytes, ..LogOptions::default() };
        let (mut log, _) = RecordLog::open(temp.path(), options).unwrap();
        let slices: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let positions = log.append_batch(&slices).unwrap();
        drop(log);

        let (last, path) = last_segment(temp.path());
        let len = fs::metadata(&path).unwrap().len();
        let cut_at = ((len as f64) * cut_fraction) as u64;
        OpenOptions::new().write(true).open(&path).unwrap().set_len(cut_at).unwrap();

        let header_torn = cut_at < SEGMENT_MAGIC.len() as u64;
        if header_torn && last == 1 {
            // The first segment's header was fsynced when the log was created, and the
            // acknowledged mark says so: no crash tears it.
            let refused = matches!(RecordLog::open(temp.path(), options), Err(LogError::Corrupt { segment: 1, offset: 0, .. }));
            prop_assert!(refused, "a torn first header was not refused");
            return Ok(());
        }
        let (_, contents) = RecordLog::open(temp.path(), options).unwrap();
        let kept = contents.frames.len();
        prop_assert!(kept <= payloads.len());
        for ((position, bytes), (expected_position, expected)) in
            contents.frames.iter().zip(positions.iter().zip(&payloads))
        {
            prop_assert_eq!(position, expected_position);
            prop_assert_eq!(bytes, expected);
        }
        // Exactly the frames that ended at or before the cut survive.
        let survivors = positions
            .iter()
            .zip(&payloads)
            .filter(|(position, bytes)| {
                position.segment < last
                    || position.offset + (FRAME_HEADER_BYTES + bytes.len()) as u64 <= cut_at
            })
            .count();
        prop_assert_eq!(kept, survivors);
        let frame_torn = cut_at < len && Some(cut_at) != positions.get(kept).map(|p| p.offset);
        prop_assert_eq!(contents.tail_cut.is_some(), header_torn || frame_torn);
    }
}

// ---- Acknowledged mark (power loss) ----

/// A payload and the position of its frame.
type Framed = (LogPosition, Vec<u8>);

/// Where the unsynced frames of a power cut start: frames 0..4 synced (acknowledged), 4..8 only
/// written, as a crash leaves them when the page cache never reached the disk.
fn acknowledged_then_unsynced(dir: &Path) -> (Vec<Framed>, Vec<Framed>) {
    let (mut log, _) = RecordLog::open(dir, LogOptions::default()).unwrap();
    let acknowledged: Vec<_> = (0..4).map(|index| (log.append(&payload(index)).unwrap(), payload(index))).collect();
    log.sync().unwrap();
    let unsynced: Vec<_> = (4..8).map(|index| (log.append(&payload(index)).unwrap(), payload(index))).collect();
    drop(log);
    (acknowledged, unsynced)
}

#[test]
fn a_hole_beyond_the_acknowledged_mark_followed_by_valid_frames_is_a_torn_tail() {
    let temp = tempfile::tempdir().unwrap();
    let (acknowledged, unsynced) = acknowledged_then_unsynced(temp.path());
    let path = segment_path(temp.path(), 1);
    let original = fs::read(&path).unwrap();
    // Out-of-order writeback after a power cut: frame 5 never reached the disk (zeros), frames
    // 6 and 7 did.
    let hole = usize::try_from(unsynced[1].0.offset).unwrap()..usize::try_from(unsynced[2].0.offset).unwrap();
    let mut damaged = original.clone();
    damaged[hole.clone()].fill(0);
    fs::write(&path, &damaged).unwrap();

    let (_, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    let mut kept = acknowledged.clone();
    kept.push(unsynced[0].clone());
    assert_eq!(contents.frames, kept);
    let cut = contents.tail_cut.expect("the unacknowledged tail is cut");
    assert_eq!((cut.segment, cut.offset), (1, unsynced[1].0.offset));
    assert_eq!(cut.bytes_cut, (damaged.len() - hole.start) as u64);
    assert_eq!(fs::read(cut.quarantine_file.unwrap()).unwrap(), damaged[hole.start..]);
    assert_eq!(fs::metadata(&path).unwrap().len(), unsynced[1].0.offset);
}

#[test]
fn damage_to_acknowledged_final_frames_is_corruption_not_a_torn_tail() {
    let temp = tempfile::tempdir().unwrap();
    let (acknowledged, unsynced) = acknowledged_then_unsynced(temp.path());
    let path = segment_path(temp.path(), 1);
    let last_acknowledged = acknowledged.last().unwrap().0;
    // Everything after the acknowledged frames is gone, as after a power cut.
    OpenOptions::new().write(true).open(&path).unwrap().set_len(unsynced[0].0.offset).unwrap();
    let original = fs::read(&path).unwrap();

    // A flipped bit in the last acknowledged frame: no valid frame follows it, yet it was
    // reported durable, so no crash explains it.
    flip_byte(&path, last_acknowledged.offset + 12);
    let before = snapshot(temp.path());
    let ((segment, offset), reason) = expect_corrupt_reason(temp.path());
    assert_eq!((segment, offset), (1, last_acknowledged.offset));
    assert!(reason.contains("acknowledged"), "{reason}");
    assert_eq!(snapshot(temp.path()), before, "a refused open changed the log");

    // The same frame cut short: acknowledged bytes are missing.
    fs::write(&path, &original[..original.len() - 5]).unwrap();
    let ((segment, offset), reason) = expect_corrupt_reason(temp.path());
    assert_eq!((segment, offset), (1, last_acknowledged.offset));
    assert!(reason.contains("acknowledged"), "{reason}");
}

#[test]
fn a_log_without_a_mark_opens_by_the_earlier_rule_and_is_marked_from_then_on() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    let written: Vec<_> = (0..12).map(|index| (log.append(&payload(index)).unwrap(), payload(index))).collect();
    log.sync().unwrap();
    drop(log);
    let mark = temp.path().join(MARK_FILE);
    // A log written before the mark existed.
    let _ = fs::remove_file(&mark);
    let (last, path) = last_segment(temp.path());
    let (last_position, _) = *written.last().unwrap();

    // Without a mark, a damaged final frame followed by nothing valid is a torn tail, as it
    // always was.
    flip_byte(&path, last_position.offset + 9);
    let (log, contents) = RecordLog::open(temp.path(), LogOptions::default()).unwrap();
    assert_eq!(contents.frames, written[..written.len() - 1]);
    assert_eq!(contents.tail_cut.map(|cut| (cut.segment, cut.offset)), Some((last, last_position.offset)));
    drop(log);
    assert!(mark.exists(), "opening wrote the mark");

    // From then on the mark covers what was opened: the new final frame is acknowledged.
    let (previous, _) = written[written.len() - 2];
    flip_byte(&path, previous.offset + 9);
    assert_eq!(expect_corrupt(temp.path()), (previous.segment, previous.offset));
}
