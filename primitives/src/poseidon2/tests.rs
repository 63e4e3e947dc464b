use ark_ff::{AdditiveGroup, Field, PrimeField};
use proptest::prelude::*;

use super::{generate::*, *};
use crate::montgomery::{Adx, Portable};
use crate::poseidon::generate::fr_from_be_hex;

fn fr_any() -> impl Strategy<Value = Fr> {
	any::<[u8; 32]>().prop_map(|bytes| Fr::from_le_bytes_mod_order(&bytes))
}

const PERMUTATIONS: [Permutation; 2] = [Permutation::Leaf, Permutation::Node];

fn reference_of(permutation: Permutation) -> Reference {
	match permutation {
		Permutation::Leaf => leaf_reference(),
		Permutation::Node => node_reference(),
	}
}

fn permute(permutation: Permutation, state: &mut [Fr; WIDTH]) {
	match permutation {
		Permutation::Leaf => permute_leaf(state),
		Permutation::Node => permute4(state),
	}
}

/// barretenberg's `Poseidon2Bn254ScalarFieldParams` test vector, P4(0, 1, 2, 3): the round
/// constants, `M4` and the rounds the node permutation shares, with barretenberg's random `d`.
#[test]
fn width_4_with_barretenberg_diagonal_matches_its_vector() {
	let mut state = vec![Fr::ZERO, Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)];
	permute_reference(&barretenberg_t4(), &mut state);
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

/// Both permutations of (0, 1, 2, 3), pinned: a change of constants, matrix or rounds shows.
#[test]
fn both_permutations_match_their_pinned_vectors() {
	for (permutation, pinned) in PERMUTATIONS.into_iter().zip([LEAF_VECTOR, NODE_VECTOR]) {
		let mut state = [Fr::ZERO, Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)];
		permute(permutation, &mut state);
		assert_eq!(state.map(|x| x.into_bigint().to_string()), pinned, "{permutation:?}");
	}
}

const LEAF_VECTOR: [&str; 4] = [
	"18729431874082132998744039298428782587316730011173320731826071187734908132508",
	"6075355415404780267804307038077889379423365493118470693650145295174249615418",
	"3318291112274328963044468759360919728441625596387903422969765641591291854084",
	"20711877331856945427098928797062320436293920406973963877080683486528938079541",
];

const NODE_VECTOR: [&str; 4] = [
	"6191960425600216906226296892462212366885406450409044579466625474244070393816",
	"632961449769185687948407434179282377624550717674136095009072798123406077073",
	"8368713575055891229471115967369885835456883596437162709410716268791925850138",
	"5165949416567680190078290325005376757580076001169849645159825563659709828634",
];

/// The leaf permutation's constants are the Grain stream's next draws: none is the node's.
#[test]
fn the_leaf_and_node_permutations_share_no_round_constant() {
	let node: Vec<Fr> =
		NODE.external_constants.iter().chain(NODE.internal_constants).copied().collect();
	let leaf = LEAF.external_constants.iter().chain(LEAF.internal_constants);
	for constant in leaf {
		assert!(!node.contains(constant), "{constant}");
	}
}

/// The small `d` is the reference script's choice, `(1, 3, 5, 7)`: each entry two to four
/// additions and doublings where barretenberg's takes a product. The condition holds for
/// barretenberg's random `d` (drawn under it) and fails for `J + I`, whose characteristic
/// polynomial has the root 1, and for `(1, 2, 3, 4)`, the script's own range.
#[test]
fn the_diagonal_is_the_reference_small_entries_choice() {
	let diagonal = small_diagonal(WIDTH);
	assert_eq!(diagonal, DIAGONAL);
	assert_eq!(diagonal, [1, 3, 5, 7]);
	let field = |d: &[u64]| d.iter().map(|d| Fr::from(*d)).collect::<Vec<_>>();
	assert!(minpoly_condition(&internal_matrix(&field(&diagonal))));
	assert!(minpoly_condition(&internal_matrix(&barretenberg_t4().diagonal)));
	assert!(!minpoly_condition(&internal_matrix(&field(&[1, 1, 1, 1]))));
	assert!(!minpoly_condition(&internal_matrix(&field(&[1, 2, 3, 4]))));
}

#[test]
fn the_hashes_are_the_permutations_as_documented() {
	let x = [3u64, 5, 7, 11].map(Fr::from);
	let mut leaf = x;
	permute_leaf(&mut leaf);
	assert_eq!(compress_leaf(&x), leaf[0] + x[0]);
	let mut node = x;
	permute4(&mut node);
	assert_eq!(compress4(&x), node[0] + x[0]);
	assert_ne!(compress4(&x), compress_leaf(&x));
	assert_ne!(compress4(&x), compress4(&[x[1], x[0], x[2], x[3]]));
}

