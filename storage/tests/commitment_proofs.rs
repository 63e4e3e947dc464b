//! Commitment roots against a plain level-by-level reference, and Merkle proofs for every leaf
//! position checked with the shared verifier.

use cairn_primitives::{tree, Fr};
use cairn_storage::commitment::{
	commit, prove, InMemoryShard, TreeBuilder, SUBTREE_LEAVES, TREE_LEAVES,
};
use cairn_storage::StorageError;

fn sample_shard(len: usize, seed: u8) -> Vec<u8> {
	let mut bytes = vec![0u8; len];
	let mut hasher = blake3::Hasher::new();
	hasher.update(&[seed]);
	hasher.finalize_xof().fill(&mut bytes);
	bytes
}

/// The root computed the plain way: hash every real leaf, then each level in turn, padding every
/// missing child with the empty subtree root of its level.
fn reference_root(shard: &[u8]) -> Fr {
	let empty = tree::empty_subtree_roots();
	let mut level: Vec<Fr> = shard
		.chunks(tree::LEAF_BYTES)
		.map(|chunk| {
			let mut leaf = [0u8; tree::LEAF_BYTES];
			leaf[..chunk.len()].copy_from_slice(chunk);
			tree::hash_leaf(&leaf)
		})
		.collect();
	for pad in empty.iter().take(tree::DEPTH as usize) {
		level = level
			.chunks(tree::ARITY)
			.map(|group| {
				let mut children = [*pad; tree::ARITY];
				children[..group.len()].copy_from_slice(group);
				tree::hash_node(&children)
			})
			.collect();
	}
	level.first().copied().unwrap_or(empty[tree::DEPTH as usize])
}

#[test]
fn root_matches_reference_for_edge_sizes() {
	let subtree_bytes = SUBTREE_LEAVES * tree::LEAF_BYTES;
	for len in [
		0,
		1,
		tree::LEAF_BYTES - 1,
		tree::LEAF_BYTES,
		tree::LEAF_BYTES + 1,
		tree::LEAF_BYTES * 4 + 1,
		subtree_bytes - 1,
		subtree_bytes,
		subtree_bytes + 1,
		5 * subtree_bytes + 100,
		// A task's sixteen subtrees, and one past them whose last leaf is short.
		16 * subtree_bytes,
		17 * subtree_bytes + 7,
	] {
		let shard = sample_shard(len, len as u8);
		let (commitment, _) = commit(&shard).expect("commits");
		assert_eq!(commitment.root, reference_root(&shard), "length {len}");
		assert_eq!(commitment.bytes, len as u64);
		assert_eq!(&commitment.blake3, blake3::hash(&shard).as_bytes());
	}
	let (empty, _) = commit(&[]).expect("commits");
	assert_eq!(empty.root, tree::empty_subtree_roots()[tree::DEPTH as usize]);
}

#[test]
fn streamed_root_equals_one_shot_root_across_batches() {
	// Longer than one parallel batch, fed in uneven pieces.
	let shard = sample_shard(1_100_000, 3);
	let (one_shot, upper) = commit(&shard).expect("commits");
	let mut builder = TreeBuilder::new();
	for piece in shard.chunks(65_537) {
		builder.update(piece).expect("fits");
	}
	let (streamed, streamed_upper) = builder.finish();
	assert_eq!(one_shot, streamed);
	assert_eq!(upper, streamed_upper);
	assert_eq!(one_shot.root, reference_root(&shard));
}

#[test]
fn proofs_verify_for_every_real_leaf_and_padding() {
	// 3 full subtrees and a partial one; the last leaf is short (zero-padded).
	let len = (3 * SUBTREE_LEAVES + 10) * tree::LEAF_BYTES - 17;
	let shard = sample_shard(len, 9);
	let (commitment, upper) = commit(&shard).expect("commits");
	let source = InMemoryShard { bytes: &shard, upper: &upper };
	let last_real = tree::leaf_count(len as u64) - 1;
	let mut indices: Vec<u64> = (0..=last_real).collect();
	indices.extend([
		last_real + 1,
		4 * SUBTREE_LEAVES as u64,
		4 * SUBTREE_LEAVES as u64 + 5,
		TREE_LEAVES / 2,
		TREE_LEAVES - 1,
	]);
	for batch in indices.chunks(512) {
		let proofs = prove(&source, batch).expect("proves");
		for (index, proof) in batch.iter().zip(&proofs) {
			assert_eq!(proof.index, *index);
			assert_eq!(proof.siblings.len(), tree::DEPTH as usize);
			assert!(tree::verify(&commitment.root, proof), "index {index}");
			let start = (*index as usize * tree::LEAF_BYTES).min(len);
			let end = (start + tree::LEAF_BYTES).min(len);
			assert_eq!(&proof.leaf[..end - start], &shard[start..end]);
			assert!(proof.leaf[end - start..].iter().all(|byte| *byte == 0));
		}
	}
	// The last real leaf carries the zero padding after the shard's final byte.
	let last = prove(&source, &[last_real]).expect("proves").remove(0);
	assert_eq!(last.leaf[tree::LEAF_BYTES - 17..], [0u8; 17]);
}

#[test]
fn tampered_proofs_and_bad_indices_fail() {
	let shard = sample_shard(10_000, 1);
	let (commitment, upper) = commit(&shard).expect("commits");
	let source = InMemoryShard { bytes: &shard, upper: &upper };
	let proof = prove(&source, &[7]).expect("proves").remove(0);
	let mut wrong_leaf = proof.clone();
	wrong_leaf.leaf[0] ^= 1;
	assert!(!tree::verify(&commitment.root, &wrong_leaf));
	let mut wrong_index = proof.clone();
	wrong_index.index = 8;
	assert!(!tree::verify(&commitment.root, &wrong_index));
	let mut wrong_sibling = proof;
	wrong_sibling.siblings[5][1] += Fr::from(1u64);
	assert!(!tree::verify(&commitment.root, &wrong_sibling));
	assert!(matches!(
		prove(&source, &[TREE_LEAVES]),
		Err(StorageError::ChallengeOutOfRange { .. })
	));
	let too_many = vec![0u64; 1025];
	assert!(matches!(
		prove(&source, &too_many),
		Err(StorageError::TooManyChallenges { count: 1025, .. })
	));
}
