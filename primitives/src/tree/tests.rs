use proptest::prelude::*;

use super::*;
use crate::{
	poseidon,
	poseidon2::{compress4 as hash4, compress_leaf},
};

fn shard_of(len: usize, salt: u8) -> Vec<u8> {
	(0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt)).collect()
}

#[test]
fn leaf_fields_are_four_little_endian_chunks() {
	let mut leaf = [0u8; LEAF_BYTES];
	leaf[0] = 1;
	leaf[1] = 2;
	leaf[31] = 3;
	leaf[61] = 0xff;
	leaf[62] = 4;
	leaf[123] = 0x80;
	let fields = leaf_fields(&leaf);
	assert_eq!(fields[0], Fr::from(0x0201u64));
	let mut expected_second = [0u8; 32];
	expected_second[0] = 3;
	expected_second[30] = 0xff;
	assert_eq!(crate::field::fr_to_le_bytes(&fields[1]), expected_second);
	assert_eq!(fields[2], Fr::from(4u64));
	let mut expected_last = [0u8; 32];
	expected_last[30] = 0x80;
	assert_eq!(crate::field::fr_to_le_bytes(&fields[3]), expected_last);
	assert_eq!(hash_leaf(&leaf), compress_leaf(&fields));
}

#[test]
fn empty_subtree_roots_chain_from_the_zero_leaf() {
	let roots = empty_subtree_roots();
	assert_eq!(roots.len(), DEPTH as usize + 1);
	assert_eq!(roots[0], hash_leaf(&[0u8; LEAF_BYTES]));
	for level in 1..roots.len() {
		assert_eq!(roots[level], hash4(&[roots[level - 1]; 4]));
	}
}

#[test]
fn the_circom_baseline_tree_is_the_same_tree_over_circom_poseidon() {
	let roots = CircomPoseidonTree::empty_subtree_roots();
	assert_eq!(roots.len(), DEPTH as usize + 1);
	assert_eq!(roots[0], poseidon::hash4(&[Fr::from(0u64); 4]));
	for level in 1..roots.len() {
		assert_eq!(roots[level], poseidon::hash4(&[roots[level - 1]; 4]));
	}
	let shard = shard_of(1_000, 3);
	let circom = MemoryTree::<CircomPoseidonTree>::with_hash(&shard).expect("fits");
	let ours = MemoryTree::from_shard(&shard).expect("fits");
	assert_ne!(circom.root(), ours.root());
	let leaf = leaf_at(&shard, 5);
	assert_eq!(CircomPoseidonTree::leaf(&leaf), poseidon::hash4(&leaf_fields(&leaf)));
	assert_eq!(circom.proof(5).expect("in range").leaf, leaf);
}

#[test]
fn the_tree_on_the_fastest_path_is_the_tree_on_the_scalar_path() {
	// Sizes around a batch of eight leaves and of eight nodes, and a many-level tree.
	for len in [
		0,
		1,
		LEAF_BYTES,
		LEAF_BYTES * 7 + 1,
		LEAF_BYTES * 8,
		LEAF_BYTES * 9,
		LEAF_BYTES * 33 - 5,
		LEAF_BYTES * 4 * 8 * 8 + 3,
		100_000,
	] {
		let shard = shard_of(len, len as u8);
		let many = MemoryTree::from_shard(&shard).expect("fits");
		let one = MemoryTree::<Poseidon2ScalarTree>::with_hash(&shard).expect("fits");
		assert_eq!(many.root(), one.root(), "{len} bytes");
		let last = leaf_count(len as u64).saturating_sub(1);
		assert_eq!(many.proof(last), one.proof(last), "{len} bytes");
	}
}

#[test]
fn leaf_count_rounds_up() {
	assert_eq!(leaf_count(0), 0);
	assert_eq!(leaf_count(1), 1);
	assert_eq!(leaf_count(LEAF_BYTES as u64), 1);
	assert_eq!(leaf_count(LEAF_BYTES as u64 + 1), 2);
	assert_eq!(leaf_count(MAX_SHARD_BYTES), MAX_LEAVES);
	assert_eq!(MAX_LEAVES, 4u64.pow(DEPTH));
}

#[test]
fn empty_and_zero_shards_share_the_empty_root() {
	let empty = MemoryTree::from_shard(&[]).expect("an empty shard fits");
	assert_eq!(empty.root(), empty_subtree_roots()[DEPTH as usize]);
	// A shard of zero bytes pads with zero leaves, so its tree equals the empty tree.
	let zeros = MemoryTree::from_shard(&[0u8; LEAF_BYTES * 5]).expect("fits");
	assert_eq!(zeros.root(), empty.root());
	let one_byte = MemoryTree::from_shard(&[1u8]).expect("fits");
	assert_ne!(one_byte.root(), empty.root());
}

