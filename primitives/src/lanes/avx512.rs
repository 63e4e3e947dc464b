//! Field arithmetic on sixteen elements at once with AVX-512 IFMA (`vpmadd52luq` /
//! `vpmadd52huq`), for any four-limb field with a modulus below `2^254` (BN254's two): the
//! Poseidon2 permutations of the shard tree ([`crate::poseidon2::lanes`]) and the affine point
//! additions of the prover's multi-scalar multiplications ([`Ifma::add_affine`]).
//!
//! Each 512-bit register holds one 52-bit limb of eight field elements, and two such vectors are
//! worked on side by side (one alone leaves the multiplier waiting on its own results). An
//! element is five limbs (radix `2^52`) in Montgomery form with `R = 2^260`, normalised (every
//! limb below `2^52`) and in `[0, 2p)` between operations: a sum is reduced by `2p`, a product
//! needs no subtraction (below), and only the results leave fully reduced. A multiplication is
//! the coarsely integrated operand scanning method on 52-bit words: for each limb `bᵢ`,
//! `t += a·bᵢ`, then `t += m·p` with `m = t₀·(-p⁻¹) mod 2^52`, which clears `t₀`, and a shift
//! by one limb. The IFMA instructions give the low and the high 52 bits of each 52×52-bit
//! product added into a 64-bit accumulator, so the carries wait in the accumulators' top 12 bits
//! until the end. With `a, b < 2p` and `p < 2^254` the result is below `4p²/2^260 + p < 2p`.
//!
//! ark-ff keeps `x·2^256 mod p`; read in this representation, the same limbs are the element
//! `x/16`. The permutations convert with one multiplication each way; the point additions need
//! no conversion at all (see [`Ifma::add_affine`]).
//!
//! Only [`Ifma::detect`] makes the token that lets the rest run, on a CPU that reports AVX-512F
//! and AVX-512 IFMA; the tests check every operation against ark-ff's.

use alloc::vec::Vec;
use core::arch::x86_64::{
	__m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmplt_epi64_mask, _mm512_loadu_si512,
	_mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_set1_epi64,
	_mm512_setzero_si512, _mm512_srai_epi64, _mm512_srli_epi64, _mm512_storeu_si512,
	_mm512_sub_epi64,
};

use ark_ff::{Field, Fp2, Fp256, Fp2Config, MontBackend, MontConfig};

use crate::montgomery::Mont4;

/// Elements per call: [`BATCHES`] registers of eight 64-bit lanes.
pub const LANES: usize = 8 * BATCHES;
/// Independent vectors of eight worked on side by side.
pub(crate) const BATCHES: usize = 2;

/// Limbs of an element.
pub(crate) const LIMBS: usize = 5;
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

	/// Affine additions on a short Weierstrass curve over `F`: each `[x₁, y₁, x₂, y₂]` with
	/// `x₁ ≠ x₂` (neither point the identity, the points neither equal nor opposite) becomes
	/// `[x₃, y₃, x₂, y₂]`, where `(x₃, y₃)` is the sum. One field inversion serves them all
	/// (Montgomery's trick, sixteen chains side by side), and each addition then costs six
	/// multiplications in the lanes.
	///
	/// The coordinates are used as ark-ff stores them: read as this module's form, `(x, y)` is
	/// the point scaled by `1/16`, and the slope `λ = (y₂ - y₁)/(x₂ - x₁)` does not change under
	/// such a scaling. With the denominator taken four times, the lanes compute `λ/4`, and then
	/// `x₃/16 = (λ/4)² - x₁/16 - x₂/16` and `y₃/16 = λ·(x₁/16 - x₃/16) - y₁/16`: the limbs
	/// that come out are ark-ff's `x₃` and `y₃`, with no conversion either way.
	///
	/// `scratch` keeps memory and constants from one call to the next.
	///
	/// # Panics
	///
	/// If some `x₁ = x₂` (the product to invert is then zero).
	pub fn add_affine<F: LaneField>(self, points: &mut [[F; 4]], scratch: &mut AffineScratch<F>) {
		if points.is_empty() {
			return;
		}
		let AffineScratch { modulus, lanes } = scratch;
		lanes.clear();
		// SAFETY: the token exists only on a CPU with AVX-512F and IFMA.
		let product = unsafe { prefix_products(modulus, points, lanes) };
		// Read as ark-ff's form, the lanes' form of a lane's product t is 16·t, and 256/(16·t) in
		// ark-ff's form is 1/t in the lanes' form.
		let mut inverses = product;
		assert!(!inverses.contains(&F::ZERO), "an addition of points with equal x");
		ark_ff::batch_inversion(&mut inverses);
		let scale = F::from(256u64);
		for inverse in &mut inverses {
			*inverse *= scale;
		}
		// SAFETY: as above.
		unsafe { finish_sums(modulus, points, lanes, &inverses) }
	}
}

