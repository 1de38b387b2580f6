//! The ledger's Merkle tree: roots, inclusion proofs and consistency proofs.
//!
//! # Tree shape
//!
//! Every accepted record is one leaf, in sequence order, of a binary Merkle tree built exactly as
//! RFC 6962 §2.1 and RFC 9162 §2.1 define it, with a pluggable 32-byte hash `H`:
//!
//! - the root of no leaves is `H("")`, the hash of the empty input;
//! - the root of one leaf is its leaf hash `H(0x00 ‖ leaf bytes)`;
//! - the root of `n > 1` leaves is `H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`, where `k` is the largest
//!   power of two strictly smaller than `n`.
//!
//! Splitting at the largest power of two makes the left side of every split a perfect subtree of
//! `2^j` leaves starting at a multiple of `2^j`. Once such a subtree is complete its hash never
//! changes however long the log grows, so [`MerkleTree`] stores those perfect aligned subtrees
//! level by level and answers for the current size or any earlier size with O(log² n) hash
//! operations instead of rehashing all leaves. Inclusion proofs (audit paths) and consistency
//! proofs use the RFC's shapes and order, so any RFC 6962 verifier that swaps in the same hash can
//! check them.
//!
//! # Why leaves and nodes are hashed with different prefixes
//!
//! Without a prefix, an interior node `H(left ‖ right)` is also the hash of a 64-byte "leaf" whose
//! bytes are `left ‖ right`. Someone could then present that fake leaf with a shortened path and
//! prove the inclusion of a record that was never logged: a second-preimage attack on the tree.
//! Hashing leaf input after 0x00 and node input after 0x01 puts the two in disjoint domains, so a
//! leaf hash equals a node hash only if the hash function itself collides.
//!
//! # Who runs what
//!
//! The ledger node appends to a [`MerkleTree`] and serves proofs from it. [`verify_inclusion`],
//! [`verify_consistency`] and [`root`] are what independent auditors and the other consortium
//! nodes run on what a node sent them, trusting nothing it claims: they accept any input without
//! panicking and refuse a bad proof with a [`ProofError`] that says what is wrong.
//!
//! The ledger hashes with [`Blake3Hasher`]; [`Sha256Hasher`] exists so the implementation is
//! checked against the published RFC 6962 SHA-256 known answers.

use std::fmt;
use std::marker::PhantomData;

use sha2::Digest as _;

/// A 32-byte hash: a leaf hash, an interior node hash or a tree root.
pub type Digest = [u8; 32];

/// A hash function with RFC 6962's domain separation between leaves and interior nodes.
///
/// Implementations must hash leaf input after the byte 0x00 and node input after the byte 0x01,
/// because that separation is what stops an interior node passing for a leaf.
pub trait MerkleHasher {
    /// Returns the root of a tree without leaves: the hash of the empty input, with no prefix.
    fn hash_empty() -> Digest;

    /// Returns the leaf hash `H(0x00 ‖ leaf)` of one leaf's bytes.
    fn hash_leaf(leaf: &[u8]) -> Digest;

    /// Returns the interior node hash `H(0x01 ‖ left ‖ right)` of two child hashes.
    fn hash_children(left: &Digest, right: &Digest) -> Digest;
}

/// BLAKE3 with RFC 6962 prefixes: the hash of the ledger's tree and of its records' leaf hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blake3Hasher;

impl MerkleHasher for Blake3Hasher {
    fn hash_empty() -> Digest {
        *blake3::hash(b"").as_bytes()
    }

    fn hash_leaf(leaf: &[u8]) -> Digest {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[LEAF_PREFIX]);
        hasher.update(leaf);
        *hasher.finalize().as_bytes()
    }

    fn hash_children(left: &Digest, right: &Digest) -> Digest {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[NODE_PREFIX]);
        hasher.update(left);
        hasher.update(right);
        *hasher.finalize().as_bytes()
    }
}

/// SHA-256 with RFC 6962 prefixes, exactly the hash of RFC 6962 itself.
///
/// The ledger does not use it; it exists so the tree code is checked against the RFC's published
/// known answers, which are all SHA-256.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sha256Hasher;

impl MerkleHasher for Sha256Hasher {
    fn hash_empty() -> Digest {
        sha2::Sha256::digest(b"").into()
    }

    fn hash_leaf(leaf: &[u8]) -> Digest {
        sha2::Sha256::new()
            .chain_update([LEAF_PREFIX])
            .chain_update(leaf)
            .finalize()
            .into()
    }

    fn hash_children(left: &Digest, right: &Digest) -> Digest {
        sha2::Sha256::new()
            .chain_update([NODE_PREFIX])
            .chain_update(left)
            .chain_update(right)
            .finalize()
            .into()
    }
}

