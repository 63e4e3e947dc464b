//! Regenerates `constants.rs` from the reference procedure and fails if the embedded file differs.
//!
//! HorizenLabs' `poseidon2_rust_params.sage` with field = 1, S-box = 0, n = 254, t = 4,
//! `R_F = 8`, `R_P = 56`: the Grain LFSR of Poseidon seeded with those parameters yields round
//! constants in round order (254 bits each, redrawn while `>= p`), `R_F · t + R_P` of them a
//! permutation. The node permutation takes the first set, the leaf permutation the next
//! ([`draws`]): two permutations as independent as two random choices of constants, one a domain.
//!
//! The internal matrix is `J + diag(d)` as the same script's
//! `generate_matrix_partial_small_entries` chooses it ([`small_diagonal`]), its range widened: the
//! first `d` in product order whose matrix is invertible and passes `check_minpoly_condition` (the
//! minimal polynomials of `M, M², …, M^{2t}` irreducible of degree `t`, the script's guard against
//! infinitely long subspace trails), so the layer is additions and doublings. barretenberg's
//! instance draws `d` at random instead ([`barretenberg_t4`]); its published test vector
//! (`tests.rs`) checks the round constants, `M4` and the rounds, which the node permutation
//! shares. Run `cargo test -p cairn-primitives poseidon2`: on a mismatch the file is rewritten and
//! the test fails once.

extern crate std;
use alloc::{format, string::String, vec, vec::Vec};

use ark_ff::{AdditiveGroup, Field, PrimeField};

/// `d` of barretenberg's width-4 internal matrix (`Poseidon2Bn254ScalarFieldParams`, big-endian
/// hex): a random draw of the reference script's `generate_matrix_partial`.
const BARRETENBERG_T4_DIAGONAL: [&str; 4] = [
	"10dc6e9c006ea38b04b1e03b4bd9490c0d03f98929ca1d7fb56821fd19d3b6e7",
	"0c28145b6a44df3e0149b3d0a30b3bb599df9756d4dd9b84a86b38cfb45a740b",
	"00544b8338791518b2c7645a50392798b21f75bb60e3596170067d00141cac15",
	"222c01175718386f2e2e82eb122789e352e105a3b8fa852613bc534433ee428b",
];

use super::{FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH};
use crate::{
	poseidon::generate::{check_generated_file, fr_from_be_hex, Grain},
	Fr,
};

/// One permutation's parameters as the reference script prints them.
pub(super) struct Reference {
	/// [`WIDTH`] constants per full round, first half then last half.
	pub(super) external: Vec<Fr>,
	pub(super) internal: Vec<Fr>,
	pub(super) diagonal: Vec<Fr>,
}

/// The node permutation: the Grain stream's first `R_F · t + R_P` draws, the small `d`.
pub(super) fn node_reference() -> Reference {
	draws(0, small_diagonal(WIDTH).into_iter().map(Fr::from).collect())
}

/// The leaf permutation: the same stream's next `R_F · t + R_P` draws, the same `d`.
pub(super) fn leaf_reference() -> Reference {
	draws(1, small_diagonal(WIDTH).into_iter().map(Fr::from).collect())
}

/// barretenberg's width-4 instance: the node permutation's round constants with its random `d`.
pub(super) fn barretenberg_t4() -> Reference {
	draws(0, BARRETENBERG_T4_DIAGONAL.iter().map(|hex| fr_from_be_hex(hex)).collect())
}

/// The `instance`-th set of round constants of the reference's Grain stream at width 4 (sets of
/// `R_F · t + R_P` draws in a row), with the internal matrix `J + diag(diagonal)`.
fn draws(instance: usize, diagonal: Vec<Fr>) -> Reference {
	let mut grain = Grain::new(WIDTH as u16, FULL_ROUNDS as u16, PARTIAL_ROUNDS as u16);
	let half = FULL_ROUNDS / 2 * WIDTH;
	for _ in 0..instance * (FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS) {
		grain.round_constant();
	}
	let mut external: Vec<Fr> = (0..half).map(|_| grain.round_constant()).collect();
	let internal: Vec<Fr> = (0..PARTIAL_ROUNDS).map(|_| grain.round_constant()).collect();
	external.extend((0..half).map(|_| grain.round_constant()));
	Reference { external, internal, diagonal }
}

