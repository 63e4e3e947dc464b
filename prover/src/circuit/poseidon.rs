//! circom's Poseidon as R1CS constraints, on exactly the native parameters: the hash of the
//! baseline circuit the prover benchmark measures against (see [`super::poseidon2`] for the
//! commitment's).
//!
//! Each S-box costs three constraints (x², x⁴, x⁵); round constants and the MDS layer are linear
//! and free. S-boxes on constants (the capacity element in the first round) cost nothing, so a
//! width-3 hash costs 240 constraints and a width-5 hash 297.

use alloc::vec::Vec;

use ark_ff::AdditiveGroup;
use ark_r1cs_std::{
	fields::fp::{AllocatedFp, FpVar},
	prelude::*,
};
use ark_relations::r1cs::{LinearCombination, SynthesisError, Variable};
use cairn_primitives::{poseidon::PoseidonParams, Fr};

pub(crate) fn sbox(value: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
	let square = value.square()?;
	let fourth = square.square()?;
	Ok(fourth * value)
}

/// `Σ coefficient·term + constant` as one symbolic linear combination (no constraint): one LC per
/// state element per round keeps constraint-matrix construction and witness generation cheap.
pub(crate) fn linear_combination<'a>(
	terms: impl Iterator<Item = (Fr, &'a FpVar<Fr>)>,
	constant: Fr,
) -> Result<FpVar<Fr>, SynthesisError> {
	let mut combination = LinearCombination::<Fr>::zero();
	let mut constant_sum = constant;
	let mut value = Some(Fr::ZERO);
	let mut cs = None;
	for (coefficient, term) in terms {
		match term {
			FpVar::Constant(c) => constant_sum += coefficient * c,
			FpVar::Var(allocated) => {
				combination += (coefficient, allocated.variable);
				value = value.zip(allocated.value().ok()).map(|(sum, v)| sum + coefficient * v);
				cs = Some(allocated.cs.clone());
			}
		}
	}
	let Some(cs) = cs else {
		return Ok(FpVar::Constant(constant_sum));
	};
	combination += (constant_sum, Variable::One);
	let variable = cs.new_lc(combination)?;
	Ok(FpVar::Var(AllocatedFp::new(value.map(|v| v + constant_sum), variable, cs)))
}

/// Poseidon of `inputs` (`params.width - 1` of them), capacity element zero, as circom computes it.
pub fn poseidon_var(
	params: &PoseidonParams,
	inputs: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
	let width = params.width;
	if inputs.len() + 1 != width {
		return Err(SynthesisError::Unsatisfiable);
	}
	// Round constants are folded into the linear combination that feeds each round.
	let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(width);
	state.push(FpVar::Constant(params.round_constant(0, 0)));
	for (position, input) in inputs.iter().enumerate() {
		state.push(linear_combination(
			core::iter::once((Fr::from(1u64), input)),
			params.round_constant(0, position + 1),
		)?);
	}
	let rounds = params.rounds();
	for round in 0..rounds {
		if params.is_full_round(round) {
			for element in state.iter_mut() {
				*element = sbox(element)?;
			}
		} else {
			state[0] = sbox(&state[0])?;
		}
		let next_round = round + 1;
		state = (0..width)
			.map(|row| {
				let constant = if next_round < rounds {
					params.round_constant(next_round, row)
				} else {
					Fr::ZERO
				};
				linear_combination(
					state
						.iter()
						.enumerate()
						.map(|(column, element)| (params.mds_entry(row, column), element)),
					constant,
				)
			})
			.collect::<Result<Vec<_>, _>>()?;
	}
	Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::circuit::witnesses;
	use ark_relations::r1cs::ConstraintSystem;
	use cairn_primitives::poseidon::{hash2, hash4, params};

	#[test]
	fn gadget_equals_native_hash2_and_hash4() {
		let vectors: [[u64; 4]; 3] = [[1, 2, 3, 4], [0, 0, 0, 0], [u64::MAX, 7, 1 << 40, 99]];
		for vector in vectors {
			let values: Vec<Fr> = vector.iter().map(|v| Fr::from(*v)).collect();
			let cs = ConstraintSystem::<Fr>::new_ref();
			let inputs = witnesses(&cs, &values);
			let two = poseidon_var(params(3), &inputs[..2]).expect("synthesizes");
			let four = poseidon_var(params(5), &inputs).expect("synthesizes");
			assert_eq!(two.value().expect("assigned"), hash2(values[0], values[1]));
			assert_eq!(
				four.value().expect("assigned"),
				hash4(&[values[0], values[1], values[2], values[3]])
			);
			assert!(cs.is_satisfied().expect("prove mode"));
			assert_eq!(cs.num_constraints(), 240 + 297);
		}
	}

	#[test]
	fn gadget_output_is_bound_by_constraints() {
		let cs = ConstraintSystem::<Fr>::new_ref();
		let inputs = witnesses(&cs, &[Fr::from(1u64), Fr::from(2u64)]);
		let out = poseidon_var(params(3), &inputs).expect("synthesizes");
		let claimed = FpVar::new_input(cs.clone(), || Ok(hash2(Fr::from(1u64), Fr::from(3u64))))
			.expect("allocates");
		out.enforce_equal(&claimed).expect("enforces");
		assert!(!cs.is_satisfied().expect("prove mode"));
	}

	#[test]
	fn wrong_arity_is_refused() {
		let cs = ConstraintSystem::<Fr>::new_ref();
		let inputs = witnesses(&cs, &[Fr::from(1u64)]);
		assert!(poseidon_var(params(3), &inputs).is_err());
	}
}
