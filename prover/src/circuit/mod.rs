//! The storage circuit: for each challenge, a leaf and its Merkle path to the public root, the
//! path digits equal to the public index; the binding value a constrained public input.
//!
//! Public inputs, in order: `root`, `binding`, then the challenged indices packed
//! [`INDICES_PER_INPUT`] to a field element (see [`Statement::public_inputs`]).

pub mod poseidon;
pub mod poseidon2;

use alloc::vec::Vec;
use core::marker::PhantomData;

use ark_r1cs_std::{fields::fp::FpVar, prelude::*};
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use cairn_primitives::{
	poseidon::params,
	poseidon2::Permutation,
	tree::{self, CircomPoseidonTree, MerkleProof, Poseidon2Tree, TreeHash, LEAF_FIELDS},
	Fr,
};

use crate::{
	statement::{pack_indices, power_of_two, Statement, INDEX_BITS, INDICES_PER_INPUT},
	Error,
};

use self::poseidon::poseidon_var;

/// A tree hash the circuit proves: the native [`TreeHash`] and the same functions as constraints.
pub trait TreeGadget: TreeHash {
	/// A leaf's node from its field elements.
	fn leaf_var(fields: &[FpVar<Fr>; LEAF_FIELDS]) -> Result<FpVar<Fr>, SynthesisError>;
	/// A parent from its four children.
	fn node_var(children: &[FpVar<Fr>; 4]) -> Result<FpVar<Fr>, SynthesisError>;
}

impl TreeGadget for Poseidon2Tree {
	fn leaf_var(fields: &[FpVar<Fr>; LEAF_FIELDS]) -> Result<FpVar<Fr>, SynthesisError> {
		poseidon2::compress_var(Permutation::Leaf, fields)
	}

	fn node_var(children: &[FpVar<Fr>; 4]) -> Result<FpVar<Fr>, SynthesisError> {
		poseidon2::compress_var(Permutation::Node, children)
	}
}

impl TreeGadget for CircomPoseidonTree {
	fn leaf_var(fields: &[FpVar<Fr>; LEAF_FIELDS]) -> Result<FpVar<Fr>, SynthesisError> {
		poseidon_var(params(5), fields)
	}

	fn node_var(children: &[FpVar<Fr>; 4]) -> Result<FpVar<Fr>, SynthesisError> {
		poseidon_var(params(5), children)
	}
}

/// The circuit; every witness is an `Option` so that the same struct serves setup (all `None`)
/// and proving. `H` is the tree's hash: [`Poseidon2Tree`], the commitment, unless a benchmark
/// asks for its circom-Poseidon baseline.
#[derive(Debug, Clone)]
pub struct StorageCircuit<H = Poseidon2Tree> {
	challenges: usize,
	statement: Option<Statement>,
	openings: Option<Vec<MerkleProof>>,
	hash: PhantomData<H>,
}

impl StorageCircuit {
	/// The circuit shape without values, for setup and for the constraint matrices.
	pub fn blank(challenges: usize) -> Self {
		Self::blank_over(challenges)
	}

	/// The circuit for a statement and one opening per challenge. The openings are not checked
	/// here (a wrong one makes an unsatisfied circuit); [`Statement::check_openings`] checks them.
	pub fn new(statement: Statement, openings: Vec<MerkleProof>) -> Result<Self, Error> {
		Self::new_over(statement, openings)
	}
}

impl<H: TreeGadget> StorageCircuit<H> {
	/// [`StorageCircuit::blank`] over the tree hash `H`.
	pub fn blank_over(challenges: usize) -> Self {
		StorageCircuit { challenges, statement: None, openings: None, hash: PhantomData }
	}

	/// [`StorageCircuit::new`] over the tree hash `H`.
	pub fn new_over(statement: Statement, openings: Vec<MerkleProof>) -> Result<Self, Error> {
		let challenges = statement.indices().len();
		if openings.len() != challenges {
			return Err(Error::ChallengeMismatch { expected: challenges, actual: openings.len() });
		}
		if let Some(bad) = openings.iter().find(|o| o.siblings.len() != tree::DEPTH as usize) {
			return Err(Error::Primitives(cairn_primitives::Error::PathLength {
				expected: tree::DEPTH as usize,
				actual: bad.siblings.len(),
			}));
		}
		Ok(StorageCircuit {
			challenges,
			statement: Some(statement),
			openings: Some(openings),
			hash: PhantomData,
		})
	}

	/// Challenges the circuit proves.
	pub fn challenges(&self) -> usize {
		self.challenges
	}

	fn opening(&self, position: usize) -> Option<&MerkleProof> {
		self.openings.as_ref().and_then(|openings| openings.get(position))
	}
}