/// What [`Ifma::add_affine`] keeps from one call to the next: the modulus in the lanes' terms,
/// and room for the running products.
pub struct AffineScratch<F: LaneField> {
	modulus: Modulus,
	lanes: Vec<F::Vectors>,
}

impl<F: LaneField> Default for AffineScratch<F> {
	fn default() -> Self {
		Self { modulus: Modulus::of::<F::Prime>(), lanes: Vec::new() }
	}
}

/// A field the lanes compute in: a prime field of four 64-bit limbs below `2^254` (BN254's `Fq`
/// and `Fr`) or its quadratic extension by `√-1` (BN254's `Fq2`). Only this module implements
/// it.
pub trait LaneField: Field + private::Ops {}

impl<C: MontConfig<4>> LaneField for Fp256<MontBackend<C, 4>> {}

impl<P: Fp2Config<Fp = Fp256<MontBackend<C, 4>>>, C: MontConfig<4>> LaneField for Fp2<P> {}

mod private {
	use super::*;

	/// The lanes' arithmetic of a [`LaneField`]: every function is inlined into the callers,
	/// which are compiled for AVX-512F and IFMA and only run with the token.
	pub trait Ops: Sized {
		/// The prime field under it.
		type Prime: Mont4;
		/// Sixteen elements.
		type Vectors: Copy;

		/// One in the lanes' form in every lane.
		unsafe fn lanes_one(f: &Field52, modulus: &Modulus) -> Self::Vectors;
		/// The elements' limbs as the lanes' form (ark-ff's `x` is the lanes' `x/16`).
		unsafe fn lanes_load(elements: [&Self; LANES]) -> Self::Vectors;
		/// The lanes, fully reduced, as ark-ff's elements.
		unsafe fn lanes_store(f: &Field52, lanes: &Self::Vectors) -> [Self; LANES];
		unsafe fn lanes_add(f: &Field52, a: &Self::Vectors, b: &Self::Vectors) -> Self::Vectors;
		unsafe fn lanes_sub(f: &Field52, a: &Self::Vectors, b: &Self::Vectors) -> Self::Vectors;
		unsafe fn lanes_mul(f: &Field52, a: &Self::Vectors, b: &Self::Vectors) -> Self::Vectors;
		unsafe fn lanes_square(f: &Field52, a: &Self::Vectors) -> Self::Vectors;
	}

	impl<C: MontConfig<4>> Ops for Fp256<MontBackend<C, 4>> {
		type Prime = Self;
		type Vectors = Lanes;

		#[inline(always)]
		unsafe fn lanes_one(f: &Field52, modulus: &Modulus) -> Lanes {
			f.broadcast(&modulus.one)
		}

		#[inline(always)]
		unsafe fn lanes_load(elements: [&Self; LANES]) -> Lanes {
			load(&elements.map(|element| to_limbs(element.limbs())))
		}

		#[inline(always)]
		unsafe fn lanes_store(f: &Field52, lanes: &Lanes) -> [Self; LANES] {
			store(&f.reduce(lanes)).map(|limbs| Self::from_limbs(from_limbs(&limbs)))
		}

		#[inline(always)]
		unsafe fn lanes_add(f: &Field52, a: &Lanes, b: &Lanes) -> Lanes {
			f.add(a, b)
		}

		#[inline(always)]
		unsafe fn lanes_sub(f: &Field52, a: &Lanes, b: &Lanes) -> Lanes {
			f.sub(a, b)
		}

		#[inline(always)]
		unsafe fn lanes_mul(f: &Field52, a: &Lanes, b: &Lanes) -> Lanes {
			f.mul(a, b)
		}

		#[inline(always)]
		unsafe fn lanes_square(f: &Field52, a: &Lanes) -> Lanes {
			f.square(a)
		}
	}

