//! The hash functions a tree can be built with: the [`MerkleHasher`] trait, with its RFC 6962
//! prefixes, and its two implementations.
//!
//! They live apart from the tree and the verifiers because both are generic over them and
//! neither needs to know which hash is in use.

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
        sha2::Sha256::new().chain_update([LEAF_PREFIX]).chain_update(leaf).finalize().into()
    }

    fn hash_children(left: &Digest, right: &Digest) -> Digest {
        sha2::Sha256::new().chain_update([NODE_PREFIX]).chain_update(left).chain_update(right).finalize().into()
    }
}

/// The byte before a leaf's bytes in its leaf hash (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;

/// The byte before two child hashes in their parent's hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;
