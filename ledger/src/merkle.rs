//! TEMPORARY STUB, replaced by the real module.
#![allow(missing_docs)]
pub type Digest = [u8; 32];
pub trait MerkleHasher { fn hash_empty() -> Digest; fn hash_leaf(leaf: &[u8]) -> Digest; fn hash_children(l: &Digest, r: &Digest) -> Digest; }
pub struct Blake3Hasher;
impl MerkleHasher for Blake3Hasher {
    fn hash_empty() -> Digest { *blake3::hash(b"").as_bytes() }
    fn hash_leaf(leaf: &[u8]) -> Digest { let mut h = blake3::Hasher::new(); h.update(&[0]); h.update(leaf); *h.finalize().as_bytes() }
    fn hash_children(l: &Digest, r: &Digest) -> Digest { let mut h = blake3::Hasher::new(); h.update(&[1]); h.update(l); h.update(r); *h.finalize().as_bytes() }
}
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError { #[error("size {size} > {len}")] SizeBeyondTree { size: u64, len: u64 } }
pub struct MerkleTree<H> { leaves: Vec<Digest>, _h: std::marker::PhantomData<H> }
impl<H: MerkleHasher> MerkleTree<H> {
    pub fn new() -> Self { MerkleTree { leaves: vec![], _h: std::marker::PhantomData } }
    pub fn len(&self) -> u64 { self.leaves.len() as u64 }
    pub fn push(&mut self, leaf: Digest) -> Vec<(u8, u64, Digest)> { self.leaves.push(leaf); vec![(0, self.len() - 1, leaf)] }
    pub fn leaf_hash(&self, i: u64) -> Option<Digest> { self.leaves.get(i as usize).copied() }
    pub fn root(&self) -> Digest { [0; 32] }
    pub fn root_at(&self, _s: u64) -> Result<Digest, ProofError> { Ok([0; 32]) }
    pub fn inclusion_proof(&self, _i: u64, _s: u64) -> Result<Vec<Digest>, ProofError> { Ok(vec![]) }
    pub fn consistency_proof(&self, _a: u64, _b: u64) -> Result<Vec<Digest>, ProofError> { Ok(vec![]) }
}

pub fn verify_consistency<H: MerkleHasher>(_a: u64, _b: u64, _c: &Digest, _d: &Digest, _p: &[Digest]) -> Result<(), ProofError> { Ok(()) }
pub fn verify_inclusion<H: MerkleHasher>(_l: &Digest, _i: u64, _s: u64, _p: &[Digest], _r: &Digest) -> Result<(), ProofError> { Ok(()) }
