//! Poseidon2 over the BN254 scalar field with the x^5 S-box, width 4: the hash of the shard tree.
//!
//! Parameters follow the reference (HorizenLabs' `poseidon2_rust_params.sage`): 8 full rounds and
//! 56 partial rounds, round constants from the Grain LFSR of Poseidon (field = 1, S-box = 0,
//! n = 254, t = 4, `R_F · t + R_P` constants), the 4×4 external matrix `M4`, and the internal
//! matrix `J + diag(d)` with the small `d = (1, 3, 5, 7)` that the script's
//! `generate_matrix_partial_small_entries` search gives once its range is widened (see
//! `generate.rs`): it passes the script's minimal-polynomial condition against subspace trails,
//! and it makes the internal layer additions and doublings only. [`constants`](self) is generated
//! by a test; another checks the rounds, round constants and `M4` against barretenberg's published
//! width-4 vector (barretenberg draws its `d` at random, four more products a partial round).
//!
//! Two permutations, both width 4, differ only in their round constants: the node permutation
//! takes the stream's first `R_F · t + R_P` draws, the leaf permutation the next as many. Both are
//! used in the compression mode of the Poseidon2 paper, feed-forward and truncation to one
//! element:
//! - [`compress_leaf`], a leaf of four field elements: `(P_leaf(x) + x)[0]`;
//! - [`compress4`], a node of the 4-ary tree: `(P4(x) + x)[0]`.
//!
//! Independent constants separate the two domains: a leaf's hash cannot be presented as a node's
//! or the reverse. [`compress_leaf_many`] and [`compress4_many`] hash many inputs at once: sixteen
//! at a time with AVX-512 IFMA where the CPU has it ([`lanes`]), four side by side elsewhere; both
//! give the same values. Linear layers cost no constraint in R1CS, so only the S-boxes count:
//! 264 constraints a permutation (Poseidon's width 5 costs 297), while natively the linear layers
//! are additions only where Poseidon's are products.

#[rustfmt::skip]
mod constants;
pub(crate) use constants::EMPTY_SUBTREE_ROOTS;
#[cfg(test)]
mod generate;
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub mod lanes;
mod linear;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;

use ark_ff::AdditiveGroup;

use self::linear::{external, internal};
use crate::{montgomery::Multiply, with_fastest_multiply, Fr};

/// State size of both permutations.
pub const WIDTH: usize = 4;
/// Full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Partial rounds.
pub const PARTIAL_ROUNDS: usize = 56;

/// One Poseidon2 permutation's parameters in the reference's terms: what the native permutation
/// and the R1CS gadget both read.
#[derive(Debug)]
pub struct Poseidon2Params {
	/// Round constants of the full rounds, [`WIDTH`] per round, first half then last half.
	pub external_constants: &'static [Fr; FULL_ROUNDS * WIDTH],
	/// One round constant per partial round (added to state element 0).
	pub internal_constants: &'static [Fr; PARTIAL_ROUNDS],
}

impl Poseidon2Params {
	/// Round constant added to element `position` in full round `round` (`0..FULL_ROUNDS`).
	pub fn external_constant(&self, round: usize, position: usize) -> Fr {
		self.external_constants[round * WIDTH + position]
	}

	/// Whether `round` (full and partial rounds numbered together, `0..FULL_ROUNDS +
	/// PARTIAL_ROUNDS`) applies the S-box to every element and the external matrix.
	pub fn is_full_round(&self, round: usize) -> bool {
		let half = FULL_ROUNDS / 2;
		round < half || round >= half + PARTIAL_ROUNDS
	}

	/// Constant added to element `position` at the start of `round` (numbered as in
	/// [`Self::is_full_round`]): zero for every element but the first in a partial round.
	pub fn round_constant(&self, round: usize, position: usize) -> Fr {
		let half = FULL_ROUNDS / 2;
		if self.is_full_round(round) {
			let full = if round < half { round } else { round - PARTIAL_ROUNDS };
			self.external_constant(full, position)
		} else if position == 0 {
			self.internal_constants[round - half]
		} else {
			Fr::ZERO
		}
	}

