//! Tests of opening only the tail ([`RecordLog::open_tail`]) and of streaming frames
//! ([`LogReader::frames_between`]): that together they give what [`RecordLog::open`] gives, cut a
//! torn tail the same way, find damage in earlier segments only when they read it, refuse
//! positions that are not frames, and hold a bounded buffer rather than segments.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::format::segment_path;
use super::segments::list_segments;
use super::tests::{build, copy_log, expect_corrupt, flip_byte, last_segment, payload, snapshot, tiny};
use super::*;

type Framed = (LogPosition, Vec<u8>);

/// Something done to a copy of a log, in the directory given.
type Change<'a> = Box<dyn Fn(&Path) + 'a>;

/// Every item of a stream: the frames before its error, and the error.
fn stream(frames: LogFrames) -> (Vec<Framed>, Option<LogError>) {
    let mut frames = frames;
    let mut read = Vec::new();
    for item in frames.by_ref() {
        match item {
            Ok(frame) => read.push(frame),
            Err(error) => {
                assert!(frames.next().is_none(), "the stream went on after an error");
                return (read, Some(error));
            }
        }
    }
    (read, None)
}

/// Streams every frame between `after` and `end`, which must succeed.
fn all(log: &RecordLog, after: Option<LogPosition>, end: LogPosition) -> Vec<Framed> {
    let (frames, error) = stream(log.reader().frames_between(after, end));
    assert!(error.is_none(), "{error:?}");
    frames
}

/// The cut a log reports, with its quarantine file named relative to the log directory, so
/// that cuts of two copies of a log compare equal.
fn relative(cut: Option<TailCut>, dir: &Path) -> Option<TailCut> {
    cut.map(|cut| TailCut {
        quarantine_file: cut.quarantine_file.map(|file| file.strip_prefix(dir).unwrap().to_path_buf()),
        ..cut
    })
}

/// Every file under `dir` with its bytes, named relative to `dir`.
fn relative_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    snapshot(dir).into_iter().map(|(path, bytes)| (path.strip_prefix(dir).unwrap().to_path_buf(), bytes)).collect()
}

/// Opens a copy of `template` with `open` and another with `open_tail`, expects both to succeed
/// alike (the same cut, the same files afterwards), streams the whole tail-opened log, and
/// returns what `open` returned.
fn open_both_ways(template: &Path) -> (LogContents, LogTail) {
    let (whole, tail) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    copy_log(template, whole.path());
    copy_log(template, tail.path());
    let (log, contents) = RecordLog::open(whole.path(), tiny()).unwrap();
    assert_eq!(log.frame_count(), Some(contents.frames.len() as u64));
    drop(log);
    let (log, opened) = RecordLog::open_tail(tail.path(), tiny()).unwrap();
    assert_eq!(log.frame_count(), None, "open_tail counted frames it never read");
    assert_eq!(log.is_empty(), contents.frames.is_empty());
    assert_eq!(opened.first, contents.frames.first().map(|(position, _)| *position));
    assert_eq!(all(&log, None, opened.end), contents.frames);
    assert_eq!(log.end(), opened.end);
    drop(log);
    assert_eq!(relative(opened.tail_cut.clone(), tail.path()), relative(contents.tail_cut.clone(), whole.path()));
    assert_eq!(
        relative_files(whole.path()),
        relative_files(tail.path()),
        "the two ways of opening left different files"
    );
    (contents, opened)
}

#[test]
fn open_tail_then_the_whole_stream_gives_exactly_what_open_gives() {
    let temp = tempfile::tempdir().unwrap();
    let mut written = build(temp.path(), 40);
    let (mut log, _) = RecordLog::open(temp.path(), tiny()).unwrap();
    // A frame bigger than a segment, which gets one of its own, and an empty payload.
    for bytes in [vec![7u8; 300], Vec::new()] {
        written.push((log.append(&bytes).unwrap(), bytes));
    }
    log.sync().unwrap();
    drop(log);
    assert!(list_segments(temp.path()).unwrap().len() > 8, "the test needs many segments");

    let (contents, tail) = open_both_ways(temp.path());
    assert_eq!(contents.frames, written);
    assert_eq!(tail.tail_cut, None);
    assert_eq!(tail.first, Some(LogPosition { segment: 1, offset: SEGMENT_MAGIC.len() as u64 }));

    // Appending after open_tail goes where `end` said, and the stream takes it in.
    let (mut log, tail) = RecordLog::open_tail(temp.path(), tiny()).unwrap();
    let position = log.append(b"next").unwrap();
    assert!(position == tail.end || (position.segment == tail.end.segment + 1 && position.offset == 8));
    written.push((position, b"next".to_vec()));
    assert_eq!(all(&log, None, log.end()), written);
    // The stream ends at its `end`, whatever the log appended since.
    assert_eq!(all(&log, None, tail.end), written[..written.len() - 1]);
}

