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

use super::{Poseidon2Params, FULL_ROUNDS, PARAMS_T3, PARAMS_T4, PARTIAL_ROUNDS};
pub use crate::lanes::{Ifma, LANES};
use crate::{
	lanes::{from_limbs, load, store, to_limbs, Field52, Lanes, Limbs, Modulus, LIMBS},
	montgomery::Mont4,
	Fr,
};

impl Ifma {
	/// `P3` of [`LANES`] states.
	pub fn permute3(self, states: &mut [[Fr; 3]; LANES]) {
		// SAFETY: the token exists only on a CPU with AVX-512F and IFMA.
		unsafe { permute_batch::<3>(constants(3), states) }
	}

	/// `P4` of [`LANES`] states.
	pub fn permute4(self, states: &mut [[Fr; 4]; LANES]) {
		// SAFETY: as above.
		unsafe { permute_batch::<4>(constants(4), states) }
	}

	/// [`LANES`] leaves: `P3(a, b, 0)[0]` of each pair.
	pub fn hash2(self, inputs: &[[Fr; 2]; LANES]) -> [Fr; LANES] {
		let mut states = inputs.map(|[a, b]| [a, b, Fr::ZERO]);
		self.permute3(&mut states);
		states.map(|state| state[0])
	}

	/// [`LANES`] nodes: `P4(x)[0] + x[0]` of each group of children.
	pub fn compress4(self, inputs: &[[Fr; 4]; LANES]) -> [Fr; LANES] {
		let mut states = *inputs;
		self.permute4(&mut states);
		let mut out = [Fr::ZERO; LANES];
		for ((out, state), input) in out.iter_mut().zip(&states).zip(inputs) {
			*out = state[0] + input[0];
		}
		out
	}
}

/// One width's parameters in the lanes' representation.
struct Constants {
	/// `width` per full round, first half then last half.
	external: Vec<Limbs>,
	internal: [Limbs; PARTIAL_ROUNDS],
	diagonal: Vec<Limbs>,
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
		diagonal: params.internal_diagonal.iter().map(lanes_form).collect(),
		modulus: Modulus::of::<Fr>(),
		into: plain(two.pow([264])),
		out_of: plain(two.pow([256])),
	}
}

fn constants(width: usize) -> &'static Constants {
	static T3: OnceLock<Constants> = OnceLock::new();
	static T4: OnceLock<Constants> = OnceLock::new();
	if width == 3 {
		T3.get_or_init(|| build(&PARAMS_T3))
	} else {
		T4.get_or_init(|| build(&PARAMS_T4))
	}
}

/// `x⁵`.
#[inline(always)]
unsafe fn sbox(f: &Field52, x: &mut Lanes) {
	let square = f.square(x);
	let fourth = f.square(&square);
	*x = f.mul(&fourth, x);
}

/// The external layer: `circ(2, 1, 1)` at width 3, `M4` at width 4.
#[inline(always)]
unsafe fn external<const T: usize>(f: &Field52, state: &mut [Lanes; T]) {
	if T == 3 {
		let sum = f.add(&f.add(&state[0], &state[1]), &state[2]);
		for element in state.iter_mut() {
			*element = f.add(element, &sum);
		}
	} else {
		let [a, b, c, d] = [state[0], state[1], state[2], state[3]];
		let t0 = f.add(&a, &b);
		let t1 = f.add(&c, &d);
		let t2 = f.add(&f.double(&b), &t1);
		let t3 = f.add(&f.double(&d), &t0);
		let t4 = f.add(&f.double(&f.double(&t1)), &t3);
		let t5 = f.add(&f.double(&f.double(&t0)), &t2);
		state[0] = f.add(&t3, &t5);
		state[1] = t5;
		state[2] = f.add(&t2, &t4);
		state[3] = t4;
	}
}

/// The internal layer `J + diag(d)`.
#[inline(always)]
unsafe fn internal<const T: usize>(f: &Field52, state: &mut [Lanes; T], diagonal: &[Lanes]) {
	let mut sum = state[0];
	for element in &state[1..] {
		sum = f.add(&sum, element);
	}
	if T == 3 {
		// d = (1, 1, 2).
		state[0] = f.add(&state[0], &sum);
		state[1] = f.add(&state[1], &sum);
		state[2] = f.add(&f.double(&state[2]), &sum);
	} else {
		for (element, factor) in state.iter_mut().zip(diagonal) {
			*element = f.add(&f.mul(element, factor), &sum);
		}
	}
}

/// A full round: constants, S-box on every element, external layer.
#[inline(always)]
unsafe fn full_round<const T: usize>(f: &Field52, state: &mut [Lanes; T], round: &[Limbs]) {
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
unsafe fn permute_batch<const T: usize>(constants: &Constants, states: &mut [[Fr; T]; LANES]) {
	let f = Field52::new(&constants.modulus);
	let into = f.broadcast(&constants.into);
	let out_of = f.broadcast(&constants.out_of);
	let mut state = [into; T];
	let mut diagonal = [into; T];
	for position in 0..T {
		let mut limbs = [[0; LIMBS]; LANES];
		for (limbs, lanes) in limbs.iter_mut().zip(states.iter()) {
			*limbs = to_limbs(lanes[position].limbs());
		}
		state[position] = f.mul(&load(&limbs), &into);
		diagonal[position] = f.broadcast(&constants.diagonal[position]);
	}

	external(&f, &mut state);
	let (first, last) = constants.external.split_at(FULL_ROUNDS / 2 * T);
	for round in first.chunks_exact(T) {
		full_round(&f, &mut state, round);
	}
	for constant in &constants.internal {
		let mut x = f.add(&state[0], &f.broadcast(constant));
		sbox(&f, &mut x);
		state[0] = x;
		internal(&f, &mut state, &diagonal);
	}
	for round in last.chunks_exact(T) {
		full_round(&f, &mut state, round);
	}

	for (position, element) in state.iter().enumerate() {
		let limbs = store(&f.reduce(&f.mul(element, &out_of)));
		for (lane, limbs) in limbs.iter().enumerate() {
			states[lane][position] = Fr::from_limbs(from_limbs(limbs));
		}
	}
}
