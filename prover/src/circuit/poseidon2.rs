//! Poseidon2 as R1CS constraints, on exactly the native parameters
//! ([`cairn_primitives::poseidon2::Permutation::params`]).
//!
//! Each S-box costs three constraints (x², x⁴, x⁵); round constants and both matrix layers are
//! linear and free, each a single symbolic linear combination per state element. A permutation
//! (width 4, the leaf's or the node's) costs 8·4·3 + 56·3 = 264 constraints.

use alloc::vec::Vec;

use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::r1cs::SynthesisError;
use cairn_primitives::{
	poseidon2::{Permutation, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH},
	Fr,
};

use super::poseidon::{linear_combination, sbox};

/// `matrix · state + constants`, one linear combination per row.
fn mix(
	state: &[FpVar<Fr>],
	entry: impl Fn(usize, usize) -> Fr,
	constant: impl Fn(usize) -> Fr,
) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
	(0..state.len())
		.map(|row| {
			linear_combination(
				state.iter().enumerate().map(|(column, element)| (entry(row, column), element)),
				constant(row),
			)
		})
		.collect()
}

/// `permutation` of `state`.
pub fn permutation_var(
	permutation: Permutation,
	state: &[FpVar<Fr>; WIDTH],
) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
	let params = permutation.params();
	let rounds = FULL_ROUNDS + PARTIAL_ROUNDS;
	// The first round's constants fold into the initial external layer.
	let mut state =
		mix(state, |r, c| params.external_entry(r, c), |row| params.round_constant(0, row))?;
	for round in 0..rounds {
		if params.is_full_round(round) {
			for element in state.iter_mut() {
				*element = sbox(element)?;
			}
		} else {
			state[0] = sbox(&state[0])?;
		}
		let next = |row: usize| {
			if round + 1 < rounds {
				params.round_constant(round + 1, row)
			} else {
				Fr::from(0u64)
			}
		};
		state = if params.is_full_round(round) {
			mix(&state, |r, c| params.external_entry(r, c), next)?
		} else {
			mix(&state, |r, c| params.internal_entry(r, c), next)?
		};
	}
	Ok(state)
}

/// `P(x)[0] + x[0]` with `permutation`: a leaf's hash as
/// [`cairn_primitives::poseidon2::compress_leaf`] with [`Permutation::Leaf`], a node's as
/// [`cairn_primitives::poseidon2::compress4`] with [`Permutation::Node`].
pub fn compress_var(
	permutation: Permutation,
	input: &[FpVar<Fr>; WIDTH],
) -> Result<FpVar<Fr>, SynthesisError> {
	let state = permutation_var(permutation, input)?;
	linear_combination(
		[(Fr::from(1u64), &state[0]), (Fr::from(1u64), &input[0])].into_iter(),
		Fr::from(0u64),
	)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::circuit::witnesses;
	use ark_r1cs_std::prelude::*;
	use ark_relations::r1cs::ConstraintSystem;
	use cairn_primitives::poseidon2::{compress4, compress_leaf, permute4, permute_leaf};

	fn four(inputs: &[FpVar<Fr>]) -> [FpVar<Fr>; WIDTH] {
		core::array::from_fn(|i| inputs[i].clone())
	}

	#[test]
	fn gadget_equals_the_native_permutations_and_hashes() {
		let vectors: [[u64; 4]; 3] = [[0, 1, 2, 3], [0, 0, 0, 0], [u64::MAX, 7, 1 << 40, 99]];
		for vector in vectors {
			let values = vector.map(Fr::from);
			let cs = ConstraintSystem::<Fr>::new_ref();
			let inputs = four(&witnesses(&cs, &values));
			let natives: [fn(&mut [Fr; WIDTH]); 2] = [permute_leaf, permute4];
			for (permutation, native) in
				[Permutation::Leaf, Permutation::Node].into_iter().zip(natives)
			{
				let gadget = permutation_var(permutation, &inputs).expect("synthesizes");
				let mut expected = values;
				native(&mut expected);
				let gadget: Vec<Fr> = gadget.iter().map(|v| v.value().expect("assigned")).collect();
				assert_eq!(gadget, expected.to_vec(), "{permutation:?}");
			}
			assert_eq!(cs.num_constraints(), 2 * 264);

			let leaf = compress_var(Permutation::Leaf, &inputs).expect("synthesizes");
			assert_eq!(leaf.value().expect("assigned"), compress_leaf(&values));
			let node = compress_var(Permutation::Node, &inputs).expect("synthesizes");
			assert_eq!(node.value().expect("assigned"), compress4(&values));
			assert_eq!(cs.num_constraints(), 4 * 264);
			assert!(cs.is_satisfied().expect("prove mode"));
		}
	}

	#[test]
	fn gadget_output_is_bound_by_constraints() {
		for permutation in [Permutation::Leaf, Permutation::Node] {
			let cs = ConstraintSystem::<Fr>::new_ref();
			let inputs = four(&witnesses(&cs, &[1, 2, 3, 4].map(Fr::from)));
			let out = compress_var(permutation, &inputs).expect("synthesizes");
			let wrong = compress4(&[1, 2, 3, 5].map(Fr::from));
			let claimed = FpVar::new_input(cs.clone(), || Ok(wrong)).expect("allocates");
			out.enforce_equal(&claimed).expect("enforces");
			assert!(!cs.is_satisfied().expect("prove mode"));
		}
	}
}