	/// Entry `(row, column)` of the external matrix `M4`.
	pub fn external_entry(&self, row: usize, column: usize) -> Fr {
		Fr::from(EXTERNAL[row][column])
	}

	/// Entry `(row, column)` of the internal matrix `J + diag(d)`.
	pub fn internal_entry(&self, row: usize, column: usize) -> Fr {
		let diagonal = if row == column { DIAGONAL[row] } else { 0 };
		Fr::from(diagonal + 1)
	}
}

/// The reference's `M4`, rows.
static EXTERNAL: [[u64; WIDTH]; WIDTH] = [[5, 7, 1, 3], [4, 6, 1, 1], [1, 3, 5, 7], [1, 1, 4, 6]];
/// `d` of the internal matrix `J + diag(d)` (`J` all ones): `s'[i] = d[i]·s[i] + Σ s`.
pub const DIAGONAL: [u64; WIDTH] = constants::DIAGONAL;

/// The two permutations of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permutation {
	/// `P_leaf`, the leaves': the Grain stream's draws after [`Permutation::Node`]'s.
	Leaf,
	/// `P4`, the nodes': the stream's first draws.
	Node,
}

impl Permutation {
	/// Its parameters.
	pub fn params(self) -> &'static Poseidon2Params {
		match self {
			Permutation::Leaf => &LEAF,
			Permutation::Node => &NODE,
		}
	}
}

static NODE: Poseidon2Params = Poseidon2Params {
	external_constants: &constants::NODE_EXTERNAL,
	internal_constants: &constants::NODE_INTERNAL,
};

static LEAF: Poseidon2Params = Poseidon2Params {
	external_constants: &constants::LEAF_EXTERNAL,
	internal_constants: &constants::LEAF_INTERNAL,
};

/// `x^5` of every element, each step taken for all of them before the next.
#[inline(always)]
fn sboxes<const T: usize, const N: usize>(m: impl Multiply, xs: &mut [[Fr; T]; N]) {
	let mut powers = *xs;
	powers.as_flattened_mut().iter_mut().for_each(|x| *x = m.square(x));
	powers.as_flattened_mut().iter_mut().for_each(|x| *x = m.square(x));
	let fourth = powers.as_flattened();
	xs.as_flattened_mut().iter_mut().zip(fourth).for_each(|(x, fourth)| *x = m.mul(fourth, x));
}

/// `N` permutations side by side, each step taken for every state before the next, so that
/// the CPU overlaps their independent multiplications; no allocation, no bounds checks in the
/// hot loop. Instantiated once per [`Multiply`] path.
#[inline(always)]
fn permute<const N: usize>(
	m: impl Multiply,
	states: &mut [[Fr; WIDTH]; N],
	permutation: Permutation,
) {
	let params = permutation.params();
	states.iter_mut().for_each(|state| external(&m, state));
	let (first, last) = params.external_constants.split_at(FULL_ROUNDS / 2 * WIDTH);
	let full_round = |states: &mut [[Fr; WIDTH]; N], constants: &[Fr]| {
		for state in states.iter_mut() {
			for (element, constant) in state.iter_mut().zip(constants) {
				*element = m.add(element, constant);
			}
		}
		sboxes(m, states);
		states.iter_mut().for_each(|state| external(&m, state));
	};
	for constants in first.chunks_exact(WIDTH) {
		full_round(states, constants);
	}
	for constant in params.internal_constants {
		let mut xs: [[Fr; 1]; N] = core::array::from_fn(|i| [m.add(&states[i][0], constant)]);
		sboxes(m, &mut xs);
		for (state, [x]) in states.iter_mut().zip(xs) {
			state[0] = x;
			internal(&m, state);
		}
	}
	for constants in last.chunks_exact(WIDTH) {
		full_round(states, constants);
	}
}

