//! The RFC 6962 roots and proofs at any earlier size, computed from a source of perfect aligned
//! subtree roots ([`PerfectNodes`]), and the in-memory tree that is one such source.
//!
//! The algorithms only ever ask for perfect aligned subtrees (see the module documentation of
//! [`crate::merkle`]), so they run unchanged over the [`MerkleTree`], which holds every such node
//! in memory, or over a store that keeps them on disk.

use std::fmt;
use std::marker::PhantomData;

use super::shape::{consistency_proof_len, inclusion_path_len, split_point};
use super::{Digest, MerkleHasher, ProofError};

/// A source of the roots of perfect aligned subtrees of one append-only tree: node
/// `(level, index)` is MTH(D[index·2^level : (index+1)·2^level]), the root of the `2^level` leaves
/// starting at leaf `index·2^level`. Level 0 holds the leaf hashes.
///
/// [`root_at`], [`inclusion_proof`] and [`consistency_proof`] need nothing else. Those nodes never
/// change once complete, so a source may keep them anywhere (the [`MerkleTree`] in memory, a store
/// on disk, the nodes [`MerkleTree::push`] and [`Frontier::push`](super::Frontier::push) hand out).
/// A source holding only leaf hashes can compute node `(k, i)` as
/// [`root`](super::root)`(&leaves[i << k..(i + 1) << k])`.
pub trait PerfectNodes {
    /// The hash the nodes were built with. It belongs to the source, not to each call, because
    /// nodes hashed with one function are meaningless to another.
    type Hasher: MerkleHasher;

    /// What reading a node can fail with. `From<ProofError>` lets the proof functions report a
    /// bad request ([`ProofError::SizeBeyondTree`] and the like) in the source's own error type,
    /// so a store returns one error for "no such size" and "the disk failed".
    type Error: From<ProofError>;

    /// Returns how many leaves the source covers: every perfect aligned node inside `[0, len)`.
    fn len(&self) -> u64;

    /// Returns whether the source covers no leaf.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns node `(level, index)`. The proof functions only ask for nodes lying wholly inside
    /// the leaves `[0, size)` of the request, after checking `size <= len`, so a source may treat
    /// any other request as a broken invariant and report it as an error.
    ///
    /// # Errors
    ///
    /// Whatever the source fails with, for instance a missing or unreadable node.
    fn perfect_node(&self, level: u8, index: u64) -> Result<Digest, Self::Error>;
}

/// Returns the root of the tree formed by the first `size` leaves of `source`; `H("")` for 0.
///
/// # Errors
///
/// [`ProofError::SizeBeyondTree`] when `size` exceeds the source's length, and whatever
/// [`PerfectNodes::perfect_node`] fails with.
pub fn root_at<S: PerfectNodes + ?Sized>(source: &S, size: u64) -> Result<Digest, S::Error> {
    check_size(source, size)?;
    if size == 0 {
        return Ok(<S::Hasher as MerkleHasher>::hash_empty());
    }
    range_root(source, 0, size)
}

/// Returns the inclusion proof (audit path) of leaf `index` in the tree of the first `size`
/// leaves of `source`, ordered from the leaf's sibling upwards as RFC 6962 §2.1.1 defines it.
///
/// # Errors
///
/// [`ProofError::SizeBeyondTree`] when `size` exceeds the source's length,
/// [`ProofError::IndexOutOfRange`] when `index >= size`, and whatever
/// [`PerfectNodes::perfect_node`] fails with.
pub fn inclusion_proof<S: PerfectNodes + ?Sized>(source: &S, index: u64, size: u64) -> Result<Vec<Digest>, S::Error> {
    check_size(source, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    // Walk down from the root to the leaf, taking the sibling subtree at every split; the RFC
    // lists them from the leaf up, hence the reversal.
    let mut path = Vec::with_capacity(inclusion_path_len(index, size));
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let middle = start + split_point(end - start);
        if index < middle {
            path.push(range_root(source, middle, end)?);
            end = middle;
        } else {
            path.push(range_root(source, start, middle)?);
            start = middle;
        }
    }
    path.reverse();
    Ok(path)
}

