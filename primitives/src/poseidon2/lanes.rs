//! Sixteen Poseidon2 permutations at once with AVX-512 IFMA (`vpmadd52luq` / `vpmadd52huq`).
//!
//! Each 512-bit register holds one 52-bit limb of eight field elements, and two such vectors are
//! worked on side by side (one alone leaves the multiplier waiting on its own results). An
//! element is five limbs (radix `2^52`) in Montgomery form with `R = 2^260`, normalised (every
//! limb below `2^52`) and in `[0, 2p)` between operations: a sum is reduced by `2p`, a product
//! needs no subtraction (below), and only the results leave fully reduced. A multiplication is the coarsely integrated
//! operand scanning method on 52-bit words: for each limb `bᵢ`, `t += a·bᵢ`, then
//! `t += m·p` with `m = t₀·(-p⁻¹) mod 2^52`, which clears `t₀`, and a shift by one limb. The
//! IFMA instructions give the low and the high 52 bits of each 52×52-bit product added into a
//! 64-bit accumulator, so the carries wait in the accumulators' top 12 bits until the end. With
//! `a, b < 2p` and `p < 2^254` the result is below `4p²/2^260 + p < 2p`.
//!
//! Values cross in and out in ark-ff's representation (`x·2^256 mod p`): one multiplication by
//! `2^264 mod p` takes such limbs (repacked to radix `2^52`) to `x·2^260`, and one by
//! `2^256 mod p` takes them back. The round constants are converted once.
//!
//! Only [`Ifma::detect`] makes the token that lets the rest run, on a CPU that reports AVX-512F
//! and AVX-512 IFMA; the permutations are checked against the scalar ones in the tests.

use core::arch::x86_64::{
	__m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmplt_epi64_mask, _mm512_loadu_si512,
	_mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_set1_epi64,
	_mm512_setzero_si512, _mm512_srai_epi64, _mm512_srli_epi64, _mm512_storeu_si512,
	_mm512_sub_epi64,
};
use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField};

use super::{Poseidon2Params, FULL_ROUNDS, PARAMS_T3, PARAMS_T4, PARTIAL_ROUNDS};
use crate::{montgomery::Mont4, Fr};

/// Elements per call: [`BATCHES`] registers of eight 64-bit lanes.
pub const LANES: usize = 8 * BATCHES;
/// Independent vectors of eight worked on side by side (one alone leaves the multiplier waiting
/// on its own results).
const BATCHES: usize = 2;

/// Limbs of an element.
const LIMBS: usize = 5;
/// Bits of a limb.
const LIMB_BITS: u32 = 52;
/// The low 52 bits.
const MASK: u64 = (1 << LIMB_BITS) - 1;

/// A token: only [`Ifma::detect`] makes one, and only on a CPU with AVX-512F and AVX-512 IFMA.
#[derive(Clone, Copy, Debug)]
pub struct Ifma(());

impl Ifma {
	/// The token if this CPU has AVX-512F and AVX-512 IFMA (the check is cached by the standard
	/// library).
	#[inline]
	pub fn detect() -> Option<Ifma> {
		if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma") {
			return Some(Ifma(()));
		}
		None
	}

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

/// An element in radix `2^52`, least significant limb first.
type Limbs = [u64; LIMBS];

/// Radix `2^64` (four words below `2^256`) to radix `2^52`.
fn to_limbs(words: &[u64; 4]) -> Limbs {
	[
		words[0] & MASK,
		(words[0] >> 52 | words[1] << 12) & MASK,
		(words[1] >> 40 | words[2] << 24) & MASK,
		(words[2] >> 28 | words[3] << 36) & MASK,
		words[3] >> 16,
	]
}

/// Radix `2^52` (normalised, below `2^256`) to radix `2^64`.
fn from_limbs(limbs: &Limbs) -> [u64; 4] {
	[
		limbs[0] | limbs[1] << 52,
		limbs[1] >> 12 | limbs[2] << 40,
		limbs[2] >> 24 | limbs[3] << 28,
		limbs[3] >> 36 | limbs[4] << 16,
	]
}

