//! The 4-ary Poseidon2 Merkle tree that commits one shard.
//!
//! A shard is cut into 124-byte leaves; each leaf is four 31-byte little-endian field elements
//! ([`leaf_fields`]) compressed with the leaf permutation of Poseidon2 ([`hash_leaf`]); a node
//! compresses its four children with the node permutation ([`hash_node`]). Every shard's tree has depth [`DEPTH`];
//! leaves past the shard's end are all-zero leaves, so their subtrees hash to
//! [`empty_subtree_roots`] and cost nothing to compute. The node on level `l` above leaf `index`
//! is child number `(index / 4^l) % 4` of its parent: the base-4 digits of the index, least
//! significant first, are the path the circuit proves.
//!
//! [`TreeHash`] names the hash a tree is built with: [`Poseidon2Tree`] is the commitment;
//! [`Poseidon2ScalarTree`] is the same tree on the scalar path (the reference of the vector
//! path); [`CircomPoseidonTree`], the same tree over circom's Poseidon (the commitment before Poseidon2),
//! stays as the baseline the benchmarks measure against.

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use core::marker::PhantomData;

use crate::{field::fr_from_le_chunk, poseidon, poseidon2, Error, Fr};

/// The hash of a tree: one function for leaves, one for nodes, and the roots of empty subtrees.
pub trait TreeHash {
	/// A leaf's node.
	fn leaf(leaf: &[u8; LEAF_BYTES]) -> Fr;
	/// A parent of four children.
	fn node(children: &[Fr; ARITY]) -> Fr;
	/// The nodes of many leaves, appended to `out` in order.
	fn leaves(leaves: &[[u8; LEAF_BYTES]], out: &mut Vec<Fr>) {
		out.extend(leaves.iter().map(Self::leaf));
	}
	/// The parents of many groups of four children, appended to `out` in order.
	fn nodes(groups: &[[Fr; ARITY]], out: &mut Vec<Fr>) {
		out.extend(groups.iter().map(Self::node));
	}
	/// `[0]` the all-zero leaf's node, `[l]` the root of an all-zero subtree of height `l`;
	/// `DEPTH + 1` entries.
	fn empty_subtree_roots() -> &'static [Fr];
}

/// Poseidon2: the leaf permutation's compression for leaves, the node permutation's for nodes.
/// Every shard is committed so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poseidon2Tree;

impl TreeHash for Poseidon2Tree {
	fn leaf(leaf: &[u8; LEAF_BYTES]) -> Fr {
		poseidon2::compress_leaf(&leaf_fields(leaf))
	}

	fn node(children: &[Fr; ARITY]) -> Fr {
		poseidon2::compress4(children)
	}

	fn leaves(leaves: &[[u8; LEAF_BYTES]], out: &mut Vec<Fr>) {
		let fields: Vec<[Fr; LEAF_FIELDS]> = leaves.iter().map(leaf_fields).collect();
		poseidon2::compress_leaf_many(&fields, out);
	}

	fn nodes(groups: &[[Fr; ARITY]], out: &mut Vec<Fr>) {
		poseidon2::compress4_many(groups, out);
	}

	fn empty_subtree_roots() -> &'static [Fr] {
		&poseidon2::EMPTY_SUBTREE_ROOTS
	}
}

/// The same tree as [`Poseidon2Tree`] on the scalar path whatever the CPU (a few permutations
/// side by side, no vector instructions): what a CPU without AVX-512 IFMA computes, the
/// reference the vector path is tested against, and the benchmarks' scalar line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poseidon2ScalarTree;

impl TreeHash for Poseidon2ScalarTree {
	fn leaf(leaf: &[u8; LEAF_BYTES]) -> Fr {
		Poseidon2Tree::leaf(leaf)
	}

	fn node(children: &[Fr; ARITY]) -> Fr {
		Poseidon2Tree::node(children)
	}