	/// `c₀ + c₁·u` with `u² = -1`, each coordinate in its own lanes.
	impl<P: Fp2Config<Fp = Fp256<MontBackend<C, 4>>>, C: MontConfig<4>> Ops for Fp2<P> {
		type Prime = P::Fp;
		type Vectors = [Lanes; 2];

		#[inline(always)]
		unsafe fn lanes_one(f: &Field52, modulus: &Modulus) -> [Lanes; 2] {
			const { assert!(is_minus_one::<C>(&P::NONRESIDUE.0 .0), "the lanes' Fp2 needs u² = -1") };
			[f.broadcast(&modulus.one), f.broadcast(&[0; LIMBS])]
		}

		#[inline(always)]
		unsafe fn lanes_load(elements: [&Self; LANES]) -> [Lanes; 2] {
			[
				load(&elements.map(|element| to_limbs(element.c0.limbs()))),
				load(&elements.map(|element| to_limbs(element.c1.limbs()))),
			]
		}

		#[inline(always)]
		unsafe fn lanes_store(f: &Field52, lanes: &[Lanes; 2]) -> [Self; LANES] {
			// No closure around the vector code: a closure is not compiled for the caller's
			// target features, and its intrinsics would be calls.
			let c0 = store(&f.reduce(&lanes[0]));
			let c1 = store(&f.reduce(&lanes[1]));
			core::array::from_fn(|lane| {
				Fp2::new(
					P::Fp::from_limbs(from_limbs(&c0[lane])),
					P::Fp::from_limbs(from_limbs(&c1[lane])),
				)
			})
		}

		#[inline(always)]
		unsafe fn lanes_add(f: &Field52, a: &[Lanes; 2], b: &[Lanes; 2]) -> [Lanes; 2] {
			[f.add(&a[0], &b[0]), f.add(&a[1], &b[1])]
		}

		#[inline(always)]
		unsafe fn lanes_sub(f: &Field52, a: &[Lanes; 2], b: &[Lanes; 2]) -> [Lanes; 2] {
			[f.sub(&a[0], &b[0]), f.sub(&a[1], &b[1])]
		}

		/// Karatsuba: `(a₀b₀ - a₁b₁) + ((a₀ + a₁)(b₀ + b₁) - a₀b₀ - a₁b₁)·u`.
		#[inline(always)]
		unsafe fn lanes_mul(f: &Field52, a: &[Lanes; 2], b: &[Lanes; 2]) -> [Lanes; 2] {
			let v0 = f.mul(&a[0], &b[0]);
			let v1 = f.mul(&a[1], &b[1]);
			let sum = f.mul(&f.add(&a[0], &a[1]), &f.add(&b[0], &b[1]));
			[f.sub(&v0, &v1), f.sub(&f.sub(&sum, &v0), &v1)]
		}

		/// `(a₀ + a₁)(a₀ - a₁) + 2a₀a₁·u`: two products where [`Self::lanes_mul`] takes three.
		#[inline(always)]
		unsafe fn lanes_square(f: &Field52, a: &[Lanes; 2]) -> [Lanes; 2] {
			let real = f.mul(&f.add(&a[0], &a[1]), &f.sub(&a[0], &a[1]));
			let half_imaginary = f.mul(&a[0], &a[1]);
			[real, f.double(&half_imaginary)]
		}
	}
}

/// Whether the Montgomery-form `limbs` are `-1` in `C`'s field (`p - R`, with `R < p`), at
/// compile time.
const fn is_minus_one<C: MontConfig<4>>(limbs: &[u64; 4]) -> bool {
	let (p, r) = (C::MODULUS.0, C::R.0);
	let mut borrow = false;
	let mut i = 0;
	while i < 4 {
		let (difference, first) = p[i].overflowing_sub(r[i]);
		let (difference, second) = difference.overflowing_sub(borrow as u64);
		if difference != limbs[i] {
			return false;
		}
		borrow = first | second;
		i += 1;
	}
	true
}

/// An element in radix `2^52`, least significant limb first.
pub(crate) type Limbs = [u64; LIMBS];

/// Radix `2^64` (four words below `2^256`) to radix `2^52`.
#[inline(always)]
pub(crate) fn to_limbs(words: &[u64; 4]) -> Limbs {
	[
		words[0] & MASK,
		(words[0] >> 52 | words[1] << 12) & MASK,
		(words[1] >> 40 | words[2] << 24) & MASK,
		(words[2] >> 28 | words[3] << 36) & MASK,
		words[3] >> 16,
	]
}