/// Why a tree could not answer a request, or why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index does not name a leaf of the tree size the proof is about.
    #[error(
        "leaf index {index} is outside a tree of {size} leaves; indices start at 0 and must be \
         below the tree size"
    )]
    IndexOutOfRange {
        /// The 0-based leaf index that was asked about.
        index: u64,
        /// The number of leaves of the tree the proof is about.
        size: u64,
    },

    /// A tree size was requested that the tree has not reached yet.
    #[error("tree size {size} was requested, but only {len} leaves have been appended so far")]
    SizeBeyondTree {
        /// The tree size that was requested.
        size: u64,
        /// The number of leaves the tree holds.
        len: u64,
    },

    /// The older tree of a consistency check is larger than the newer one.
    #[error(
        "old tree size {old_size} is larger than new tree size {new_size}; a log only grows, so \
         no proof can connect them"
    )]
    OldSizeExceedsNew {
        /// The size claimed for the older tree.
        old_size: u64,
        /// The size claimed for the newer tree.
        new_size: u64,
    },

    /// An inclusion proof does not have the number of hashes its leaf position requires.
    #[error(
        "inclusion proof for leaf {index} in a tree of {size} leaves has {actual} hashes, but \
         that position needs exactly {expected}"
    )]
    WrongPathLength {
        /// The 0-based leaf index of the proof.
        index: u64,
        /// The tree size of the proof.
        size: u64,
        /// The number of hashes RFC 9162 requires for this index and size.
        expected: usize,
        /// The number of hashes the proof has.
        actual: usize,
    },

    /// A consistency proof does not have the number of hashes its two sizes require.
    #[error(
        "consistency proof from tree size {old_size} to {new_size} has {actual} hashes, but \
         those sizes need exactly {expected}"
    )]
    WrongProofLength {
        /// The older tree size of the proof.
        old_size: u64,
        /// The newer tree size of the proof.
        new_size: u64,
        /// The number of hashes RFC 9162 requires for these sizes.
        expected: usize,
        /// The number of hashes the proof has.
        actual: usize,
    },

    /// The inclusion proof does not lead from the leaf hash to the given root.
    #[error(
        "inclusion proof for leaf {index} does not lead to the given root of a tree of {size} \
         leaves; the leaf hash, the path or the root is wrong"
    )]
    RootMismatch {
        /// The 0-based leaf index of the proof.
        index: u64,
        /// The tree size of the proof.
        size: u64,
    },

    /// The consistency proof does not rebuild the given root of the older tree.
    #[error(
        "consistency proof from tree size {old_size} to {new_size} does not rebuild the given \
         old root; the proof or the old root is wrong"
    )]
    OldRootMismatch {
        /// The older tree size of the proof.
        old_size: u64,
        /// The newer tree size of the proof.
        new_size: u64,
    },

    /// The consistency proof does not rebuild the given root of the newer tree.
    #[error(
        "consistency proof from tree size {old_size} to {new_size} does not rebuild the given \
         new root; the proof or the new root is wrong, or the log rewrote its history"
    )]
    NewRootMismatch {
        /// The older tree size of the proof.
        old_size: u64,
        /// The newer tree size of the proof.
        new_size: u64,
    },

    /// Two different roots were given for trees of the same size.
    #[error(
        "two different roots were given for tree size {size}; one log cannot have two trees of \
         the same size, so they come from different logs or the log forked"
    )]
    SizeRootsDiffer {
        /// The tree size both roots claim.
        size: u64,
    },
}

/// Returns the Merkle tree hash (the root) of a slice of leaf hashes, as RFC 6962 §2.1 defines it.
///
/// It rehashes the whole slice (`n − 1` node hashes), which suits verifiers holding the leaves;
/// the ledger itself asks its [`MerkleTree`], which reuses stored subtrees.
pub fn root<H: MerkleHasher>(leaf_hashes: &[Digest]) -> Digest {
    match leaf_hashes {
        [] => H::hash_empty(),
        [only] => *only,
        _ => {
            // The slice has at least two leaves, so the split point is inside it and
            // `split_at` cannot panic.
            let k = 1_usize << (leaf_hashes.len() - 1).ilog2();
            let (left, right) = leaf_hashes.split_at(k);
            H::hash_children(&root::<H>(left), &root::<H>(right))
        }
    }
}