/// Returns the consistency proof between the trees of the first `old_size` and the first
/// `new_size` leaves of `source`, as RFC 6962 §2.1.2 defines it (empty when the sizes are equal
/// or `old_size` is 0).
///
/// # Errors
///
/// [`ProofError::OldSizeExceedsNew`] when `old_size > new_size`,
/// [`ProofError::SizeBeyondTree`] when `new_size` exceeds the source's length, and whatever
/// [`PerfectNodes::perfect_node`] fails with.
pub fn consistency_proof<S: PerfectNodes + ?Sized>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Digest>, S::Error> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNew { old_size, new_size }.into());
    }
    check_size(source, new_size)?;
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], complete) of RFC 6962 §2.1.2, unrolled from the top; the RFC
    // lists the deepest hash first, hence the reversal.
    let mut proof = Vec::with_capacity(consistency_proof_len(old_size, new_size));
    let mut remaining = old_size;
    let (mut start, mut end) = (0, new_size);
    let mut complete = true;
    loop {
        let count = end - start;
        if remaining == count {
            if !complete {
                proof.push(range_root(source, start, end)?);
            }
            break;
        }
        let middle = start + split_point(count);
        if remaining <= middle - start {
            proof.push(range_root(source, middle, end)?);
            end = middle;
        } else {
            proof.push(range_root(source, start, middle)?);
            remaining -= middle - start;
            start = middle;
            complete = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// An append-only Merkle tree that keeps every perfect aligned subtree hash in memory, so roots
/// and proofs for the current size or any earlier size cost O(log² n) hash operations.
///
/// Level 0 holds the leaf hashes; level `k` holds the roots of the perfect subtrees of `2^k`
/// leaves that start at multiples of `2^k`. Storage is about two hashes (64 bytes) per leaf, and
/// each push hands the caller the nodes it created so they can be persisted alongside the
/// records. A node that keeps those nodes elsewhere appends to a [`Frontier`](super::Frontier)
/// instead and serves proofs through [`PerfectNodes`].
pub struct MerkleTree<H: MerkleHasher> {
    // INVARIANT: `levels[0]` holds every appended leaf hash in order. For k ≥ 1, `levels[k]` holds
    // exactly `len >> k` hashes, and `levels[k][i]` is
    // `H::hash_children(levels[k-1][2i], levels[k-1][2i+1])`, the root of leaves
    // `[i·2^k, (i+1)·2^k)`. No level is empty: `levels.len()` is the bit length of `len`.
    levels: Vec<Vec<Digest>>,
    hasher: PhantomData<fn() -> H>,
}

impl<H: MerkleHasher> MerkleTree<H> {
    /// Creates a tree without leaves; its root is `H("")`.
    pub fn new() -> Self {
        Self { levels: Vec::new(), hasher: PhantomData }
    }

    /// Returns the number of leaves appended so far.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Returns whether no leaf has been appended yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one leaf hash and returns every perfect subtree node this completed, as
    /// `(level, index, hash)`: the leaf itself at level 0, then each parent that became complete,
    /// lowest level first. Node `(k, i)` is the root of leaves `[i·2^k, (i+1)·2^k)`.
    pub fn push(&mut self, leaf_hash: Digest) -> Vec<(u8, u64, Digest)> {
        let mut created = Vec::new();
        let mut level: u8 = 0;
        let mut node = leaf_hash;
        loop {
            let depth = usize::from(level);
            if depth == self.levels.len() {
                self.levels.push(Vec::new());
            }
            // The branch above makes `levels` at least `depth + 1` long.
            let nodes = &mut self.levels[depth];
            nodes.push(node);
            created.push((level, (nodes.len() - 1) as u64, node));
            // An even count means the new node is a right child, so its parent is complete now.
            match nodes.as_slice() {
                [.., left, right] if nodes.len().is_multiple_of(2) => {
                    node = H::hash_children(left, right);
                    level += 1;
                }
                _ => break,
            }
        }
        created
    }

    /// Returns the leaf hash at 0-based position `index`, or `None` past the end.
    pub fn leaf_hash(&self, index: u64) -> Option<Digest> {
        self.node(0, index)
    }

    /// Returns the root of the tree formed by the first `size` leaves.
    ///
    /// # Errors
    ///
    /// [`ProofError::SizeBeyondTree`] when `size` exceeds [`MerkleTree::len`].
    pub fn root_at(&self, size: u64) -> Result<Digest, ProofError> {
        root_at(self, size)
    }

    /// Returns the root of all leaves appended so far.
    pub fn root(&self) -> Digest {
        // The tree's root joins, from the right, the last node of every level with an odd count:
        // those are the perfect subtrees the binary expansion of `len` splits the leaves into.
        self.levels
            .iter()
            .filter(|nodes| nodes.len() % 2 == 1)
            .filter_map(|nodes| nodes.last())
            .fold(None, |right: Option<Digest>, left| {
                Some(match right {
                    None => *left,
                    Some(right) => H::hash_children(left, &right),
                })
            })
            .unwrap_or_else(H::hash_empty)
    }

    /// Returns the inclusion proof (audit path) of leaf `index` in the tree of the first `size`
    /// leaves, ordered from the leaf's sibling upwards as RFC 6962 §2.1.1 defines it.
    ///
    /// # Errors
    ///
    /// [`ProofError::SizeBeyondTree`] when `size` exceeds [`MerkleTree::len`], and
    /// [`ProofError::IndexOutOfRange`] when `index >= size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Digest>, ProofError> {
        inclusion_proof(self, index, size)
    }

    /// Returns the consistency proof between the trees of the first `old_size` and the first
    /// `new_size` leaves, as RFC 6962 §2.1.2 defines it (empty when the sizes are equal or
    /// `old_size` is 0).
    ///
    /// # Errors
    ///
    /// [`ProofError::OldSizeExceedsNew`] when `old_size > new_size`, and
    /// [`ProofError::SizeBeyondTree`] when `new_size` exceeds [`MerkleTree::len`].
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Digest>, ProofError> {
        consistency_proof(self, old_size, new_size)
    }

    fn node(&self, level: u8, index: u64) -> Option<Digest> {
        let nodes = self.levels.get(usize::from(level))?;
        nodes.get(usize::try_from(index).ok()?).copied()
    }
}

impl<H: MerkleHasher> PerfectNodes for MerkleTree<H> {
    type Hasher = H;
    type Error = ProofError;

    fn len(&self) -> u64 {
        MerkleTree::len(self)
    }

    fn perfect_node(&self, level: u8, index: u64) -> Result<Digest, ProofError> {
        // Only a request outside the tree finds no node, so it is reported as one reaching past
        // the tree's end (saturating: a made-up request must not overflow).
        self.node(level, index).ok_or_else(|| {
            let width = 1_u64.checked_shl(u32::from(level)).unwrap_or(u64::MAX);
            ProofError::SizeBeyondTree { size: index.saturating_add(1).saturating_mul(width), len: self.len() }
        })
    }
}

impl<H: MerkleHasher> Default for MerkleTree<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: MerkleHasher> Clone for MerkleTree<H> {
    fn clone(&self) -> Self {
        Self { levels: self.levels.clone(), hasher: PhantomData }
    }
}

impl<H: MerkleHasher> fmt::Debug for MerkleTree<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Printing every stored hash of a 100,000-leaf ledger would drown any log line.
        f.debug_struct("MerkleTree")
            .field("len", &self.len())
            .field("root", &crate::hex::to_lower_hex(self.root()))
            .finish_non_exhaustive()
    }
}