/// Radix `2^52` (normalised, below `2^256`) to radix `2^64`.
#[inline(always)]
pub(crate) fn from_limbs(limbs: &Limbs) -> [u64; 4] {
	[
		limbs[0] | limbs[1] << 52,
		limbs[1] >> 12 | limbs[2] << 40,
		limbs[2] >> 24 | limbs[3] << 28,
		limbs[3] >> 36 | limbs[4] << 16,
	]
}

/// A field's modulus in the lanes' terms.
pub struct Modulus {
	modulus: Limbs,
	twice_modulus: Limbs,
	/// `-p⁻¹ mod 2^52`.
	inverse: u64,
	/// One in the lanes' form, `2^260 mod p` (ark-ff's form of 16).
	one: Limbs,
}

impl Modulus {
	pub(crate) fn of<F: Mont4>() -> Self {
		let [p0, p1, p2, p3, inverse] = F::MODULUS_AND_INVERSE;
		let p = [p0, p1, p2, p3];
		// `p < 2^254`: doubling shifts every word left with the next lower word's top bit.
		let twice = [p0 << 1, p1 << 1 | p0 >> 63, p2 << 1 | p1 >> 63, p3 << 1 | p2 >> 63];
		Modulus {
			modulus: to_limbs(&p),
			twice_modulus: to_limbs(&twice),
			inverse: inverse & MASK,
			one: to_limbs(F::from(16u64).limbs()),
		}
	}
}

/// One limb of eight elements per register.
type Vector = [__m512i; LIMBS];

/// [`LANES`] elements: [`BATCHES`] vectors of eight, each holding limb `i` in register `i`. Every
/// operation works on all of them, so that the processor overlaps their dependency chains.
#[derive(Clone, Copy)]
pub struct Lanes([Vector; BATCHES]);

/// The modulus and the masks, broadcast once per call.
pub struct Field52 {
	modulus: Vector,
	twice_modulus: Vector,
	inverse: __m512i,
	mask: __m512i,
	zero: __m512i,
}

impl Field52 {
	/// # Safety
	///
	/// The CPU must have AVX-512F and AVX-512 IFMA: a `Field52` stands for that, and the
	/// arithmetic of the poseidon2 lanes relies on it.
	#[inline(always)]
	pub(crate) unsafe fn new(modulus: &Modulus) -> Self {
		Self {
			modulus: broadcast_limbs(&modulus.modulus),
			twice_modulus: broadcast_limbs(&modulus.twice_modulus),
			inverse: broadcast_word(modulus.inverse),
			mask: broadcast_word(MASK),
			zero: _mm512_setzero_si512(),
		}
	}

