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
//! changes however long the log grows, so roots and proofs for the current size or any earlier
//! size need only those perfect aligned subtrees, with O(log² n) hash operations instead of
//! rehashing all leaves. [`root_at`], [`inclusion_proof`] and [`consistency_proof`] compute them
//! from any [`PerfectNodes`] source: [`MerkleTree`] keeps every such node in memory, while a store
//! may keep them on disk and append through a [`Frontier`], which holds only the at most 64 peaks
//! at the tree's right edge. Inclusion proofs (audit paths) and consistency proofs use the RFC's
//! shapes and order, so any RFC 6962 verifier that swaps in the same hash can check them.
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
//! The ledger node appends to a [`MerkleTree`] (or a [`Frontier`]) and serves proofs from its
//! perfect nodes. [`verify_inclusion`], [`verify_consistency`] and [`root`] are what independent
//! auditors and the other consortium nodes run on what a node sent them, trusting nothing it
//! claims: they accept any input without panicking and refuse a bad proof with a [`ProofError`]
//! that says what is wrong.
//!
//! The ledger hashes with [`Blake3Hasher`]; [`Sha256Hasher`] exists so the implementation is
//! checked against the published RFC 6962 SHA-256 known answers.

// The error type stays here because both the verifiers and the tree report it. The submodules:
// `hashers` (the hash functions), `verify` (what auditors run), `tree` (the proofs over any
// source of perfect nodes, and the in-memory tree that is one), `frontier` (the right edge that
// appending needs) and `shape` (the proof-length arithmetic that `verify` and `tree` share).
mod frontier;
mod hashers;
mod shape;
mod tree;
mod verify;

pub use frontier::{Frontier, FrontierError};
pub use hashers::{Blake3Hasher, Digest, MerkleHasher, Sha256Hasher};
pub use tree::{MerkleTree, PerfectNodes, consistency_proof, inclusion_proof, root_at};
pub use verify::{root, verify_consistency, verify_inclusion};

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

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests;
