//! Regenerates `constants.rs` from first principles and fails if the embedded file differs.
//!
//! Round constants and MDS matrices come from the Grain LFSR procedure of the Poseidon reference
//! (`generate_parameters_grain.sage`, field = 1, S-box = 0, n = 254); the optimized constants are
//! derived from them as in the Poseidon paper's appendix B. Run `cargo test -p cairn-primitives
//! constants_file_is_current`: on a mismatch the file is rewritten and the test fails once.

use alloc::{format, string::String, vec, vec::Vec};

use ark_ff::{AdditiveGroup, Field, PrimeField, Zero};

use super::{FULL_ROUNDS, PARTIAL_ROUNDS_T3, PARTIAL_ROUNDS_T5};
use crate::Fr;

/// The Grain self-shrinking generator of the Poseidon reference (Poseidon2's reference script
/// uses the same one).
pub(crate) struct Grain {
	state: [bool; 80],
}

impl Grain {
	pub(crate) fn new(width: u16, full_rounds: u16, partial_rounds: u16) -> Self {
		let mut bits = Vec::with_capacity(80);
		let mut push = |value: u64, count: u32| {
			for shift in (0..count).rev() {
				bits.push((value >> shift) & 1 == 1);
			}
		};
		push(1, 2); // prime field
		push(0, 4); // x^alpha S-box
		push(254, 12); // field size in bits
		push(u64::from(width), 12);
		push(u64::from(full_rounds), 10);
		push(u64::from(partial_rounds), 10);
		push((1 << 30) - 1, 30);
		let mut state = [false; 80];
		state.copy_from_slice(&bits);
		let mut grain = Grain { state };
		for _ in 0..160 {
			grain.clock();
		}
		grain
	}

	fn clock(&mut self) -> bool {
		let s = &self.state;
		let bit = s[62] ^ s[51] ^ s[38] ^ s[23] ^ s[13] ^ s[0];
		self.state.copy_within(1.., 0);
		self.state[79] = bit;
		bit
	}

	fn next_bit(&mut self) -> bool {
		loop {
			let keep = self.clock();
			let bit = self.clock();
			if keep {
				return bit;
			}
		}
	}

	/// `count` bits, first bit most significant, as 32 big-endian bytes.
	fn next_bytes_be(&mut self, count: usize) -> [u8; 32] {
		let mut value = [0u8; 32];
		for _ in 0..count {
			let bit = self.next_bit();
			let mut carry = u8::from(bit);
			for byte in value.iter_mut().rev() {
				let next_carry = *byte >> 7;
				*byte = (*byte << 1) | carry;
				carry = next_carry;
			}
		}
		value
	}

	/// A round constant: 254 bits, rejected and redrawn while `>= p`.
	pub(crate) fn round_constant(&mut self) -> Fr {
		loop {
			let mut bytes = self.next_bytes_be(254);
			bytes.reverse();
			let mut limbs = [0u64; 4];
			for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
				*limb = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
			}
			if let Some(value) = Fr::from_bigint(ark_ff::BigInt::new(limbs)) {
				return value;
			}
		}
	}

	/// A Cauchy MDS matrix `1 / (x_i + y_j)` from 2t field elements (254 bits reduced mod p).
	fn mds(&mut self, width: usize) -> Vec<Vec<Fr>> {
		loop {
			let values: Vec<Fr> = loop {
				let candidate: Vec<Fr> = (0..2 * width)
					.map(|_| Fr::from_be_bytes_mod_order(&self.next_bytes_be(254)))
					.collect();
				let distinct = candidate
					.iter()
					.enumerate()
					.all(|(i, a)| candidate.iter().skip(i + 1).all(|b| a != b));
				if distinct {
					break candidate;
				}
			};
			let (xs, ys) = values.split_at(width);
			let matrix: Option<Vec<Vec<Fr>>> = xs
				.iter()
				.map(|x| ys.iter().map(|y| (*x + y).inverse()).collect::<Option<Vec<Fr>>>())
				.collect();
			if let Some(matrix) = matrix {
				return matrix;
			}
		}
	}
}

/// Plain parameters as Grain yields them.
pub(super) struct PlainParams {
	pub(super) width: usize,
	pub(super) partial_rounds: usize,
	/// One vector of `width` constants per round.
	pub(super) round_constants: Vec<Vec<Fr>>,
	pub(super) mds: Vec<Vec<Fr>>,
}

pub(super) fn grain_params(width: usize, partial_rounds: usize) -> PlainParams {
	let mut grain = Grain::new(width as u16, FULL_ROUNDS as u16, partial_rounds as u16);
	let rounds = FULL_ROUNDS + partial_rounds;
	let flat: Vec<Fr> = (0..rounds * width).map(|_| grain.round_constant()).collect();
	let round_constants = flat.chunks(width).map(<[Fr]>::to_vec).collect();
	let mds = grain.mds(width);
	PlainParams { width, partial_rounds, round_constants, mds }
}