	fn leaves(leaves: &[[u8; LEAF_BYTES]], out: &mut Vec<Fr>) {
		let fields: Vec<[Fr; LEAF_FIELDS]> = leaves.iter().map(leaf_fields).collect();
		poseidon2::compress_leaf_many_scalar(&fields, out);
	}

	fn nodes(groups: &[[Fr; ARITY]], out: &mut Vec<Fr>) {
		poseidon2::compress4_many_scalar(groups, out);
	}

	fn empty_subtree_roots() -> &'static [Fr] {
		Poseidon2Tree::empty_subtree_roots()
	}
}

/// circom's Poseidon, width 5 for leaves and nodes alike: the benchmarks' baseline only, the
/// same tree as [`Poseidon2Tree`] hashed as Cairn hashed its trees before Poseidon2 (with no
/// separation of leaves from nodes, which a speed baseline does not need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircomPoseidonTree;

impl TreeHash for CircomPoseidonTree {
	fn leaf(leaf: &[u8; LEAF_BYTES]) -> Fr {
		poseidon::hash4(&leaf_fields(leaf))
	}

	fn node(children: &[Fr; ARITY]) -> Fr {
		poseidon::hash4(children)
	}

	fn empty_subtree_roots() -> &'static [Fr] {
		&poseidon::EMPTY_SUBTREE_ROOTS
	}
}

/// Field elements of one leaf.
pub const LEAF_FIELDS: usize = 4;
/// Bytes of one leaf: four 31-byte little-endian chunks, each below the field modulus.
pub const LEAF_BYTES: usize = LEAF_FIELDS * CHUNK_BYTES;
/// Bytes of one leaf chunk (one field element).
pub const CHUNK_BYTES: usize = 31;
/// Children per node.
pub const ARITY: usize = 4;
/// Levels of nodes above the leaves.
pub const DEPTH: u32 = 11;
/// Leaves of a full tree: `4^DEPTH`.
pub const MAX_LEAVES: u64 = 1 << (2 * DEPTH);
/// Largest shard a tree commits: `MAX_LEAVES * LEAF_BYTES` (496 MiB).
pub const MAX_SHARD_BYTES: u64 = MAX_LEAVES * LEAF_BYTES as u64;

/// A leaf's four field elements: bytes `0..31`, `31..62`, `62..93` and `93..124`, each read
/// little-endian.
pub fn leaf_fields(leaf: &[u8; LEAF_BYTES]) -> [Fr; LEAF_FIELDS] {
	core::array::from_fn(|i| {
		fr_from_le_chunk(&leaf[i * CHUNK_BYTES..(i + 1) * CHUNK_BYTES])
			.expect("a 31-byte chunk is below 2^248 < p")
	})
}

/// The leaf's node in the commitment: `poseidon2::compress_leaf(leaf_fields(leaf))`.
pub fn hash_leaf(leaf: &[u8; LEAF_BYTES]) -> Fr {
	Poseidon2Tree::leaf(leaf)
}

/// A parent node in the commitment: `poseidon2::compress4(children)`.
pub fn hash_node(children: &[Fr; ARITY]) -> Fr {
	Poseidon2Tree::node(children)
}

/// Roots of the commitment's all-zero subtrees: `[0]` is the hash of the all-zero leaf, `[l]`
/// the root of a subtree of height `l`; `DEPTH + 1` entries.
pub fn empty_subtree_roots() -> &'static [Fr] {
	Poseidon2Tree::empty_subtree_roots()
}

/// Position (0..4) of the node on `level` above leaf `index` among its parent's children.
pub fn position_at(index: u64, level: u32) -> usize {
	// level < 32 keeps the shift below 64; positions beyond the index's digits are 0.
	let digit = index.checked_shr(2 * level).unwrap_or(0) & 3;
	digit as usize
}

