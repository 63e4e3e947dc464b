use ark_ff::{AdditiveGroup, Field, PrimeField};
use proptest::prelude::*;

use super::{generate::*, *};
use crate::montgomery::{Adx, Portable};
use crate::poseidon::generate::fr_from_be_hex;

fn fr_any() -> impl Strategy<Value = Fr> {
	any::<[u8; 32]>().prop_map(|bytes| Fr::from_le_bytes_mod_order(&bytes))
}

/// HorizenLabs' `plain_implementations` (`poseidon2_tests_bn256::kats`): P3(0, 1, 2).
#[test]
fn width_3_matches_the_reference_vector() {
	let mut state = [Fr::ZERO, Fr::from(1u64), Fr::from(2u64)];
	permute3(&mut state);
	assert_eq!(
		state,
		[
			fr_from_be_hex("0x0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033"),
			fr_from_be_hex("0x303b6f7c86d043bfcbcc80214f26a30277a15d3f74ca654992defe7ff8d03570"),
			fr_from_be_hex("0x1ed25194542b12eef8617361c3ba7c52e660b145994427cc86296242cf766ec8"),
		]
	);
}

/// barretenberg's `Poseidon2Bn254ScalarFieldParams` test vector: P4(0, 1, 2, 3).
#[test]
fn width_4_matches_the_reference_vector() {
	let mut state = [Fr::ZERO, Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)];
	permute4(&mut state);
	assert_eq!(
		state,
		[
			fr_from_be_hex("0x01bd538c2ee014ed5141b29e9ae240bf8db3fe5b9a38629a9647cf8d76c01737"),
			fr_from_be_hex("0x239b62e7db98aa3a2a8f6a0d2fa1709e7a35959aa6c7034814d9daa90cbac662"),
			fr_from_be_hex("0x04cbb44c61d928ed06808456bf758cbf0c18d1e15a7b6dbc8245fa7515d5e3cb"),
			fr_from_be_hex("0x2e11c5cff2a22c64d01304b778d78f6998eff1ab73163a35603f54794c30847a"),
		]
	);
}

#[test]
fn the_hashes_are_the_permutations_as_documented() {
	let [a, b, c, d] = [3u64, 5, 7, 11].map(Fr::from);
	let mut leaf = [a, b, Fr::ZERO];
	permute3(&mut leaf);
	assert_eq!(hash2(a, b), leaf[0]);
	let mut node = [a, b, c, d];
	permute4(&mut node);
	assert_eq!(compress4(&[a, b, c, d]), node[0] + a);
	assert_ne!(compress4(&[a, b, c, d]), compress4(&[b, a, c, d]));
}

#[test]
fn only_widths_3_and_4_exist() {
	assert_eq!(params(3).map(|p| p.width), Ok(3));
	assert_eq!(params(4).map(|p| p.width), Ok(4));
	assert_eq!(params(5).map(|p| p.width), Err(Error::UnsupportedWidth { width: 5 }));
}

#[test]
fn matrix_entries_are_the_layers_the_permutation_applies() {
	for width in [3, 4] {
		let params = params(width).expect("defined");
		let state: Vec<Fr> = (0..width as u64).map(|i| Fr::from(i * i + 7)).collect();
		let dense = |entry: &dyn Fn(usize, usize) -> Fr| -> Vec<Fr> {
			(0..width).map(|row| (0..width).map(|col| entry(row, col) * state[col]).sum()).collect()
		};
		let external = dense(&|r, c| params.external_entry(r, c));
		let internal = dense(&|r, c| params.internal_entry(r, c));
		if width == 3 {
			let mut fast = [state[0], state[1], state[2]];
			super::external(Portable, &mut fast);
			assert_eq!(fast.to_vec(), external);
			let mut fast = [state[0], state[1], state[2]];
			super::internal(Portable, &mut fast, params.internal_diagonal);
			assert_eq!(fast.to_vec(), internal);
		} else {
			let mut fast = [state[0], state[1], state[2], state[3]];
			super::external(Portable, &mut fast);
			assert_eq!(fast.to_vec(), external);
			let mut fast = [state[0], state[1], state[2], state[3]];
			super::internal(Portable, &mut fast, params.internal_diagonal);
			assert_eq!(fast.to_vec(), internal);
		}
	}
}