/// Witness variables holding `values` (the gadgets' tests).
#[cfg(test)]
pub(crate) fn witnesses(cs: &ConstraintSystemRef<Fr>, values: &[Fr]) -> Vec<FpVar<Fr>> {
	values
		.iter()
		.map(|value| FpVar::new_witness(cs.clone(), || Ok(*value)).expect("allocates"))
		.collect()
}

fn missing() -> SynthesisError {
	SynthesisError::AssignmentMissing
}

/// The four children of the next node: `node` at position `low + 2·high`, the siblings in order
/// around it. Seven constraints.
fn place_among_siblings(
	node: &FpVar<Fr>,
	low: &Boolean<Fr>,
	high: &Boolean<Fr>,
	siblings: &[FpVar<Fr>; 3],
) -> Result<[FpVar<Fr>; 4], SynthesisError> {
	let at_three = FpVar::from(low & high);
	let low = FpVar::from(low.clone());
	let high = FpVar::from(high.clone());
	let one = FpVar::<Fr>::one();
	let at_zero = &one - &low - &high + &at_three;
	let at_one = &low - &at_three;
	let at_two = &high - &at_three;
	let [s0, s1, s2] = siblings;
	let child0 = s0 + &at_zero * (node - s0);
	let child1 = s1 + &at_zero * (s0 - s1) + &at_one * (node - s1);
	let child2 = s2 + (&one - &high) * (s1 - s2) + &at_two * (node - s2);
	let child3 = s2 + &at_three * (node - s2);
	Ok([child0, child1, child2, child3])
}

impl<H: TreeGadget> ConstraintSynthesizer<Fr> for StorageCircuit<H> {
	fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
		let statement = self.statement.as_ref();
		let root =
			FpVar::new_input(cs.clone(), || statement.map(Statement::root).ok_or_else(missing))?;
		let binding =
			FpVar::new_input(cs.clone(), || statement.map(Statement::binding).ok_or_else(missing))?;
		let packed_values = statement.map(|s| pack_indices(s.indices()));
		let groups = self.challenges.div_ceil(INDICES_PER_INPUT);
		let packed_inputs = (0..groups)
			.map(|group| {
				FpVar::new_input(cs.clone(), || {
					packed_values.as_ref().and_then(|p| p.get(group).copied()).ok_or_else(missing)
				})
			})
			.collect::<Result<Vec<_>, _>>()?;

		// The binding enters a constraint of its own, so no proof stands for another binding.
		let binding_square = FpVar::new_witness(cs.clone(), || binding.value().map(|b| b * b))?;
		binding.square_equals(&binding_square)?;

		let mut packed_from_paths: Vec<FpVar<Fr>> = vec![FpVar::zero(); groups];
		for position in 0..self.challenges {
			let opening = self.opening(position);
			let bits = (0..INDEX_BITS)
				.map(|bit| {
					Boolean::new_witness(cs.clone(), || {
						opening.map(|o| (o.index >> bit) & 1 == 1).ok_or_else(missing)
					})
				})
				.collect::<Result<Vec<_>, _>>()?;
			let leaf = opening.map(|o| tree::leaf_fields(&o.leaf));
			let mut leaf_vars = Vec::with_capacity(LEAF_FIELDS);
			for field in 0..LEAF_FIELDS {
				leaf_vars.push(FpVar::new_witness(cs.clone(), || {
					leaf.map(|l| l[field]).ok_or_else(missing)
				})?);
			}
			let leaf_vars: [FpVar<Fr>; LEAF_FIELDS] =
				leaf_vars.try_into().expect("LEAF_FIELDS witnesses");
			let mut node = H::leaf_var(&leaf_vars)?;
			for level in 0..tree::DEPTH as usize {
				let sibling = |k: usize| {
					FpVar::new_witness(cs.clone(), || {
						opening
							.and_then(|o| o.siblings.get(level))
							.map(|s| s[k])
							.ok_or_else(missing)
					})
				};
				let siblings = [sibling(0)?, sibling(1)?, sibling(2)?];
				let children =
					place_among_siblings(&node, &bits[2 * level], &bits[2 * level + 1], &siblings)?;
				node = H::node_var(&children)?;
			}
			node.enforce_equal(&root)?;

			let offset = INDEX_BITS * (position % INDICES_PER_INPUT);
			let group = &mut packed_from_paths[position / INDICES_PER_INPUT];
			for (bit_number, bit) in bits.iter().enumerate() {
				*group += FpVar::from(bit.clone()) * power_of_two(offset + bit_number);
			}
		}
		for (from_paths, input) in packed_from_paths.iter().zip(&packed_inputs) {
			from_paths.enforce_equal(input)?;
		}
		Ok(())
	}
}