/// The four children of a parent, given one child, its position and the other three in order.
pub fn children_with(node: Fr, position: usize, siblings: &[Fr; 3]) -> [Fr; ARITY] {
	let mut children = [Fr::from(0u64); ARITY];
	let mut others = siblings.iter();
	for (slot, child) in children.iter_mut().enumerate() {
		*child = if slot == position {
			node
		} else {
			*others.next().expect("three siblings fill the three other slots")
		};
	}
	children
}

/// The other three children of a parent in order, leaving out `position`.
pub fn siblings_of(children: &[Fr; ARITY], position: usize) -> [Fr; 3] {
	let mut siblings = [Fr::from(0u64); 3];
	let others = children.iter().enumerate().filter(|(slot, _)| *slot != position);
	for (sibling, (_, child)) in siblings.iter_mut().zip(others) {
		*sibling = *child;
	}
	siblings
}

/// A leaf and the siblings on its path to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
	/// The leaf's index in the shard (padding leaves included), below [`MAX_LEAVES`].
	pub index: u64,
	/// The leaf's bytes.
	pub leaf: [u8; LEAF_BYTES],
	/// `siblings[l]`: the other three children of the level-`l + 1` node on the path, in order.
	pub siblings: Vec<[Fr; 3]>,
}

/// The root a proof leads to, hashing through as many levels as it has siblings.
pub fn root_from_proof(proof: &MerkleProof) -> Fr {
	let mut node = hash_leaf(&proof.leaf);
	for (level, siblings) in (0u32..).zip(&proof.siblings) {
		node = hash_node(&children_with(node, position_at(proof.index, level), siblings));
	}
	node
}

/// [`root_from_proof`] for a well-formed proof: exactly [`DEPTH`] levels, index in range.
pub fn try_root_from_proof(proof: &MerkleProof) -> Result<Fr, Error> {
	if proof.siblings.len() != DEPTH as usize {
		return Err(Error::PathLength { expected: DEPTH as usize, actual: proof.siblings.len() });
	}
	if proof.index >= MAX_LEAVES {
		return Err(Error::IndexOutOfRange { index: proof.index, capacity: MAX_LEAVES });
	}
	Ok(root_from_proof(proof))
}

/// Whether a well-formed proof leads to `root`.
pub fn verify(root: &Fr, proof: &MerkleProof) -> bool {
	try_root_from_proof(proof).is_ok_and(|computed| computed == *root)
}

/// Leaves of a shard of `shard_bytes` bytes: `ceil(shard_bytes / LEAF_BYTES)`; the last is zero-padded.
pub fn leaf_count(shard_bytes: u64) -> u64 {
	shard_bytes.div_ceil(LEAF_BYTES as u64)
}

/// Leaf `index` of a shard held in memory, zero-padded past its end.
pub fn leaf_at(shard: &[u8], index: u64) -> [u8; LEAF_BYTES] {
	let mut leaf = [0u8; LEAF_BYTES];
	let start = usize::try_from(index).ok().and_then(|i| i.checked_mul(LEAF_BYTES));
	if let Some(bytes) = start.and_then(|start| shard.get(start..)) {
		let len = bytes.len().min(LEAF_BYTES);
		leaf[..len].copy_from_slice(&bytes[..len]);
	}
	leaf
}

/// The nodes of the leaves of `bytes` (leaves of [`LEAF_BYTES`], the last zero-padded) over `H`.
pub fn leaf_nodes<H: TreeHash>(bytes: &[u8]) -> Vec<Fr> {
	let count = bytes.len().div_ceil(LEAF_BYTES) as u64;
	let leaves: Vec<[u8; LEAF_BYTES]> = (0..count).map(|index| leaf_at(bytes, index)).collect();
	let mut nodes = Vec::with_capacity(leaves.len());
	H::leaves(&leaves, &mut nodes);
	nodes
}

