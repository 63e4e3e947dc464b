//! Shard commitments: 124-byte leaves → 4-ary Poseidon2 Merkle root over the full
//! [`tree::DEPTH`], plus a BLAKE3 digest of the shard bytes.
//!
//! Leaves past the end of a shard are all-zero leaves, so every subtree made only of padding is one
//! of [`tree::empty_subtree_roots`]: a small shard costs only its real leaves. Hashing runs on all
//! cores (rayon): leaves are hashed in parallel runs of sixteen subtrees of `4^REHASHED_LEVELS`
//! leaves, then each upper level in parallel runs of groups of four; within a run, the hashes of
//! a level go to the vector path ([`TreeHash::leaves`], [`TreeHash::nodes`]) together.

pub mod pieces;
mod proofs;

use std::marker::PhantomData;

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use cairn_primitives::{
	tree::{self, Poseidon2Tree, TreeHash},
	Fr,
};
use rayon::prelude::*;

use crate::error::{Result, StorageError};

pub use proofs::{prove, InMemoryShard, ProofSource, MAX_CHALLENGES};

/// Leaves of the full tree: `4^DEPTH`.
pub const TREE_LEAVES: u64 = 1 << (2 * tree::DEPTH);
/// The largest shard one tree commits to (`4^DEPTH × 124` bytes).
pub const MAX_SHARD_BYTES: u64 = TREE_LEAVES * tree::LEAF_BYTES as u64;
/// Bottom levels that are rehashed from the leaves when a proof is produced; the nodes of every
/// level from this one up are kept. Three levels: 64 leaves (7,936 bytes) and 85 hashes per
/// challenge, for about 0.5% extra storage (32 bytes per 64 leaves, plus the levels above).
pub const REHASHED_LEVELS: u32 = 3;
/// Leaves under one kept node of level [`REHASHED_LEVELS`].
pub const SUBTREE_LEAVES: usize = 1 << (2 * REHASHED_LEVELS);
/// Shard bytes under one kept node of level [`REHASHED_LEVELS`].
pub const SUBTREE_BYTES: usize = SUBTREE_LEAVES * tree::LEAF_BYTES;
/// Bytes of a serialized field element.
pub const NODE_BYTES: usize = 32;
/// Shard bytes buffered before a parallel hashing pass (a whole number of subtrees, ~1 MB).
const BATCH_BYTES: usize = 128 * SUBTREE_BYTES;
/// Subtrees hashed by one task: enough that every level of them fills whole calls of the vector
/// path (16 hashes a call).
const TASK_BYTES: usize = 16 * SUBTREE_BYTES;
/// Children hashed by one task on the upper levels.
const TASK_CHILDREN: usize = 16 * 16 * tree::ARITY;

/// What a shard is committed to: its Poseidon root, BLAKE3 digest and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardCommitment {
	/// Root of the 4-ary Poseidon tree of depth [`tree::DEPTH`].
	pub root: Fr,
	/// BLAKE3 of the shard bytes.
	pub blake3: [u8; 32],
	/// Length of the shard.
	pub bytes: u64,
}

/// The kept levels of a shard's tree: `levels[i]` holds the real (not all-padding) nodes of level
/// `REHASHED_LEVELS + i`, up to and including the root level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpperLevels {
	levels: Vec<Vec<Fr>>,
}

impl UpperLevels {
	/// Node `index` of `level` (a padding node when past the real ones).
	pub fn node(&self, level: u32, index: u64) -> Result<Fr> {
		let empty = empty_root(level)?;
		let offset = level
			.checked_sub(REHASHED_LEVELS)
			.ok_or(StorageError::ChallengeOutOfRange { index, leaves: TREE_LEAVES })?;
		let nodes = self
			.levels
			.get(offset as usize)
			.ok_or(StorageError::ChallengeOutOfRange { index, leaves: TREE_LEAVES })?;
		Ok(usize::try_from(index).ok().and_then(|index| nodes.get(index)).copied().unwrap_or(empty))
	}

	/// The kept levels, lowest first.
	pub fn levels(&self) -> &[Vec<Fr>] {
		&self.levels
	}

	/// Rebuilds from levels read back from storage.
	pub fn from_levels(levels: Vec<Vec<Fr>>) -> Self {
		Self { levels }
	}
}

/// The root of an all-padding subtree of `level`.
pub fn empty_root(level: u32) -> Result<Fr> {
	tree::empty_subtree_roots()
		.get(level as usize)
		.copied()
		.ok_or(StorageError::ChallengeOutOfRange { index: u64::from(level), leaves: TREE_LEAVES })
}

/// Serializes a field element to 32 little-endian bytes.
pub fn node_to_bytes(node: &Fr) -> [u8; NODE_BYTES] {
	let mut out = [0u8; NODE_BYTES];
	// Writing 32 bytes into a 32-byte buffer cannot fail for a BN254 scalar.
	let _ = node.serialize_compressed(&mut out[..]);
	out
}

/// Parses 32 bytes written by [`node_to_bytes`]; values `>= p` are rejected.
pub fn node_from_bytes(bytes: &[u8]) -> Option<Fr> {
	Fr::deserialize_compressed(bytes).ok()
}

/// Leaf `local_index` of `bytes` (a run of whole leaves, the last possibly short), zero-padded.
pub(crate) fn leaf_at(bytes: &[u8], local_index: usize) -> [u8; tree::LEAF_BYTES] {
	let mut leaf = [0u8; tree::LEAF_BYTES];
	let start = local_index.saturating_mul(tree::LEAF_BYTES);
	if start < bytes.len() {
		let end = (start + tree::LEAF_BYTES).min(bytes.len());
		leaf[..end - start].copy_from_slice(&bytes[start..end]);
	}
	leaf
}

