//! Leaves and Merkle proofs for challenge indices, rehashing only the bottom levels.

use cairn_primitives::{tree, Fr};
use rayon::prelude::*;

use super::{leaf_at, subtree_levels, UpperLevels, REHASHED_LEVELS, SUBTREE_LEAVES, TREE_LEAVES};
use crate::error::{Result, StorageError};

/// Most challenge indices answered by one call.
pub const MAX_CHALLENGES: usize = 1024;

/// Where proofs read their data from: the shard's bytes and its kept upper levels.
pub trait ProofSource: Sync {
	/// The bytes of leaves `first_leaf .. first_leaf + count`, cut at the shard's end (so possibly
	/// short or empty).
	fn read_leaves(&self, first_leaf: u64, count: usize) -> Result<Vec<u8>>;
	/// The four sibling nodes of `level` (at least [`REHASHED_LEVELS`]) whose first is node
	/// `4 × group`; padding nodes past the real ones.
	fn node_group(&self, level: u32, group: u64) -> Result<[Fr; tree::ARITY]>;
}

/// A shard held in memory together with its kept levels.
pub struct InMemoryShard<'a> {
	/// The shard bytes.
	pub bytes: &'a [u8],
	/// The levels from [`super::commit`].
	pub upper: &'a UpperLevels,
}

impl ProofSource for InMemoryShard<'_> {
	fn read_leaves(&self, first_leaf: u64, count: usize) -> Result<Vec<u8>> {
		let leaf_bytes = tree::LEAF_BYTES as u64;
		let len = self.bytes.len() as u64;
		let start = first_leaf.saturating_mul(leaf_bytes).min(len);
		let end = start.saturating_add((count as u64).saturating_mul(leaf_bytes)).min(len);
		Ok(self.bytes[start as usize..end as usize].to_vec())
	}

	fn node_group(&self, level: u32, group: u64) -> Result<[Fr; tree::ARITY]> {
		let first = group.saturating_mul(tree::ARITY as u64);
		let mut nodes = [Fr::from(0u64); tree::ARITY];
		for (offset, node) in nodes.iter_mut().enumerate() {
			*node = self.upper.node(level, first + offset as u64)?;
		}
		Ok(nodes)
	}
}

fn siblings_of(group: &[Fr], position: usize) -> [Fr; 3] {
	let mut siblings = [Fr::from(0u64); 3];
	let others =
		group.iter().enumerate().filter(|(index, _)| *index != position).map(|(_, node)| *node);
	for (slot, node) in siblings.iter_mut().zip(others) {
		*slot = node;
	}
	siblings
}

fn prove_one(source: &impl ProofSource, index: u64) -> Result<tree::MerkleProof> {
	if index >= TREE_LEAVES {
		return Err(StorageError::ChallengeOutOfRange { index, leaves: TREE_LEAVES });
	}
	let subtree = index >> (2 * REHASHED_LEVELS);
	let first_leaf = subtree << (2 * REHASHED_LEVELS);
	let bytes = source.read_leaves(first_leaf, SUBTREE_LEAVES)?;
	let local = (index - first_leaf) as usize;
	let levels = subtree_levels::<cairn_primitives::tree::Poseidon2Tree>(&bytes);
	let mut siblings = Vec::with_capacity(tree::DEPTH as usize);
	for (height, nodes) in levels.iter().take(REHASHED_LEVELS as usize).enumerate() {
		let position = local >> (2 * height);
		let group_start = position - position % tree::ARITY;
		siblings.push(siblings_of(
			&nodes[group_start..group_start + tree::ARITY],
			position % tree::ARITY,
		));
	}
	let rehashed_root = levels.last().and_then(|top| top.first()).copied();
	for level in REHASHED_LEVELS..tree::DEPTH {
		let position = index >> (2 * level);
		let group = source.node_group(level, position / tree::ARITY as u64)?;
		let slot = (position % tree::ARITY as u64) as usize;
		if level == REHASHED_LEVELS && rehashed_root != Some(group[slot]) {
			return Err(StorageError::InconsistentTree { subtree });
		}
		siblings.push(siblings_of(&group, slot));
	}
	Ok(tree::MerkleProof { index, leaf: leaf_at(&bytes, local), siblings })
}

/// The leaf and Merkle proof of every index (any position of the full tree, padding included).
/// Indices are proven in parallel; at most [`MAX_CHALLENGES`] per call.
pub fn prove(source: &impl ProofSource, indices: &[u64]) -> Result<Vec<tree::MerkleProof>> {
	if indices.len() > MAX_CHALLENGES {
		return Err(StorageError::TooManyChallenges { count: indices.len(), max: MAX_CHALLENGES });
	}
	indices.par_iter().map(|index| prove_one(source, *index)).collect()
}
