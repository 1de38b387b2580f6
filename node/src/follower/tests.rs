//! The follower over a store that only remembers which records it read: it reads each record
//! once and in order, a write's worth at a time, resumes from the mark, reads another ledger
//! again from the start, lets one follow at a time and keeps following in the background
//! after failures.

use std::sync::atomic::{AtomicU32, Ordering};

use salvage_ledger::entry::SignedEntry;
use salvage_ledger::testkit::Fixture;

use super::*;

/// What a [`Log`] keeps: the records it read (as if on disk), its mark, and how it misbehaves.
#[derive(Default)]
struct Kept {
    read: Mutex<Vec<u64>>,
    mark: Mutex<Option<Followed>>,
    /// The most records one write takes; all it is given when 0.
    per_write: usize,
    /// How many writes fail before the next succeeds.
    failing: AtomicU32,
    started_over: AtomicU32,
}

/// A store that notes which records it read.
struct Log(Arc<Kept>);

impl Notes for Log {
    type Error = String;

    const WHAT: &'static str = "test log";

    fn followed(&self) -> Result<Option<Followed>, String> {
        Ok(*self.0.mark.lock().unwrap())
    }

    fn note_records(&self, _ledger: &Ledger, records: &[Record]) -> Result<Followed, String> {
        if self.0.failing.load(Ordering::SeqCst) > 0 {
            self.0.failing.fetch_sub(1, Ordering::SeqCst);
            return Err("the disk is full".to_owned());
        }
        let taken = match self.0.per_write {
            0 => records,
            most => &records[..most.min(records.len())],
        };
        let followed = followed_to(taken.last().unwrap());
        self.0.read.lock().unwrap().extend(taken.iter().map(|record| record.seq.get()));
        *self.0.mark.lock().unwrap() = Some(followed);
        Ok(followed)
    }

    fn start_over(&self) -> Result<(), String> {
        self.0.started_over.fetch_add(1, Ordering::SeqCst);
        self.0.read.lock().unwrap().clear();
        *self.0.mark.lock().unwrap() = None;
        Ok(())
    }

    fn ledger_failed(error: &dyn std::fmt::Display) -> String {
        error.to_string()
    }
}

fn submit(ledger: &Ledger, entries: Vec<SignedEntry>) {
    let outcomes = ledger.submit(entries).unwrap();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

fn registrations(f: &Fixture, member: &str, prefix: &str, serials: std::ops::Range<u32>) -> Vec<SignedEntry> {
    serials.map(|serial| f.register(member, &format!("{prefix}-{serial:04}"), "beam", 10.0)).collect()
}

fn read(kept: &Kept) -> Vec<u64> {
    kept.read.lock().unwrap().clone()
}

#[test]
fn the_follower_reads_each_record_once_in_order_and_resumes_from_the_mark() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Ledger::create(&dir.path().join("ledger"), f.genesis.clone()).unwrap();
    submit(&ledger, registrations(&f, "baltic-demolition", "4750001BEAM", 1..5));
    let kept = Arc::new(Kept { per_write: 2, ..Kept::default() });
    let follower = Follower::new(Log(Arc::clone(&kept))).unwrap();
    assert_eq!(follower.followed_size(), 0);
    // Two records a write: the follower hands the store the rest until it has read them all.
    assert_eq!(follower.follow(&ledger).unwrap(), 5);
    assert_eq!(follower.followed_size(), 5);
    assert_eq!(read(&kept), vec![0, 1, 2, 3, 4]);
    // Nothing new: nothing read again.
    assert_eq!(follower.follow(&ledger).unwrap(), 5);
    assert_eq!(read(&kept).len(), 5);

    // Records appended: only they are read.
    submit(&ledger, registrations(&f, "baltic-demolition", "4750001BEAM", 5..8));
    assert_eq!(follower.try_follow(&ledger).unwrap(), Some(8));
    assert_eq!(read(&kept), (0..8).collect::<Vec<_>>());

    // Restarted, it starts from the store's mark.
    drop(follower);
    submit(&ledger, registrations(&f, "baltic-demolition", "4750001BEAM", 8..9));
    let follower = Follower::new(Log(Arc::clone(&kept))).unwrap();
    assert_eq!(follower.followed_size(), 8);
    assert_eq!(follower.follow(&ledger).unwrap(), 9);
    assert_eq!(read(&kept), (0..9).collect::<Vec<_>>());
    assert_eq!(kept.started_over.load(Ordering::SeqCst), 0);
}