/// Checks an inclusion proof (audit path) with the algorithm of RFC 9162 §2.1.3.2.
///
/// Succeeds when `path` leads from `leaf_hash`, at 0-based position `index` of a tree of `size`
/// leaves, to `root`. The path is ordered from the leaf's sibling up to the root's child, as
/// [`MerkleTree::inclusion_proof`] produces it.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] when `index >= size`, [`ProofError::WrongPathLength`] when the
/// path length does not fit the position, and [`ProofError::RootMismatch`] when the path leads
/// elsewhere.
pub fn verify_inclusion<H: MerkleHasher>(
    leaf_hash: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_path_len(index, size);
    let wrong_length = ProofError::WrongPathLength {
        index,
        size,
        expected,
        actual: path.len(),
    };
    // Checking the length first turns "too short" and "too long" into their own error instead of
    // a root mismatch, and bounds the loop below by a value derived from the sizes.
    if path.len() != expected {
        return Err(wrong_length);
    }

    // RFC 9162 §2.1.3.2, step by step: `node` walks the leaf's position up the tree and `last`
    // the position of the tree's last leaf. The algorithm's own checks that `last` reaches 0
    // exactly when the path ends are kept, so the verdict never rests on the closed-form length
    // above alone.
    let mut node = index;
    let mut last = size - 1;
    let mut hash = *leaf_hash;
    for sibling in path {
        if last == 0 {
            return Err(wrong_length);
        }
        if node & 1 == 1 || node == last {
            hash = H::hash_children(sibling, &hash);
            // A right-border node without a sibling at this level is promoted unchanged, so skip
            // the levels where it has none.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            hash = H::hash_children(&hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    if last != 0 {
        return Err(wrong_length);
    }
    if hash != *root {
        return Err(ProofError::RootMismatch { index, size });
    }
    Ok(())
}

/// Checks a consistency proof with the algorithm of RFC 9162 §2.1.4.2.
///
/// Succeeds when the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`, i.e. the log only appended. Equal sizes need an empty
/// proof and equal roots. A tree of 0 leaves is a prefix of every tree, so `old_size == 0` needs
/// an empty proof and `old_root` must be the empty tree's root, `H("")`.
///
/// # Errors
///
/// [`ProofError::OldSizeExceedsNew`], [`ProofError::WrongProofLength`] when the proof length does
/// not fit the sizes, [`ProofError::SizeRootsDiffer`] for equal sizes with different roots, and
/// [`ProofError::OldRootMismatch`] or [`ProofError::NewRootMismatch`] when the proof does not
/// rebuild that root.
pub fn verify_consistency<H: MerkleHasher>(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
    }
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_length = ProofError::WrongProofLength {
        old_size,
        new_size,
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    if old_size == new_size {
        if old_root != new_root {
            return Err(ProofError::SizeRootsDiffer { size: new_size });
        }
        return Ok(());
    }
    if old_size == 0 {
        if *old_root != H::hash_empty() {
            return Err(ProofError::OldRootMismatch { old_size, new_size });
        }
        return Ok(());
    }

    // RFC 9162 §2.1.4.2. When the old tree is perfect its root is the proof's implicit first
    // element; otherwise the proof starts with the hash that seeds both roots.
    let mut nodes = proof.iter();
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        match nodes.next() {
            Some(first) => *first,
            None => return Err(wrong_length),
        }
    };
    // `node` walks the old tree's last leaf up the new tree and `last` the new tree's last leaf;
    // as for inclusion, the RFC's own checks on `last` stay next to the closed-form length.
    let mut node = old_size - 1;
    let mut last = new_size - 1;
    while node & 1 == 1 {
        node >>= 1;
        last >>= 1;
    }
    let mut old_hash = seed;
    let mut new_hash = seed;
    for sibling in nodes {
        if last == 0 {
            return Err(wrong_length);
        }
        if node & 1 == 1 || node == last {
            old_hash = H::hash_children(sibling, &old_hash);
            new_hash = H::hash_children(sibling, &new_hash);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            new_hash = H::hash_children(&new_hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    if last != 0 {
        return Err(wrong_length);
    }
    if old_hash != *old_root {
        return Err(ProofError::OldRootMismatch { old_size, new_size });
    }
    if new_hash != *new_root {
        return Err(ProofError::NewRootMismatch { old_size, new_size });
    }
    Ok(())
}

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
        Self {
            levels: Vec::new(),
            hasher: PhantomData,
        }
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
                [.., left, right] if nodes.len() % 2 == 0 => {
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
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Digest>, ProofError> {
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
        self.subtree(start, end).ok_or(ProofError::SizeBeyondTree {
            size: end,
            len: self.len(),
        })
    }

    /// Returns MTH(D[start:end]), or `None` when the range is empty or reaches past the tree.
    ///
    /// Ranges that come from the RFC's recursion are aligned: a perfect range is one stored node,
    /// and any other range is a stored perfect left part plus a shorter right part, so this costs
    /// O(log n) hashes. Unaligned ranges are still computed correctly, only more slowly.
    fn subtree(&self, start: u64, end: u64) -> Option<Digest> {
        let count = end.checked_sub(start).filter(|&count| count > 0)?;
        if count.is_power_of_two() && start % count == 0 {
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
        Self {
            levels: self.levels.clone(),
            hasher: PhantomData,
        }
    }
}

impl<H: MerkleHasher> fmt::Debug for MerkleTree<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Printing every stored hash of a 100,000-leaf ledger would drown any log line.
        f.debug_struct("MerkleTree")
            .field("len", &self.len())
            .field("root", &hex::encode(self.root()))
            .finish_non_exhaustive()
    }
}

/// The byte before a leaf's bytes in its leaf hash (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;

/// The byte before two child hashes in their parent's hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// Returns the largest power of two strictly below `count`, where the RFC splits a range of
/// `count` leaves; it returns 0 for counts below 2, which are never split.
fn split_point(count: u64) -> u64 {
    count
        .checked_sub(1)
        .and_then(u64::checked_ilog2)
        .map_or(0, |bits| 1 << bits)
}

/// Returns how many hashes the inclusion proof of leaf `index` in a tree of `size > index` leaves
/// has: one per level where the leaf's path and the last leaf's path diverge ("inner" levels),
/// plus one per perfect subtree to the left of the divergence ("border" levels).
fn inclusion_path_len(index: u64, size: u64) -> usize {
    let (inner, border) = decompose_path(index, size);
    (inner + border) as usize
}

/// Returns how many hashes the consistency proof between sizes `old_size <= new_size` has.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size >= new_size {
        return 0;
    }
    // The proof is the suffix of the old last leaf's audit path above the perfect subtree that
    // ends the old tree, plus that subtree's root unless it is the whole old tree.
    let (inner, border) = decompose_path(old_size - 1, new_size);
    let shared_levels = old_size.trailing_zeros();
    let seed = u32::from(!old_size.is_power_of_two());
    (seed + inner.saturating_sub(shared_levels) + border) as usize
}

