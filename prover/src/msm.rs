//! Multi-scalar multiplication with affine buckets: Pippenger's bucket method where each bucket
//! is kept in affine coordinates and points are added into buckets a batch at a time, with one
//! field inversion per batch (Montgomery's trick).
//!
//! An affine addition costs about 5 multiplications and a squaring once the inversion is shared
//! by the batch (3 multiplications each), against 7 multiplications and 4 squarings for the
//! mixed Jacobian addition arkworks' MSM uses; the bucket additions are most of an MSM's work at
//! the sizes Groth16 proves here (tens of thousands of points). A point whose bucket already
//! waits in the batch is added in Jacobian coordinates instead (a few percent of the points in a
//! wide window, most of them in the narrow top window). The windows (signed digits) run in
//! parallel. The bucket additions multiply with [`cairn_primitives::montgomery`]'s fastest path
//! for this CPU (BMI2/ADX where present; `Fq2` by Karatsuba over it). The result equals
//! `VariableBaseMSM::msm_bigint`'s, which tests check on random and on repeated, negated and
//! identity points.

use alloc::{vec, vec::Vec};

use ark_ec::{
	short_weierstrass::{Affine, Projective, SWCurveConfig},
	AdditiveGroup,
};
use ark_ff::{BigInteger, Field, Fp2, Fp256, Fp2Config, MontBackend, MontConfig, PrimeField, Zero};
use cairn_primitives::{
	montgomery::{Mont4, Multiply},
	with_fastest_multiply,
};
use rayon::prelude::*;

/// A curve's base field as the buckets multiply in it: BN254's `Fq` (G1) and `Fq2` (G2).
pub trait BucketField: Field {
	/// `a · b` with `m`.
	fn mul_with(m: impl Multiply, a: &Self, b: &Self) -> Self;
	/// `a²` with `m`.
	fn square_with(m: impl Multiply, a: &Self) -> Self;
}

impl<C: MontConfig<4>> BucketField for Fp256<MontBackend<C, 4>> {
	#[inline(always)]
	fn mul_with(m: impl Multiply, a: &Self, b: &Self) -> Self {
		m.mul(a, b)
	}

	#[inline(always)]
	fn square_with(m: impl Multiply, a: &Self) -> Self {
		m.square(a)
	}
}

impl<P: Fp2Config> BucketField for Fp2<P>
where
	P::Fp: Mont4,
{
	/// Karatsuba: three base-field products.
	#[inline(always)]
	fn mul_with(m: impl Multiply, a: &Self, b: &Self) -> Self {
		let v0 = m.mul(&a.c0, &b.c0);
		let mut v1 = m.mul(&a.c1, &b.c1);
		let c1 = m.mul(&(a.c0 + a.c1), &(b.c0 + b.c1)) - v0 - v1;
		P::mul_fp_by_nonresidue_in_place(&mut v1);
		Fp2::new(v0 + v1, c1)
	}

	#[inline(always)]
	fn square_with(m: impl Multiply, a: &Self) -> Self {
		Self::mul_with(m, a, a)
	}
}

/// Points added into buckets between two inversions.
const BATCH: usize = 512;

/// Window width in bits for `n` points.
fn window_bits(n: usize) -> usize {
	match n {
		0..=31 => 3,
		// About log2(n) - 3, the usual choice for affine buckets (cheap additions, costlier
		// reductions than Jacobian buckets), at least 8.
		_ => ((usize::BITS - n.leading_zeros()) as usize).saturating_sub(3).clamp(8, 16),
	}
}

/// Signed digits of `scalar` in base `2^c`, each in `[-2^(c-1), 2^(c-1)]`, least significant
/// first; `windows` of them (enough for the scalar's bits and one carry).
fn signed_digits(scalar: &impl BigInteger, c: usize, windows: usize, out: &mut [i32]) {
	let limbs = scalar.as_ref();
	let radix = 1u64 << c;
	let mut carry = 0u64;
	for (window, digit) in out.iter_mut().enumerate().take(windows) {
		let bit = window * c;
		let (limb, shift) = (bit / 64, bit % 64);
		let mut bits = limbs.get(limb).map_or(0, |word| word >> shift);
		if shift + c > 64 {
			bits |= limbs.get(limb + 1).map_or(0, |word| word << (64 - shift));
		}
		let value = (bits & (radix - 1)) + carry;
		carry = u64::from(value > radix / 2);
		*digit = value as i32 - (carry << c) as i32;
	}
	debug_assert_eq!(carry, 0, "the last window absorbs the carry");
}

/// Buckets of one window in affine coordinates, filled a batch at a time.
struct Buckets<P: SWCurveConfig, M> {
	m: M,
	points: Vec<Affine<P>>,
	/// Whether a bucket already has an addition in the current batch.
	busy: Vec<bool>,
	batch: Vec<(usize, Affine<P>)>,
	/// Points that met their bucket busy in the batch, added in Jacobian coordinates instead
	/// (few in a wide window; most of the points in the narrow top window).
	overflow: Vec<Projective<P>>,
	denominators: Vec<P::BaseField>,
	scratch: Vec<P::BaseField>,
}

