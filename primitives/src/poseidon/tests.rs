use ark_ff::{AdditiveGroup, PrimeField};
use light_poseidon::{Poseidon, PoseidonHasher};
use proptest::prelude::*;

use super::{generate::fr_from_be_hex, *};
use crate::field::fr_to_le_bytes;

fn fr_any() -> impl Strategy<Value = Fr> {
	any::<[u8; 32]>().prop_map(|bytes| Fr::from_le_bytes_mod_order(&bytes))
}

fn reference(inputs: &[Fr]) -> Fr {
	let mut hasher = Poseidon::<Fr>::new_circom(inputs.len()).expect("circom widths 2..=12");
	hasher.hash(inputs).expect("input count matches the hasher")
}

/// circomlib's published vectors (`test/poseidon.js`, `poseidon([1, 2])` and friends).
#[test]
fn matches_circom_vectors() {
	let one = Fr::from(1u64);
	let two = Fr::from(2u64);
	let three = Fr::from(3u64);
	let four = Fr::from(4u64);
	assert_eq!(
		hash2(one, two),
		fr_from_be_hex("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a")
	);
	assert_eq!(
		hash2(three, four),
		fr_from_be_hex("20a3af0435914ccd84b806164531b0cd36e37d4efb93efab76913a93e1f30996")
	);
	assert_eq!(
		hash4(&[one, two, three, four]),
		fr_from_be_hex("299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465")
	);
}

#[test]
fn matches_light_poseidon_on_edge_values() {
	let edges = [Fr::ZERO, Fr::from(1u64), -Fr::from(1u64), Fr::from(u64::MAX)];
	for a in edges {
		for b in edges {
			assert_eq!(hash2(a, b), reference(&[a, b]));
			assert_eq!(hash4(&[a, b, b, a]), reference(&[a, b, b, a]));
		}
	}
}

#[test]
fn plain_parameters_agree_with_the_optimized_permutation() {
	for (width, partial) in [(3, PARTIAL_ROUNDS_T3), (5, PARTIAL_ROUNDS_T5)] {
		let params = params(width);
		assert_eq!(params.width, width);
		assert_eq!(params.partial_rounds, partial);
		assert_eq!(params.round_constants.len(), (FULL_ROUNDS + partial) * width);
		assert_eq!(params.mds.len(), width * width);
	}
	let inputs = [Fr::from(11u64), Fr::from(22u64), Fr::from(33u64), Fr::from(44u64)];
	let mut state = [Fr::ZERO, inputs[0], inputs[1]];
	permute_plain(params(3), &mut state).expect("width 3 state");
	assert_eq!(state[0], hash2(inputs[0], inputs[1]));
	let mut state = [Fr::ZERO, inputs[0], inputs[1], inputs[2], inputs[3]];
	permute_plain(params(5), &mut state).expect("width 5 state");
	assert_eq!(state[0], hash4(&inputs));
}

#[test]
fn unsupported_widths_are_refused() {
	assert_eq!(try_params(4).err(), Some(Error::UnsupportedWidth { width: 4 }));
	let mut state = [Fr::ZERO; 4];
	assert!(permute_plain(params(3), &mut state).is_err());
}

#[test]
fn widths_separate_leaf_and_node_hashing() {
	let zero = Fr::ZERO;
	assert_ne!(hash2(zero, zero), hash4(&[zero; 4]));
	assert_ne!(fr_to_le_bytes(&hash2(zero, zero)), [0u8; 32]);
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn hash2_matches_light_poseidon(a in fr_any(), b in fr_any()) {
		prop_assert_eq!(hash2(a, b), reference(&[a, b]));
	}

	#[test]
	fn hash4_matches_light_poseidon(a in fr_any(), b in fr_any(), c in fr_any(), d in fr_any()) {
		prop_assert_eq!(hash4(&[a, b, c, d]), reference(&[a, b, c, d]));
	}
}