/// Splits the audit path of leaf `index` in a tree of `size > index` leaves into its inner and
/// border parts (see [`inclusion_path_len`]).
fn decompose_path(index: u64, size: u64) -> (u32, u32) {
    let last = size.saturating_sub(1);
    let inner = u64::BITS - (index ^ last).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests {
    use std::cell::Cell;

    use proptest::prelude::*;

    use super::*;

    const VECTORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rfc6962-sha256.json"
    ));

    /// The RFC 6962 known answers, with the leaves already hashed.
    struct KnownAnswers {
        leaf_hashes: Vec<Digest>,
        empty_root: Digest,
        roots: Vec<(u64, Digest)>,
        inclusion: Vec<(u64, u64, Vec<Digest>)>,
        consistency: Vec<(u64, u64, Vec<Digest>)>,
    }

    impl KnownAnswers {
        fn root(&self, size: u64) -> Digest {
            self.roots.iter().find(|(s, _)| *s == size).unwrap().1
        }
    }

    fn known_answers() -> KnownAnswers {
        let json: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let hashes = |value: &serde_json::Value| -> Vec<Digest> {
            value
                .as_array()
                .unwrap()
                .iter()
                .map(|h| digest(h.as_str().unwrap()))
                .collect()
        };
        let number = |value: &serde_json::Value| value.as_u64().unwrap();
        KnownAnswers {
            leaf_hashes: json["leaves_hex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|leaf| Sha256Hasher::hash_leaf(&hex::decode(leaf.as_str().unwrap()).unwrap()))
                .collect(),
            empty_root: digest(json["empty_root"].as_str().unwrap()),
            roots: json["roots"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(size, root)| (size.parse().unwrap(), digest(root.as_str().unwrap())))
                .collect(),
            inclusion: json["inclusion"]
                .as_array()
                .unwrap()
                .iter()
                .map(|case| {
                    (
                        number(&case["index"]),
                        number(&case["size"]),
                        hashes(&case["path"]),
                    )
                })
                .collect(),
            consistency: json["consistency"]
                .as_array()
                .unwrap()
                .iter()
                .map(|case| {
                    (
                        number(&case["old"]),
                        number(&case["new"]),
                        hashes(&case["proof"]),
                    )
                })
                .collect(),
        }
    }

    fn digest(hex: &str) -> Digest {
        hex::decode(hex).unwrap().try_into().unwrap()
    }

    fn tree_of<H: MerkleHasher>(leaf_hashes: &[Digest]) -> MerkleTree<H> {
        let mut tree = MerkleTree::new();
        for leaf_hash in leaf_hashes {
            tree.push(*leaf_hash);
        }
        tree
    }

    fn blake3_leaves(count: u64) -> Vec<Digest> {
        (0..count)
            .map(|i| Blake3Hasher::hash_leaf(&i.to_le_bytes()))
            .collect()
    }

    fn flip_bit(hash: &Digest, bit: usize) -> Digest {
        let mut flipped = *hash;
        flipped[bit / 8 % 32] ^= 1 << (bit % 8);
        flipped
    }

    /// Returns every proof obtained by removing one element, inserting one extra element at each
    /// position, or flipping one bit of one element (first and last bit of each).
    fn mutations(proof: &[Digest]) -> Vec<(String, Vec<Digest>)> {
        let mut mutated = Vec::new();
        for i in 0..proof.len() {
            let mut dropped = proof.to_vec();
            dropped.remove(i);
            mutated.push((format!("drop element {i}"), dropped));
            for bit in [0, 255] {
                let mut flipped = proof.to_vec();
                flipped[i] = flip_bit(&proof[i], bit);
                mutated.push((format!("flip bit {bit} of element {i}"), flipped));
            }
        }
        for i in 0..=proof.len() {
            for extra in [[0_u8; 32], proof.first().copied().unwrap_or([7; 32])] {
                let mut added = proof.to_vec();
                added.insert(i, extra);
                mutated.push((format!("insert element at {i}"), added));
            }
        }
        mutated
    }

    /// PATH(m, D[n]) written as literally as RFC 6962 §2.1.1 states it, over a slice.
    fn reference_path<H: MerkleHasher>(m: usize, leaves: &[Digest]) -> Vec<Digest> {
        if leaves.len() <= 1 {
            return Vec::new();
        }
        let k = 1 << (leaves.len() - 1).ilog2();
        if m < k {
            let mut path = reference_path::<H>(m, &leaves[..k]);
            path.push(root::<H>(&leaves[k..]));
            path
        } else {
            let mut path = reference_path::<H>(m - k, &leaves[k..]);
            path.push(root::<H>(&leaves[..k]));
            path
        }
    }

    /// SUBPROOF(m, D[n], b) written as literally as RFC 6962 §2.1.2 states it, over a slice.
    fn reference_subproof<H: MerkleHasher>(
        m: usize,
        leaves: &[Digest],
        complete: bool,
    ) -> Vec<Digest> {
        let n = leaves.len();
        if m == n {
            return if complete {
                Vec::new()
            } else {
                vec![root::<H>(leaves)]
            };
        }
        let k = 1 << (n - 1).ilog2();
        if m <= k {
            let mut proof = reference_subproof::<H>(m, &leaves[..k], complete);
            proof.push(root::<H>(&leaves[k..]));
            proof
        } else {
            let mut proof = reference_subproof::<H>(m - k, &leaves[k..], false);
            proof.push(root::<H>(&leaves[..k]));
            proof
        }
    }

    thread_local! {
        static HASH_CALLS: Cell<u64> = const { Cell::new(0) };
    }

    /// BLAKE3 that counts its node hashes, to measure what a tree operation costs.
    struct CountingHasher;

    impl MerkleHasher for CountingHasher {
        fn hash_empty() -> Digest {
            Blake3Hasher::hash_empty()
        }

        fn hash_leaf(leaf: &[u8]) -> Digest {
            Blake3Hasher::hash_leaf(leaf)
        }

        fn hash_children(left: &Digest, right: &Digest) -> Digest {
            HASH_CALLS.with(|calls| calls.set(calls.get() + 1));
            Blake3Hasher::hash_children(left, right)
        }
    }

    fn count_hashes<T>(operation: impl FnOnce() -> T) -> (T, u64) {
        let before = HASH_CALLS.with(Cell::get);
        let result = operation();
        (result, HASH_CALLS.with(Cell::get) - before)
    }

    #[test]
    fn known_answer_roots() {
        let answers = known_answers();
        assert_eq!(answers.roots.len(), 8);
        let tree = tree_of::<Sha256Hasher>(&answers.leaf_hashes);

        assert_eq!(root::<Sha256Hasher>(&[]), answers.empty_root);
        assert_eq!(Sha256Hasher::hash_empty(), answers.empty_root);
        assert_eq!(MerkleTree::<Sha256Hasher>::new().root(), answers.empty_root);
        assert_eq!(tree.root_at(0).unwrap(), answers.empty_root);

        let mut growing = MerkleTree::<Sha256Hasher>::new();
        for (size, expected) in &answers.roots {
            let leaves = &answers.leaf_hashes[..*size as usize];
            assert_eq!(
                root::<Sha256Hasher>(leaves),
                *expected,
                "slice root, size {size}"
            );
            assert_eq!(tree.root_at(*size).unwrap(), *expected, "root_at({size})");
            while growing.len() < *size {
                growing.push(answers.leaf_hashes[growing.len() as usize]);
            }
            assert_eq!(growing.root(), *expected, "incremental root, size {size}");
        }
    }

    #[test]
    fn known_answer_inclusion_proofs() {
        let answers = known_answers();
        assert_eq!(answers.inclusion.len(), 36);
        let tree = tree_of::<Sha256Hasher>(&answers.leaf_hashes);
        for (index, size, path) in &answers.inclusion {
            assert_eq!(
                tree.inclusion_proof(*index, *size).unwrap(),
                *path,
                "generated path for leaf {index} of {size}"
            );
            verify_inclusion::<Sha256Hasher>(
                &answers.leaf_hashes[*index as usize],
                *index,
                *size,
                path,
                &answers.root(*size),
            )
            .unwrap();
        }
    }

    #[test]
    fn known_answer_consistency_proofs() {
        let answers = known_answers();
        assert_eq!(answers.consistency.len(), 36);
        let tree = tree_of::<Sha256Hasher>(&answers.leaf_hashes);
        for (old, new, proof) in &answers.consistency {
            assert_eq!(
                tree.consistency_proof(*old, *new).unwrap(),
                *proof,
                "generated proof from {old} to {new}"
            );
            verify_consistency::<Sha256Hasher>(
                *old,
                *new,
                &answers.root(*old),
                &answers.root(*new),
                proof,
            )
            .unwrap();
        }
    }

    #[test]
    fn mutated_known_answer_inclusion_proofs_fail() {
        let answers = known_answers();
        for (index, size, path) in &answers.inclusion {
            let (index, size) = (*index, *size);
            let leaf = answers.leaf_hashes[index as usize];
            let root = answers.root(size);
            let verify = |leaf: &Digest, index: u64, size: u64, path: &[Digest], root: &Digest| {
                verify_inclusion::<Sha256Hasher>(leaf, index, size, path, root)
            };

            for (what, mutated) in mutations(path) {
                let result = verify(&leaf, index, size, &mutated, &root);
                assert!(result.is_err(), "{what} of leaf {index} in {size} verified");
                if mutated.len() != path.len() {
                    assert!(
                        matches!(result, Err(ProofError::WrongPathLength { .. })),
                        "{what}: {result:?}"
                    );
                } else {
                    assert_eq!(
                        result,
                        Err(ProofError::RootMismatch { index, size }),
                        "{what}"
                    );
                }
            }
            assert_eq!(
                verify(&leaf, size, index, path, &root),
                Err(ProofError::IndexOutOfRange {
                    index: size,
                    size: index
                }),
                "swapped index and size"
            );
            assert_eq!(
                verify(&leaf, index, size, path, &flip_bit(&root, 3)),
                Err(ProofError::RootMismatch { index, size }),
                "wrong root"
            );
            assert!(
                verify(&leaf, index, size, path, &answers.root(size % 8 + 1)).is_err(),
                "root of another size"
            );
            assert_eq!(
                verify(&flip_bit(&leaf, 200), index, size, path, &root),
                Err(ProofError::RootMismatch { index, size }),
                "wrong leaf"
            );
            for other in (0..size).filter(|other| *other != index) {
                assert!(
                    verify(&leaf, other, size, path, &root).is_err(),
                    "leaf {index}'s path verified at index {other} of {size}"
                );
            }
        }
    }

    #[test]
    fn mutated_known_answer_consistency_proofs_fail() {
        let answers = known_answers();
        for (old, new, proof) in &answers.consistency {
            let (old, new) = (*old, *new);
            let (old_root, new_root) = (answers.root(old), answers.root(new));
            let verify = verify_consistency::<Sha256Hasher>;

            for (what, mutated) in mutations(proof) {
                let result = verify(old, new, &old_root, &new_root, &mutated);
                assert!(result.is_err(), "{what} of proof {old}..{new} verified");
                if mutated.len() != proof.len() {
                    assert!(
                        matches!(result, Err(ProofError::WrongProofLength { .. })),
                        "{what}: {result:?}"
                    );
                } else {
                    assert!(
                        matches!(
                            result,
                            Err(ProofError::OldRootMismatch { .. }
                                | ProofError::NewRootMismatch { .. })
                        ),
                        "{what}: {result:?}"
                    );
                }
            }
            if old != new {
                assert_eq!(
                    verify(new, old, &new_root, &old_root, proof),
                    Err(ProofError::OldSizeExceedsNew {
                        old_size: new,
                        new_size: old
                    }),
                    "swapped sizes"
                );
                assert!(
                    verify(old, new, &new_root, &old_root, proof).is_err(),
                    "swapped roots"
                );
            }
            assert!(
                verify(old, new, &flip_bit(&old_root, 9), &new_root, proof).is_err(),
                "wrong old root for {old}..{new}"
            );
            assert!(
                verify(old, new, &old_root, &flip_bit(&new_root, 9), proof).is_err(),
                "wrong new root for {old}..{new}"
            );
        }
    }

    #[test]
    fn verification_refuses_degenerate_inputs_with_typed_errors() {
        type H = Blake3Hasher;
        let some = [5_u8; 32];
        let empty = H::hash_empty();

        assert_eq!(
            verify_inclusion::<H>(&some, 0, 0, &[], &some),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            verify_inclusion::<H>(&some, 3, 3, &[some, some], &some),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            verify_inclusion::<H>(&some, 0, 1, &[some], &some),
            Err(ProofError::WrongPathLength {
                index: 0,
                size: 1,
                expected: 0,
                actual: 1
            })
        );
        assert_eq!(
            verify_inclusion::<H>(&some, 0, 1, &[], &some),
            Ok(()),
            "a one-leaf tree's root is its leaf hash"
        );
        assert_eq!(
            verify_inclusion::<H>(&some, u64::MAX - 1, u64::MAX, &[some; 3], &some),
            Err(ProofError::WrongPathLength {
                index: u64::MAX - 1,
                size: u64::MAX,
                expected: 63,
                actual: 3
            })
        );
        assert_eq!(
            verify_inclusion::<H>(&some, 0, u64::MAX, &[some; 64], &some),
            Err(ProofError::RootMismatch {
                index: 0,
                size: u64::MAX
            })
        );

        assert_eq!(
            verify_consistency::<H>(5, 4, &some, &some, &[]),
            Err(ProofError::OldSizeExceedsNew {
                old_size: 5,
                new_size: 4
            })
        );
        assert_eq!(
            verify_consistency::<H>(4, 4, &some, &some, &[some]),
            Err(ProofError::WrongProofLength {
                old_size: 4,
                new_size: 4,
                expected: 0,
                actual: 1
            })
        );
        assert_eq!(verify_consistency::<H>(4, 4, &some, &some, &[]), Ok(()));
        assert_eq!(
            verify_consistency::<H>(4, 4, &some, &empty, &[]),
            Err(ProofError::SizeRootsDiffer { size: 4 })
        );
        assert_eq!(verify_consistency::<H>(0, 0, &empty, &empty, &[]), Ok(()));
        assert_eq!(verify_consistency::<H>(0, 9, &empty, &some, &[]), Ok(()));
        assert_eq!(
            verify_consistency::<H>(0, 9, &some, &some, &[]),
            Err(ProofError::OldRootMismatch {
                old_size: 0,
                new_size: 9
            })
        );
        assert_eq!(
            verify_consistency::<H>(0, 9, &empty, &some, &[some]),
            Err(ProofError::WrongProofLength {
                old_size: 0,
                new_size: 9,
                expected: 0,
                actual: 1
            })
        );
        assert_eq!(
            verify_consistency::<H>(3, 9, &some, &some, &[]),
            Err(ProofError::WrongProofLength {
                old_size: 3,
                new_size: 9,
                expected: 5,
                actual: 0
            })
        );
        assert!(verify_consistency::<H>(1, u64::MAX, &some, &some, &[some; 64]).is_err());
        assert!(verify_consistency::<H>(u64::MAX - 1, u64::MAX, &some, &some, &[some; 2]).is_err());
    }

    #[test]
    fn tree_refuses_sizes_it_has_not_reached() {
        let tree = tree_of::<Blake3Hasher>(&blake3_leaves(5));
        assert_eq!(tree.len(), 5);
        assert!(!tree.is_empty());
        assert!(MerkleTree::<Blake3Hasher>::default().is_empty());
        assert_eq!(
            tree.root_at(6),
            Err(ProofError::SizeBeyondTree { size: 6, len: 5 })
        );
        assert_eq!(
            tree.inclusion_proof(0, 6),
            Err(ProofError::SizeBeyondTree { size: 6, len: 5 })
        );
        assert_eq!(
            tree.inclusion_proof(5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(
            tree.inclusion_proof(0, 0),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            tree.consistency_proof(3, 6),
            Err(ProofError::SizeBeyondTree { size: 6, len: 5 })
        );
        assert_eq!(
            tree.consistency_proof(4, 3),
            Err(ProofError::OldSizeExceedsNew {
                old_size: 4,
                new_size: 3
            })
        );
        assert_eq!(tree.consistency_proof(0, 5), Ok(Vec::new()));
        assert_eq!(tree.consistency_proof(5, 5), Ok(Vec::new()));
        assert_eq!(tree.leaf_hash(4), Some(blake3_leaves(5)[4]));
        assert_eq!(tree.leaf_hash(5), None);
        assert_eq!(tree.leaf_hash(u64::MAX), None);
    }

    #[test]
    fn push_reports_exactly_the_new_perfect_nodes() {
        let leaves = blake3_leaves(300);
        let mut tree = MerkleTree::<Blake3Hasher>::new();
        for (position, leaf) in leaves.iter().enumerate() {
            let len = position as u64 + 1;
            let created = tree.push(*leaf);
            // Leaf n completes one node per trailing zero bit of n, plus the leaf itself.
            let expected: Vec<(u8, u64)> = (0..=len.trailing_zeros())
                .map(|level| (level as u8, (len >> level) - 1))
                .collect();
            let reported: Vec<(u8, u64)> = created
                .iter()
                .map(|(level, index, _)| (*level, *index))
                .collect();
            assert_eq!(reported, expected, "nodes created by leaf {len}");
            for (level, index, hash) in created {
                let start = (index << level) as usize;
                let end = ((index + 1) << level) as usize;
                assert_eq!(hash, root::<Blake3Hasher>(&leaves[start..end]));
            }
            assert_eq!(tree.len(), len);
            assert_eq!(tree.root(), root::<Blake3Hasher>(&leaves[..=position]));
        }
    }

    #[test]
    fn every_proof_up_to_300_leaves_verifies_and_matches_the_rfc_definition() {
        type H = Blake3Hasher;
        let leaves = blake3_leaves(300);
        let tree = tree_of::<H>(&leaves);
        let roots: Vec<Digest> = (0..=300).map(|size| root::<H>(&leaves[..size])).collect();
        for size in 1..=300_u64 {
            let root = roots[size as usize];
            assert_eq!(tree.root_at(size).unwrap(), root, "root_at({size})");
            let literal = size <= 64;
            for index in 0..size {
                let path = tree.inclusion_proof(index, size).unwrap();
                if literal {
                    let expected = reference_path::<H>(index as usize, &leaves[..size as usize]);
                    assert_eq!(path, expected, "path of leaf {index} in {size}");
                }
                verify_inclusion::<H>(&leaves[index as usize], index, size, &path, &root).unwrap();
            }
            for old in 0..=size {
                let proof = tree.consistency_proof(old, size).unwrap();
                if literal && old > 0 {
                    let expected =
                        reference_subproof::<H>(old as usize, &leaves[..size as usize], true);
                    assert_eq!(proof, expected, "proof from {old} to {size}");
                }
                verify_consistency::<H>(old, size, &roots[old as usize], &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn roots_and_proofs_cost_polylog_hashes_on_a_large_tree() {
        let leaf_count = 100_003_u64;
        let tree = tree_of::<CountingHasher>(&blake3_leaves(leaf_count));
        // 17 levels: the RFC's bounds are ⌈log₂ n⌉ hashes per subtree and per path element.
        let bound = 17 * 17;
        let (_, cost) = count_hashes(|| tree.root());
        assert!(cost <= 17, "root() cost {cost} hashes");
        for size in [leaf_count, leaf_count - 1, 65_537, 99_999] {
            let (_, cost) = count_hashes(|| tree.root_at(size).unwrap());
            assert!(cost <= 17, "root_at({size}) cost {cost} hashes");
            let (_, cost) = count_hashes(|| tree.inclusion_proof(12_345, size).unwrap());
            assert!(
                cost <= bound,
                "inclusion proof at {size} cost {cost} hashes"
            );
            let (_, cost) = count_hashes(|| tree.consistency_proof(33_333, size).unwrap());
            assert!(
                cost <= bound,
                "consistency proof to {size} cost {cost} hashes"
            );
        }
        assert_eq!(tree.root(), tree.root_at(leaf_count).unwrap());
    }

    #[test]
    fn blake3_hasher_uses_the_rfc_prefixes() {
        assert_eq!(Blake3Hasher::hash_empty(), *blake3::hash(b"").as_bytes());
        assert_eq!(
            Blake3Hasher::hash_leaf(b"slab"),
            *blake3::hash(b"\x00slab").as_bytes()
        );
        let (left, right) = ([1_u8; 32], [2_u8; 32]);
        let mut joined = vec![0x01];
        joined.extend_from_slice(&left);
        joined.extend_from_slice(&right);
        assert_eq!(
            Blake3Hasher::hash_children(&left, &right),
            *blake3::hash(&joined).as_bytes()
        );
        assert_eq!(
            root::<Blake3Hasher>(&[left, right]),
            *blake3::hash(&joined).as_bytes()
        );
        // A two-leaf root must not be provable as a single 64-byte leaf made of its children.
        assert_ne!(
            root::<Blake3Hasher>(&[left, right]),
            Blake3Hasher::hash_leaf(&joined[1..])
        );
    }

    #[test]
    fn debug_output_stays_short() {
        let tree = tree_of::<Blake3Hasher>(&blake3_leaves(1000));
        let shown = format!("{tree:?}");
        assert!(shown.contains("len: 1000"), "{shown}");
        assert!(shown.len() < 200, "{shown}");
    }

    /// Tree sizes with their edge cases over-represented: powers of two and their neighbours.
    fn tree_size() -> impl Strategy<Value = u64> {
        prop_oneof![
            1..=400_u64,
            (0..=8_u32).prop_flat_map(|bits| {
                let power = 1_u64 << bits;
                prop_oneof![Just(power), Just(power + 1), Just((power - 1).max(1))]
            }),
        ]
    }

    fn any_size() -> impl Strategy<Value = u64> {
        prop_oneof![0..=20_u64, any::<u64>(), Just(u64::MAX), Just(u64::MAX - 1)]
    }

    proptest! {
        #[test]
        fn incremental_root_equals_recursive_root(size in tree_size()) {
            let leaves = blake3_leaves(size);
            let tree = tree_of::<Blake3Hasher>(&leaves);
            prop_assert_eq!(tree.root(), root::<Blake3Hasher>(&leaves));
            prop_assert_eq!(tree.root_at(size).unwrap(), root::<Blake3Hasher>(&leaves));
        }

        #[test]
        fn corrupted_inclusion_proofs_fail(
            (size, index) in tree_size().prop_flat_map(|size| (Just(size), 0..size)),
            element in any::<prop::sample::Index>(),
            bit in 0..256_usize,
        ) {
            let leaves = blake3_leaves(size);
            let tree = tree_of::<Blake3Hasher>(&leaves);
            let root = tree.root();
            let leaf = leaves[index as usize];
            let path = tree.inclusion_proof(index, size).unwrap();
            prop_assert!(verify_inclusion::<Blake3Hasher>(&leaf, index, size, &path, &root).is_ok());
            if !path.is_empty() {
                let mut corrupted = path.clone();
                let i = element.index(path.len());
                corrupted[i] = flip_bit(&path[i], bit);
                prop_assert_eq!(
                    verify_inclusion::<Blake3Hasher>(&leaf, index, size, &corrupted, &root),
                    Err(ProofError::RootMismatch { index, size })
                );
            }
        }

        #[test]
        fn corrupted_consistency_proofs_fail(
            (new, old) in tree_size().prop_flat_map(|new| (Just(new), 1..=new)),
            element in any::<prop::sample::Index>(),
            bit in 0..256_usize,
        ) {
            let tree = tree_of::<Blake3Hasher>(&blake3_leaves(new));
            let (old_root, new_root) = (tree.root_at(old).unwrap(), tree.root());
            let proof = tree.consistency_proof(old, new).unwrap();
            prop_assert!(
                verify_consistency::<Blake3Hasher>(old, new, &old_root, &new_root, &proof).is_ok()
            );
            if !proof.is_empty() {
                let mut corrupted = proof.clone();
                let i = element.index(proof.len());
                corrupted[i] = flip_bit(&proof[i], bit);
                let result =
                    verify_consistency::<Blake3Hasher>(old, new, &old_root, &new_root, &corrupted);
                prop_assert!(
                    matches!(
                        result,
                        Err(ProofError::OldRootMismatch { .. } | ProofError::NewRootMismatch { .. })
                    ),
                    "{:?}", result
                );
            }
        }

        #[test]
        fn arbitrary_proofs_are_refused_without_panicking(
            index in any_size(),
            size in any_size(),
            old in any_size(),
            new in any_size(),
            proof in prop::collection::vec(any::<[u8; 32]>(), 0..80),
            leaf in any::<[u8; 32]>(),
            first_root in any::<[u8; 32]>(),
            second_root in any::<[u8; 32]>(),
        ) {
            prop_assert!(
                verify_inclusion::<Blake3Hasher>(&leaf, index, size, &proof, &first_root).is_err()
            );
            prop_assert!(
                verify_consistency::<Blake3Hasher>(old, new, &first_root, &second_root, &proof)
                    .is_err()
            );
        }
    }
}