/// The node permutation `P4`, with the fastest multiplication this CPU has.
pub fn permute4(state: &mut [Fr; WIDTH]) {
	with_fastest_multiply!(m => permute_side_by_side(m, core::array::from_mut(state), Permutation::Node))
}

/// The leaf permutation `P_leaf`, with the fastest multiplication this CPU has.
pub fn permute_leaf(state: &mut [Fr; WIDTH]) {
	with_fastest_multiply!(m => permute_side_by_side(m, core::array::from_mut(state), Permutation::Leaf))
}

/// `N` permutations side by side with one multiplication path (for tests and benchmarks; the
/// paths give the same result).
#[inline(never)]
pub fn permute_side_by_side<const N: usize>(
	m: impl Multiply,
	states: &mut [[Fr; WIDTH]; N],
	permutation: Permutation,
) {
	permute(m, states, permutation);
}

/// A leaf's hash, four field elements to one: `P_leaf(x)[0] + x[0]`.
pub fn compress_leaf(fields: &[Fr; WIDTH]) -> Fr {
	let mut state = *fields;
	permute_leaf(&mut state);
	state[0] + fields[0]
}

/// A node's hash, four children to one: `P4(x)[0] + x[0]`.
pub fn compress4(children: &[Fr; WIDTH]) -> Fr {
	let mut state = *children;
	permute4(&mut state);
	state[0] + children[0]
}

/// Permutations the scalar path runs side by side: enough to keep the multiplier busy while one
/// of them waits on a result (1.2× a leaf over one at a time on the reference machine).
pub const SIDE_BY_SIDE: usize = 4;

/// [`compress_leaf`] of every group, appended to `out` in order: sixteen at a time on a CPU with
/// AVX-512 IFMA, [`SIDE_BY_SIDE`] at a time on the scalar path elsewhere.
pub fn compress_leaf_many(inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	compress_many(Permutation::Leaf, inputs, out)
}

/// [`compress4`] of every group, appended to `out` in order, as [`compress_leaf_many`].
pub fn compress4_many(inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	compress_many(Permutation::Node, inputs, out)
}

/// [`compress_leaf_many`] on the scalar path whatever the CPU: what a CPU without AVX-512 IFMA
/// computes.
pub fn compress_leaf_many_scalar(inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	compress_many_scalar(Permutation::Leaf, inputs, out)
}

/// [`compress4_many`] on the scalar path whatever the CPU.
pub fn compress4_many_scalar(inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	compress_many_scalar(Permutation::Node, inputs, out)
}

fn compress_many(permutation: Permutation, inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	#[cfg(all(target_arch = "x86_64", feature = "std"))]
	if let Some(ifma) = lanes::Ifma::detect() {
		return in_batches(inputs, [Fr::ZERO; WIDTH], out, |batch| {
			ifma.compress(permutation, batch)
		});
	}
	compress_many_scalar(permutation, inputs, out);
}

fn compress_many_scalar(permutation: Permutation, inputs: &[[Fr; WIDTH]], out: &mut Vec<Fr>) {
	with_fastest_multiply!(m => in_batches(inputs, [Fr::ZERO; WIDTH], out, |batch: &[_; SIDE_BY_SIDE]| {
		let mut states = *batch;
		permute_side_by_side(m, &mut states, permutation);
		core::array::from_fn(|i| m.add(&states[i][0], &batch[i][0]))
	}))
}

/// Runs `hash` on whole batches of `N` inputs, the last padded with `padding` (whose hashes are
/// dropped).
#[inline(always)]
fn in_batches<I: Copy, const N: usize>(
	inputs: &[I],
	padding: I,
	out: &mut Vec<Fr>,
	hash: impl Fn(&[I; N]) -> [Fr; N],
) {
	let (batches, rest) = inputs.as_chunks::<N>();
	out.reserve(inputs.len());
	for batch in batches {
		out.extend(hash(batch));
	}
	if !rest.is_empty() {
		let mut last = [padding; N];
		last[..rest.len()].copy_from_slice(rest);
		out.extend(&hash(&last)[..rest.len()]);
	}
}