#[test]
fn another_ledger_under_the_store_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let kept = Arc::new(Kept::default());
    let first = Ledger::create(&dir.path().join("first"), f.genesis.clone()).unwrap();
    submit(&first, registrations(&f, "baltic-demolition", "4750001BEAM", 1..3));
    let follower = Follower::new(Log(Arc::clone(&kept))).unwrap();
    assert_eq!(follower.follow(&first).unwrap(), 3);

    // The same genesis, but record 2 is another one (as after a snapshot was installed).
    let second = Ledger::create(&dir.path().join("second"), f.genesis.clone()).unwrap();
    submit(&second, registrations(&f, "riga-deconstruction", "4750002BEAM", 1..5));
    assert_eq!(follower.follow(&second).unwrap(), 5);
    assert_eq!(kept.started_over.load(Ordering::SeqCst), 1);
    assert_eq!(read(&kept), vec![0, 1, 2, 3, 4]);

    // A ledger shorter than the mark is another one too; the size read goes back with it.
    let third = Ledger::create(&dir.path().join("third"), f.genesis.clone()).unwrap();
    submit(&third, registrations(&f, "baltic-demolition", "4750001DOOR", 1..2));
    assert_eq!(follower.follow(&third).unwrap(), 2);
    assert_eq!(follower.followed_size(), 2);
    assert_eq!(kept.started_over.load(Ordering::SeqCst), 2);
    assert_eq!(read(&kept), vec![0, 1]);
}

#[tokio::test]
async fn one_follows_at_a_time_and_a_read_may_wait_for_the_one_who_does() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new();
    let ledger = Arc::new(Ledger::create(&dir.path().join("ledger"), f.genesis.clone()).unwrap());
    submit(&ledger, registrations(&f, "baltic-demolition", "4750001BEAM", 1..4));
    let kept = Arc::new(Kept::default());
    let follower = Arc::new(Follower::new(Log(Arc::clone(&kept))).unwrap());

    // Someone is following: a read does not wait for them, nor reads anything itself.
    {
        let _busy = follower.following.lock().unwrap();
        assert_eq!(follower.try_follow(&ledger).unwrap(), None);
    }
    assert!(read(&kept).is_empty());
    // Nobody gets there: a read waits no longer than it said.
    assert!(!follower.caught_up(4, Duration::from_millis(20)).await);

    // The background follower gets there, though its first two writes fail.
    kept.failing.store(2, Ordering::SeqCst);
    follower.follow_in_the_background(Arc::clone(&ledger), Duration::from_millis(5));
    assert!(follower.caught_up(4, FOLLOWER_PATIENCE).await);
    assert_eq!(read(&kept), vec![0, 1, 2, 3]);
    submit(&ledger, registrations(&f, "baltic-demolition", "4750001BEAM", 4..6));
    assert!(follower.caught_up(6, FOLLOWER_PATIENCE).await);
    assert_eq!(read(&kept), (0..6).collect::<Vec<_>>());
}

#[test]
fn a_mark_is_kept_as_its_size_in_big_endian_then_the_leaf_hash() {
    let mark = Followed { size: 0x0102_0304_0506_0708, last_leaf: [9; 32] };
    let kept = mark.to_bytes();
    assert_eq!(kept[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(kept[8..], [9; 32]);
    assert_eq!(Followed::from_bytes(&kept), Some(mark));
    assert_eq!(Followed::from_bytes(&kept[..39]), None);
}
