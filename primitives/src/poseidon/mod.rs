//! Poseidon over the BN254 scalar field with the x^5 S-box and circom's parameters: the hash of
//! the shard tree before Poseidon2 ([`crate::poseidon2`]), kept because the benchmarks measure
//! against it ([`crate::tree::CircomPoseidonTree`]).
//!
//! The round constants and MDS matrices are the ones circomlib (and `light-poseidon`) use: the
//! Grain LFSR procedure of the Poseidon reference, 8 full rounds, 57 partial rounds at width 3 and
//! 60 at width 5, capacity element 0. They are embedded in [`constants`](self) as static data; the
//! tests regenerate them from Grain and compare hash outputs with `light-poseidon` and circomlib's
//! published vectors.
//!
//! The native permutation runs the equivalent optimized form of the Poseidon paper (appendix B):
//! round constants moved in front of the linear layer so that each partial round adds one scalar,
//! and the partial rounds' MDS products factored into sparse matrices (2t - 1 multiplications
//! instead of t²). The plain parameters ([`params`]) are what the R1CS gadget uses.
//!
//! Leaf and node hashing are domain separated by width: a leaf is hashed at width 3
//! ([`hash2`]), a node at width 5 ([`hash4`]); the two permutations share no constants.

#[rustfmt::skip]
mod constants;
pub(crate) use constants::EMPTY_SUBTREE_ROOTS;
#[cfg(test)]
pub(crate) mod generate;
#[cfg(test)]
mod tests;

use ark_ff::{AdditiveGroup, Field};

use crate::{Error, Fr};

/// Full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds at width 3 (two inputs).
pub const PARTIAL_ROUNDS_T3: usize = 57;
/// Partial rounds at width 5 (four inputs).
pub const PARTIAL_ROUNDS_T5: usize = 60;

/// Plain Poseidon parameters for one width: what a circuit needs to compute the permutation.
#[derive(Debug)]
pub struct PoseidonParams {
	/// State size `t` (inputs + 1 capacity element, which starts at zero).
	pub width: usize,
	/// Full rounds, split evenly before and after the partial rounds.
	pub full_rounds: usize,
	/// Partial rounds (S-box on the first state element only).
	pub partial_rounds: usize,
	/// Round constants, `width` per round, round by round: `(full_rounds + partial_rounds) * width`.
	pub round_constants: &'static [Fr],
	/// MDS matrix, row-major `width × width`; the linear layer is `s'[i] = Σ_j mds[i][j] · s[j]`.
	pub mds: &'static [Fr],
}

impl PoseidonParams {
	/// Round constant added to state element `position` at the start of `round`.
	pub fn round_constant(&self, round: usize, position: usize) -> Fr {
		self.round_constants[round * self.width + position]
	}

	/// MDS entry `(row, column)`.
	pub fn mds_entry(&self, row: usize, column: usize) -> Fr {
		self.mds[row * self.width + column]
	}

	/// Whether `round` applies the S-box to every state element.
	pub fn is_full_round(&self, round: usize) -> bool {
		let half = self.full_rounds / 2;
		round < half || round >= half + self.partial_rounds
	}

	/// Total rounds.
	pub fn rounds(&self) -> usize {
		self.full_rounds + self.partial_rounds
	}
}

static PARAMS_T3: PoseidonParams = PoseidonParams {
	width: 3,
	full_rounds: FULL_ROUNDS,
	partial_rounds: PARTIAL_ROUNDS_T3,
	round_constants: &constants::T3_ROUND_CONSTANTS,
	mds: &constants::T3_MDS,
};

static PARAMS_T5: PoseidonParams = PoseidonParams {
	width: 5,
	full_rounds: FULL_ROUNDS,
	partial_rounds: PARTIAL_ROUNDS_T5,
	round_constants: &constants::T5_ROUND_CONSTANTS,
	mds: &constants::T5_MDS,
};

/// Parameters of width 3 or 5.
///
/// # Panics
/// On any other width: the widths are fixed by Cairn's two hash shapes (leaf and node), so another
/// width is a programming error. [`try_params`] is the checked form.
pub fn params(width: usize) -> &'static PoseidonParams {
	try_params(width).expect("callers ask for width 3 (leaf) or 5 (node), the only ones defined")
}

/// Parameters of width 3 or 5, or [`Error::UnsupportedWidth`].
pub fn try_params(width: usize) -> Result<&'static PoseidonParams, Error> {
	match width {
		3 => Ok(&PARAMS_T3),
		5 => Ok(&PARAMS_T5),
		_ => Err(Error::UnsupportedWidth { width }),
	}
}