/// `d` of the width-4 internal matrix: `generate_matrix_partial_small_entries` of the reference
/// script, with its range widened until an entry passes. The script tries `entry` in
/// `itertools.product(range(2, 6), repeat=t)` order, the matrix `circ(0, 1, …, 1) + diag(entry)`
/// (that is `J + diag(entry - 1)`), and takes the first that is invertible and passes
/// [`minpoly_condition`]. Over BN254 at width 4 none of `d ∈ {1, 2, 3, 4}^4` passes (a repeated
/// entry gives an eigenvalue in the field, and the permutations of `(1, 2, 3, 4)` are similar
/// matrices, all failing), so the bound on `d` grows one at a time: the first `d` in product
/// order over `{1, …, w}^t` for the smallest `w` that has one. Cached: the search takes a few
/// seconds.
pub(super) fn small_diagonal(width: usize) -> Vec<u64> {
	static FOUND: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
	assert_eq!(width, 4, "widths 2 and 3 have the script's fixed matrices");
	FOUND
		.get_or_init(|| {
			(1..=16u64)
				.flat_map(|bound| {
					(0..bound.pow(width as u32))
						.map(move |index| {
							// Base-`bound` digits, most significant first: itertools' order.
							(0..width as u32)
								.map(|position| {
									1 + index / bound.pow(width as u32 - 1 - position) % bound
								})
								.collect::<Vec<u64>>()
						})
						// Entries below `bound` only were tried with a smaller bound.
						.filter(move |d| d.contains(&bound))
				})
				.find(|d| {
					let matrix =
						internal_matrix(&d.iter().map(|d| Fr::from(*d)).collect::<Vec<_>>());
					characteristic_polynomial(&matrix)[0] != Fr::ZERO && minpoly_condition(&matrix)
				})
				.expect("a small diagonal passes below 16")
		})
		.clone()
}

type Matrix = Vec<Vec<Fr>>;

