//! Tests of the shared layer on segments built in memory: both framings, and the rules that
//! tell a torn tail from corruption, with and without an acknowledged mark. The record log's
//! and the Raft log's own tests drive the same code through real files.

use std::time::Duration;

use super::*;

const MAGIC: [u8; 8] = *b"TESTLOG1";

const CURRENT: SegmentFormat =
    SegmentFormat { magic: Some(MAGIC), framing: Framing::LengthAndPayload, max_payload: 1024 };

const LEGACY: SegmentFormat = SegmentFormat { magic: None, framing: Framing::PayloadOnly, max_payload: 1024 };

/// A segment of `format` holding `payloads`, and where each frame starts.
fn segment(format: &SegmentFormat, payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = format.magic.map(|magic| magic.to_vec()).unwrap_or_default();
    let mut starts = Vec::new();
    for payload in payloads {
        starts.push(bytes.len());
        format.encode_frame(payload, &mut bytes).unwrap();
    }
    (bytes, starts)
}

const PAYLOADS: [&[u8]; 5] = [b"first", b"second", b"", b"fourth", b"fifth and last"];

fn damaged(scan: &SegmentScan<'_>) -> Option<u64> {
    match scan.ending {
        Ending::Damaged { offset, .. } => Some(offset),
        _ => None,
    }
}

#[test]
fn frames_read_back_in_both_framings_and_their_crcs_cover_what_they_say() {
    let (bytes, starts) = segment(&CURRENT, &PAYLOADS);
    let scan = scan_segment(&CURRENT, &bytes, true, Acknowledged::Unknown);
    assert_eq!(scan.ending, Ending::Clean);
    assert_eq!(scan.frames, starts.iter().map(|&at| at as u64).zip(PAYLOADS).collect::<Vec<_>>());
    assert_eq!(scan.whole_end, bytes.len());

    // The current framing's CRC covers the length field: the same payload, a different CRC.
    let (legacy, _) = segment(&LEGACY, &[b"first"]);
    assert_eq!(legacy.get(..4), bytes.get(8..12));
    assert_ne!(legacy.get(4..8), bytes.get(12..16));
    assert_eq!(legacy.get(4..8), Some(crc32fast::hash(b"first").to_le_bytes().as_slice()));
    let scan = scan_segment(&LEGACY, &legacy, false, Acknowledged::Unknown);
    assert_eq!((scan.frames, scan.ending), (vec![(0, b"first".as_slice())], Ending::Clean));
}

#[test]
fn the_legacy_framing_never_holds_an_empty_payload_so_zeros_are_damage() {
    assert!(LEGACY.encode_frame(b"", &mut Vec::new()).is_err());
    assert_eq!(LEGACY.check_frame(&[0; 16], 0).err(), Some(FrameDamage::Empty));
    // Zeros pass neither framing's CRC check as a frame.
    assert!(matches!(CURRENT.check_frame(&[0; 16], 0), Err(FrameDamage::BadCrc { .. })));
    assert!(matches!(CURRENT.encode_frame(&[0; 1025], &mut Vec::new()), Err(PayloadTooLarge { len: 1025, max: 1024 })));
}

#[test]
fn without_a_mark_damage_is_a_torn_tail_only_when_no_valid_frame_follows() {
    let (mut bytes, starts) = segment(&CURRENT, &PAYLOADS);
    bytes[starts[3] + 9] ^= 1;
    let scan = scan_segment(&CURRENT, &bytes, true, Acknowledged::Unknown);
    assert_eq!(damaged(&scan), Some(starts[3] as u64));
    assert_eq!(scan.frames.len(), 3, "the frames before the damage are still found");

    let (mut bytes, starts) = segment(&CURRENT, &PAYLOADS);
    bytes[starts[4] + 9] ^= 1;
    let scan = scan_segment(&CURRENT, &bytes, true, Acknowledged::Unknown);
    assert!(matches!(scan.ending, Ending::Torn { never_acknowledged: false, .. }), "{:?}", scan.ending);
    assert_eq!(scan.whole_end, starts[4]);
    // Not in a segment before the last.
    assert_eq!(damaged(&scan_segment(&CURRENT, &bytes, false, Acknowledged::Unknown)), Some(starts[4] as u64));
}