	/// One element in every lane.
	#[inline(always)]
	pub(crate) unsafe fn broadcast(&self, limbs: &Limbs) -> Lanes {
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

	/// Carries every limb's bits above 52 into the next (the top limb keeps its own). Signed: a
	/// negative limb borrows from the next, as long as the whole is not negative.
	#[inline(always)]
	unsafe fn normalise(&self, mut x: Vector) -> Vector {
		for i in 0..LIMBS - 1 {
			let carry = _mm512_srai_epi64::<52>(x[i]);
			x[i] = _mm512_and_si512(x[i], self.mask);
			x[i + 1] = _mm512_add_epi64(x[i + 1], carry);
		}
		x
	}

	/// `a + b`, for and in `[0, 2p)`.
	#[inline(always)]
	pub(crate) unsafe fn add(&self, a: &Lanes, b: &Lanes) -> Lanes {
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

	/// `a - b`, for and in `[0, 2p)`: `a + 2p - b` is in `(0, 4p)`, then reduced by `2p`.
	#[inline(always)]
	pub(crate) unsafe fn sub(&self, a: &Lanes, b: &Lanes) -> Lanes {
		let mut out = *a;
		for (out, b) in out.0.iter_mut().zip(&b.0) {
			let mut difference = *out;
			for i in 0..LIMBS {
				difference[i] =
					_mm512_sub_epi64(_mm512_add_epi64(difference[i], self.twice_modulus[i]), b[i]);
			}
			*out = self.subtract_below(self.normalise(difference), &self.twice_modulus);
		}
		out
	}

	/// `2a`, for and in `[0, 2p)`.
	#[inline(always)]
	pub(crate) unsafe fn double(&self, a: &Lanes) -> Lanes {
		self.add(a, a)
	}

	/// `[0, 2p)` to `[0, p)`.
	#[inline(always)]
	pub(crate) unsafe fn reduce(&self, x: &Lanes) -> Lanes {
		let mut out = *x;
		for out in out.0.iter_mut() {
			*out = self.subtract_below(*out, &self.modulus);
		}
		out
	}

	/// `a·b·2^-260 mod p`, in `[0, 2p)` for `a, b` in `[0, 2p)`: below `4p²/2^260 + p`, which is
	/// below `p/16 + p` as `p < 2^254`.
	///
	/// The product's ten limbs first, then [`Self::reduce_product`]. Every index is a constant
	/// once the loops are unrolled, so the accumulators live in registers.
	#[inline(always)]
	pub(crate) unsafe fn mul(&self, a: &Lanes, b: &Lanes) -> Lanes {
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
			out.0[k] = self.reduce_product(t);
		}
		out
	}

	/// `a²·2^-260 mod p`, as [`Self::mul`]`(a, a)`: each product of two different limbs is taken
	/// once and doubled, 30 multiply-adds for the ten limbs where a product takes 50.
	#[inline(always)]
	pub(crate) unsafe fn square(&self, a: &Lanes) -> Lanes {
		let mut out = *a;
		for k in 0..BATCHES {
			let a = &a.0[k];
			let mut t = [self.zero; 2 * LIMBS];
			for i in 0..LIMBS {
				for j in i + 1..LIMBS {
					t[i + j] = _mm512_madd52lo_epu64(t[i + j], a[i], a[j]);
					t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a[i], a[j]);
				}
			}
			for limb in t.iter_mut() {
				*limb = _mm512_add_epi64(*limb, *limb);
			}
			for i in 0..LIMBS {
				t[2 * i] = _mm512_madd52lo_epu64(t[2 * i], a[i], a[i]);
				t[2 * i + 1] = _mm512_madd52hi_epu64(t[2 * i + 1], a[i], a[i]);
			}
			out.0[k] = self.reduce_product(t);
		}
		out
	}