type Matrix = Vec<Vec<Fr>>;

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
	let n = a.len();
	(0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

fn mat_vec(a: &Matrix, v: &[Fr]) -> Vec<Fr> {
	a.iter().map(|row| row.iter().zip(v).map(|(x, y)| *x * y).sum()).collect()
}

fn vec_mat(v: &[Fr], a: &Matrix) -> Vec<Fr> {
	(0..a.len()).map(|j| v.iter().zip(a).map(|(x, row)| *x * row[j]).sum()).collect()
}

fn inverse(a: &Matrix) -> Matrix {
	let n = a.len();
	let mut work: Matrix = a
		.iter()
		.enumerate()
		.map(|(i, row)| {
			let mut extended = row.clone();
			extended.extend((0..n).map(|j| if i == j { Fr::ONE } else { Fr::ZERO }));
			extended
		})
		.collect();
	for column in 0..n {
		let pivot = (column..n).find(|&r| !work[r][column].is_zero()).expect("MDS is invertible");
		work.swap(column, pivot);
		let scale = work[column][column].inverse().expect("pivot is non-zero");
		work[column].iter_mut().for_each(|x| *x *= scale);
		for row in 0..n {
			if row != column && !work[row][column].is_zero() {
				let factor = work[row][column];
				let pivot_row = work[column].clone();
				work[row].iter_mut().zip(pivot_row).for_each(|(x, p)| *x -= factor * p);
			}
		}
	}
	work.into_iter().map(|row| row[n..].to_vec()).collect()
}

/// Optimized constants in the order [`super::permute`] consumes them.
pub(super) struct Optimized {
	pub(super) initial: Vec<Fr>,
	pub(super) first_half: Vec<Vec<Fr>>,
	pub(super) partial: Vec<Fr>,
	pub(super) last_half: Vec<Vec<Fr>>,
	pub(super) pre_sparse: Matrix,
	/// (row, column with a zero in position 0) per partial round.
	pub(super) sparse: Vec<(Vec<Fr>, Vec<Fr>)>,
}

pub(super) fn optimize(plain: &PlainParams) -> Optimized {
	let width = plain.width;
	let half = FULL_ROUNDS / 2;
	let rounds = FULL_ROUNDS + plain.partial_rounds;
	let mds = &plain.mds;
	let mds_inverse = inverse(mds);
	// after[r]: constant added after round r's S-boxes, before its matrix (the next round's
	// constant pulled back through the matrix); the last round adds none.
	let mut after: Vec<Vec<Fr>> = (0..rounds)
		.map(|r| match plain.round_constants.get(r + 1) {
			Some(next) => mat_vec(&mds_inverse, next),
			None => vec![Fr::ZERO; width],
		})
		.collect();
	// Partial rounds keep only element 0 of their constant; the rest commutes with the S-box and
	// moves back through the previous matrix.
	for round in (half..half + plain.partial_rounds).rev() {
		let mut rest = after[round].clone();
		rest[0] = Fr::ZERO;
		let moved = mat_vec(&mds_inverse, &rest);
		after[round - 1].iter_mut().zip(moved).for_each(|(x, m)| *x += m);
		after[round][1..].iter_mut().for_each(|x| *x = Fr::ZERO);
	}
	// Factor each partial round's matrix A = S · B (B = diag(1, Â)), moving B back into the
	// previous round's matrix, from the last partial round to the first.
	let mut sparse = Vec::with_capacity(plain.partial_rounds);
	let mut current = mds.clone();
	for _ in 0..plain.partial_rounds {
		let hat: Matrix = current[1..].iter().map(|row| row[1..].to_vec()).collect();
		let hat_inverse = inverse(&hat);
		let mut row = vec![current[0][0]];
		row.extend(vec_mat(&current[0][1..], &hat_inverse));
		let mut col = vec![Fr::ZERO];
		col.extend(current[1..].iter().map(|r| r[0]));
		sparse.push((row, col));
		let mut block: Matrix = vec![vec![Fr::ZERO; width]; width];
		block[0][0] = Fr::ONE;
		for i in 1..width {
			block[i][1..].copy_from_slice(&hat[i - 1]);
		}
		current = mat_mul(&block, mds);
	}
	sparse.reverse();
	Optimized {
		initial: plain.round_constants[0].clone(),
		first_half: after[..half].to_vec(),
		partial: after[half..half + plain.partial_rounds].iter().map(|c| c[0]).collect(),
		last_half: after[half + plain.partial_rounds..rounds - 1].to_vec(),
		pre_sparse: current,
		sparse,
	}
}

fn fr(value: &Fr) -> String {
	format!("MontFp!(\"{}\")", value.into_bigint())
}

fn fr_list(values: &[Fr], indent: &str) -> String {
	let mut out = String::from("[\n");
	for value in values {
		out.push_str(&format!("{indent}\t{},\n", fr(value)));
	}
	out.push_str(indent);
	out.push(']');
	out
}

fn fr_rows(rows: &[Vec<Fr>], indent: &str) -> String {
	let inner = format!("{indent}\t");
	let mut out = String::from("[\n");
	for row in rows {
		out.push_str(&format!("{inner}{},\n", fr_list(row, &inner)));
	}
	out.push_str(indent);
	out.push(']');
	out
}

fn width_section(name: &str, plain: &PlainParams) -> String {
	let width = plain.width;
	let optimized = optimize(plain);
	let flat: Vec<Fr> = plain.round_constants.concat();
	let mds_flat: Vec<Fr> = plain.mds.concat();
	let mut sparse = String::from("&[\n");
	for (row, col) in &optimized.sparse {
		sparse.push_str(&format!(
			"\t\tSparseMatrix {{\n\t\t\trow: {},\n\t\t\tcol: {},\n\t\t}},\n",
			fr_list(row, "\t\t\t"),
			fr_list(col, "\t\t\t")
		));
	}
	sparse.push_str("\t]");
	format!(
		"pub(super) static {name}_ROUND_CONSTANTS: [Fr; {}] = {};\n\n\
		 pub(super) static {name}_MDS: [Fr; {}] = {};\n\n\
		 pub(super) static {name}_OPTIMIZED: OptimizedConstants<{width}> = OptimizedConstants {{\n\
		 \tinitial: {},\n\
		 \tfirst_half: &{},\n\
		 \tpartial: &{},\n\
		 \tlast_half: &{},\n\
		 \tpre_sparse: {},\n\
		 \tsparse: {sparse},\n\
		 \tmds: {},\n\
		 }};\n",
		flat.len(),
		fr_list(&flat, ""),
		mds_flat.len(),
		fr_list(&mds_flat, ""),
		fr_list(&optimized.initial, "\t"),
		fr_rows(&optimized.first_half, "\t"),
		fr_list(&optimized.partial, "\t"),
		fr_rows(&optimized.last_half, "\t"),
		fr_rows(&optimized.pre_sparse, "\t"),
		fr_rows(&plain.mds, "\t"),
	)
}

/// The plain permutation on Grain's parameters (independent of the embedded file).
pub(super) fn permute_grain(plain: &PlainParams, state: &mut [Fr]) {
	let half = FULL_ROUNDS / 2;
	for (round, constants) in plain.round_constants.iter().enumerate() {
		state.iter_mut().zip(constants).for_each(|(s, c)| *s += c);
		let full = round < half || round >= half + plain.partial_rounds;
		let sboxed = if full { state.len() } else { 1 };
		state[..sboxed].iter_mut().for_each(|s| *s = s.pow([5u64]));
		let next = mat_vec(&plain.mds, state);
		state.copy_from_slice(&next);
	}
}

/// The baseline tree's: a leaf of four zero elements hashes at width 5, as a node does.
fn empty_roots(t5: &PlainParams) -> Vec<Fr> {
	let mut state = vec![Fr::ZERO; 5];
	permute_grain(t5, &mut state);
	let mut roots = vec![state[0]];
	for _ in 0..crate::tree::DEPTH {
		let child = *roots.last().expect("starts non-empty");
		let mut state = vec![Fr::ZERO, child, child, child, child];
		permute_grain(t5, &mut state);
		roots.push(state[0]);
	}
	roots
}

fn render() -> String {
	let t3 = grain_params(3, PARTIAL_ROUNDS_T3);
	let t5 = grain_params(5, PARTIAL_ROUNDS_T5);
	let roots = empty_roots(&t5);
	format!(
		"//! Poseidon constants for BN254, x^5, widths 3 and 5 (circom's), and the empty-subtree roots\n\
		 //! of the shard tree. Generated by `poseidon::generate` (Grain LFSR); do not edit.\n\n\
		 use ark_ff::MontFp;\n\n\
		 use super::{{OptimizedConstants, SparseMatrix}};\n\
		 use crate::Fr;\n\n\
		 {}\n{}\n\
		 /// Roots of all-zero-leaf subtrees, level 0 (a leaf) to level `tree::DEPTH`.\n\
		 pub(crate) static EMPTY_SUBTREE_ROOTS: [Fr; {}] = {};\n",
		width_section("T3", &t3),
		width_section("T5", &t5),
		roots.len(),
		fr_list(&roots, ""),
	)
}

/// A field element from big-endian hex (an optional `0x` first), as published test vectors and
/// parameter files write them.
pub(crate) fn fr_from_be_hex(hex: &str) -> Fr {
	let hex = hex.trim_start_matches("0x");
	let bytes: Vec<u8> = (0..hex.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
		.collect();
	Fr::from_be_bytes_mod_order(&bytes)
}

/// Fails, and rewrites the file, when the generated file at `relative` (to the crate) is not
/// `expected`.
pub(crate) fn check_generated_file(relative: &str, expected: &str) {
	// Read at run time: a test binary built in another checkout of this workspace is reused.
	let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
	let path = std::path::Path::new(&dir).join(relative);
	let actual = std::fs::read_to_string(&path).unwrap_or_default();
	if actual != expected {
		std::fs::write(&path, expected).expect("generated files are writable in a checkout");
		panic!("{relative} was stale and has been regenerated; run the tests again");
	}
}

#[test]
fn constants_file_is_current() {
	check_generated_file("src/poseidon/constants.rs", &render());
}
