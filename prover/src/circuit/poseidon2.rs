//! Poseidon2 as R1CS constraints, on exactly the native parameters
//! ([`cairn_primitives::poseidon2::params`]).
//!
//! Each S-box costs three constraints (x², x⁴, x⁵); round constants and both matrix layers are
//! linear and free, each a single symbolic linear combination per state element. A width-3
//! permutation costs 8·3·3 + 56·3 = 240 constraints, a width-4 one 8·4·3 + 56·3 = 264.

use alloc::vec::Vec;

use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::r1cs::SynthesisError;
use cairn_primitives::{
	poseidon2::{params, FULL_ROUNDS, PARTIAL_ROUNDS},
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

/// The Poseidon2 permutation of `state` (width 3 or 4).
pub fn permutation_var(state: &[FpVar<Fr>]) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
	let params = params(state.len()).map_err(|_| SynthesisError::Unsatisfiable)?;
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

/// A leaf's hash, as [`cairn_primitives::poseidon2::hash2`]: `P3(a, b, 0)[0]`.
pub fn hash2_var(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
	let mut state = permutation_var(&[a.clone(), b.clone(), FpVar::Constant(Fr::from(0u64))])?;
	Ok(state.swap_remove(0))
}

/// A node's hash, as [`cairn_primitives::poseidon2::compress4`]: `P4(x)[0] + x[0]`.
pub fn compress4_var(children: &[FpVar<Fr>; 4]) -> Result<FpVar<Fr>, SynthesisError> {
	let state = permutation_var(children)?;
	linear_combination(
		[(Fr::from(1u64), &state[0]), (Fr::from(1u64), &children[0])].into_iter(),
		Fr::from(0u64),
	)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::circuit::witnesses;
	use ark_r1cs_std::prelude::*;
	use ark_relations::r1cs::ConstraintSystem;
	use cairn_primitives::poseidon2::{compress4, hash2, permute3, permute4};

	#[test]
	fn gadget_equals_the_native_permutations_and_hashes() {
		let vectors: [[u64; 4]; 3] = [[0, 1, 2, 3], [0, 0, 0, 0], [u64::MAX, 7, 1 << 40, 99]];
		for vector in vectors {
			let values = vector.map(Fr::from);
			let cs = ConstraintSystem::<Fr>::new_ref();
			let inputs = witnesses(&cs, &values);
			let three = permutation_var(&inputs[..3]).expect("synthesizes");
			let mut native3 = [values[0], values[1], values[2]];
			permute3(&mut native3);
			let three: Vec<Fr> = three.iter().map(|v| v.value().expect("assigned")).collect();
			assert_eq!(three, native3.to_vec());
			assert_eq!(cs.num_constraints(), 240);
			let four = permutation_var(&inputs).expect("synthesizes");
			let mut native4 = values;
			permute4(&mut native4);
			let four: Vec<Fr> = four.iter().map(|v| v.value().expect("assigned")).collect();
			assert_eq!(four, native4.to_vec());
			assert_eq!(cs.num_constraints(), 240 + 264);

			let leaf = hash2_var(&inputs[0], &inputs[1]).expect("synthesizes");
			assert_eq!(leaf.value().expect("assigned"), hash2(values[0], values[1]));
			let children =
				[inputs[0].clone(), inputs[1].clone(), inputs[2].clone(), inputs[3].clone()];
			let node = compress4_var(&children).expect("synthesizes");
			assert_eq!(node.value().expect("assigned"), compress4(&values));
			assert_eq!(cs.num_constraints(), 2 * (240 + 264));
			assert!(cs.is_satisfied().expect("prove mode"));
		}
	}

	#[test]
	fn gadget_output_is_bound_by_constraints() {
		let cs = ConstraintSystem::<Fr>::new_ref();
		let inputs = witnesses(&cs, &[1, 2, 3, 4].map(Fr::from));
		let children = [inputs[0].clone(), inputs[1].clone(), inputs[2].clone(), inputs[3].clone()];
		let out = compress4_var(&children).expect("synthesizes");
		let wrong = compress4(&[1, 2, 3, 5].map(Fr::from));
		let claimed = FpVar::new_input(cs.clone(), || Ok(wrong)).expect("allocates");
		out.enforce_equal(&claimed).expect("enforces");
		assert!(!cs.is_satisfied().expect("prove mode"));
	}

	#[test]
	fn other_widths_are_refused() {
		let cs = ConstraintSystem::<Fr>::new_ref();
		let inputs = witnesses(&cs, &[Fr::from(1u64); 5]);
		assert!(permutation_var(&inputs).is_err());
		assert!(permutation_var(&inputs[..2]).is_err());
	}
}