fn check_size<S: PerfectNodes + ?Sized>(source: &S, size: u64) -> Result<(), ProofError> {
    let len = source.len();
    if size > len {
        return Err(ProofError::SizeBeyondTree { size, len });
    }
    Ok(())
}

/// Returns MTH(D[start:end]) for `start < end`, asking `source` only for perfect aligned nodes
/// inside `[start, end)`.
///
/// Ranges that come from the RFC's recursion are aligned: a perfect range is one node, and any
/// other range is a perfect left part plus a shorter right part, so this costs O(log n) hashes
/// and node reads. Unaligned ranges are still computed correctly (they end in single leaves, which
/// are perfect), only more slowly.
fn range_root<S: PerfectNodes + ?Sized>(source: &S, start: u64, end: u64) -> Result<Digest, S::Error> {
    let count = end.saturating_sub(start);
    // An empty range is a caller's bug; it is reported rather than recursed on forever.
    if count == 0 {
        return Err(ProofError::SizeBeyondTree { size: end, len: source.len() }.into());
    }
    if count.is_power_of_two() && start.is_multiple_of(count) {
        // A power of two that fits in a u64 is at most 2^63, so its level fits in a u8.
        let level = count.trailing_zeros() as u8;
        return source.perfect_node(level, start >> level);
    }
    // A single leaf is always perfect, so `count >= 2` here and both halves are non-empty.
    let middle = start + split_point(count);
    let left = range_root(source, start, middle)?;
    let right = range_root(source, middle, end)?;
    Ok(<S::Hasher as MerkleHasher>::hash_children(&left, &right))
}
