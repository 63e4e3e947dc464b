//! The public statement of one proving period and its native ("vanilla") check.
//!
//! A [`ProofRequest`] holds the on-chain facts; [`ProofRequest::statement`] derives the root, the
//! challenged indices and the binding value exactly as the runtime does. The circuit proves what
//! [`Statement::check_openings`] checks natively.

use alloc::vec::Vec;

use ark_ff::{AdditiveGroup, Field};
use cairn_primitives::{
	challenge,
	field::fr_from_le_bytes,
	tree::{self, MerkleProof},
	Fr,
};

use crate::{Error, MAX_CHALLENGES};

/// Bits of one leaf index (two per tree level: the base-4 path digits).
pub const INDEX_BITS: usize = 2 * tree::DEPTH as usize;
/// Indices packed into one public input (`11 × 22 = 242` bits, below the 254-bit field).
pub const INDICES_PER_INPUT: usize = 11;

/// Public inputs before the packed indices: the root and the binding value.
const FIXED_INPUTS: usize = 2;

/// What the chain knows when it asks for a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRequest {
	/// Randomness of the block that opened the period.
	pub seed: [u8; 32],
	/// The provider's account.
	pub provider: [u8; 32],
	/// The storage contract.
	pub contract: u64,
	/// The shard within the contract.
	pub shard: u32,
	/// The proving period.
	pub period: u32,
	/// The shard's committed root, little-endian field element.
	pub root: [u8; 32],
	/// The shard's size.
	pub shard_bytes: u64,
}

impl ProofRequest {
	/// The statement with `challenges` challenged leaves.
	pub fn statement(&self, challenges: usize) -> Result<Statement, Error> {
		check_challenge_count(challenges)?;
		let leaf_count = tree::leaf_count(self.shard_bytes);
		if leaf_count == 0 {
			return Err(Error::EmptyShard);
		}
		if leaf_count > tree::MAX_LEAVES {
			return Err(Error::ShardTooLarge {
				bytes: self.shard_bytes,
				max: tree::MAX_SHARD_BYTES,
			});
		}
		let count = u32::try_from(challenges)
			.map_err(|_| Error::ChallengeCount { count: challenges, max: MAX_CHALLENGES })?;
		let indices = challenge::challenge_indices(
			&self.seed,
			self.contract,
			self.shard,
			self.period,
			count,
			leaf_count,
		);
		let binding =
			challenge::binding_field(&self.provider, self.contract, self.shard, self.period);
		Statement::from_fields(fr_from_le_bytes(&self.root)?, binding, indices)
	}
}

fn check_challenge_count(count: usize) -> Result<(), Error> {
	if count == 0 || count > MAX_CHALLENGES {
		return Err(Error::ChallengeCount { count, max: MAX_CHALLENGES });
	}
	Ok(())
}

/// The public part of a storage proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
	root: Fr,
	binding: Fr,
	indices: Vec<u64>,
}

impl Statement {
	/// A statement from byte encodings; refuses field elements `>= p` and indices past the tree.
	pub fn new(root: &[u8; 32], binding: &[u8; 32], indices: Vec<u64>) -> Result<Self, Error> {
		Self::from_fields(fr_from_le_bytes(root)?, fr_from_le_bytes(binding)?, indices)
	}

	/// A statement from field elements; refuses indices past the tree and bad counts.
	pub fn from_fields(root: Fr, binding: Fr, indices: Vec<u64>) -> Result<Self, Error> {
		check_challenge_count(indices.len())?;
		if let Some(index) = indices.iter().find(|index| **index >= tree::MAX_LEAVES) {
			return Err(Error::IndexOutOfRange { index: *index, capacity: tree::MAX_LEAVES });
		}
		Ok(Statement { root, binding, indices })
	}

	/// The shard's root.
	pub fn root(&self) -> Fr {
		self.root
	}

	/// The binding value (provider, contract, shard, period).
	pub fn binding(&self) -> Fr {
		self.binding
	}

	/// The challenged leaf indices, in challenge order.
	pub fn indices(&self) -> &[u64] {
		&self.indices
	}

	/// Public inputs of a circuit with `challenges` challenges.
	pub fn input_count(challenges: usize) -> usize {
		FIXED_INPUTS + challenges.div_ceil(INDICES_PER_INPUT)
	}

	/// Public inputs in circuit order: root, binding, then the indices packed
	/// [`INDICES_PER_INPUT`] to a field element, index `k` of a group at bit `22 k`.
	pub fn public_inputs(&self) -> Vec<Fr> {
		let mut inputs = Vec::with_capacity(Self::input_count(self.indices.len()));
		inputs.push(self.root);
		inputs.push(self.binding);
		inputs.extend(pack_indices(&self.indices));
		inputs
	}

