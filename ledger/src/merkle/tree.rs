//! The incremental tree a ledger node appends to and serves roots and proofs from.
//!
//! It stores every perfect aligned subtree (see the module documentation of [`crate::merkle`]),
//! which is what makes answers for any earlier size cheap.

use std::fmt;
use std::marker::PhantomData;

use super::shape::{consistency_proof_len, inclusion_path_len, split_point};
use super::{Digest, MerkleHasher, ProofError};

/// An append-only Merkle tree that keeps every perfect aligned subtree hash, so roots and proofs
/// for the current size or any earlier size cost O(log² n) hash operations.
///
/// Level 0 holds the leaf hashes; level `k` holds the roots of the perfect subtrees of `2^k`
/// leaves that start at multiples of `2^k`. Storage is about two hashes per leaf, and each push
/// hands the caller the nodes it created so they can be persisted alongside the records.
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
        self.check_size(size)?;
        if size == 0 {
            return Ok(H::hash_empty());
        }
        self.stored_subtree(0, size)
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
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        // Walk down from the root to the leaf, taking the sibling subtree at every split; the
        // RFC lists them from the leaf up, hence the reversal.
        let mut path = Vec::with_capacity(inclusion_path_len(index, size));
        let (mut start, mut end) = (0, size);
        while end - start > 1 {
            let middle = start + split_point(end - start);
            if index < middle {
                path.push(self.stored_subtree(middle, end)?);
                end = middle;
            } else {
                path.push(self.stored_subtree(start, middle)?);
                start = middle;
            }
        }
        path.reverse();
        Ok(path)
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
        if old_size > new_size {
            return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
        }
        self.check_size(new_size)?;
        if old_size == 0 || old_size == new_size {
            return Ok(Vec::new());
        }
        // SUBPROOF(m, D[start:end], complete) of RFC 6962 §2.1.2, unrolled from the top; the
        // RFC lists the deepest hash first, hence the reversal.
        let mut proof = Vec::with_capacity(consistency_proof_len(old_size, new_size));
        let mut remaining = old_size;
        let (mut start, mut end) = (0, new_size);
        let mut complete = true;
        loop {
            let count = end - start;
            if remaining == count {
                if !complete {
                    proof.push(self.stored_subtree(start, end)?);
                }
                break;
            }
            let middle = start + split_point(count);
            if remaining <= middle - start {
                proof.push(self.stored_subtree(middle, end)?);
                end = middle;
            } else {
                proof.push(self.stored_subtree(start, middle)?);
                remaining -= middle - start;
                start = middle;
                complete = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        let len = self.len();
        if size > len {
            return Err(ProofError::SizeBeyondTree { size, len });
        }
        Ok(())
    }

    fn node(&self, level: u32, index: u64) -> Option<Digest> {
        let nodes = self.levels.get(usize::try_from(level).ok()?)?;
        nodes.get(usize::try_from(index).ok()?).copied()
    }

    /// Returns MTH(D[start:end]) for `start < end <= len` from stored nodes, failing with
    /// [`ProofError::SizeBeyondTree`] for a range the tree does not hold.
    fn stored_subtree(&self, start: u64, end: u64) -> Result<Digest, ProofError> {
        self.subtree(start, end).ok_or(ProofError::SizeBeyondTree { size: end, len: self.len() })
    }

    /// Returns MTH(D[start:end]), or `None` when the range is empty or reaches past the tree.
    ///
    /// Ranges that come from the RFC's recursion are aligned: a perfect range is one stored node,
    /// and any other range is a stored perfect left part plus a shorter right part, so this costs
    /// O(log n) hashes. Unaligned ranges are still computed correctly, only more slowly.
    fn subtree(&self, start: u64, end: u64) -> Option<Digest> {
        let count = end.checked_sub(start).filter(|&count| count > 0)?;
        if count.is_power_of_two() && start.is_multiple_of(count) {
            let level = count.trailing_zeros();
            return self.node(level, start >> level);
        }
        let middle = start + split_point(count);
        let left = self.subtree(start, middle)?;
        let right = self.subtree(middle, end)?;
        Some(H::hash_children(&left, &right))
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