/// The parents of a level's nodes over `H`, four children each, the last group filled with the
/// level's padding node `empty`: `ceil(below.len() / 4)` of them.
pub fn level_above<H: TreeHash>(below: &[Fr], empty: Fr) -> Vec<Fr> {
	let groups: Vec<[Fr; ARITY]> = below
		.chunks(ARITY)
		.map(|chunk| {
			let mut children = [empty; ARITY];
			children[..chunk.len()].copy_from_slice(chunk);
			children
		})
		.collect();
	let mut parents = Vec::with_capacity(groups.len());
	H::nodes(&groups, &mut parents);
	parents
}

/// A whole shard tree in memory, keeping only nodes above real leaves (padding subtrees are
/// [`empty_subtree_roots`]). The reference the streaming commitment is tested against, and the
/// source of proofs for small shards.
#[derive(Debug, Clone)]
pub struct MemoryTree<H = Poseidon2Tree> {
	/// `levels[0]` holds the leaf nodes, `levels[DEPTH]` the root.
	levels: Vec<Vec<Fr>>,
	leaves: Vec<[u8; LEAF_BYTES]>,
	hash: PhantomData<H>,
}

impl MemoryTree {
	/// The commitment's tree of a shard's bytes, or [`Error::IndexOutOfRange`] past
	/// [`MAX_SHARD_BYTES`].
	pub fn from_shard(shard: &[u8]) -> Result<Self, Error> {
		Self::with_hash(shard)
	}
}

impl<H: TreeHash> MemoryTree<H> {
	/// The tree of a shard's bytes over the hash `H`.
	pub fn with_hash(shard: &[u8]) -> Result<Self, Error> {
		let count = leaf_count(shard.len() as u64);
		if count > MAX_LEAVES {
			return Err(Error::IndexOutOfRange { index: count - 1, capacity: MAX_LEAVES });
		}
		let leaves: Vec<[u8; LEAF_BYTES]> = (0..count).map(|i| leaf_at(shard, i)).collect();
		let mut levels = Vec::with_capacity(DEPTH as usize + 1);
		let mut nodes = Vec::with_capacity(leaves.len());
		H::leaves(&leaves, &mut nodes);
		levels.push(nodes);
		for level in 0..DEPTH as usize {
			let parents = level_above::<H>(&levels[level], H::empty_subtree_roots()[level]);
			levels.push(parents);
		}
		Ok(MemoryTree { levels, leaves, hash: PhantomData })
	}

	/// The shard's commitment.
	pub fn root(&self) -> Fr {
		self.levels[DEPTH as usize]
			.first()
			.copied()
			.unwrap_or(H::empty_subtree_roots()[DEPTH as usize])
	}

	/// Real (non-padding) leaves.
	pub fn leaf_count(&self) -> u64 {
		self.leaves.len() as u64
	}

	/// The proof for leaf `index`; padding leaves (past the shard, below [`MAX_LEAVES`]) too.
	pub fn proof(&self, index: u64) -> Result<MerkleProof, Error> {
		if index >= MAX_LEAVES {
			return Err(Error::IndexOutOfRange { index, capacity: MAX_LEAVES });
		}
		let leaf = usize::try_from(index)
			.ok()
			.and_then(|i| self.leaves.get(i))
			.copied()
			.unwrap_or([0u8; LEAF_BYTES]);
		let mut siblings = Vec::with_capacity(DEPTH as usize);
		for level in 0..DEPTH {
			let nodes = &self.levels[level as usize];
			let empty = H::empty_subtree_roots()[level as usize];
			let parent = index >> (2 * (level + 1));
			let mut children = [empty; ARITY];
			for (slot, child) in (0u64..).zip(children.iter_mut()) {
				let at = usize::try_from(parent * ARITY as u64 + slot).ok();
				if let Some(node) = at.and_then(|at| nodes.get(at)) {
					*child = *node;
				}
			}
			siblings.push(siblings_of(&children, position_at(index, level)));
		}
		Ok(MerkleProof { index, leaf, siblings })
	}
}