#[test]
fn from_every_frame_the_stream_gives_the_rest_and_stops_at_any_frame() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 30);
    let (log, tail) = RecordLog::open_tail(temp.path(), tiny()).unwrap();
    for (index, (after, _)) in written.iter().enumerate() {
        assert_eq!(all(&log, Some(*after), tail.end), written[index + 1..], "after frame {index}");
    }
    // The last frame as `after`: nothing follows.
    let (last, _) = written.last().unwrap();
    assert!(all(&log, Some(*last), tail.end).is_empty());
    // Any frame's position is an end too: the frames before it.
    for (index, (end, _)) in written.iter().enumerate().skip(1) {
        assert_eq!(all(&log, None, *end), written[..index], "up to frame {index}");
        assert_eq!(all(&log, Some(written[0].0), *end), written[1..index], "from 0 up to frame {index}");
    }
}

#[test]
fn an_empty_log_has_no_first_frame_and_streams_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("log");
    let (log, tail) = RecordLog::open_tail(&dir, tiny()).unwrap();
    assert_eq!(tail, LogTail { tail_cut: None, end: LogPosition { segment: 1, offset: 8 }, first: None });
    assert!(log.is_empty());
    assert_eq!(log.frame_count(), Some(0), "a log created by open_tail knows it holds nothing");
    assert!(all(&log, None, tail.end).is_empty());
    drop(log);

    let (mut log, tail) = RecordLog::open_tail(&dir, tiny()).unwrap();
    assert!(log.is_empty() && tail.first.is_none());
    let genesis = log.append(b"genesis").unwrap();
    assert!(!log.is_empty());
    drop(log);
    let (log, tail) = RecordLog::open_tail(&dir, tiny()).unwrap();
    assert!(!log.is_empty());
    assert_eq!(tail.first, Some(genesis));
    assert_eq!(all(&log, None, tail.end), [(genesis, b"genesis".to_vec())]);
}

#[test]
fn a_torn_tail_is_cut_and_reported_as_open_does() {
    let template = tempfile::tempdir().unwrap();
    let written = build(template.path(), 20);
    let (last, path) = last_segment(template.path());
    let original = fs::read(&path).unwrap();
    let (last_frame, _) = *written.last().unwrap();

    // Half a frame header after the last frame, trailing zeros, and the last frame cut short
    // (after removing the mark, so that its bytes count as unacknowledged).
    let mut tails: Vec<Change<'_>> = Vec::new();
    tails.push(Box::new(move |dir| {
        OpenOptions::new().append(true).open(segment_path(dir, last)).unwrap().write_all(&[5, 0, 0]).unwrap();
    }));
    tails.push(Box::new(move |dir| {
        OpenOptions::new().append(true).open(segment_path(dir, last)).unwrap().write_all(&[0; 40]).unwrap();
    }));
    tails.push(Box::new(|dir| {
        fs::remove_file(dir.join(crate::store::frame_log::MARK_FILE)).unwrap();
        fs::write(segment_path(dir, last), &original[..original.len() - 3]).unwrap();
    }));
    // A torn header on a segment that rotation had just begun.
    tails.push(Box::new(move |dir| fs::write(segment_path(dir, last + 1), &SEGMENT_MAGIC[..5]).unwrap()));
    for (index, tear) in tails.iter().enumerate() {
        let temp = tempfile::tempdir().unwrap();
        copy_log(template.path(), temp.path());
        tear(temp.path());
        let (contents, tail) = open_both_ways(temp.path());
        let cut = tail.tail_cut.unwrap_or_else(|| panic!("tear {index} was not cut"));
        match index {
            2 => {
                assert_eq!((cut.segment, cut.offset), (last, last_frame.offset));
                assert_eq!(contents.frames, written[..written.len() - 1]);
            }
            3 => {
                assert_eq!((cut.segment, cut.offset), (last + 1, 0));
                assert_eq!(tail.end, LogPosition { segment: last + 1, offset: 8 });
                assert_eq!(contents.frames, written);
            }
            _ => {
                assert_eq!((cut.segment, cut.offset), (last, original.len() as u64));
                assert_eq!(contents.frames, written);
            }
        }
    }
}