/// Sparse `t × t` matrix `[[row[0], row[1..]], [col[1..], I]]` (`col[0]` is unused and zero).
#[derive(Debug)]
pub(crate) struct SparseMatrix<const T: usize> {
	pub(crate) row: [Fr; T],
	pub(crate) col: [Fr; T],
}

/// Constants of the optimized permutation (same output as the plain one).
#[derive(Debug)]
pub(crate) struct OptimizedConstants<const T: usize> {
	/// Added before the first round.
	pub(crate) initial: [Fr; T],
	/// Added after the S-boxes of each first-half full round, before its matrix.
	pub(crate) first_half: &'static [[Fr; T]],
	/// Added to element 0 after the S-box of each partial round.
	pub(crate) partial: &'static [Fr],
	/// Added after the S-boxes of each last-half full round but the final one.
	pub(crate) last_half: &'static [[Fr; T]],
	/// Matrix of the last first-half full round (absorbs the partial rounds' dense factors).
	pub(crate) pre_sparse: [[Fr; T]; T],
	/// One sparse matrix per partial round.
	pub(crate) sparse: &'static [SparseMatrix<T>],
	/// The plain MDS matrix, row by row.
	pub(crate) mds: [[Fr; T]; T],
}

/// The S-box `x^5`.
#[inline(always)]
fn sbox(value: &mut Fr) {
	let input = *value;
	value.square_in_place();
	value.square_in_place();
	*value *= input;
}

#[inline(always)]
fn add_assign<const T: usize>(state: &mut [Fr; T], constants: &[Fr; T]) {
	for (element, constant) in state.iter_mut().zip(constants) {
		*element += constant;
	}
}

#[inline(always)]
fn mix<const T: usize>(state: &mut [Fr; T], matrix: &[[Fr; T]; T]) {
	let input = *state;
	for (element, row) in state.iter_mut().zip(matrix) {
		*element = Fr::sum_of_products(row, &input);
	}
}

/// The optimized permutation; no allocation, no bounds checks in the hot loop.
fn permute<const T: usize>(state: &mut [Fr; T], constants: &OptimizedConstants<T>) {
	add_assign(state, &constants.initial);
	let first_len = constants.first_half.len();
	for (round, round_constants) in constants.first_half.iter().enumerate() {
		state.iter_mut().for_each(sbox);
		add_assign(state, round_constants);
		if round + 1 == first_len {
			mix(state, &constants.pre_sparse);
		} else {
			mix(state, &constants.mds);
		}
	}
	for (constant, sparse) in constants.partial.iter().zip(constants.sparse) {
		sbox(&mut state[0]);
		state[0] += constant;
		let first = Fr::sum_of_products(&sparse.row, state);
		let head = state[0];
		for (element, factor) in state.iter_mut().zip(&sparse.col).skip(1) {
			*element += head * factor;
		}
		state[0] = first;
	}
	for round_constants in constants.last_half {
		state.iter_mut().for_each(sbox);
		add_assign(state, round_constants);
		mix(state, &constants.mds);
	}
	state.iter_mut().for_each(sbox);
	mix(state, &constants.mds);
}

/// Poseidon of two field elements (width 3), as circom's `Poseidon(2)`.
pub fn hash2(a: Fr, b: Fr) -> Fr {
	let mut state = [Fr::ZERO, a, b];
	permute(&mut state, &constants::T3_OPTIMIZED);
	state[0]
}

/// Poseidon of four field elements (width 5), as circom's `Poseidon(4)`.
pub fn hash4(inputs: &[Fr; 4]) -> Fr {
	let mut state = [Fr::ZERO, inputs[0], inputs[1], inputs[2], inputs[3]];
	permute(&mut state, &constants::T5_OPTIMIZED);
	state[0]
}

/// The plain permutation straight from [`PoseidonParams`] (reference for tests and gadgets).
pub fn permute_plain(params: &PoseidonParams, state: &mut [Fr]) -> Result<(), Error> {
	if state.len() != params.width {
		return Err(Error::UnsupportedWidth { width: state.len() });
	}
	let width = params.width;
	let mut next = [Fr::ZERO; 5];
	for round in 0..params.rounds() {
		for (position, element) in state.iter_mut().enumerate() {
			*element += params.round_constant(round, position);
		}
		if params.is_full_round(round) {
			state.iter_mut().for_each(sbox);
		} else {
			sbox(&mut state[0]);
		}
		for (row, slot) in next.iter_mut().enumerate().take(width) {
			*slot = state.iter().enumerate().fold(Fr::ZERO, |sum, (column, element)| {
				sum + params.mds_entry(row, column) * element
			});
		}
		state.copy_from_slice(&next[..width]);
	}
	Ok(())
}