#[test]
fn matrix_entries_are_the_layers_the_permutation_applies() {
	let state: [Fr; WIDTH] = core::array::from_fn(|i| Fr::from((i * i + 7) as u64));
	let dense = |entry: &dyn Fn(usize, usize) -> Fr| -> Vec<Fr> {
		(0..WIDTH).map(|row| (0..WIDTH).map(|col| entry(row, col) * state[col]).sum()).collect()
	};
	let external = dense(&|r, c| NODE.external_entry(r, c));
	let internal = dense(&|r, c| NODE.internal_entry(r, c));
	let mut fast = state;
	super::external(&Portable, &mut fast);
	assert_eq!(fast.to_vec(), external);
	let mut fast = state;
	super::internal(&Portable, &mut fast);
	assert_eq!(fast.to_vec(), internal);
	assert_eq!(
		internal_matrix(&DIAGONAL.map(Fr::from)),
		(0..WIDTH)
			.map(|r| (0..WIDTH).map(|c| NODE.internal_entry(r, c)).collect::<Vec<_>>())
			.collect::<Vec<_>>()
	);
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
	for permutation in PERMUTATIONS {
		for window in values.windows(4) {
			let mut states: [[Fr; WIDTH]; lanes::LANES] = core::array::from_fn(|lane| {
				[window[lane % 4], window[(lane + 1) % 4], window[(lane + 2) % 4], values[lane]]
			});
			let expected = states.map(|mut s| {
				permute(permutation, &mut s);
				s
			});
			ifma.permute(permutation, &mut states);
			assert_eq!(states, expected, "{permutation:?}");
		}
	}
}

#[test]
fn many_at_once_equals_one_at_a_time_at_every_length() {
	let groups: Vec<[Fr; 4]> = (0..37u64)
		.map(|i| [Fr::from(i), -Fr::from(i + 3), Fr::from(i * 11), Fr::from(2u64).pow([i * 12])])
		.collect();
	// Lengths below, at and past a call's lanes or side-by-side states, and past twice as many;
	// the fastest path and the scalar one.
	type Many = fn(&[[Fr; WIDTH]], &mut Vec<Fr>);
	let paths: [(Many, Many); 2] =
		[(compress_leaf_many, compress4_many), (compress_leaf_many_scalar, compress4_many_scalar)];
	for (leaves, nodes) in paths {
		for len in 0..groups.len() {
			let mut out = vec![Fr::ONE];
			leaves(&groups[..len], &mut out);
			let expected: Vec<Fr> =
				core::iter::once(Fr::ONE).chain(groups[..len].iter().map(compress_leaf)).collect();
			assert_eq!(out, expected, "{len} leaves");
			let mut out = Vec::new();
			nodes(&groups[..len], &mut out);
			let expected: Vec<Fr> = groups[..len].iter().map(compress4).collect();
			assert_eq!(out, expected, "{len} nodes");
		}
	}
}

proptest! {
	#[cfg(all(target_arch = "x86_64", feature = "std"))]
	#[test]
	fn the_vector_path_agrees_with_the_scalar_one(
		values in proptest::collection::vec(fr_any(), 4 * lanes::LANES)
	) {
		let Some(ifma) = lanes::Ifma::detect() else { return Ok(()) };
		let n = lanes::LANES;
		for permutation in PERMUTATIONS {
			let mut states: [[Fr; WIDTH]; lanes::LANES] = core::array::from_fn(|lane| {
				[values[lane], values[lane + n], values[lane + 2 * n], values[lane + 3 * n]]
			});
			let expected = states.map(|mut s| { permute(permutation, &mut s); s });
			ifma.permute(permutation, &mut states);
			prop_assert_eq!(states, expected);
		}
	}

	#[test]
	fn fast_permutations_equal_the_reference_procedure(a in fr_any(), b in fr_any(), c in fr_any(), d in fr_any()) {
		for permutation in PERMUTATIONS {
			let mut state = vec![a, b, c, d];
			permute_reference(&reference_of(permutation), &mut state);
			let mut fast = [a, b, c, d];
			permute(permutation, &mut fast);
			prop_assert_eq!(fast.to_vec(), state);
		}
	}

	/// Both multiplication paths, where this CPU has the fast one (the public functions take it).
	#[test]
	fn the_multiplication_paths_give_the_same_permutations(a in fr_any(), b in fr_any(), c in fr_any(), d in fr_any()) {
		for permutation in PERMUTATIONS {
			let (mut portable, mut fast) = ([a, b, c, d], [a, b, c, d]);
			permute_side_by_side(Portable, core::array::from_mut(&mut portable), permutation);
			permute(permutation, &mut fast);
			prop_assert_eq!(portable, fast);
			if let Some(adx) = Adx::detect() {
				let mut explicit = [a, b, c, d];
				permute_side_by_side(adx, core::array::from_mut(&mut explicit), permutation);
				prop_assert_eq!(explicit, fast);
			}
		}
	}
}
