//! Verifiable sampling: which items a certifier examines, chosen so that anyone can recompute
//! the choice and no one could have predicted it before the checkpoint it is keyed by existed.
//!
//! Each item in scope gets the BLAKE3 keyed hash (BLAKE3 §2.3, keyed mode) of its GIAI's
//! ASCII bytes under the 32-byte Merkle root of a checkpoint the consortium's operators signed;
//! the sample is the `k` items with the smallest hashes (compared as big-endian bytes), listed
//! by GIAI. The root depends on every record up to the checkpoint, so no member can steer
//! which items are drawn without rewriting the ledger, and one more record gives a new root and
//! a new sample.

use serde::Serialize;

use super::Chain;
use crate::hex::to_lower_hex;

/// How to draw a sample: `k` items, keyed by a signed checkpoint's root.
#[derive(Debug, Clone)]
pub struct Sampling {
    /// How many items.
    pub k: usize,
    /// The checkpoint's tree size.
    pub checkpoint_size: u64,
    /// Its Merkle root: the key.
    pub root: [u8; 32],
}

/// The sample a report states, so that anyone can draw it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// How many items were asked for.
    pub k: usize,
    /// The size of the checkpoint whose root keyed the draw.
    pub checkpoint_size: u64,
    /// Its root, hex.
    pub checkpoint_root: String,
    /// How the items were drawn.
    pub method: &'static str,
    /// The items drawn, by GIAI.
    pub items: Vec<String>,
}

/// The method, as a report states it.
pub const METHOD: &str = "the k items in scope with the smallest BLAKE3 keyed hash (key: the checkpoint's Merkle \
                          root) of their GIAI's ASCII bytes, compared as big-endian bytes";

impl Sampling {
    /// The hash an item is ranked by.
    pub fn rank(&self, giai: &str) -> [u8; 32] {
        *blake3::keyed_hash(&self.root, giai.as_bytes()).as_bytes()
    }

    /// Keeps only the sampled chains of `chains` and says what was drawn.
    pub(super) fn draw(&self, chains: &mut Vec<Chain>) -> Sample {
        chains.sort_by_cached_key(|chain| self.rank(chain.giai.as_str()));
        chains.truncate(self.k);
        chains.sort_by(|a, b| a.giai.as_str().cmp(b.giai.as_str()));
        Sample {
            k: self.k,
            checkpoint_size: self.checkpoint_size,
            checkpoint_root: to_lower_hex(self.root),
            method: METHOD,
            items: chains.iter().map(|chain| chain.giai.as_str().to_owned()).collect(),
        }
    }
}