#[test]
fn small_tree_matches_a_hand_computation() {
	let shard = shard_of(LEAF_BYTES * 5 + 7, 3);
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	let leaves: Vec<Fr> = (0..6).map(|i| hash_leaf(&leaf_at(&shard, i))).collect();
	let empty = empty_subtree_roots();
	let first = hash4(&[leaves[0], leaves[1], leaves[2], leaves[3]]);
	let second = hash4(&[leaves[4], leaves[5], empty[0], empty[0]]);
	let mut node = hash4(&[first, second, empty[1], empty[1]]);
	for empty_sibling in &empty[2..DEPTH as usize] {
		node = hash4(&[node, *empty_sibling, *empty_sibling, *empty_sibling]);
	}
	assert_eq!(tree.root(), node);
	assert_eq!(tree.leaf_count(), 6);
	// The last real leaf is zero-padded.
	let mut last = [0u8; LEAF_BYTES];
	last[..7].copy_from_slice(&shard[LEAF_BYTES * 5..]);
	assert_eq!(leaf_at(&shard, 5), last);
}

#[test]
fn malformed_proofs_are_refused() {
	let shard = shard_of(LEAF_BYTES * 9, 1);
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	let mut proof = tree.proof(4).expect("in range");
	assert!(verify(&tree.root(), &proof));
	proof.siblings.pop();
	assert_eq!(
		try_root_from_proof(&proof),
		Err(Error::PathLength { expected: DEPTH as usize, actual: DEPTH as usize - 1 })
	);
	assert!(!verify(&tree.root(), &proof));
	assert!(matches!(tree.proof(MAX_LEAVES), Err(Error::IndexOutOfRange { .. })));
	let mut far = tree.proof(4).expect("in range");
	far.index += MAX_LEAVES;
	assert!(!verify(&tree.root(), &far));
}

#[test]
fn every_position_of_a_small_shard_verifies_and_tampering_fails() {
	let shard = shard_of(LEAF_BYTES * 17 + 30, 9);
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	let root = tree.root();
	// Every real leaf, the last real leaf, and padding leaves next to and far from the end.
	let indices = (0..tree.leaf_count()).chain([18, 19, 63, 64, 1000, MAX_LEAVES - 1]);
	for index in indices {
		let proof = tree.proof(index).expect("in range");
		assert_eq!(proof.leaf, leaf_at(&shard, index));
		assert!(verify(&root, &proof), "index {index}");
		let mut wrong_leaf = proof.clone();
		wrong_leaf.leaf[61] ^= 1;
		assert!(!verify(&root, &wrong_leaf), "leaf of {index}");
		let mut wrong_index = proof.clone();
		wrong_index.index ^= 1;
		// Swapping with a neighbour holding the same bytes (padding next to padding) is no change.
		if leaf_at(&shard, wrong_index.index) != proof.leaf {
			assert!(!verify(&root, &wrong_index), "index of {index}");
		}
		let mut wrong_sibling = proof.clone();
		wrong_sibling.siblings[3][1] += Fr::from(1u64);
		assert!(!verify(&root, &wrong_sibling), "sibling of {index}");
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(24))]

	#[test]
	fn proofs_verify_for_any_shard_and_position(
		len in 1usize..LEAF_BYTES * 80,
		salt in any::<u8>(),
		pick in any::<u64>(),
	) {
		let shard = shard_of(len, salt);
		let tree = MemoryTree::from_shard(&shard).expect("fits");
		let count = leaf_count(len as u64);
		prop_assert_eq!(tree.leaf_count(), count);
		for index in [0, pick % count, count - 1, count, pick % MAX_LEAVES] {
			let proof = tree.proof(index).expect("in range");
			prop_assert!(verify(&tree.root(), &proof));
			prop_assert_eq!(proof.siblings.len(), DEPTH as usize);
			let mut moved = proof.clone();
			moved.index = (index + 1) % MAX_LEAVES;
			if leaf_at(&shard, moved.index) != proof.leaf {
				prop_assert!(!verify(&tree.root(), &moved));
			}
		}
	}

	#[test]
	fn children_and_siblings_are_inverse(position in 0usize..4, seed in any::<u64>()) {
		let children = [Fr::from(seed), Fr::from(seed ^ 1), Fr::from(seed ^ 2), Fr::from(seed ^ 3)];
		let siblings = siblings_of(&children, position);
		prop_assert_eq!(children_with(children[position], position, &siblings), children);
	}
}