#[test]
fn damage_open_refuses_in_the_last_segment_or_a_header_open_tail_refuses_too() {
    let template = tempfile::tempdir().unwrap();
    let written = build(template.path(), 20);
    let (last, _) = last_segment(template.path());
    let last_frame = written.iter().rev().map(|(position, _)| *position).find(|p| p.segment == last).unwrap();
    let damage: [(&str, Change<'_>); 3] = [
        // An acknowledged frame of the last segment: corruption, not a torn tail.
        (
            "a flipped bit in an acknowledged frame",
            Box::new(move |dir| flip_byte(&segment_path(dir, last), last_frame.offset + 9)),
        ),
        ("a bad header on an earlier segment", Box::new(|dir| flip_byte(&segment_path(dir, 2), 3))),
        ("a missing segment", Box::new(|dir| fs::remove_file(segment_path(dir, 3)).unwrap())),
    ];
    for (what, damage) in damage {
        let temp = tempfile::tempdir().unwrap();
        copy_log(template.path(), temp.path());
        damage(temp.path());
        let before = snapshot(temp.path());
        let by_open = expect_corrupt(temp.path());
        match RecordLog::open_tail(temp.path(), tiny()) {
            Err(LogError::Corrupt { segment, offset, .. }) => assert_eq!((segment, offset), by_open, "{what}"),
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
        assert_eq!(snapshot(temp.path()), before, "{what}: a refused open_tail changed the log");
    }
}

#[test]
fn damage_in_an_earlier_segment_is_found_by_the_stream_not_by_open_tail() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 30);
    let victim = written.iter().position(|(position, _)| position.segment == 3).unwrap() + 1;
    let (damaged_at, _) = written[victim];
    assert_eq!(damaged_at.segment, 3, "the test damages a frame in the middle of segment 3");
    flip_byte(&segment_path(temp.path(), 3), damaged_at.offset + 12);
    let by_open = expect_corrupt(temp.path());
    assert_eq!(by_open, (3, damaged_at.offset));

    // open_tail reads only the last segment: by design it does not see the damage.
    let (log, tail) = RecordLog::open_tail(temp.path(), tiny()).unwrap();
    let (frames, error) = stream(log.reader().frames_between(None, tail.end));
    assert_eq!(frames, written[..victim], "the stream must give every frame before the damage");
    match error {
        Some(LogError::Corrupt { segment, offset, reason }) => {
            assert_eq!((segment, offset), by_open);
            assert!(reason.contains("CRC mismatch"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Streaming from past the damage does not read it; from the damaged frame itself, it cannot
    // tell the frame from a position that is none.
    assert_eq!(all(&log, Some(written[victim + 1].0), tail.end), written[victim + 2..]);
    let (frames, error) = stream(log.reader().frames_between(Some(damaged_at), tail.end));
    assert!(frames.is_empty() && matches!(error, Some(LogError::BadPosition { .. })), "{error:?}");

    // Bytes a segment before the last should not have (a torn write could only be in the last).
    let segment_two = segment_path(temp.path(), 2);
    let end_of_two = fs::metadata(&segment_two).unwrap().len();
    OpenOptions::new().append(true).open(&segment_two).unwrap().write_all(&[0; 3]).unwrap();
    let (frames, error) = stream(log.reader().frames_between(None, tail.end));
    assert!(frames.iter().all(|(position, _)| position.segment <= 2));
    assert!(
        matches!(&error, Some(LogError::Corrupt { segment: 2, offset, reason }) if *offset == end_of_two && reason.contains("only the last segment")),
        "{error:?}"
    );
}

#[test]
fn positions_that_are_not_frames_of_the_log_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let written = build(temp.path(), 20);
    let (log, tail) = RecordLog::open_tail(temp.path(), tiny()).unwrap();
    let (first, _) = written[0];
    let end_of_one = fs::metadata(segment_path(temp.path(), 1)).unwrap().len();
    let bad_afters = [
        ("inside a frame", LogPosition { offset: first.offset + 3, ..first }),
        ("inside the header", LogPosition { segment: 1, offset: 4 }),
        ("segment 0", LogPosition { segment: 0, offset: 8 }),
        ("where a segment before the last ends", LogPosition { segment: 1, offset: end_of_one }),
        ("past the end of a segment file", LogPosition { segment: 1, offset: 10_000 }),
        ("at the end", tail.end),
        ("past the end", LogPosition { segment: 999, offset: 8 }),
    ];
    for (what, after) in bad_afters {
        let (frames, error) = stream(log.reader().frames_between(Some(after), tail.end));
        assert!(frames.is_empty(), "{what}");
        assert!(matches!(error, Some(LogError::BadPosition { .. })), "{what}: {error:?}");
    }
    let bad_ends = [
        ("in a segment that does not exist", LogPosition { segment: tail.end.segment + 1, offset: 8 }),
        ("past the end of its file", LogPosition { offset: tail.end.offset + 1, ..tail.end }),
        ("inside the header", LogPosition { segment: 1, offset: 0 }),
    ];
    for (what, end) in bad_ends {
        let (frames, error) = stream(log.reader().frames_between(None, end));
        assert!(frames.is_empty(), "{what}");
        assert!(matches!(error, Some(LogError::BadPosition { .. })), "{what}: {error:?}");
    }
    // An end inside a frame: the stream gives the frames before it, then says why it stops.
    let (third, _) = written[2];
    let (frames, error) = stream(log.reader().frames_between(None, LogPosition { offset: third.offset + 5, ..third }));
    assert_eq!(frames, written[..2]);
    assert!(
        matches!(&error, Some(LogError::Corrupt { reason, .. }) if reason.contains("not where a frame ends")),
        "{error:?}"
    );
}

#[test]
fn fifty_megabytes_stream_through_a_bounded_buffer_not_whole_segments() {
    const SEGMENT_BYTES: u64 = 8 << 20;
    const TOTAL_BYTES: usize = 50 << 20;
    // Frames of up to 64 KiB, every payload recognisable by its index without keeping them.
    fn payload_of(index: usize) -> Vec<u8> {
        let len = 1 + (index * 7919) % (64 << 10);
        let mut bytes = vec![(index % 251) as u8; len];
        let stamp = len.min(8);
        bytes[..stamp].copy_from_slice(&(index as u64).to_le_bytes()[..stamp]);
        bytes
    }
    let largest_frame = FRAME_HEADER_BYTES + (64 << 10);

    let temp = tempfile::tempdir().unwrap();
    let options = LogOptions { segment_bytes: SEGMENT_BYTES, ..LogOptions::default() };
    let (mut log, _) = RecordLog::open(temp.path(), options).unwrap();
    let (mut count, mut bytes) = (0, 0);
    while bytes < TOTAL_BYTES {
        let batch: Vec<Vec<u8>> = (count..count + 64).map(payload_of).collect();
        bytes += batch.iter().map(Vec::len).sum::<usize>();
        count += batch.len();
        log.append_batch(&batch.iter().map(Vec::as_slice).collect::<Vec<_>>()).unwrap();
    }
    log.sync().unwrap();
    drop(log);
    assert!(list_segments(temp.path()).unwrap().len() >= 6, "the test needs many segments");

    let (log, tail) = RecordLog::open_tail(temp.path(), options).unwrap();
    let mut frames = log.reader().frames_between(None, tail.end);
    let mut index = 0;
    let mut most_held = 0;
    while let Some(item) = frames.next() {
        let (_, payload) = item.unwrap();
        assert!(payload == payload_of(index), "frame {index} differs");
        index += 1;
        most_held = most_held.max(frames.buffered_bytes());
    }
    assert_eq!(index, count);
    // One read buffer and one frame at a time: far less than a segment, let alone the log.
    assert!(most_held <= STREAM_BUFFER_BYTES + largest_frame, "the stream held {most_held} bytes");
    assert!((most_held as u64) < SEGMENT_BYTES / 4, "the stream held {most_held} bytes");
}

#[test]
fn streaming_while_the_log_appends_and_rotates_stops_at_its_end() {
    let temp = tempfile::tempdir().unwrap();
    let (mut log, tail) = RecordLog::open_tail(temp.path(), tiny()).unwrap();
    let reader = log.reader();
    let written: Vec<Framed> = (0..200).map(|index| (log.append(&payload(index)).unwrap(), payload(index))).collect();
    let end = log.end();
    let streamer = std::thread::spawn(move || stream(reader.frames_between(None, end)));
    for index in 200..400 {
        log.append(&payload(index)).unwrap();
    }
    let (frames, error) = streamer.join().unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(frames, written);
    assert!(all(&log, None, tail.end).is_empty());
}
