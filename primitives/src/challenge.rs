//! Which leaves a proving period challenges, and the value that binds a proof to one use.
//!
//! Both functions run on chain (in the WASM runtime, `no_std`) and off chain with identical
//! results; they only hash with BLAKE2b-256.

use alloc::vec::Vec;

use sp_crypto_hashing::blake2_256;

/// Domain tag of the binding preimage.
pub const BINDING_DOMAIN: &[u8] = b"cairn/binding";

/// Bytes hashed for one challenge: seed ‖ contract ‖ shard ‖ period ‖ j.
const INDEX_PREIMAGE_BYTES: usize = 32 + 8 + 4 + 4 + 4;

/// Leaf index of challenge `j`:
/// `u64::from_le_bytes(blake2_256(seed ‖ contract ‖ shard ‖ period ‖ j)[..8]) % leaf_count`,
/// integers little-endian. `None` when `leaf_count` is zero (an empty shard has nothing to prove).
///
/// The modulo bias is below `leaf_count / 2^64 ≤ 2^-42` for any shard Cairn stores.
pub fn challenge_index(
	seed: &[u8; 32],
	contract: u64,
	shard: u32,
	period: u32,
	j: u32,
	leaf_count: u64,
) -> Option<u64> {
	let mut preimage = [0u8; INDEX_PREIMAGE_BYTES];
	preimage[..32].copy_from_slice(seed);
	preimage[32..40].copy_from_slice(&contract.to_le_bytes());
	preimage[40..44].copy_from_slice(&shard.to_le_bytes());
	preimage[44..48].copy_from_slice(&period.to_le_bytes());
	preimage[48..52].copy_from_slice(&j.to_le_bytes());
	let digest = blake2_256(&preimage);
	let mut word = [0u8; 8];
	word.copy_from_slice(&digest[..8]);
	u64::from_le_bytes(word).checked_rem(leaf_count)
}

/// The `count` challenged leaf indices `i_0 .. i_{count-1}` (see [`challenge_index`]); empty when
/// `leaf_count` is zero. Indices may repeat: each challenge is drawn independently.
///
/// `count` is a protocol constant (the circuit's challenge count), so the result is bounded by it.
pub fn challenge_indices(
	seed: &[u8; 32],
	contract: u64,
	shard: u32,
	period: u32,
	count: u32,
	leaf_count: u64,
) -> Vec<u64> {
	(0..count)
		.map_while(|j| challenge_index(seed, contract, shard, period, j, leaf_count))
		.collect()
}

/// `blake2_256(b"cairn/binding" ‖ provider ‖ contract ‖ shard ‖ period)` with its last byte
/// cleared, so that read as a little-endian integer it is below 2^248 < p: a valid field element.
pub fn binding(provider: &[u8; 32], contract: u64, shard: u32, period: u32) -> [u8; 32] {
	let mut preimage = [0u8; BINDING_DOMAIN.len() + 32 + 8 + 4 + 4];
	let (tag, rest) = preimage.split_at_mut(BINDING_DOMAIN.len());
	tag.copy_from_slice(BINDING_DOMAIN);
	rest[..32].copy_from_slice(provider);
	rest[32..40].copy_from_slice(&contract.to_le_bytes());
	rest[40..44].copy_from_slice(&shard.to_le_bytes());
	rest[44..48].copy_from_slice(&period.to_le_bytes());
	let mut value = blake2_256(&preimage);
	value[31] = 0;
	value
}

/// [`binding`] as the field element the circuit takes as a public input.
pub fn binding_field(provider: &[u8; 32], contract: u64, shard: u32, period: u32) -> crate::Fr {
	let bytes = binding(provider, contract, shard, period);
	crate::field::fr_from_le_chunk(&bytes[..31])
		.expect("31 little-endian bytes are below 2^248 < p, always a field element")
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::field::fr_to_le_bytes;

	#[test]
	fn indices_follow_the_documented_preimage() {
		let seed = [7u8; 32];
		let mut preimage = seed.to_vec();
		preimage.extend_from_slice(&42u64.to_le_bytes());
		preimage.extend_from_slice(&3u32.to_le_bytes());
		preimage.extend_from_slice(&9u32.to_le_bytes());
		preimage.extend_from_slice(&1u32.to_le_bytes());
		let digest = blake2_256(&preimage);
		let expected = u64::from_le_bytes(digest[..8].try_into().unwrap()) % 1000;
		let indices = challenge_indices(&seed, 42, 3, 9, 4, 1000);
		assert_eq!(indices.len(), 4);
		assert_eq!(indices[1], expected);
		assert!(indices.iter().all(|i| *i < 1000));
	}

	#[test]
	fn indices_depend_on_every_input() {
		let base = challenge_indices(&[1; 32], 1, 1, 1, 8, 1 << 22);
		assert_ne!(base, challenge_indices(&[2; 32], 1, 1, 1, 8, 1 << 22));
		assert_ne!(base, challenge_indices(&[1; 32], 2, 1, 1, 8, 1 << 22));
		assert_ne!(base, challenge_indices(&[1; 32], 1, 2, 1, 8, 1 << 22));
		assert_ne!(base, challenge_indices(&[1; 32], 1, 1, 2, 8, 1 << 22));
		assert_eq!(base, challenge_indices(&[1; 32], 1, 1, 1, 8, 1 << 22));
	}

	#[test]
	fn empty_shard_has_no_challenges() {
		assert!(challenge_indices(&[1; 32], 1, 1, 1, 8, 0).is_empty());
		assert_eq!(challenge_indices(&[1; 32], 1, 1, 1, 8, 1), vec![0; 8]);
	}

	#[test]
	fn binding_is_a_field_element_and_separates_uses() {
		let provider = [5u8; 32];
		let value = binding(&provider, 1, 2, 3);
		assert_eq!(value[31], 0);
		assert_eq!(fr_to_le_bytes(&binding_field(&provider, 1, 2, 3)), value);
		let mut preimage = b"cairn/binding".to_vec();
		preimage.extend_from_slice(&provider);
		preimage.extend_from_slice(&1u64.to_le_bytes());
		preimage.extend_from_slice(&2u32.to_le_bytes());
		preimage.extend_from_slice(&3u32.to_le_bytes());
		assert_eq!(value[..31], blake2_256(&preimage)[..31]);
		assert_ne!(value, binding(&[6u8; 32], 1, 2, 3));
		assert_ne!(value, binding(&provider, 9, 2, 3));
		assert_ne!(value, binding(&provider, 1, 9, 3));
		assert_ne!(value, binding(&provider, 1, 2, 9));
	}
}