impl<P: SWCurveConfig<BaseField: BucketField>, M: Multiply> Buckets<P, M> {
	fn new(m: M, count: usize) -> Self {
		Buckets {
			m,
			points: vec![Affine::identity(); count],
			busy: vec![false; count],
			batch: Vec::with_capacity(BATCH),
			overflow: vec![Projective::zero(); count],
			denominators: Vec::with_capacity(BATCH),
			scratch: Vec::with_capacity(BATCH),
		}
	}

	fn add(&mut self, bucket: usize, point: Affine<P>) {
		if point.infinity {
			return;
		}
		if self.busy[bucket] {
			self.overflow[bucket] += point;
			return;
		}
		if self.points[bucket].infinity {
			self.points[bucket] = point;
			return;
		}
		self.busy[bucket] = true;
		self.batch.push((bucket, point));
		if self.batch.len() == BATCH {
			self.flush();
		}
	}

	/// Adds every queued point into its bucket with one inversion.
	fn flush(&mut self) {
		self.denominators.clear();
		for (bucket, q) in &self.batch {
			let p = &self.points[*bucket];
			let denominator = if p.x != q.x {
				q.x - p.x
			} else if p.y == q.y && !p.y.is_zero() {
				p.y.double()
			} else {
				// P + (-P): the bucket empties; nothing to invert.
				P::BaseField::ONE
			};
			self.denominators.push(denominator);
		}
		batch_invert(self.m, &mut self.denominators, &mut self.scratch);
		let m = self.m;
		for ((bucket, q), inverse) in self.batch.drain(..).zip(&self.denominators) {
			let p = self.points[bucket];
			let slope = if p.x != q.x {
				BucketField::mul_with(m, &(q.y - p.y), inverse)
			} else if p.y == q.y && !p.y.is_zero() {
				let x_squared = p.x.square();
				(x_squared.double() + x_squared + P::COEFF_A) * inverse
			} else {
				self.points[bucket] = Affine::identity();
				self.busy[bucket] = false;
				continue;
			};
			let x = BucketField::square_with(m, &slope) - p.x - q.x;
			let y = BucketField::mul_with(m, &slope, &(p.x - x)) - p.y;
			self.points[bucket] = Affine::new_unchecked(x, y);
			self.busy[bucket] = false;
		}
	}

	/// `Σ (i + 1) · bucket[i]` once the last batch is added, by running sums from the top
	/// bucket down.
	fn weighted_sum(mut self) -> Projective<P> {
		self.flush();
		let mut running = Projective::<P>::zero();
		let mut sum = Projective::<P>::zero();
		for (point, overflow) in self.points.iter().zip(&self.overflow).rev() {
			running += point;
			if !overflow.is_zero() {
				running += overflow;
			}
			sum += running;
		}
		sum
	}
}

/// `values[i] ← values[i]⁻¹` for non-zero values, with one inversion.
fn batch_invert<F: BucketField>(m: impl Multiply, values: &mut [F], prefix: &mut Vec<F>) {
	prefix.clear();
	let mut product = F::ONE;
	for value in values.iter() {
		prefix.push(product);
		product = F::mul_with(m, &product, value);
	}
	let mut inverse = product.inverse().expect("denominators are non-zero");
	for (value, before) in values.iter_mut().zip(prefix.iter()).rev() {
		let next = F::mul_with(m, &inverse, value);
		*value = F::mul_with(m, &inverse, before);
		inverse = next;
	}
}

/// `Σ scalars[i] · bases[i]` over the shorter of the two slices, with the fastest
/// multiplication this CPU has.
pub fn msm<P: SWCurveConfig<BaseField: BucketField>>(
	bases: &[Affine<P>],
	scalars: &[<P::ScalarField as PrimeField>::BigInt],
) -> Projective<P> {
	with_fastest_multiply!(m => msm_with(m, bases, scalars))
}