/// One width's parameters in the lanes' representation.
struct Constants {
	/// `width` per full round, first half then last half.
	external: Vec<Limbs>,
	internal: [Limbs; PARTIAL_ROUNDS],
	diagonal: Vec<Limbs>,
	/// The modulus, twice the modulus, and `-p⁻¹ mod 2^52`.
	modulus: Limbs,
	twice_modulus: Limbs,
	inverse: u64,
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
	let modulus_and_inverse = <Fr as Mont4>::MODULUS_AND_INVERSE;
	let mut internal = [[0; LIMBS]; PARTIAL_ROUNDS];
	for (slot, constant) in internal.iter_mut().zip(params.internal_constants) {
		*slot = lanes_form(constant);
	}
	let two = Fr::from(2u64);
	let modulus = Fr::MODULUS;
	let mut twice = modulus;
	twice.add_with_carry(&modulus);
	Constants {
		external: params.external_constants.iter().map(lanes_form).collect(),
		internal,
		diagonal: params.internal_diagonal.iter().map(lanes_form).collect(),
		modulus: to_limbs(&modulus.0),
		twice_modulus: to_limbs(&twice.0),
		inverse: modulus_and_inverse[4] & MASK,
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

/// One limb of eight elements per register.
type Vector = [__m512i; LIMBS];

/// [`LANES`] elements: [`BATCHES`] vectors of eight, each holding limb `i` in register `i`. Every
/// operation works on all of them, so that the processor overlaps their dependency chains.
#[derive(Clone, Copy)]
struct Lanes([Vector; BATCHES]);

/// The modulus and the masks, broadcast once per call.
struct Field52 {
	modulus: Vector,
	twice_modulus: Vector,
	inverse: __m512i,
	mask: __m512i,
	zero: __m512i,
}

impl Field52 {
	#[inline(always)]
	unsafe fn new(constants: &Constants) -> Self {
		Self {
			modulus: broadcast_limbs(&constants.modulus),
			twice_modulus: broadcast_limbs(&constants.twice_modulus),
			inverse: broadcast_word(constants.inverse),
			mask: broadcast_word(MASK),
			zero: _mm512_setzero_si512(),
		}
	}

	/// One element in every lane.
	#[inline(always)]
	unsafe fn broadcast(&self, limbs: &Limbs) -> Lanes {
		Lanes([broadcast_limbs(limbs); BATCHES])
	}

	/// `x - m` if it does not borrow, else `x`, for normalised `x` and `m`.
	#[inline(always)]
	unsafe fn subtract_below(&self, x: Vector, m: &Vector) -> Vector {
		let mut difference = [self.zero; LIMBS];
		let mut borrow = self.zero;
		for i in 0..LIMBS {
			// Signed: the arithmetic shift carries the borrow (-1 or 0) into the next limb.
			let limb = _mm512_add_epi64(_mm512_sub_epi64(x[i], m[i]), borrow);
			borrow = _mm512_srai_epi64::<52>(limb);
			difference[i] = _mm512_and_si512(limb, self.mask);
		}
		let negative = _mm512_cmplt_epi64_mask(borrow, self.zero);
		let mut out = [self.zero; LIMBS];
		for i in 0..LIMBS {
			out[i] = _mm512_mask_blend_epi64(negative, difference[i], x[i]);
		}
		out
	}

	/// Carries every limb's bits above 52 into the next (the top limb keeps its own).
	#[inline(always)]
	unsafe fn normalise(&self, mut x: Vector) -> Vector {
		for i in 0..LIMBS - 1 {
			let carry = _mm512_srli_epi64::<52>(x[i]);
			x[i] = _mm512_and_si512(x[i], self.mask);
			x[i + 1] = _mm512_add_epi64(x[i + 1], carry);
		}
		x
	}

	/// `a + b`, for and in `[0, 2p)`.
	#[inline(always)]
	unsafe fn add(&self, a: &Lanes, b: &Lanes) -> Lanes {
		let mut out = *a;
		for (out, b) in out.0.iter_mut().zip(&b.0) {
			let mut sum = *out;
			for (sum, b) in sum.iter_mut().zip(b) {
				*sum = _mm512_add_epi64(*sum, *b);
			}
			*out = self.subtract_below(self.normalise(sum), &self.twice_modulus);
		}
		out
	}

	/// `2a`, for and in `[0, 2p)`.
	#[inline(always)]
	unsafe fn double(&self, a: &Lanes) -> Lanes {
		self.add(a, a)
	}

	/// `[0, 2p)` to `[0, p)`.
	#[inline(always)]
	unsafe fn reduce(&self, x: &Lanes) -> Lanes {
		let mut out = *x;
		for out in out.0.iter_mut() {
			*out = self.subtract_below(*out, &self.modulus);
		}
		out
	}

	/// `a·b·2^-260 mod p`, in `[0, 2p)` for `a, b` in `[0, 2p)`: below `4p²/2^260 + p`, which is
	/// below `p/16 + p` as `p < 2^254`.
	///
	/// The product's ten limbs first, then five reduction steps: `m = tᵢ·(-p⁻¹) mod 2^52`,
	/// `t += m·p·2^(52i)` (which clears `tᵢ`'s low 52 bits) and `tᵢ`'s carry into `tᵢ₊₁`. Every
	/// index is a constant once the loops are unrolled, so `t` lives in registers. Each
	/// accumulator takes at most 21 terms below `2^52` and a carry: below `2^57`.
	#[inline(always)]
	#[allow(clippy::needless_range_loop)] // indices into two arrays at once, unrolled
	unsafe fn mul(&self, a: &Lanes, b: &Lanes) -> Lanes {
		let mut out = *a;
		for k in 0..BATCHES {
			let (a, b) = (&a.0[k], &b.0[k]);
			let mut t = [self.zero; 2 * LIMBS];
			for i in 0..LIMBS {
				for j in 0..LIMBS {
					t[i + j] = _mm512_madd52lo_epu64(t[i + j], a[j], b[i]);
					t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a[j], b[i]);
				}
			}
			for i in 0..LIMBS {
				// Only tᵢ's low 52 bits count: the instruction reads 52 bits of each factor.
				let m = _mm512_madd52lo_epu64(self.zero, t[i], self.inverse);
				for j in 0..LIMBS {
					t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, self.modulus[j]);
					t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, self.modulus[j]);
				}
				t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
			}
			out.0[k] = self.normalise([t[5], t[6], t[7], t[8], t[9]]);
		}
		out
	}

	/// `x⁵`.
	#[inline(always)]
	unsafe fn sbox(&self, x: &mut Lanes) {
		let square = self.mul(x, x);
		let fourth = self.mul(&square, &square);
		*x = self.mul(&fourth, x);
	}
}

