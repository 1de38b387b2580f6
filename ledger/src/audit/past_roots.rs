//! The roots of the ledger's tree at sizes the audit has passed: what an `audit.conclusion`'s
//! checkpoint is compared with when the replay reaches it (docs/format.md §18).
//!
//! The audit reads the records once, keeping only the tree's right edge; a conclusion names a
//! size it has passed, learnt only when the conclusion is read. So the audit keeps, as it goes,
//! what any past root is made of: the perfect nodes of [`MIN_LEVEL`] and up in memory (two
//! thousand at a million records) and every leaf hash in an anonymous temporary file (32 bytes a
//! record), from which the few lower nodes of a root are rehashed. A root then costs one read of
//! at most 2^MIN_LEVEL leaf hashes. Without temporary storage the leaf hashes stay in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

use crate::merkle::{self, Blake3Hasher, Digest, PerfectNodes, ProofError};

/// The lowest level kept in memory: below it, nodes are rehashed from the leaf hashes.
const MIN_LEVEL: u8 = 10;

/// The nodes and leaf hashes of every size the audit has passed.
pub(super) struct PastRoots {
    nodes: HashMap<(u8, u64), Digest>,
    leaves: Leaves,
    len: u64,
    // The first failure to write a leaf hash: no root can be computed after it.
    failed: Option<io::ErrorKind>,
}

enum Leaves {
    File(BufWriter<File>),
    Memory(Vec<Digest>),
}

/// Why a past root could not be computed.
#[derive(Debug, thiserror::Error)]
pub(super) enum PastRootError {
    /// The temporary file failed.
    #[error("the audit's temporary file of leaf hashes failed: {0}")]
    Io(#[from] io::Error),
    /// The size is beyond what was read, or a node is missing (a bug).
    #[error("no root of {0}")]
    Proof(#[from] ProofError),
}

impl PastRoots {
    /// An empty book, its leaf hashes in a temporary file if one can be made.
    pub(super) fn new() -> PastRoots {
        let leaves = match tempfile::tempfile() {
            Ok(file) => Leaves::File(BufWriter::with_capacity(64 << 10, file)),
            Err(_) => Leaves::Memory(Vec::new()),
        };
        PastRoots { nodes: HashMap::new(), leaves, len: 0, failed: None }
    }

    /// Takes the nodes the tree's [`push`](crate::merkle::Frontier::push) of the next leaf
    /// completed (the leaf itself first).
    pub(super) fn push(&mut self, created: &[(u8, u64, Digest)]) {
        for &(level, index, node) in created {
            if level == 0 {
                match &mut self.leaves {
                    Leaves::File(file) => {
                        if let Err(error) = file.write_all(&node) {
                            self.failed.get_or_insert(error.kind());
                        }
                    }
                    Leaves::Memory(leaves) => leaves.push(node),
                }
            } else if level >= MIN_LEVEL {
                self.nodes.insert((level, index), node);
            }
        }
        self.len += 1;
    }

    /// The root of the first `size` leaves pushed.
    pub(super) fn root_at(&mut self, size: u64) -> Result<Digest, PastRootError> {
        if let Some(kind) = self.failed {
            return Err(PastRootError::Io(kind.into()));
        }
        if let Leaves::File(file) = &mut self.leaves {
            file.flush()?;
        }
        merkle::root_at(&Reader { roots: self }, size)
    }

    fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Digest>, PastRootError> {
        match &self.leaves {
            Leaves::Memory(leaves) => Ok(leaves.get(start as usize..end as usize).unwrap_or_default().to_vec()),
            Leaves::File(file) => {
                let mut bytes = vec![0u8; ((end - start) * 32) as usize];
                file.get_ref().read_exact_at(&mut bytes, start * 32)?;
                Ok(bytes.chunks_exact(32).filter_map(|leaf| <Digest>::try_from(leaf).ok()).collect())
            }
        }
    }
}

struct Reader<'a> {
    roots: &'a PastRoots,
}

impl PerfectNodes for Reader<'_> {
    type Hasher = Blake3Hasher;
    type Error = PastRootError;

    fn len(&self) -> u64 {
        self.roots.len
    }

    fn perfect_node(&self, level: u8, index: u64) -> Result<Digest, PastRootError> {
        if level >= MIN_LEVEL {
            return self.roots.nodes.get(&(level, index)).copied().ok_or(PastRootError::Proof(
                ProofError::SizeBeyondTree { size: (index + 1) << level, len: self.roots.len },
            ));
        }
        let start = index << level;
        let leaves = self.roots.leaf_hashes(start, start + (1 << level))?;
        if leaves.len() != 1 << level {
            return Err(PastRootError::Proof(ProofError::SizeBeyondTree {
                size: start + (1 << level),
                len: self.roots.len,
            }));
        }
        Ok(merkle::root::<Blake3Hasher>(&leaves))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;
    use crate::merkle::{Frontier, MerkleTree};

    #[test]
    fn every_past_root_is_the_tree_root_at_that_size() {
        let mut frontier = Frontier::<Blake3Hasher>::new();
        let mut tree = MerkleTree::<Blake3Hasher>::new();
        let mut roots = PastRoots::new();
        let mut memory = PastRoots { nodes: HashMap::new(), leaves: Leaves::Memory(Vec::new()), len: 0, failed: None };
        for n in 0..3000u64 {
            let leaf = *blake3::hash(&n.to_le_bytes()).as_bytes();
            let created = frontier.push(leaf);
            roots.push(&created);
            memory.push(&created);
            tree.push(leaf);
        }
        for size in [1, 2, 3, 1023, 1024, 1025, 2047, 2048, 2049, 2999, 3000] {
            assert_eq!(roots.root_at(size).unwrap(), tree.root_at(size).unwrap(), "size {size}");
            assert_eq!(memory.root_at(size).unwrap(), tree.root_at(size).unwrap(), "size {size}");
        }
        assert!(roots.root_at(3001).is_err());
    }
}