	/// The native check the circuit mirrors: one opening per challenge, for the challenged
	/// leaf, leading to the root.
	pub fn check_openings(&self, openings: &[MerkleProof]) -> Result<(), Error> {
		if openings.len() != self.indices.len() {
			return Err(Error::ChallengeMismatch {
				expected: self.indices.len(),
				actual: openings.len(),
			});
		}
		for (position, (opening, index)) in openings.iter().zip(&self.indices).enumerate() {
			if opening.index != *index {
				return Err(Error::OpeningIndex {
					position,
					expected: *index,
					actual: opening.index,
				});
			}
			if tree::try_root_from_proof(opening)? != self.root {
				return Err(Error::OpeningInvalid { position, index: *index });
			}
		}
		Ok(())
	}
}

/// Packs indices (each below `2^22`) [`INDICES_PER_INPUT`] to a field element.
pub fn pack_indices(indices: &[u64]) -> Vec<Fr> {
	let shift = Fr::from(1u64 << INDEX_BITS);
	indices
		.chunks(INDICES_PER_INPUT)
		.map(|group| {
			group.iter().rev().fold(Fr::ZERO, |packed, index| packed * shift + Fr::from(*index))
		})
		.collect()
}

/// `2^bits` as a field element.
#[cfg_attr(not(feature = "prove"), allow(dead_code))]
pub(crate) fn power_of_two(bits: usize) -> Fr {
	Fr::from(2u64).pow([bits as u64])
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_primitives::tree::MemoryTree;

	fn request(shard: &[u8], tree: &MemoryTree) -> ProofRequest {
		ProofRequest {
			seed: [3; 32],
			provider: [4; 32],
			contract: 11,
			shard: 2,
			period: 5,
			root: cairn_primitives::field::fr_to_le_bytes(&tree.root()),
			shard_bytes: shard.len() as u64,
		}
	}

	#[test]
	fn packing_places_each_index_at_its_bit_offset() {
		let indices: Vec<u64> = (0..13).map(|i| (1 << 21) + i).collect();
		let packed = pack_indices(&indices);
		assert_eq!(packed.len(), 2);
		let expected: Fr = indices[..11]
			.iter()
			.enumerate()
			.map(|(k, index)| Fr::from(*index) * power_of_two(INDEX_BITS * k))
			.sum();
		assert_eq!(packed[0], expected);
		assert_eq!(packed[1], Fr::from(indices[11]) + Fr::from(indices[12]) * power_of_two(22));
		assert_eq!(Statement::input_count(13), 4);
		assert_eq!(Statement::input_count(11), 3);
	}

	#[test]
	fn statement_matches_the_chain_functions_and_openings_check() {
		let shard: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
		let tree = MemoryTree::from_shard(&shard).expect("fits");
		let request = request(&shard, &tree);
		let statement = request.statement(8).expect("valid request");
		let leaf_count = tree::leaf_count(shard.len() as u64);
		assert_eq!(
			statement.indices(),
			challenge::challenge_indices(&[3; 32], 11, 2, 5, 8, leaf_count).as_slice()
		);
		assert_eq!(statement.binding(), challenge::binding_field(&[4; 32], 11, 2, 5));
		let openings: Vec<MerkleProof> =
			statement.indices().iter().map(|i| tree.proof(*i).expect("in range")).collect();
		statement.check_openings(&openings).expect("honest openings pass");

		let mut swapped = openings.clone();
		swapped.swap(0, 1);
		if swapped[0].index != openings[0].index {
			assert!(matches!(statement.check_openings(&swapped), Err(Error::OpeningIndex { .. })));
		}
		let mut corrupted = openings.clone();
		corrupted[3].leaf[0] ^= 0x80;
		assert!(matches!(
			statement.check_openings(&corrupted),
			Err(Error::OpeningInvalid { position: 3, .. })
		));
		assert!(matches!(
			statement.check_openings(&openings[..7]),
			Err(Error::ChallengeMismatch { expected: 8, actual: 7 })
		));
	}

	#[test]
	fn bad_requests_are_refused() {
		let tree = MemoryTree::from_shard(&[1u8; 100]).expect("fits");
		let mut request = request(&[1u8; 100], &tree);
		assert!(matches!(request.statement(0), Err(Error::ChallengeCount { .. })));
		assert!(matches!(request.statement(MAX_CHALLENGES + 1), Err(Error::ChallengeCount { .. })));
		request.root = [0xff; 32];
		assert!(matches!(request.statement(4), Err(Error::Primitives(_))));
		request.root = [0; 32];
		request.shard_bytes = 0;
		assert!(matches!(request.statement(4), Err(Error::EmptyShard)));
		request.shard_bytes = tree::MAX_SHARD_BYTES + 1;
		assert!(matches!(request.statement(4), Err(Error::ShardTooLarge { .. })));
		assert!(matches!(
			Statement::from_fields(Fr::ZERO, Fr::ZERO, vec![tree::MAX_LEAVES]),
			Err(Error::IndexOutOfRange { .. })
		));
	}
}