	/// A product's ten limbs times `2^-260`, modulo `p` in `[0, 2p)`: five steps of
	/// `m = tᵢ·(-p⁻¹) mod 2^52`, `t += m·p·2^(52i)` (which clears `tᵢ`'s low 52 bits) and `tᵢ`'s
	/// carry into `tᵢ₊₁`. Each accumulator takes at most 21 terms below `2^52` and a carry: below
	/// `2^57`.
	#[inline(always)]
	unsafe fn reduce_product(&self, mut t: [__m512i; 2 * LIMBS]) -> Vector {
		for i in 0..LIMBS {
			// Only tᵢ's low 52 bits count: the instruction reads 52 bits of each factor.
			let m = _mm512_madd52lo_epu64(self.zero, t[i], self.inverse);
			for j in 0..LIMBS {
				t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, self.modulus[j]);
				t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, self.modulus[j]);
			}
			t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
		}
		self.normalise([t[5], t[6], t[7], t[8], t[9]])
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
pub(crate) unsafe fn load(elements: &[Limbs; LANES]) -> Lanes {
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

/// The elements' radix-`2^52` limbs, from the lanes.
#[inline(always)]
pub(crate) unsafe fn store(lanes: &Lanes) -> [Limbs; LANES] {
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

/// Coordinate `position` of sixteen entries from `LANES · group` on, the entries past the end
/// taken from `padding`.
#[inline(always)]
unsafe fn load_coordinate<F: LaneField>(
	points: &[[F; 4]],
	group: usize,
	position: usize,
	padding: &[F; 4],
) -> F::Vectors {
	F::lanes_load(core::array::from_fn(|lane| {
		&points.get(group * LANES + lane).unwrap_or(padding)[position]
	}))
}

/// Padding of a short last group: `(0, 0) + (1, 0)`, whose denominator is one.
fn padding<F: Field>() -> [F; 4] {
	[F::ZERO, F::ZERO, F::ONE, F::ZERO]
}

/// The first pass of [`Ifma::add_affine`]: for each group of sixteen, its denominators
/// `4(x₂ - x₁)` and the running product before them, pushed to `lanes` in that order; returns
/// the product of all, per lane.
///
/// # Safety
///
/// The CPU must have AVX-512F and AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn prefix_products<F: LaneField>(
	modulus: &Modulus,
	points: &[[F; 4]],
	lanes: &mut Vec<F::Vectors>,
) -> [F; LANES] {
	let f = Field52::new(modulus);
	let padding = padding::<F>();
	let mut product = F::lanes_one(&f, modulus);
	for group in 0..points.len().div_ceil(LANES) {
		let x1 = load_coordinate(points, group, 0, &padding);
		let x2 = load_coordinate(points, group, 2, &padding);
		let difference = F::lanes_sub(&f, &x2, &x1);
		let twice = F::lanes_add(&f, &difference, &difference);
		let denominator = F::lanes_add(&f, &twice, &twice);
		lanes.push(denominator);
		lanes.push(product);
		product = F::lanes_mul(&f, &product, &denominator);
	}
	F::lanes_store(&f, &product)
}

/// The second pass of [`Ifma::add_affine`], from the last group back: each group's inverses
/// from the running inverse and the product before it, then the sums.
///
/// # Safety
///
/// The CPU must have AVX-512F and AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn finish_sums<F: LaneField>(
	modulus: &Modulus,
	points: &mut [[F; 4]],
	lanes: &[F::Vectors],
	inverse: &[F; LANES],
) {
	let f = Field52::new(modulus);
	let padding = padding::<F>();
	let mut inverse = F::lanes_load(core::array::from_fn(|lane| &inverse[lane]));
	for (group, pair) in lanes.chunks_exact(2).enumerate().rev() {
		let (denominator, before) = (&pair[0], &pair[1]);
		let inverse_here = F::lanes_mul(&f, &inverse, before);
		inverse = F::lanes_mul(&f, &inverse, denominator);
		let x1 = load_coordinate(points, group, 0, &padding);
		let y1 = load_coordinate(points, group, 1, &padding);
		let x2 = load_coordinate(points, group, 2, &padding);
		let y2 = load_coordinate(points, group, 3, &padding);
		// λ/4, then x₃/16 and y₃/16 in the lanes' form, which are ark-ff's x₃ and y₃.
		let quarter_slope = F::lanes_mul(&f, &F::lanes_sub(&f, &y2, &y1), &inverse_here);
		let square = F::lanes_square(&f, &quarter_slope);
		let x3 = F::lanes_sub(&f, &F::lanes_sub(&f, &square, &x1), &x2);
		let half_slope = F::lanes_add(&f, &quarter_slope, &quarter_slope);
		let slope = F::lanes_add(&f, &half_slope, &half_slope);
		let y3 = F::lanes_sub(&f, &F::lanes_mul(&f, &slope, &F::lanes_sub(&f, &x1, &x3)), &y1);
		let (x3, y3) = (F::lanes_store(&f, &x3), F::lanes_store(&f, &y3));
		for lane in 0..LANES {
			if let Some(point) = points.get_mut(group * LANES + lane) {
				point[0] = x3[lane];
				point[1] = y3[lane];
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use ark_bn254::{Fq, Fq2};
	use ark_ff::{AdditiveGroup, PrimeField};

	use super::*;

	/// Deterministic field elements spread over the field, after the edge values.
	fn values(count: usize, seed: u8) -> Vec<Fq> {
		let mut values = vec![Fq::ZERO, Fq::ONE, -Fq::ONE, -Fq::from(2u64), Fq::from(1u64 << 52)];
		values.extend((0..count as u32).map(|i| {
			let bytes = sp_crypto_hashing::blake2_256(&[&[seed][..], &i.to_le_bytes()].concat());
			Fq::from_le_bytes_mod_order(&bytes)
		}));
		values.truncate(count);
		values
	}

	/// The affine sum by the textbook formula, in ark-ff.
	fn sum<F: Field>(point: &[F; 4]) -> (F, F) {
		let [x1, y1, x2, y2] = *point;
		let slope = (y2 - y1) / (x2 - x1);
		let x3 = slope.square() - x1 - x2;
		(x3, slope * (x1 - x3) - y1)
	}

	/// [`Ifma::add_affine`] against [`sum`] on batches of every length around the lanes.
	fn affine_sums_at_every_length<F: LaneField>(ifma: Ifma, coordinates: &[F]) {
		let mut scratch = AffineScratch::default();
		for n in (0..=3 * LANES + 1).chain([257, 512, 600]) {
			let mut points: Vec<[F; 4]> = coordinates
				.chunks_exact(4)
				.take(n)
				.map(|c| [c[0], c[1], c[2], c[3]])
				.filter(|point| point[0] != point[2])
				.collect();
			let expected: Vec<_> = points.iter().map(sum).collect();
			let seconds: Vec<_> = points.iter().map(|point| (point[2], point[3])).collect();
			ifma.add_affine(&mut points, &mut scratch);
			for ((point, expected), second) in points.iter().zip(&expected).zip(&seconds) {
				assert_eq!((point[0], point[1]), *expected, "n = {n}");
				assert_eq!((point[2], point[3]), *second);
			}
		}
	}

	#[test]
	fn affine_sums_equal_the_formula_in_fq_and_fq2() {
		let Some(ifma) = Ifma::detect() else {
			eprintln!("this CPU has no AVX-512 IFMA: the lanes are not run");
			return;
		};
		affine_sums_at_every_length(ifma, &values(4 * 600, 1));
		let pairs: Vec<Fq2> =
			values(8 * 600, 3).chunks_exact(2).map(|c| Fq2::new(c[0], c[1])).collect();
		affine_sums_at_every_length(ifma, &pairs);
		// Elements of the prime field alone and of `u` alone.
		let real: Vec<Fq2> = values(4 * 40, 4).into_iter().map(|c| Fq2::new(c, Fq::ZERO)).collect();
		let imaginary: Vec<Fq2> =
			values(4 * 40, 5).into_iter().map(|c| Fq2::new(Fq::ZERO, c)).collect();
		affine_sums_at_every_length(ifma, &real);
		affine_sums_at_every_length(ifma, &imaginary);
	}

	#[test]
	fn minus_one_is_recognised_at_compile_time() {
		const { assert!(is_minus_one::<ark_bn254::FqConfig>(&ark_bn254::Fq2Config::NONRESIDUE.0 .0)) };
		assert!(is_minus_one::<ark_bn254::FqConfig>(&(-Fq::ONE).0 .0));
		for other in [Fq::ONE, Fq::ZERO, -Fq::from(2u64)] {
			assert!(!is_minus_one::<ark_bn254::FqConfig>(&other.0 .0));
		}
	}

	#[test]
	#[should_panic(expected = "equal x")]
	fn an_addition_with_equal_x_panics() {
		let Some(ifma) = Ifma::detect() else { panic!("equal x: no IFMA here") };
		let mut points = [[Fq::ONE, Fq::ONE, Fq::from(3u64), Fq::ONE], [Fq::ONE; 4]];
		ifma.add_affine(&mut points, &mut AffineScratch::default());
	}

	#[test]
	fn lanes_arithmetic_equals_arkworks() {
		let Some(_) = Ifma::detect() else { return };
		let values = values(4 * LANES, 2);
		let modulus = Modulus::of::<Fq>();
		for a in values.chunks_exact(LANES) {
			for b in values.chunks_exact(LANES) {
				// SAFETY: the CPU has AVX-512F and IFMA.
				let [sum, difference, product, square] = unsafe { operations(&modulus, a, b) };
				for lane in 0..LANES {
					assert_eq!(sum[lane], a[lane] + b[lane]);
					assert_eq!(difference[lane], a[lane] - b[lane]);
					// The lanes' product of ark-ff's limbs is a·b/16.
					assert_eq!(product[lane], a[lane] * b[lane] / Fq::from(16u64));
					assert_eq!(square[lane], a[lane].square() / Fq::from(16u64));
				}
			}
		}
	}

	#[target_feature(enable = "avx512f,avx512ifma")]
	unsafe fn operations(modulus: &Modulus, a: &[Fq], b: &[Fq]) -> [[Fq; LANES]; 4] {
		let f = Field52::new(modulus);
		let lanes = |values: &[Fq]| {
			let limbs: [Limbs; LANES] = core::array::from_fn(|i| to_limbs(values[i].limbs()));
			load(&limbs)
		};
		let (a, b) = (lanes(a), lanes(b));
		let back = |x: Lanes| store(&f.reduce(&x)).map(|limbs| Fq::from_limbs(from_limbs(&limbs)));
		[back(f.add(&a, &b)), back(f.sub(&a, &b)), back(f.mul(&a, &b)), back(f.square(&a))]
	}
}