#[test]
fn with_a_mark_damage_before_it_is_corruption_and_at_or_after_it_a_torn_tail() {
    let (bytes, starts) = segment(&CURRENT, &PAYLOADS);
    let mark = starts[3] as u64;
    for hole_at in [1, 2, 3, 4] {
        // A hole (zeros) over one frame, whole frames after it.
        let mut holed = bytes.clone();
        let end = starts.get(hole_at + 1).copied().unwrap_or(bytes.len());
        holed[starts[hole_at]..end].fill(0);
        let scan = scan_segment(&CURRENT, &holed, true, Acknowledged::Before(mark));
        if (starts[hole_at] as u64) < mark {
            assert_eq!(damaged(&scan), Some(starts[hole_at] as u64), "hole at frame {hole_at}");
        } else {
            assert!(matches!(scan.ending, Ending::Torn { never_acknowledged: true, .. }), "hole at frame {hole_at}");
            assert_eq!(scan.whole_end, starts[hole_at]);
        }
    }
    // A segment cut short of the mark lost acknowledged frames.
    let short = &bytes[..starts[2]];
    let scan = scan_segment(&CURRENT, short, true, Acknowledged::Before(mark));
    assert_eq!(damaged(&scan), Some(starts[2] as u64));
    // A mark in an earlier segment leaves the whole last segment unacknowledged.
    let mut holed = bytes.clone();
    holed[starts[0]..starts[1]].fill(0);
    let scan = scan_segment(&CURRENT, &holed, true, Acknowledged::Before(0));
    assert_eq!((scan.frames.len(), scan.whole_end), (0, starts[0]));
}

#[test]
fn a_torn_header_is_a_torn_tail_unless_the_mark_names_bytes_of_the_segment() {
    for torn in [&MAGIC[..3], &[0u8; 8][..], &[0u8; 30][..], &[][..]] {
        for (acknowledged, torn_tail) in
            [(Acknowledged::Unknown, true), (Acknowledged::Before(0), true), (Acknowledged::Before(8), false)]
        {
            let scan = scan_segment(&CURRENT, torn, true, acknowledged);
            assert_eq!(matches!(scan.ending, Ending::Torn { .. }), torn_tail, "{torn:?} with {acknowledged:?}");
            assert_eq!(scan.whole_end, 0);
        }
        assert_eq!(damaged(&scan_segment(&CURRENT, torn, false, Acknowledged::Unknown)), Some(0));
    }
    assert_eq!(damaged(&scan_segment(&CURRENT, b"TESTLOG2", true, Acknowledged::Unknown)), Some(0));
}

#[test]
fn the_mark_only_advances_and_its_last_value_is_written_when_the_writer_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), None);
    let writer = MarkWriter::start(dir.path(), Mark { segment: 1, offset: 8 }, "test-mark", Duration::ZERO).unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 1, offset: 8 }), "durable when started");
    let handle = writer.handle();
    for offset in [100, 50, 300, 200] {
        handle.advance(Mark { segment: 1, offset }).unwrap();
    }
    handle.advance(Mark { segment: 2, offset: 8 }).unwrap();
    handle.advance(Mark { segment: 1, offset: 999 }).unwrap();
    drop(writer);
    assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 2, offset: 8 }));
}

#[test]
fn lowering_the_mark_is_durable_before_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let writer = MarkWriter::start(dir.path(), Mark { segment: 5, offset: 100 }, "test-mark", Duration::ZERO).unwrap();
    writer.handle().advance(Mark { segment: 7, offset: 400 }).unwrap();
    writer.lower(Mark { segment: 6, offset: 150 }).unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 6, offset: 150 }));
    // Lowering to a higher mark changes nothing.
    writer.lower(Mark { segment: 9, offset: 0 }).unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 6, offset: 150 }));
}