/// [`msm`] with one multiplication path (the paths give the same sum).
pub fn msm_with<P: SWCurveConfig<BaseField: BucketField>>(
	m: impl Multiply,
	bases: &[Affine<P>],
	scalars: &[<P::ScalarField as PrimeField>::BigInt],
) -> Projective<P> {
	let n = bases.len().min(scalars.len());
	let c = window_bits(n);
	let bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
	let windows = (bits + c) / c;
	let mut digits = vec![0i32; n * windows];
	digits.par_chunks_mut(windows).zip(&scalars[..n]).for_each(|(out, scalar)| {
		signed_digits(scalar, c, windows, out);
	});
	let window_sums: Vec<Projective<P>> = (0..windows)
		.into_par_iter()
		.map(|window| {
			let mut buckets = Buckets::<P, _>::new(m, 1 << (c - 1));
			for (base, digit) in bases[..n].iter().zip(digits.iter().skip(window).step_by(windows))
			{
				match digit.signum() {
					1 => buckets.add(*digit as usize - 1, *base),
					-1 => buckets.add(digit.unsigned_abs() as usize - 1, -*base),
					_ => {}
				}
			}
			buckets.weighted_sum()
		})
		.collect();
	window_sums.iter().rev().fold(Projective::<P>::zero(), |mut total, sum| {
		for _ in 0..c {
			total.double_in_place();
		}
		total + sum
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
	use ark_ec::{CurveGroup, VariableBaseMSM};
	use ark_ff::UniformRand;
	use cairn_primitives::montgomery::Portable;
	use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

	fn case<P: SWCurveConfig<ScalarField = Fr, BaseField: BucketField>>(
		n: usize,
		seed: u64,
		repeat: bool,
	) {
		let mut rng = ChaCha20Rng::seed_from_u64(seed);
		let distinct: Vec<Affine<P>> =
			(0..n.clamp(1, 7)).map(|_| Projective::<P>::rand(&mut rng).into_affine()).collect();
		let bases: Vec<Affine<P>> = (0..n)
			.map(|i| {
				if i % 13 == 5 {
					Affine::identity()
				} else if repeat {
					// The same points and their negations again and again: doublings and
					// cancellations inside buckets.
					let point = distinct[i % distinct.len()];
					if i % 3 == 0 {
						-point
					} else {
						point
					}
				} else {
					Projective::<P>::rand(&mut rng).into_affine()
				}
			})
			.collect();
		let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
		for (i, scalar) in scalars.iter_mut().enumerate() {
			match i % 11 {
				0 => *scalar = Fr::from(0u64),
				1 => *scalar = Fr::from(1u64),
				2 => *scalar = -Fr::from(1u64),
				3 => *scalar = Fr::from(u64::from(i as u32)),
				_ => {}
			}
		}
		let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
		let expected = Projective::<P>::msm_bigint(&bases, &bigints);
		assert_eq!(msm(&bases, &bigints), expected, "n = {n}, repeat = {repeat}");
		assert_eq!(msm_with(Portable, &bases, &bigints), expected, "portable, n = {n}");
	}

	#[test]
	fn equals_arkworks_in_g1_and_g2() {
		for (seed, n) in [0usize, 1, 2, 3, 31, 32, 100, 777, 3_000].into_iter().enumerate() {
			for repeat in [false, true] {
				case::<ark_bn254::g1::Config>(n, seed as u64, repeat);
			}
		}
		for (seed, n) in [0usize, 1, 5, 64, 600].into_iter().enumerate() {
			for repeat in [false, true] {
				case::<ark_bn254::g2::Config>(n, 100 + seed as u64, repeat);
			}
		}
	}

	#[test]
	fn infinity_bases_and_zero_scalars_contribute_nothing() {
		let mut rng = ChaCha20Rng::seed_from_u64(9);
		let point = G1Projective::rand(&mut rng).into_affine();
		// Identity bases meet both empty and occupied buckets (the proving key's queries hold
		// the identity for every variable a matrix does not use).
		let bases =
			[G1Affine::identity(), point, G1Affine::identity(), point, G1Affine::identity()];
		let scalars =
			[Fr::from(5u64), Fr::from(0u64), Fr::from(7u64), Fr::from(3u64), Fr::from(3u64)]
				.map(|s| s.into_bigint());
		assert_eq!(msm(&bases, &scalars), G1Projective::from(point) * Fr::from(3u64));
		let g2 = [G2Affine::identity(); 3];
		assert!(msm(&g2, &scalars).is_zero());
		let _ = G2Projective::zero();
	}

	#[test]
	fn digits_recompose_the_scalar() {
		let mut rng = ChaCha20Rng::seed_from_u64(3);
		for c in [3usize, 8, 12, 13, 16] {
			let windows = (254 + c) / c;
			for scalar in [Fr::from(0u64), -Fr::from(1u64), Fr::rand(&mut rng), Fr::rand(&mut rng)]
			{
				let mut digits = vec![0i32; windows];
				signed_digits(&scalar.into_bigint(), c, windows, &mut digits);
				let half = 1i32 << (c - 1);
				assert!(digits.iter().all(|d| (-half..=half).contains(d)));
				let recomposed = digits.iter().rev().fold(Fr::from(0u64), |total, digit| {
					let term = Fr::from(digit.unsigned_abs());
					let term = if *digit < 0 { -term } else { term };
					total * Fr::from(1u64 << c) + term
				});
				assert_eq!(recomposed, scalar, "c = {c}");
			}
		}
	}
}
