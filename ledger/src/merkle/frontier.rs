//! The right edge of an append-only tree: what appending and the current root need, in at most
//! 64 hashes whatever the number of leaves.
//!
//! A [`MerkleTree`](super::MerkleTree) keeps every node, about 64 bytes per leaf. Appending only
//! ever combines the new leaf with the perfect subtrees already complete at the tree's right edge,
//! so a node that persists the nodes [`Frontier::push`] hands out (and serves proofs from them
//! through [`PerfectNodes`](super::PerfectNodes)) needs nothing else in memory.

use std::fmt;
use std::marker::PhantomData;

use super::{Digest, MerkleHasher};

/// The peaks of an append-only RFC 6962 tree: the roots of the perfect subtrees that the binary
/// expansion of its length splits the leaves into, one per set bit of `len`.
///
/// # Peak order
///
/// Peaks are listed **highest level first**, which is also left to right in leaf order: for
/// `len = 13 = 0b1101` they are the roots of leaves `[0, 8)` (level 3), `[8, 12)` (level 2) and
/// `[12, 13)` (level 0). [`Frontier::peaks`], [`Frontier::peak_hashes`] and
/// [`Frontier::from_peaks`] all use that order, so a store can persist `len` and the peak hashes
/// and reopen the frontier from them.
pub struct Frontier<H: MerkleHasher> {
    // INVARIANT: `peaks.len() == len.count_ones()`, and `peaks[j]` is the root of the perfect
    // aligned subtree whose level is the j-th set bit of `len`, counting from the most significant
    // one. The root of the whole tree folds them from the right.
    len: u64,
    peaks: Vec<Digest>,
    hasher: PhantomData<fn() -> H>,
}

/// Why a frontier could not be rebuilt from what a store kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrontierError {
    /// The number of peaks does not match the length, which has one peak per set bit.
    #[error(
        "a frontier of {len} leaves has {expected} peaks, one per set bit of its length, but {actual} \
         were given"
    )]
    WrongPeakCount {
        /// The number of leaves claimed.
        len: u64,
        /// The number of peaks that length has.
        expected: usize,
        /// The number of peaks given.
        actual: usize,
    },
}

impl<H: MerkleHasher> Frontier<H> {
    /// Creates the frontier of a tree without leaves; its root is `H("")`.
    pub fn new() -> Self {
        Self { len: 0, peaks: Vec::new(), hasher: PhantomData }
    }

    /// Rebuilds the frontier of a tree of `len` leaves from its peak hashes, highest level first
    /// (see [the peak order](Frontier#peak-order)), as [`Frontier::peak_hashes`] returned them.
    ///
    /// The hashes cannot be checked without the leaves; a store that doubts them compares
    /// [`Frontier::root`] with a root it trusts, such as its last signed checkpoint's.
    ///
    /// # Errors
    ///
    /// [`FrontierError::WrongPeakCount`] unless there is exactly one peak per set bit of `len`.
    pub fn from_peaks(len: u64, peaks: Vec<Digest>) -> Result<Self, FrontierError> {
        let expected = len.count_ones() as usize;
        if peaks.len() != expected {
            return Err(FrontierError::WrongPeakCount { len, expected, actual: peaks.len() });
        }
        Ok(Self { len, peaks, hasher: PhantomData })
    }

    /// Returns the number of leaves appended so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Returns whether no leaf has been appended yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one leaf hash and returns every perfect subtree node this completed, as
    /// `(level, index, hash)`: the leaf itself at level 0, then each parent that became complete,
    /// lowest level first. Node `(k, i)` is the root of leaves `[i·2^k, (i+1)·2^k)`. This is
    /// exactly what [`MerkleTree::push`](super::MerkleTree::push) returns for the same leaves.
    ///
    /// # Panics
    ///
    /// When the frontier already holds `u64::MAX` leaves, a length no log reaches.
    pub fn push(&mut self, leaf_hash: Digest) -> Vec<(u8, u64, Digest)> {
        let old_len = self.len;
        let new_len = old_len.checked_add(1).expect("a Merkle tree holds at most u64::MAX leaves");
        // Each trailing one bit of the old length is a peak of the same level as the node being
        // carried up, just to its left: they merge, like the carry of adding 1. `old_len` is
        // below u64::MAX, so there are at most 63 merges and every level fits a u8 and a shift.
        let merges = old_len.trailing_ones() as usize;
        let mut created = Vec::with_capacity(merges + 1);
        created.push((0, old_len, leaf_hash));
        let mut node = leaf_hash;
        let mut level: u8 = 0;
        // The invariant makes `peaks.len() >= merges`; saturating keeps a broken one from panicking.
        let keep = self.peaks.len().saturating_sub(merges);
        for left in self.peaks.drain(keep..).rev() {
            node = H::hash_children(&left, &node);
            level += 1;
            created.push((level, (new_len >> level) - 1, node));
        }
        self.peaks.push(node);
        self.len = new_len;
        created
    }

    /// Returns the root of all leaves appended so far, the same as
    /// [`MerkleTree::root`](super::MerkleTree::root) for the same leaves.
    pub fn root(&self) -> Digest {
        // RFC 6962 splits at the largest power of two, so the root is the highest peak joined
        // with the root of the rest: fold the peaks from the lowest (rightmost) one.
        self.peaks
            .iter()
            .rev()
            .copied()
            .reduce(|right, left| H::hash_children(&left, &right))
            .unwrap_or_else(H::hash_empty)
    }

    /// Lists the peaks as `(level, index, hash)`, highest level first (see
    /// [the peak order](Frontier#peak-order)); node `(k, i)` is the root of leaves
    /// `[i·2^k, (i+1)·2^k)`, as in [`Frontier::push`].
    pub fn peaks(&self) -> impl Iterator<Item = (u8, u64, Digest)> + '_ {
        let len = self.len;
        // The peaks' levels are the set bits of `len`, from the most significant one; bit `k`
        // being set, `(len >> k) - 1` cannot underflow.
        let levels = (0..u64::BITS).rev().filter(move |&bit| (len >> bit) & 1 == 1);
        levels.zip(&self.peaks).map(move |(level, hash)| (level as u8, (len >> level) - 1, *hash))
    }

    /// Returns the peak hashes, highest level first: what [`Frontier::from_peaks`] takes back.
    pub fn peak_hashes(&self) -> &[Digest] {
        &self.peaks
    }
}

impl<H: MerkleHasher> Default for Frontier<H> {
    fn default() -> Self {
        Self::new()
    }
}

// Written out rather than derived: a derive would require `H: Clone` (or `PartialEq`) although
// `H` is only a marker.
impl<H: MerkleHasher> Clone for Frontier<H> {
    fn clone(&self) -> Self {
        Self { len: self.len, peaks: self.peaks.clone(), hasher: PhantomData }
    }
}

impl<H: MerkleHasher> PartialEq for Frontier<H> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.peaks == other.peaks
    }
}

impl<H: MerkleHasher> Eq for Frontier<H> {}

impl<H: MerkleHasher> fmt::Debug for Frontier<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The root stands for the peaks; up to 64 hashes would drown a log line.
        f.debug_struct("Frontier")
            .field("len", &self.len)
            .field("root", &crate::hex::to_lower_hex(self.root()))
            .finish_non_exhaustive()
    }
}