#[test]
fn a_torn_mark_write_leaves_the_previous_mark_in_the_other_slot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MARK_FILE);
    let writer = MarkWriter::start(dir.path(), Mark { segment: 1, offset: 8 }, "test-mark", Duration::ZERO).unwrap();
    writer.handle().advance(Mark { segment: 1, offset: 64 }).unwrap();
    drop(writer);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 72, "two slots of 36 bytes");
    // The newest write went to the slot the one before did not use; tear it.
    for torn_byte in [0, 20, 35] {
        let mut torn = bytes.clone();
        torn[torn_byte] ^= 0x10;
        std::fs::write(&path, &torn).unwrap();
        assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 1, offset: 8 }), "byte {torn_byte}");
    }
    // The next writer goes on from the valid slot, overwriting the torn one.
    drop(MarkWriter::start(dir.path(), Mark { segment: 1, offset: 90 }, "test-mark", Duration::ZERO).unwrap());
    assert_eq!(read_mark(dir.path()).unwrap(), Some(Mark { segment: 1, offset: 90 }));
    // A file without any valid slot is no mark at all.
    std::fs::write(&path, [0xa5; 72]).unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), None);
    std::fs::write(&path, b"").unwrap();
    assert_eq!(read_mark(dir.path()).unwrap(), None);
}

#[test]
fn a_mark_says_which_bytes_of_the_last_segment_were_acknowledged() {
    let mark = Mark { segment: 4, offset: 120 };
    assert_eq!(mark.in_last_segment(4), Some(Acknowledged::Before(120)));
    assert_eq!(mark.in_last_segment(5), Some(Acknowledged::Before(0)));
    assert_eq!(mark.in_last_segment(3), None, "a mark naming a missing segment");
    assert_eq!(Mark::NOTHING.in_last_segment(1), Some(Acknowledged::Before(0)));
}

#[test]
fn docs_format_md_shows_the_slot_the_code_writes() {
    let dir = tempfile::tempdir().unwrap();
    drop(MarkWriter::start(dir.path(), Mark { segment: 1, offset: 8 }, "test-mark", Duration::ZERO).unwrap());
    let bytes = std::fs::read(dir.path().join(MARK_FILE)).unwrap();
    let slot = bytes.get(36..72).expect("the first write goes to the second slot");
    let words: Vec<String> = [&slot[..8], &slot[8..16], &slot[16..24], &slot[24..32], &slot[32..]]
        .iter()
        .map(|word| word.iter().map(|byte| format!("{byte:02x}")).collect())
        .collect();
    let page = include_str!("../../../../docs/format.md");
    assert!(page.contains(&words.join(" ")), "docs/format.md §9 does not show the slot {}", words.join(" "));
}

#[test]
fn a_paused_mark_gathers_advances_and_writes_the_last_one_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let at = |offset| Mark { segment: 1, offset };
    let writer = MarkWriter::start(dir.path(), at(8), "test-mark", Duration::from_secs(3600)).unwrap();
    let handle = writer.handle();
    handle.advance(at(100)).unwrap();
    // The first advance is written at once...
    let started = std::time::Instant::now();
    while read_mark(dir.path()).unwrap() != Some(at(100)) {
        assert!(started.elapsed() < Duration::from_secs(30), "the first advance was never written");
        std::thread::sleep(Duration::from_millis(5));
    }
    // ...the next ones wait out the pause (an hour here), gathered into one write.
    handle.advance(at(200)).unwrap();
    handle.advance(at(300)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(read_mark(dir.path()).unwrap(), Some(at(100)), "the mark trails, never leads");
    // Stopping ends the pause and writes the newest.
    drop(writer);
    assert_eq!(read_mark(dir.path()).unwrap(), Some(at(300)));
}
