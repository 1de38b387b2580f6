//! Tests of the tree, the frontier, the proofs over other node sources and the verifiers: the
//! RFC 6962 SHA-256 known answers, a literal transcription of the RFC's recursive definitions,
//! hash-count bounds and property tests.
//!
//! They sit in their own file so that the implementation files stay short enough to read whole.

use std::cell::Cell;
use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc6962-sha256.json"));

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
        value.as_array().unwrap().iter().map(|h| digest(h.as_str().unwrap())).collect()
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
            .map(|case| (number(&case["index"]), number(&case["size"]), hashes(&case["path"])))
            .collect(),
        consistency: json["consistency"]
            .as_array()
            .unwrap()
            .iter()
            .map(|case| (number(&case["old"]), number(&case["new"]), hashes(&case["proof"])))
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
    (0..count).map(|i| Blake3Hasher::hash_leaf(&i.to_le_bytes())).collect()
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
fn reference_subproof<H: MerkleHasher>(m: usize, leaves: &[Digest], complete: bool) -> Vec<Digest> {
    let n = leaves.len();
    if m == n {
        return if complete { Vec::new() } else { vec![root::<H>(leaves)] };
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
        assert_eq!(root::<Sha256Hasher>(leaves), *expected, "slice root, size {size}");
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
        assert_eq!(tree.inclusion_proof(*index, *size).unwrap(), *path, "generated path for leaf {index} of {size}");
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
        assert_eq!(tree.consistency_proof(*old, *new).unwrap(), *proof, "generated proof from {old} to {new}");
        verify_consistency::<Sha256Hasher>(*old, *new, &answers.root(*old), &answers.root(*new), proof).unwrap();
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
                assert!(matches!(result, Err(ProofError::WrongPathLength { .. })), "{what}: {result:?}");
            } else {
                assert_eq!(result, Err(ProofError::RootMismatch { index, size }), "{what}");
            }
        }
        assert_eq!(
            verify(&leaf, size, index, path, &root),
            Err(ProofError::IndexOutOfRange { index: size, size: index }),
            "swapped index and size"
        );
        assert_eq!(
            verify(&leaf, index, size, path, &flip_bit(&root, 3)),
            Err(ProofError::RootMismatch { index, size }),
            "wrong root"
        );
        assert!(verify(&leaf, index, size, path, &answers.root(size % 8 + 1)).is_err(), "root of another size");
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
                assert!(matches!(result, Err(ProofError::WrongProofLength { .. })), "{what}: {result:?}");
            } else {
                assert!(
                    matches!(result, Err(ProofError::OldRootMismatch { .. } | ProofError::NewRootMismatch { .. })),
                    "{what}: {result:?}"
                );
            }
        }
        if old != new {
            assert_eq!(
                verify(new, old, &new_root, &old_root, proof),
                Err(ProofError::OldSizeExceedsNew { old_size: new, new_size: old }),
                "swapped sizes"
            );
            assert!(verify(old, new, &new_root, &old_root, proof).is_err(), "swapped roots");
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

    assert_eq!(verify_inclusion::<H>(&some, 0, 0, &[], &some), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(
        verify_inclusion::<H>(&some, 3, 3, &[some, some], &some),
        Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
    );
    assert_eq!(
        verify_inclusion::<H>(&some, 0, 1, &[some], &some),
        Err(ProofError::WrongPathLength { index: 0, size: 1, expected: 0, actual: 1 })
    );
    assert_eq!(verify_inclusion::<H>(&some, 0, 1, &[], &some), Ok(()), "a one-leaf tree's root is its leaf hash");
    assert_eq!(
        verify_inclusion::<H>(&some, u64::MAX - 1, u64::MAX, &[some; 3], &some),
        Err(ProofError::WrongPathLength { index: u64::MAX - 1, size: u64::MAX, expected: 63, actual: 3 })
    );
    assert_eq!(
        verify_inclusion::<H>(&some, 0, u64::MAX, &[some; 64], &some),
        Err(ProofError::RootMismatch { index: 0, size: u64::MAX })
    );

    assert_eq!(
        verify_consistency::<H>(5, 4, &some, &some, &[]),
        Err(ProofError::OldSizeExceedsNew { old_size: 5, new_size: 4 })
    );
    assert_eq!(
        verify_consistency::<H>(4, 4, &some, &some, &[some]),
        Err(ProofError::WrongProofLength { old_size: 4, new_size: 4, expected: 0, actual: 1 })
    );
    assert_eq!(verify_consistency::<H>(4, 4, &some, &some, &[]), Ok(()));
    assert_eq!(verify_consistency::<H>(4, 4, &some, &empty, &[]), Err(ProofError::SizeRootsDiffer { size: 4 }));
    assert_eq!(verify_consistency::<H>(0, 0, &empty, &empty, &[]), Ok(()));
    assert_eq!(verify_consistency::<H>(0, 9, &empty, &some, &[]), Ok(()));
    assert_eq!(
        verify_consistency::<H>(0, 9, &some, &some, &[]),
        Err(ProofError::OldRootMismatch { old_size: 0, new_size: 9 })
    );
    assert_eq!(
        verify_consistency::<H>(0, 9, &empty, &some, &[some]),
        Err(ProofError::WrongProofLength { old_size: 0, new_size: 9, expected: 0, actual: 1 })
    );
    assert_eq!(
        verify_consistency::<H>(3, 9, &some, &some, &[]),
        Err(ProofError::WrongProofLength { old_size: 3, new_size: 9, expected: 5, actual: 0 })
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
    assert_eq!(tree.root_at(6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.inclusion_proof(0, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.inclusion_proof(5, 5), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(tree.inclusion_proof(0, 0), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(tree.consistency_proof(3, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.consistency_proof(4, 3), Err(ProofError::OldSizeExceedsNew { old_size: 4, new_size: 3 }));
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
        let expected: Vec<(u8, u64)> =
            (0..=len.trailing_zeros()).map(|level| (level as u8, (len >> level) - 1)).collect();
        let reported: Vec<(u8, u64)> = created.iter().map(|(level, index, _)| (*level, *index)).collect();
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
                let expected = reference_subproof::<H>(old as usize, &leaves[..size as usize], true);
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
        assert!(cost <= bound, "inclusion proof at {size} cost {cost} hashes");
        let (_, cost) = count_hashes(|| tree.consistency_proof(33_333, size).unwrap());
        assert!(cost <= bound, "consistency proof to {size} cost {cost} hashes");
    }
    assert_eq!(tree.root(), tree.root_at(leaf_count).unwrap());
}

#[test]
fn blake3_hasher_uses_the_rfc_prefixes() {
    assert_eq!(Blake3Hasher::hash_empty(), *blake3::hash(b"").as_bytes());
    assert_eq!(Blake3Hasher::hash_leaf(b"slab"), *blake3::hash(b"\x00slab").as_bytes());
    let (left, right) = ([1_u8; 32], [2_u8; 32]);
    let mut joined = vec![0x01];
    joined.extend_from_slice(&left);
    joined.extend_from_slice(&right);
    assert_eq!(Blake3Hasher::hash_children(&left, &right), *blake3::hash(&joined).as_bytes());
    assert_eq!(root::<Blake3Hasher>(&[left, right]), *blake3::hash(&joined).as_bytes());
    // A two-leaf root must not be provable as a single 64-byte leaf made of its children.
    assert_ne!(root::<Blake3Hasher>(&[left, right]), Blake3Hasher::hash_leaf(&joined[1..]));
}

#[test]
fn debug_output_stays_short() {
    let tree = tree_of::<Blake3Hasher>(&blake3_leaves(1000));
    let shown = format!("{tree:?}");
    assert!(shown.contains("len: 1000"), "{shown}");
    assert!(shown.len() < 200, "{shown}");
}

/// A node source as a store would be: only the nodes `Frontier::push` handed out. It panics when
/// asked for a node reaching past its leaves and remembers how far the requests reached, so the
/// tests can check that a proof at size `n` reads nothing beyond leaf `n`.
struct PushedNodes {
    len: u64,
    nodes: HashMap<(u8, u64), Digest>,
    reach: Cell<u64>,
}

/// A source error other than `ProofError`, to show the proofs pass on the source's own errors.
#[derive(Debug, PartialEq)]
enum SourceError {
    Proof(ProofError),
    Missing(u8, u64),
}

impl From<ProofError> for SourceError {
    fn from(error: ProofError) -> Self {
        Self::Proof(error)
    }
}

impl PushedNodes {
    fn of(leaves: &[Digest]) -> Self {
        let mut frontier = Frontier::<Blake3Hasher>::new();
        let nodes = leaves.iter().flat_map(|leaf| frontier.push(*leaf));
        let nodes = nodes.map(|(level, index, hash)| ((level, index), hash)).collect();
        Self { len: frontier.len(), nodes, reach: Cell::new(0) }
    }

    /// Runs `ask` and returns its answer with the end of the furthest node it read.
    fn reaching<T>(&self, ask: impl FnOnce(&Self) -> T) -> (T, u64) {
        self.reach.set(0);
        (ask(self), self.reach.get())
    }
}

impl PerfectNodes for PushedNodes {
    type Hasher = Blake3Hasher;
    type Error = SourceError;

    fn len(&self) -> u64 {
        self.len
    }

    fn perfect_node(&self, level: u8, index: u64) -> Result<Digest, SourceError> {
        let end = (index + 1).checked_shl(u32::from(level)).filter(|end| end >> level == index + 1);
        let end = end.filter(|end| *end <= self.len);
        let end = end.unwrap_or_else(|| panic!("node ({level}, {index}) is not inside {} leaves", self.len));
        self.reach.set(self.reach.get().max(end));
        self.nodes.get(&(level, index)).copied().ok_or(SourceError::Missing(level, index))
    }
}

#[test]
fn frontier_pushes_roots_and_peaks_equal_the_trees_up_to_5000_leaves() {
    type H = Blake3Hasher;
    let mut tree = MerkleTree::<H>::new();
    let mut frontier = Frontier::<H>::default();
    assert!(frontier.is_empty());
    assert_eq!(frontier.root(), H::hash_empty());
    assert_eq!(frontier.peaks().count(), 0);
    for leaf in blake3_leaves(5000) {
        assert_eq!(frontier.push(leaf), tree.push(leaf), "nodes created by leaf {}", tree.len());
        let len = tree.len();
        assert_eq!(frontier.len(), len);
        assert!(!frontier.is_empty());
        assert_eq!(frontier.root(), tree.root(), "root of {len}");

        // One peak per set bit of `len`, highest first, each the tree's node of that position.
        let peaks: Vec<(u8, u64, Digest)> = frontier.peaks().collect();
        let levels: Vec<u8> = (0..64).rev().filter(|bit| len >> bit & 1 == 1).collect();
        assert_eq!(peaks.iter().map(|(level, ..)| *level).collect::<Vec<_>>(), levels, "peaks of {len}");
        for (level, index, hash) in &peaks {
            assert_eq!(tree.perfect_node(*level, *index), Ok(*hash), "peak ({level}, {index}) of {len}");
        }
        assert_eq!(peaks.iter().map(|(.., hash)| *hash).collect::<Vec<_>>(), frontier.peak_hashes());

        // Reopening from what a store would keep gives the same frontier, which the next push
        // (checked against the tree above) continues from.
        let reopened = Frontier::from_peaks(len, frontier.peak_hashes().to_vec()).unwrap();
        assert_eq!(reopened, frontier);
        frontier = reopened;
    }
}

#[test]
fn frontier_refuses_a_wrong_number_of_peaks() {
    type H = Blake3Hasher;
    assert_eq!(Frontier::<H>::from_peaks(0, Vec::new()).unwrap(), Frontier::new());
    for len in [0, 1, 2, 3, 13, 1 << 40, (1 << 40) - 1, u64::MAX - 1, u64::MAX] {
        let expected = len.count_ones() as usize;
        for actual in [expected.saturating_sub(1), expected + 1, 0, 65].into_iter().filter(|n| *n != expected) {
            assert_eq!(
                Frontier::<H>::from_peaks(len, vec![[3; 32]; actual]),
                Err(FrontierError::WrongPeakCount { len, expected, actual }),
            );
        }
        let frontier = Frontier::<H>::from_peaks(len, vec![[3; 32]; expected]).unwrap();
        let (first, last) = (frontier.peaks().next(), frontier.peaks().last());
        assert_eq!(first.map(|(level, index, _)| (level, index)), len.checked_ilog2().map(|top| (top as u8, 0)));
        assert_eq!(
            last.map(|(level, index, _)| (level, index << level)),
            (len > 0).then(|| {
                let level = len.trailing_zeros();
                (level as u8, len - (1 << level))
            })
        );
    }
}

#[test]
fn frontier_reaches_the_last_length_without_overflow() {
    type H = Blake3Hasher;
    let mut frontier = Frontier::<H>::from_peaks(u64::MAX - 1, vec![[1; 32]; 63]).unwrap();
    assert_eq!(frontier.push([2; 32]), vec![(0, u64::MAX - 1, [2; 32])]);
    assert_eq!(frontier.len(), u64::MAX);
    assert_eq!(frontier.peaks().count(), 64);
    let shown = format!("{frontier:?}");
    assert!(shown.contains(&format!("len: {}", u64::MAX)) && shown.len() < 200, "{shown}");
}

#[test]
#[should_panic(expected = "at most u64::MAX leaves")]
fn frontier_refuses_a_leaf_past_the_last_length() {
    let mut frontier = Frontier::<Blake3Hasher>::from_peaks(u64::MAX, vec![[1; 32]; 64]).unwrap();
    frontier.push([2; 32]);
}

#[test]
fn proofs_from_pushed_nodes_equal_the_trees_up_to_300_leaves() {
    type H = Blake3Hasher;
    let leaves = blake3_leaves(300);
    let tree = tree_of::<H>(&leaves);
    let source = PushedNodes::of(&leaves);
    for size in 0..=300_u64 {
        let (root, reach) = source.reaching(|source| root_at(source, size));
        let root = root.unwrap();
        assert_eq!(root, tree.root_at(size).unwrap(), "root_at({size})");
        assert!(reach <= size, "root_at({size}) read up to leaf {reach}");
        for index in 0..size {
            let (path, reach) = source.reaching(|source| inclusion_proof(source, index, size));
            let path = path.unwrap();
            assert_eq!(path, tree.inclusion_proof(index, size).unwrap(), "path of leaf {index} in {size}");
            assert!(reach <= size, "path of leaf {index} in {size} read up to leaf {reach}");
            verify_inclusion::<H>(&leaves[index as usize], index, size, &path, &root).unwrap();
        }
        for old in 0..=size {
            let (proof, reach) = source.reaching(|source| consistency_proof(source, old, size));
            let proof = proof.unwrap();
            assert_eq!(proof, tree.consistency_proof(old, size).unwrap(), "proof from {old} to {size}");
            assert!(reach <= size, "proof from {old} to {size} read up to leaf {reach}");
            verify_consistency::<H>(old, size, &tree.root_at(old).unwrap(), &root, &proof).unwrap();
        }
    }
}

#[test]
fn proofs_from_a_source_refuse_like_the_tree_and_pass_on_its_errors() {
    let leaves = blake3_leaves(5);
    let tree = tree_of::<Blake3Hasher>(&leaves);
    let mut source = PushedNodes::of(&leaves);
    let requests = [(0, 6), (5, 5), (0, 0), (3, 6), (4, 3), (0, 5), (2, 4), (u64::MAX, u64::MAX)];
    for (first, second) in requests {
        let from_tree = |result: Result<Vec<Digest>, ProofError>| result.map_err(SourceError::Proof);
        let asked = (first, second);
        assert_eq!(
            inclusion_proof(&source, first, second),
            from_tree(tree.inclusion_proof(first, second)),
            "{asked:?}"
        );
        let consistency = consistency_proof(&source, first, second);
        assert_eq!(consistency, from_tree(tree.consistency_proof(first, second)), "{asked:?}");
        let root = root_at(&source, second);
        assert_eq!(root, tree.root_at(second).map_err(SourceError::Proof), "{asked:?}");
    }
    assert_eq!(root_at(&source, 6), Err(SourceError::Proof(ProofError::SizeBeyondTree { size: 6, len: 5 })));

    // The tree answers only nodes it holds, without overflowing on made-up positions.
    assert_eq!(tree.perfect_node(2, 0), Ok(root::<Blake3Hasher>(&leaves[..4])));
    assert_eq!(tree.perfect_node(2, 1), Err(ProofError::SizeBeyondTree { size: 8, len: 5 }));
    assert_eq!(tree.perfect_node(63, u64::MAX), Err(ProofError::SizeBeyondTree { size: u64::MAX, len: 5 }));
    assert_eq!(tree.perfect_node(255, 0), Err(ProofError::SizeBeyondTree { size: u64::MAX, len: 5 }));

    // A node the source lost comes back as the source's own error.
    source.nodes.remove(&(2, 0));
    assert_eq!(inclusion_proof(&source, 4, 5), Err(SourceError::Missing(2, 0)));
    assert_eq!(root_at(&source, 5), Err(SourceError::Missing(2, 0)));
    assert_eq!(inclusion_proof(&source, 0, 3).map(|path| path.len()), Ok(2), "nodes left still serve");
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

proptest! {
    // Each case builds a tree of up to 5000 leaves; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn proofs_from_pushed_nodes_equal_the_trees_up_to_5000_leaves(
        (len, size, index, old) in (1..=5000_u64)
            .prop_flat_map(|len| (Just(len), 1..=len))
            .prop_flat_map(|(len, size)| (Just(len), Just(size), 0..size, 0..=size)),
    ) {
        type H = Blake3Hasher;
        let leaves = blake3_leaves(len);
        let tree = tree_of::<H>(&leaves);
        let source = PushedNodes::of(&leaves);
        let (root, reach) = source.reaching(|source| root_at(source, size));
        let root = root.unwrap();
        prop_assert_eq!(root, tree.root_at(size).unwrap());
        prop_assert!(reach <= size);

        let (path, reach) = source.reaching(|source| inclusion_proof(source, index, size));
        let path = path.unwrap();
        prop_assert_eq!(&path, &tree.inclusion_proof(index, size).unwrap());
        prop_assert!(reach <= size);
        prop_assert!(verify_inclusion::<H>(&leaves[index as usize], index, size, &path, &root).is_ok());

        let (proof, reach) = source.reaching(|source| consistency_proof(source, old, size));
        let proof = proof.unwrap();
        prop_assert_eq!(&proof, &tree.consistency_proof(old, size).unwrap());
        prop_assert!(reach <= size);
        let old_root = tree.root_at(old).unwrap();
        prop_assert!(verify_consistency::<H>(old, size, &old_root, &root, &proof).is_ok());
    }
}
