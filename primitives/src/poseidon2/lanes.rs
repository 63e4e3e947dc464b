//! Sixteen Poseidon2 permutations at once with AVX-512 IFMA, on [`crate::lanes`]' field
//! arithmetic (five 52-bit limbs in Montgomery form with `R = 2^260`, sixteen elements a call).
//!
//! Values cross in and out in ark-ff's representation (`x·2^256 mod p`): one multiplication by
//! `2^264 mod p` takes such limbs (repacked to radix `2^52`) to `x·2^260`, and one by
//! `2^256 mod p` takes them back. The round constants are converted once.
//!
//! Only [`Ifma::detect`] makes the token that lets the rest run, on a CPU that reports AVX-512F
//! and AVX-512 IFMA; the permutations are checked against the scalar ones in the tests.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, Field, PrimeField};

use super::{
	linear::{external, internal, Additions},
	Permutation, Poseidon2Params, FULL_ROUNDS, PARTIAL_ROUNDS, WIDTH,
};
pub use crate::lanes::{Ifma, LANES};
use crate::{
	lanes::{from_limbs, load, store, to_limbs, Field52, Lanes, Limbs, Modulus, LIMBS},
	montgomery::Mont4,
	Fr,
};

impl Ifma {
	/// `permutation` of [`LANES`] states.
	pub fn permute(self, permutation: Permutation, states: &mut [[Fr; WIDTH]; LANES]) {
		// SAFETY: the token exists only on a CPU with AVX-512F and IFMA.
		unsafe { permute_batch(constants(permutation), states) }
	}

	/// [`LANES`] compressions `P(x)[0] + x[0]`: leaves with [`Permutation::Leaf`], nodes with
	/// [`Permutation::Node`].
	pub fn compress(self, permutation: Permutation, inputs: &[[Fr; WIDTH]; LANES]) -> [Fr; LANES] {
		let mut states = *inputs;
		self.permute(permutation, &mut states);
		let mut out = [Fr::ZERO; LANES];
		for ((out, state), input) in out.iter_mut().zip(&states).zip(inputs) {
			*out = state[0] + input[0];
		}
		out
	}
}

/// One permutation's parameters in the lanes' representation.
struct Constants {
	/// [`WIDTH`] per full round, first half then last half.
	external: Vec<Limbs>,
	internal: [Limbs; PARTIAL_ROUNDS],
	modulus: Modulus,
	/// `2^264 mod p` and `2^256 mod p`, plain integers: the conversions in and out.
	into: Limbs,
	out_of: Limbs,
}

/// `x` in the lanes' Montgomery form: `x·2^260 mod p`, which is ark-ff's form of `16·x`.
fn lanes_form(x: &Fr) -> Limbs {
	let sixteen = x.double().double().double().double();
	to_limbs(sixteen.limbs())
}

fn plain(x: Fr) -> Limbs {
	to_limbs(&x.into_bigint().0)
}

fn build(params: &Poseidon2Params) -> Constants {
	let mut internal = [[0; LIMBS]; PARTIAL_ROUNDS];
	for (slot, constant) in internal.iter_mut().zip(params.internal_constants) {
		*slot = lanes_form(constant);
	}
	let two = Fr::from(2u64);
	Constants {
		external: params.external_constants.iter().map(lanes_form).collect(),
		internal,
		modulus: Modulus::of::<Fr>(),
		into: plain(two.pow([264])),
		out_of: plain(two.pow([256])),
	}
}

/// The lanes' constants of a permutation, converted once.
fn constants(permutation: Permutation) -> &'static Constants {
	static LEAF: OnceLock<Constants> = OnceLock::new();
	static NODE: OnceLock<Constants> = OnceLock::new();
	let cache = match permutation {
		Permutation::Leaf => &LEAF,
		Permutation::Node => &NODE,
	};
	cache.get_or_init(|| build(permutation.params()))
}

/// `x⁵`.
#[inline(always)]
unsafe fn sbox(f: &Field52, x: &mut Lanes) {
	let square = f.square(x);
	let fourth = f.square(&square);
	*x = f.mul(&fourth, x);
}

/// A [`Field52`] exists only on a CPU with AVX-512F and IFMA (the contract of its constructor),
/// so its additions are safe to call.
impl Additions for Field52 {
	type Element = Lanes;

	#[inline(always)]
	fn add(&self, a: &Lanes, b: &Lanes) -> Lanes {
		// SAFETY: this `Field52` was made on a CPU with AVX-512F and IFMA.
		unsafe { Field52::add(self, a, b) }
	}

	#[inline(always)]
	fn double(&self, a: &Lanes) -> Lanes {
		// SAFETY: as for `add`.
		unsafe { Field52::double(self, a) }
	}
}

/// A full round: constants, S-box on every element, external layer.
#[inline(always)]
unsafe fn full_round(f: &Field52, state: &mut [Lanes; WIDTH], round: &[Limbs]) {
	for (element, constant) in state.iter_mut().zip(round) {
		let mut x = f.add(element, &f.broadcast(constant));
		sbox(f, &mut x);
		*element = x;
	}
	external(f, state);
}

/// The permutation of [`LANES`] states, in and out of ark-ff's form.
///
/// # Safety
///
/// The CPU must have AVX-512F and AVX-512 IFMA. Every function this one calls is inlined into
/// it (`inline(always)`, no closures), so the whole permutation is compiled for them.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn permute_batch(constants: &Constants, states: &mut [[Fr; WIDTH]; LANES]) {
	let f = Field52::new(&constants.modulus);
	let into = f.broadcast(&constants.into);
	let out_of = f.broadcast(&constants.out_of);
	let mut state = [into; WIDTH];
	for position in 0..WIDTH {
		let mut limbs = [[0; LIMBS]; LANES];
		for (limbs, lanes) in limbs.iter_mut().zip(states.iter()) {
			*limbs = to_limbs(lanes[position].limbs());
		}
		state[position] = f.mul(&load(&limbs), &into);
	}

	external(&f, &mut state);
	let (first, last) = constants.external.split_at(FULL_ROUNDS / 2 * WIDTH);
	for round in first.chunks_exact(WIDTH) {
		full_round(&f, &mut state, round);
	}
	for constant in &constants.internal {
		let mut x = f.add(&state[0], &f.broadcast(constant));
		sbox(&f, &mut x);
		state[0] = x;
		internal(&f, &mut state);
	}
	for round in last.chunks_exact(WIDTH) {
		full_round(&f, &mut state, round);
	}

	for (position, element) in state.iter().enumerate() {
		let limbs = store(&f.reduce(&f.mul(element, &out_of)));
		for (lane, limbs) in limbs.iter().enumerate() {
			states[lane][position] = Fr::from_limbs(from_limbs(limbs));
		}
	}
}