/// `J + diag(d)`.
pub(super) fn internal_matrix(diagonal: &[Fr]) -> Matrix {
	let width = diagonal.len();
	(0..width)
		.map(|row| {
			(0..width)
				.map(|column| if row == column { diagonal[row] + Fr::ONE } else { Fr::ONE })
				.collect()
		})
		.collect()
}

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
	let n = a.len();
	(0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

/// `check_minpoly_condition` of the reference script: for `i = 1 ..= 2t`, the minimal polynomial
/// of `M^i` has degree `t` and is irreducible, which holds exactly when the characteristic
/// polynomial of `M^i` is irreducible (the minimal polynomial divides it and shares its factors).
pub(super) fn minpoly_condition(matrix: &Matrix) -> bool {
	let width = matrix.len();
	let mut power = matrix.clone();
	for _ in 1..=2 * width {
		if !is_irreducible(&characteristic_polynomial(&power)) {
			return false;
		}
		power = mat_mul(matrix, &power);
	}
	true
}

/// `det(x·I - A)`, coefficients lowest first (monic), by Faddeev–LeVerrier.
fn characteristic_polynomial(a: &Matrix) -> Vec<Fr> {
	let n = a.len();
	let mut coefficients = vec![Fr::ZERO; n + 1];
	coefficients[n] = Fr::ONE;
	let mut m = vec![vec![Fr::ZERO; n]; n];
	for k in 1..=n {
		let mut next = mat_mul(a, &m);
		for (i, row) in next.iter_mut().enumerate() {
			row[i] += coefficients[n - k + 1];
		}
		m = next;
		let product = mat_mul(a, &m);
		let trace: Fr = (0..n).map(|i| product[i][i]).sum();
		coefficients[n - k] = -trace * Fr::from(k as u64).inverse().expect("k is not zero in Fr");
	}
	coefficients
}

/// Ben-Or's test: a monic `f` of degree `n` is irreducible over `F_p` exactly when
/// `gcd(f, x^(p^k) - x) = 1` for `k = 1 ..= n / 2` (a reducible `f`, square-free or not, has a
/// factor of some degree `k ≤ n / 2`, which divides `x^(p^k) - x`).
fn is_irreducible(f: &[Fr]) -> bool {
	let degree = f.len() - 1;
	let x = vec![Fr::ZERO, Fr::ONE];
	let mut power = x.clone();
	for _ in 1..=degree / 2 {
		power = pow_mod(&power, Fr::MODULUS.as_ref(), f);
		let mut difference = power.clone();
		difference.resize(difference.len().max(2), Fr::ZERO);
		difference[1] -= Fr::ONE;
		if poly_gcd(f.to_vec(), difference).len() != 1 {
			return false;
		}
	}
	true
}

/// `a` without its leading zeros (the zero polynomial is empty).
fn trim(mut a: Vec<Fr>) -> Vec<Fr> {
	while a.last() == Some(&Fr::ZERO) {
		a.pop();
	}
	a
}

/// `a mod b`, `b` non-zero.
fn poly_rem(a: &[Fr], b: &[Fr]) -> Vec<Fr> {
	let b = trim(b.to_vec());
	let lead = b.last().expect("a non-zero divisor").inverse().expect("non-zero");
	let mut r = trim(a.to_vec());
	while r.len() >= b.len() {
		let factor = *r.last().expect("non-empty") * lead;
		let shift = r.len() - b.len();
		for (i, coefficient) in b.iter().enumerate() {
			r[shift + i] -= factor * coefficient;
		}
		r = trim(r);
	}
	r
}

fn mul_mod(a: &[Fr], b: &[Fr], f: &[Fr]) -> Vec<Fr> {
	let mut product = vec![Fr::ZERO; (a.len() + b.len()).saturating_sub(1)];
	for (i, x) in a.iter().enumerate() {
		for (j, y) in b.iter().enumerate() {
			product[i + j] += *x * y;
		}
	}
	poly_rem(&product, f)
}

/// `base^exponent mod f`, the exponent's 64-bit limbs lowest first.
fn pow_mod(base: &[Fr], exponent: &[u64], f: &[Fr]) -> Vec<Fr> {
	let mut result = vec![Fr::ONE];
	for limb in exponent.iter().rev() {
		for bit in (0..64).rev() {
			result = mul_mod(&result, &result, f);
			if limb >> bit & 1 == 1 {
				result = mul_mod(&result, base, f);
			}
		}
	}
	result
}

/// The greatest common divisor, up to a constant factor (a constant is one coefficient).
fn poly_gcd(mut a: Vec<Fr>, mut b: Vec<Fr>) -> Vec<Fr> {
	a = trim(a);
	b = trim(b);
	while !b.is_empty() {
		let r = poly_rem(&a, &b);
		a = b;
		b = r;
	}
	a
}

fn mat_vec(matrix: &[Vec<Fr>], state: &[Fr]) -> Vec<Fr> {
	matrix.iter().map(|row| row.iter().zip(state).map(|(a, b)| *a * b).sum()).collect()
}

/// The permutation as the reference script writes it: dense matrices, every round alike.
pub(super) fn permute_reference(params: &Reference, state: &mut [Fr]) {
	let external: Vec<Vec<Fr>> = [[5u64, 7, 1, 3], [4, 6, 1, 1], [1, 3, 5, 7], [1, 1, 4, 6]]
		.iter()
		.map(|row| row.iter().map(|v| Fr::from(*v)).collect())
		.collect();
	let internal = internal_matrix(&params.diagonal);
	let apply = |state: &mut [Fr], matrix: &[Vec<Fr>]| {
		let next = mat_vec(matrix, state);
		state.copy_from_slice(&next);
	};
	apply(state, &external);
	let (first, last) = params.external.split_at(FULL_ROUNDS / 2 * WIDTH);
	for constants in first.chunks(WIDTH) {
		state.iter_mut().zip(constants).for_each(|(s, c)| *s = (*s + c).pow([5u64]));
		apply(state, &external);
	}
	for constant in &params.internal {
		state[0] = (state[0] + constant).pow([5u64]);
		apply(state, &internal);
	}
	for constants in last.chunks(WIDTH) {
		state.iter_mut().zip(constants).for_each(|(s, c)| *s = (*s + c).pow([5u64]));
		apply(state, &external);
	}
}

/// `(P(x) + x)[0]` on the reference permutation.
pub(super) fn compress_reference(params: &Reference, input: &[Fr]) -> Fr {
	let mut state = input.to_vec();
	permute_reference(params, &mut state);
	state[0] + input[0]
}

fn fr(value: &Fr) -> String {
	format!("MontFp!(\"{}\")", value.into_bigint())
}

fn fr_list(values: &[Fr]) -> String {
	let mut out = String::from("[\n");
	for value in values {
		out.push_str(&format!("\t{},\n", fr(value)));
	}
	out.push(']');
	out
}

/// Values below `2^64` as integers.
fn small_integers(values: &[Fr]) -> Vec<u64> {
	values
		.iter()
		.map(|value| {
			let limbs = value.into_bigint().0;
			assert!(limbs[1..].iter().all(|limb| *limb == 0), "{value} is not a small integer");
			limbs[0]
		})
		.collect()
}

fn empty_roots(leaf: &Reference, node: &Reference) -> Vec<Fr> {
	let mut roots = vec![compress_reference(leaf, &[Fr::ZERO; WIDTH])];
	for _ in 0..crate::tree::DEPTH {
		let child = *roots.last().expect("starts non-empty");
		roots.push(compress_reference(node, &[child; WIDTH]));
	}
	roots
}

fn render() -> String {
	let node = node_reference();
	let leaf = leaf_reference();
	let roots = empty_roots(&leaf, &node);
	let mut out = String::from(
		"//! Poseidon2 constants for BN254, x^5, width 4 (the node and the leaf permutation), and the\n\
		 //! empty-subtree roots of the shard tree. Generated by `poseidon2::generate` (the reference's\n\
		 //! Grain LFSR); do not edit.\n\n\
		 use ark_ff::MontFp;\n\n\
		 use crate::Fr;\n",
	);
	out.push_str(&format!(
		"\npub(super) const DIAGONAL: [u64; {}] = {:?};\n",
		node.diagonal.len(),
		small_integers(&node.diagonal),
	));
	for (name, params) in [("NODE", &node), ("LEAF", &leaf)] {
		out.push_str(&format!(
			"\npub(super) static {name}_EXTERNAL: [Fr; {}] = {};\n\n\
			 pub(super) static {name}_INTERNAL: [Fr; {}] = {};\n",
			params.external.len(),
			fr_list(&params.external),
			params.internal.len(),
			fr_list(&params.internal),
		));
	}
	out.push_str(&format!(
		"\n/// Roots of all-zero-leaf subtrees, level 0 (a leaf) to level `tree::DEPTH`.\n\
		 pub(crate) static EMPTY_SUBTREE_ROOTS: [Fr; {}] = {};\n",
		roots.len(),
		fr_list(&roots),
	));
	out
}

#[test]
fn constants_file_is_current() {
	check_generated_file("src/poseidon2/constants.rs", &render());
}
