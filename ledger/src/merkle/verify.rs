//! The functions that check what a log sent, trusting nothing it claims: [`root`] over a slice of
//! leaf hashes, [`verify_inclusion`] and [`verify_consistency`].
//!
//! They are what independent auditors run, so they are kept apart from the
//! [`MerkleTree`](super::MerkleTree), which only the node that serves proofs needs.

use super::shape::{consistency_proof_len, inclusion_path_len};
use super::{Digest, MerkleHasher, ProofError};

/// Returns the Merkle tree hash (the root) of a slice of leaf hashes, as RFC 6962 §2.1 defines it.
///
/// It rehashes the whole slice (`n − 1` node hashes), which suits verifiers holding the leaves;
/// the ledger itself asks its [`MerkleTree`](super::MerkleTree), which reuses stored subtrees.
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
/// [`MerkleTree::inclusion_proof`](super::MerkleTree::inclusion_proof) produces it.
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
    let wrong_length = ProofError::WrongPathLength { index, size, expected, actual: path.len() };
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
    let wrong_length = ProofError::WrongProofLength { old_size, new_size, expected, actual: proof.len() };
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
