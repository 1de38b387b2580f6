//! The memo of decompressed keys behind [`super::PublicKey::from_bytes`], one per thread.
//!
//! Decompressing a key takes a square root in the field (≈ 5 µs, a fifth of checking a
//! signature), and every entry and record names its keys, which are few: the members'. But
//! anyone may send entries that name keys nobody holds, as many as they like, and the memo
//! must go on answering for the members' keys all the same. A memo that kept the first keys
//! it saw was locked by the first few hundred made-up ones; a plain least-recently-used memo
//! would be emptied by a stream of them. So the memo is a segmented LRU:
//!
//! - a key enters **probation** when it is first decompressed; a stream of keys seen once only
//!   ever pushes other keys seen once (the least recently used first) out of probation;
//! - a key asked for again while on probation moves to the **protected** segment, which only
//!   keys asked for at least twice enter. When it is full, its least recently used key steps
//!   back to probation, so a key in use leaves the memo only once [`PROTECTED`] other keys
//!   that were asked for twice have been used since it was, and [`PROBATION`] new keys after.
//!
//! A member's key thus needs two uses within [`PROBATION`] new keys to be protected, and then
//! stays. Both segments are bounded, so a thread's memo holds at most [`CAPACITY`] keys
//! (about 300 bytes each) whatever it is sent. One memo per thread: no lock between the
//! threads that decode.

use std::cell::RefCell;
use std::num::NonZeroUsize;

use ed25519_dalek::VerifyingKey;
use lru::LruCache;

/// Keys seen once, waiting to be asked for again.
pub(super) const PROBATION: usize = 256;

/// Keys asked for at least twice: as many as the whole memo used to hold, more active keys
/// than a consortium's members are expected to have.
pub(super) const PROTECTED: usize = 256;

/// The most keys one thread's memo holds.
#[cfg(test)]
pub(super) const CAPACITY: usize = PROBATION + PROTECTED;

/// The key with this encoding, if it is a curve point, decompressed at most once while this
/// thread's memo keeps it. Points are remembered; strings that are no point are not.
pub(super) fn decompress(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    MEMO.with_borrow_mut(|memo| memo.decompress(bytes))
}

/// How many keys this thread's memo holds: (on probation, protected).
#[cfg(test)]
pub(super) fn segments() -> (usize, usize) {
    MEMO.with_borrow(|memo| (memo.probation.len(), memo.protected.len()))
}

/// How many times this thread decompressed a key, because its memo did not hold it.
#[cfg(test)]
pub(super) fn misses() -> u64 {
    MEMO.with_borrow(|memo| memo.misses)
}

thread_local! {
    static MEMO: RefCell<KeyMemo> = RefCell::new(KeyMemo::new());
}

/// The two segments (see the module doc). A key is in at most one of them.
struct KeyMemo {
    probation: LruCache<[u8; 32], VerifyingKey>,
    protected: LruCache<[u8; 32], VerifyingKey>,
    #[cfg(test)]
    misses: u64,
}

impl KeyMemo {
    fn new() -> KeyMemo {
        KeyMemo {
            probation: LruCache::new(segment_size(PROBATION)),
            protected: LruCache::new(segment_size(PROTECTED)),
            #[cfg(test)]
            misses: 0,
        }
    }

    fn decompress(&mut self, bytes: &[u8; 32]) -> Option<VerifyingKey> {
        if let Some(key) = self.protected.get(bytes) {
            return Some(*key);
        }
        if let Some(key) = self.probation.pop(bytes) {
            // Asked for a second time: in use, not a one-off. The key was in neither segment
            // after the pop, so the push returns only a key that the full segment lets go.
            if let Some((demoted, demoted_key)) = self.protected.push(*bytes, key) {
                self.probation.push(demoted, demoted_key);
            }
            return Some(key);
        }
        #[cfg(test)]
        {
            self.misses += 1;
        }
        let key = VerifyingKey::from_bytes(bytes).ok()?;
        // A full probation lets its least recently used key go: another one seen only once.
        self.probation.push(*bytes, key);
        Some(key)
    }
}

/// A segment's capacity as the LRU wants it; both sizes are constants above zero.
const fn segment_size(keys: usize) -> NonZeroUsize {
    match NonZeroUsize::new(keys) {
        Some(size) => size,
        None => NonZeroUsize::MIN,
    }
}