#[inline(always)]
unsafe fn broadcast_limbs(limbs: &Limbs) -> [__m512i; LIMBS] {
	let mut out = [_mm512_setzero_si512(); LIMBS];
	for (out, limb) in out.iter_mut().zip(limbs) {
		*out = broadcast_word(*limb);
	}
	out
}

#[inline(always)]
unsafe fn broadcast_word(word: u64) -> __m512i {
	_mm512_set1_epi64(word as i64)
}

/// The lanes' limb vectors, from the elements' radix-`2^52` limbs.
#[inline(always)]
unsafe fn load(elements: &[Limbs; LANES]) -> Lanes {
	let mut out = Lanes([[_mm512_setzero_si512(); LIMBS]; BATCHES]);
	for (vector, elements) in out.0.iter_mut().zip(elements.chunks_exact(8)) {
		for (i, limb) in vector.iter_mut().enumerate() {
			let mut column = [0u64; 8];
			for (word, element) in column.iter_mut().zip(elements) {
				*word = element[i];
			}
			// Reads the 64 bytes of `column`; the load needs no alignment.
			*limb = _mm512_loadu_si512(column.as_ptr().cast());
		}
	}
	out
}

#[inline(always)]
unsafe fn store(lanes: &Lanes) -> [Limbs; LANES] {
	let mut elements = [[0u64; LIMBS]; LANES];
	for (vector, elements) in lanes.0.iter().zip(elements.chunks_exact_mut(8)) {
		for (i, limb) in vector.iter().enumerate() {
			let mut column = [0u64; 8];
			// Writes the 64 bytes of `column`; the store needs no alignment.
			_mm512_storeu_si512(column.as_mut_ptr().cast(), *limb);
			for (element, word) in elements.iter_mut().zip(column) {
				element[i] = word;
			}
		}
	}
	elements
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
		f.sbox(&mut x);
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
	let f = Field52::new(constants);
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
		f.sbox(&mut x);
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