/// Hashes the bottom [`REHASHED_LEVELS`] levels of the subtrees `bytes` spans (whole subtrees
/// but the last, whose missing leaves are padding; at least one). Returns every level, leaves
/// first, each holding the nodes of whole subtrees; only nodes above real leaves are hashed.
pub(crate) fn subtree_levels<H: TreeHash>(bytes: &[u8]) -> Vec<Vec<Fr>> {
	let empty = H::empty_subtree_roots();
	let leaves = bytes.len().div_ceil(SUBTREE_BYTES).max(1) * SUBTREE_LEAVES;
	let mut real = tree::leaf_nodes::<H>(bytes);
	let mut levels = Vec::with_capacity(REHASHED_LEVELS as usize + 1);
	for (height, empty) in empty.iter().enumerate().take(REHASHED_LEVELS as usize) {
		let above = tree::level_above::<H>(&real, *empty);
		let mut level = std::mem::replace(&mut real, above);
		level.resize(leaves >> (2 * height), *empty);
		levels.push(level);
	}
	real.resize(leaves >> (2 * REHASHED_LEVELS), empty[REHASHED_LEVELS as usize]);
	levels.push(real);
	levels
}

/// The roots of the subtrees `bytes` spans, as [`subtree_levels`].
fn subtree_roots<H: TreeHash>(bytes: &[u8]) -> Vec<Fr> {
	subtree_levels::<H>(bytes).pop().unwrap_or_default()
}

/// Builds a shard's commitment from bytes fed in pieces of any size. `H` is the tree's hash:
/// [`Poseidon2Tree`], the commitment, unless a benchmark asks for its circom-Poseidon baseline.
pub struct TreeBuilder<H = Poseidon2Tree> {
	pending: Vec<u8>,
	subtree_roots: Vec<Fr>,
	total_bytes: u64,
	digest: blake3::Hasher,
	hash: PhantomData<H>,
}

impl Default for TreeBuilder {
	fn default() -> Self {
		Self::new()
	}
}

impl TreeBuilder {
	/// An empty builder of the commitment's tree.
	pub fn new() -> Self {
		Self::over()
	}
}

impl<H: TreeHash> TreeBuilder<H> {
	/// An empty builder over the tree hash `H`.
	pub fn over() -> Self {
		Self {
			pending: Vec::with_capacity(BATCH_BYTES + SUBTREE_BYTES),
			subtree_roots: Vec::new(),
			total_bytes: 0,
			digest: blake3::Hasher::new(),
			hash: PhantomData,
		}
	}

	/// Bytes fed so far.
	pub fn total_bytes(&self) -> u64 {
		self.total_bytes
	}

	/// Feeds the next shard bytes.
	pub fn update(&mut self, mut bytes: &[u8]) -> Result<()> {
		let total = self.total_bytes.saturating_add(bytes.len() as u64);
		if total > MAX_SHARD_BYTES {
			return Err(StorageError::ShardTooLarge { bytes: total, max: MAX_SHARD_BYTES });
		}
		self.total_bytes = total;
		self.digest.update(bytes);
		while !bytes.is_empty() {
			let take = (BATCH_BYTES - self.pending.len()).min(bytes.len());
			self.pending.extend_from_slice(&bytes[..take]);
			bytes = &bytes[take..];
			if self.pending.len() == BATCH_BYTES {
				self.hash_pending();
			}
		}
		Ok(())
	}

	fn hash_pending(&mut self) {
		let roots: Vec<Vec<Fr>> =
			self.pending.par_chunks(TASK_BYTES).map(subtree_roots::<H>).collect();
		self.subtree_roots.extend(roots.into_iter().flatten());
		self.pending.clear();
	}

	/// Hashes what is left and the upper levels; returns the commitment and the kept levels.
	pub fn finish(mut self) -> (ShardCommitment, UpperLevels) {
		if !self.pending.is_empty() {
			self.hash_pending();
		}
		let empty = H::empty_subtree_roots();
		let mut levels = vec![std::mem::take(&mut self.subtree_roots)];
		for empty_child in &empty[REHASHED_LEVELS as usize..tree::DEPTH as usize] {
			let below = levels.last().map(Vec::as_slice).unwrap_or_default();
			let parts: Vec<Vec<Fr>> = below
				.par_chunks(TASK_CHILDREN)
				.map(|children| tree::level_above::<H>(children, *empty_child))
				.collect();
			levels.push(parts.into_iter().flatten().collect());
		}
		let root = levels
			.last()
			.and_then(|top| top.first().copied())
			.unwrap_or(empty[tree::DEPTH as usize]);
		let commitment = ShardCommitment {
			root,
			blake3: *self.digest.finalize().as_bytes(),
			bytes: self.total_bytes,
		};
		(commitment, UpperLevels { levels })
	}
}

/// Commits to a shard held in memory.
pub fn commit(shard: &[u8]) -> Result<(ShardCommitment, UpperLevels)> {
	commit_over::<Poseidon2Tree>(shard)
}

/// [`commit`] over the tree hash `H`.
pub fn commit_over<H: TreeHash>(shard: &[u8]) -> Result<(ShardCommitment, UpperLevels)> {
	let mut builder = TreeBuilder::<H>::over();
	builder.update(shard)?;
	Ok(builder.finish())
}

/// Checks a shard against its published BLAKE3 digest (`shard` names it in the error).
pub fn verify_digest(shard: usize, bytes: &[u8], expected: &[u8; 32]) -> Result<()> {
	if blake3::hash(bytes).as_bytes() != expected {
		return Err(StorageError::DigestMismatch { shard });
	}
	Ok(())
}
