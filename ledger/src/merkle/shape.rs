//! The arithmetic of RFC 6962 tree shapes: where a range of leaves splits and how many hashes a
//! proof must have.
//!
//! Both the tree, which builds proofs, and the verifiers, which check their length before
//! anything else, depend on it, so it is shared here.

/// Returns the largest power of two strictly below `count`, where the RFC splits a range of
/// `count` leaves; it returns 0 for counts below 2, which are never split.
pub(super) fn split_point(count: u64) -> u64 {
    count.checked_sub(1).and_then(u64::checked_ilog2).map_or(0, |bits| 1 << bits)
}

/// Returns how many hashes the inclusion proof of leaf `index` in a tree of `size > index` leaves
/// has: one per level where the leaf's path and the last leaf's path diverge ("inner" levels),
/// plus one per perfect subtree to the left of the divergence ("border" levels).
pub(super) fn inclusion_path_len(index: u64, size: u64) -> usize {
    let (inner, border) = decompose_path(index, size);
    (inner + border) as usize
}

/// Returns how many hashes the consistency proof between sizes `old_size <= new_size` has.
pub(super) fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
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