/// Values a carry, a borrow or the final subtraction could get wrong, in every position.
fn extremes() -> Vec<Fr> {
	let mut values = vec![Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(2u64), -Fr::from(2u64)];
	for bits in [52u64, 64, 104, 128, 156, 192, 208, 248, 253] {
		let power = Fr::from(2u64).pow([bits]);
		values.extend([power, power - Fr::ONE, -power]);
	}
	values
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[test]
fn the_vector_path_agrees_with_the_scalar_one_on_extremes() {
	let Some(ifma) = lanes::Ifma::detect() else {
		eprintln!("this CPU has no AVX-512 IFMA: only the scalar path runs here");
		return;
	};
	let values = extremes();
	for (i, window) in values.windows(4).enumerate() {
		let mut threes: [[Fr; 3]; lanes::LANES] =
			core::array::from_fn(|lane| [window[lane % 4], window[(lane + 1) % 4], values[i]]);
		let mut fours: [[Fr; 4]; lanes::LANES] = core::array::from_fn(|lane| {
			[window[lane % 4], window[(lane + 1) % 4], window[(lane + 2) % 4], values[lane]]
		});
		let (expected3, expected4) = (
			threes.map(|mut s| {
				permute3(&mut s);
				s
			}),
			fours.map(|mut s| {
				permute4(&mut s);
				s
			}),
		);
		ifma.permute3(&mut threes);
		ifma.permute4(&mut fours);
		assert_eq!(threes, expected3);
		assert_eq!(fours, expected4);
	}
}

#[test]
fn many_at_once_equals_one_at_a_time_at_every_length() {
	let pairs: Vec<[Fr; 2]> = (0..37u64).map(|i| [Fr::from(i * 7 + 1), -Fr::from(i * i)]).collect();
	let groups: Vec<[Fr; 4]> = (0..37u64)
		.map(|i| [Fr::from(i), -Fr::from(i + 3), Fr::from(i * 11), Fr::from(2u64).pow([i * 12])])
		.collect();
	// Lengths below, at and past a call's lanes or side-by-side states, and past twice as many;
	// the fastest path and the scalar one.
	type Many<const T: usize> = fn(&[[Fr; T]], &mut Vec<Fr>);
	let paths: [(Many<2>, Many<4>); 2] =
		[(hash2_many, compress4_many), (hash2_many_scalar, compress4_many_scalar)];
	for (leaves, nodes) in paths {
		for len in 0..pairs.len() {
			let mut out = vec![Fr::ONE];
			leaves(&pairs[..len], &mut out);
			let expected: Vec<Fr> = core::iter::once(Fr::ONE)
				.chain(pairs[..len].iter().map(|[a, b]| hash2(*a, *b)))
				.collect();
			assert_eq!(out, expected, "{len} pairs");
			let mut out = Vec::new();
			nodes(&groups[..len], &mut out);
			let expected: Vec<Fr> = groups[..len].iter().map(compress4).collect();
			assert_eq!(out, expected, "{len} groups");
		}
	}
}

proptest! {
	#[cfg(all(target_arch = "x86_64", feature = "std"))]
	#[test]
	fn the_vector_path_agrees_with_the_scalar_one(
		states in proptest::collection::vec(fr_any(), 4 * lanes::LANES)
	) {
		let Some(ifma) = lanes::Ifma::detect() else { return Ok(()) };
		let n = lanes::LANES;
		let mut threes: [[Fr; 3]; lanes::LANES] =
			core::array::from_fn(|lane| [states[lane], states[lane + n], states[lane + 2 * n]]);
		let mut fours: [[Fr; 4]; lanes::LANES] = core::array::from_fn(|lane| {
			[states[lane], states[lane + n], states[lane + 2 * n], states[lane + 3 * n]]
		});
		let expected3 = threes.map(|mut s| { permute3(&mut s); s });
		let expected4 = fours.map(|mut s| { permute4(&mut s); s });
		ifma.permute3(&mut threes);
		ifma.permute4(&mut fours);
		prop_assert_eq!(threes, expected3);
		prop_assert_eq!(fours, expected4);
	}

	#[test]
	fn fast_permutations_equal_the_reference_procedure(a in fr_any(), b in fr_any(), c in fr_any(), d in fr_any()) {
		let mut state = vec![a, b, c];
		permute_reference(&reference(3), &mut state);
		let mut fast = [a, b, c];
		permute3(&mut fast);
		prop_assert_eq!(fast.to_vec(), state);
		let mut state = vec![a, b, c, d];
		permute_reference(&reference(4), &mut state);
		let mut fast = [a, b, c, d];
		permute4(&mut fast);
		prop_assert_eq!(fast.to_vec(), state);
	}

	/// Both multiplication paths, where this CPU has the fast one (the public functions take it).
	#[test]
	fn the_multiplication_paths_give_the_same_permutations(a in fr_any(), b in fr_any(), c in fr_any(), d in fr_any()) {
		let (mut portable, mut fast) = ([a, b, c], [a, b, c]);
		permute3_with(Portable, &mut portable);
		permute3(&mut fast);
		prop_assert_eq!(portable, fast);
		let (mut portable, mut fast) = ([a, b, c, d], [a, b, c, d]);
		permute4_with(Portable, &mut portable);
		permute4(&mut fast);
		prop_assert_eq!(portable, fast);
		if let Some(adx) = Adx::detect() {
			let mut explicit = [a, b, c, d];
			permute4_with(adx, &mut explicit);
			prop_assert_eq!(explicit, fast);
		}
	}
}
