//! Multi-scalar multiplication with affine buckets: Pippenger's bucket method where each bucket
//! is kept in affine coordinates and points are added into buckets a batch at a time, with one
//! field inversion per batch (Montgomery's trick).
//!
//! An affine addition costs about 5 multiplications and a squaring once the inversion is shared
//! by the batch (3 multiplications each), against 7 multiplications and 4 squarings for the
//! mixed Jacobian addition arkworks' MSM uses; the bucket additions are most of an MSM's work at
//! the sizes Groth16 proves here (tens of thousands of points). A point whose bucket already
//! waits in the batch waits for the next batch; when [`DEFERRED`] wait already, it is added in
//! Jacobian coordinates instead. The windows (signed digits) run in parallel.
//!
//! The additions multiply with [`cairn_primitives::montgomery`]'s fastest path for this CPU
//! (BMI2/ADX where present; `Fq2` by Karatsuba over it). Where the CPU has AVX-512 IFMA, they
//! run sixteen at a time in its lanes instead (`cairn_primitives::lanes`, in G1 and G2), all but
//! the rare doublings and cancellations, and so does the weighted sum of the buckets at the end
//! (in chains side by side, [`weighted_sum_in_lanes`]), which is otherwise a running sum in
//! Jacobian coordinates. The narrow top window, whose points crowd into a few buckets and would
//! nearly all meet theirs busy, is summed by bucket in the lanes instead ([`sums_by_bucket`]).
//! One [`LaneAdds`] gathers the additions of each batch for the lanes, whoever makes them.
//!
//! The result equals `VariableBaseMSM::msm_bigint`'s, which tests check on random and on
//! repeated, negated and identity points, on every path.

use alloc::{vec, vec::Vec};

use ark_ec::{
	short_weierstrass::{Affine, Projective, SWCurveConfig},
	AdditiveGroup, CurveGroup,
};
use ark_ff::{BigInteger, Field, Fp2, Fp256, Fp2Config, MontBackend, MontConfig, PrimeField, Zero};
use cairn_primitives::{
	lanes::{AffineScratch, LaneField},
	montgomery::Multiply,
	with_fastest_multiply,
};
use rayon::prelude::*;

pub use cairn_primitives::lanes::Ifma;

/// A curve's base field as the buckets multiply in it: BN254's `Fq` (G1) and `Fq2` (G2), which
/// the lanes compute in too.
pub trait BucketField: LaneField {
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

impl<P: Fp2Config<Fp = Fp256<MontBackend<C, 4>>>, C: MontConfig<4>> BucketField for Fp2<P> {
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
/// Points that met a busy bucket and wait for the next batch, at most (fewer than [`BATCH`]).
const DEFERRED: usize = 128;

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
struct Buckets<P: SWCurveConfig<BaseField: BucketField>, M> {
	m: M,
	/// The lanes, where the CPU and the field have them.
	lanes: Option<Ifma>,
	points: Vec<Affine<P>>,
	/// Whether a bucket already has an addition in the current batch.
	busy: Vec<bool>,
	batch: Vec<(usize, Affine<P>)>,
	/// Points that met their bucket busy in the batch, queued again after it, up to
	/// [`DEFERRED`] of them.
	deferred: Vec<(usize, Affine<P>)>,
	/// Points that met their bucket busy when [`DEFERRED`] were waiting, added in Jacobian
	/// coordinates instead (few in a wide window; most of the points in the narrow top window).
	overflow: Vec<Projective<P>>,
	denominators: Vec<P::BaseField>,
	scratch: Vec<P::BaseField>,
	/// The batch's additions for the lanes, by bucket.
	lane_adds: LaneAdds<P, usize>,
}

impl<P: SWCurveConfig<BaseField: BucketField>, M: Multiply> Buckets<P, M> {
	fn new(m: M, lanes: Option<Ifma>, count: usize) -> Self {
		Buckets {
			m,
			lanes,
			points: vec![Affine::identity(); count],
			busy: vec![false; count],
			batch: Vec::with_capacity(BATCH),
			deferred: Vec::with_capacity(DEFERRED),
			overflow: vec![Projective::zero(); count],
			denominators: Vec::with_capacity(BATCH),
			scratch: Vec::with_capacity(BATCH),
			lane_adds: LaneAdds::default(),
		}
	}

	fn add(&mut self, bucket: usize, point: Affine<P>) {
		if point.infinity {
			return;
		}
		if self.busy[bucket] {
			if self.deferred.len() < DEFERRED {
				self.deferred.push((bucket, point));
			} else {
				self.overflow[bucket] += point;
			}
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

	/// Adds every queued point into its bucket with one inversion (two where the lanes take the
	/// general additions and doublings remain).
	fn flush(&mut self) {
		if let Some(ifma) = self.lanes {
			self.flush_lanes(ifma);
		}
		if !self.batch.is_empty() {
			self.flush_scalar();
		}
		// Fewer than a batch: re-queueing them cannot fill the batch again.
		for (bucket, point) in core::mem::take(&mut self.deferred) {
			self.add(bucket, point);
		}
	}

	/// The batch's additions with one inversion and the scalar multiplication.
	fn flush_scalar(&mut self) {
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

	/// Takes the additions of distinct `x` out of the batch and adds them in the lanes.
	fn flush_lanes(&mut self, ifma: Ifma) {
		let mut kept = 0;
		for index in 0..self.batch.len() {
			let (bucket, q) = self.batch[index];
			if !self.lane_adds.push(bucket, &self.points[bucket], &q) {
				self.batch[kept] = (bucket, q);
				kept += 1;
			}
		}
		self.batch.truncate(kept);
		for (bucket, sum) in self.lane_adds.add(ifma) {
			self.points[bucket] = sum;
			self.busy[bucket] = false;
		}
	}

	/// `Σ (i + 1) · bucket[i]` once the last batch is added: in the lanes where there are
	/// some and enough buckets, else by running sums from the top bucket down.
	fn weighted_sum(mut self) -> Projective<P> {
		while !self.batch.is_empty() || !self.deferred.is_empty() {
			self.flush();
		}
		match self.lanes {
			Some(ifma) if self.points.len() >= 2 * MIN_CHAINS => {
				self.fold_overflow();
				weighted_sum_in_lanes(ifma, &self.points)
			}
			_ => {
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
	}

	/// Adds the Jacobian overflow into the affine buckets (one normalisation, then one batch:
	/// every bucket at most once).
	fn fold_overflow(&mut self) {
		let (buckets, sums): (Vec<usize>, Vec<Projective<P>>) = self
			.overflow
			.iter()
			.enumerate()
			.filter(|(_, sum)| !sum.is_zero())
			.map(|(bucket, sum)| (bucket, *sum))
			.unzip();
		for (bucket, point) in buckets.into_iter().zip(Projective::normalize_batch(&sums)) {
			self.overflow[bucket] = Projective::zero();
			self.add(bucket, point);
		}
		while !self.batch.is_empty() || !self.deferred.is_empty() {
			self.flush();
		}
	}
}

/// Chains of the weighted sum in the lanes, at least (fewer buckets take the running sums).
const MIN_CHAINS: usize = 16;
/// Chains of the weighted sum in the lanes, at most.
const MAX_CHAINS: usize = 256;

/// `Σ (i + 1) · buckets[i]` for a power-of-two count of affine buckets, in the lanes: the buckets
/// split into `K` chains of `L` consecutive ones, each chain keeps a running sum and a sum of
/// running sums from its top bucket down (`running_k = Σⱼ B_{kL+j}`,
/// `sum_k = Σⱼ (j + 1)·B_{kL+j}`), and every step adds into all chains at once with one
/// inversion. Then `Σ (i + 1)·Bᵢ = Σₖ sum_k + L·Σₖ k·running_k`, the last by running sums over
/// the `K` chains.
fn weighted_sum_in_lanes<P: SWCurveConfig<BaseField: BucketField>>(
	ifma: Ifma,
	buckets: &[Affine<P>],
) -> Projective<P> {
	debug_assert!(buckets.len().is_power_of_two());
	let chains = (buckets.len() / 16).clamp(MIN_CHAINS, MAX_CHAINS);
	let length = buckets.len() / chains;
	let mut running = vec![Affine::<P>::identity(); chains];
	let mut sums = vec![Affine::<P>::identity(); chains];
	let mut adds = LaneAdds::default();
	for j in (0..length).rev() {
		add_all(ifma, &mut adds, &mut running, |k| buckets[k * length + j]);
		add_all(ifma, &mut adds, &mut sums, |k| running[k]);
	}
	let mut total = Projective::<P>::zero();
	for sum in &sums {
		total += sum;
	}
	let mut above = Projective::<P>::zero();
	let mut weighted = Projective::<P>::zero();
	for chain in running[1..].iter().rev() {
		above += chain;
		weighted += above;
	}
	for _ in 0..length.trailing_zeros() {
		weighted.double_in_place();
	}
	total + weighted
}

/// Affine additions gathered for one batch in the lanes, each with where its sum goes: only
/// those of points with distinct `x` ([`push`](Self::push) refuses the others, the doublings and
/// cancellations, which their callers add one at a time).
struct LaneAdds<P: SWCurveConfig<BaseField: LaneField>, T> {
	/// `[x₁, y₁, x₂, y₂]`, then the sum in the first two.
	pairs: Vec<[P::BaseField; 4]>,
	targets: Vec<T>,
	scratch: AffineScratch<P::BaseField>,
}

impl<P: SWCurveConfig<BaseField: LaneField>, T> Default for LaneAdds<P, T> {
	fn default() -> Self {
		LaneAdds { pairs: Vec::new(), targets: Vec::new(), scratch: AffineScratch::default() }
	}
}

impl<P: SWCurveConfig<BaseField: BucketField>, T> LaneAdds<P, T> {
	/// Queues `p + q` for `target` if `p.x ≠ q.x` (neither the identity); else leaves it to the
	/// caller and says so.
	fn push(&mut self, target: T, p: &Affine<P>, q: &Affine<P>) -> bool {
		debug_assert!(!p.infinity && !q.infinity);
		if p.x == q.x {
			return false;
		}
		self.pairs.push([p.x, p.y, q.x, q.y]);
		self.targets.push(target);
		true
	}

	/// Adds the queued pairs in the lanes: each target with its sum, and the queue emptied.
	fn add(&mut self, ifma: Ifma) -> impl Iterator<Item = (T, Affine<P>)> + '_ {
		ifma.add_affine(&mut self.pairs, &mut self.scratch);
		self.targets
			.drain(..)
			.zip(self.pairs.drain(..))
			.map(|(target, [x, y, ..])| (target, Affine::new_unchecked(x, y)))
	}
}

/// `into[k] += addend(k)` for every `k`: the general additions in the lanes, the rest (an
/// identity, a doubling, a cancellation) one at a time.
fn add_all<P: SWCurveConfig<BaseField: BucketField>>(
	ifma: Ifma,
	adds: &mut LaneAdds<P, usize>,
	into: &mut [Affine<P>],
	addend: impl Fn(usize) -> Affine<P>,
) {
	for (k, p) in into.iter_mut().enumerate() {
		let q = addend(k);
		if q.infinity {
			continue;
		}
		if p.infinity {
			*p = q;
		} else if !adds.push(k, p, &q) {
			*p = (*p + q).into_affine();
		}
	}
	for (k, sum) in adds.add(ifma) {
		into[k] = sum;
	}
}

/// Each bucket's sum of its points, for `count` buckets: the points sorted by bucket, then
/// added pairwise, level by level, every level one batch in the lanes (doublings and
/// cancellations one at a time). A level halves every bucket's list, so a bucket of `k` points
/// takes `⌈log₂ k⌉` levels and the whole no more inversions than that.
fn sums_by_bucket<P: SWCurveConfig<BaseField: BucketField>>(
	ifma: Ifma,
	count: usize,
	entries: impl Iterator<Item = (usize, Affine<P>)>,
) -> Vec<Affine<P>> {
	let mut lists: Vec<Vec<Affine<P>>> = vec![Vec::new(); count];
	for (bucket, point) in entries {
		if !point.infinity {
			lists[bucket].push(point);
		}
	}
	let mut adds = LaneAdds::default();
	while lists.iter().any(|list| list.len() > 1) {
		for (bucket, list) in lists.iter_mut().enumerate() {
			let pairs = list.len() / 2;
			// Pair i goes to slot i, read before written (2i ≥ i), in order.
			for i in 0..pairs {
				let (p, q) = (list[2 * i], list[2 * i + 1]);
				if !adds.push((bucket, i), &p, &q) {
					list[i] = (p + q).into_affine();
				}
			}
			if list.len() % 2 == 1 {
				list[pairs] = list[2 * pairs];
				list.truncate(pairs + 1);
			} else {
				list.truncate(pairs);
			}
		}
		for ((bucket, slot), sum) in adds.add(ifma) {
			lists[bucket][slot] = sum;
		}
		// A cancellation leaves the identity.
		for list in &mut lists {
			list.retain(|point| !point.infinity);
		}
	}
	lists.into_iter().map(|list| list.first().copied().unwrap_or(Affine::identity())).collect()
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
	with_fastest_multiply!(m => msm_with(m, Ifma::detect(), bases, scalars))
}

/// [`msm`] with one multiplication path, and the lanes or not (every path gives the same sum).
pub fn msm_with<P: SWCurveConfig<BaseField: BucketField>>(
	m: impl Multiply,
	lanes: Option<Ifma>,
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
			let mut buckets = Buckets::<P, _>::new(m, lanes, 1 << (c - 1));
			let entries = bases[..n]
				.iter()
				.zip(digits.iter().skip(window).step_by(windows))
				.filter_map(|(base, digit)| match digit.signum() {
					1 => Some((*digit as usize - 1, *base)),
					-1 => Some((digit.unsigned_abs() as usize - 1, -*base)),
					_ => None,
				});
			match lanes {
				// The top window's points crowd into a few buckets, where nearly every point
				// would meet its bucket busy.
				Some(ifma) if window == windows - 1 => {
					buckets.points = sums_by_bucket(ifma, 1 << (c - 1), entries);
				}
				_ => entries.for_each(|(bucket, point)| buckets.add(bucket, point)),
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
		assert_eq!(msm_with(Portable, None, &bases, &bigints), expected, "portable, n = {n}");
		if let Some(ifma) = Ifma::detect() {
			let sum = msm_with(Portable, Some(ifma), &bases, &bigints);
			assert_eq!(sum, expected, "portable and lanes, n = {n}, repeat = {repeat}");
		}
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
	fn sums_by_bucket_equal_the_plain_sums() {
		let Some(ifma) = Ifma::detect() else { return };
		let mut rng = ChaCha20Rng::seed_from_u64(21);
		let distinct: Vec<G1Affine> =
			(0..5).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
		// Random points, repeats, negations (cancellations and doublings) and identities, in
		// buckets of every size from none to hundreds.
		let entries: Vec<(usize, G1Affine)> = (0..1_500usize)
			.map(|i| {
				let bucket = (i * i + 3 * i) % 37 % 9;
				let point = match i % 7 {
					0 => distinct[i % 5],
					1 => -distinct[i % 5],
					2 => G1Affine::identity(),
					_ => G1Projective::rand(&mut rng).into_affine(),
				};
				(bucket, point)
			})
			.collect();
		let sums = sums_by_bucket(ifma, 12, entries.iter().copied());
		for (bucket, sum) in sums.iter().enumerate() {
			let expected: G1Projective =
				entries.iter().filter(|(b, _)| *b == bucket).map(|(_, point)| *point).sum();
			assert_eq!(*sum, expected.into_affine(), "bucket {bucket}");
		}
		let pair = [(0, distinct[0]), (0, -distinct[0]), (1, distinct[1]), (1, distinct[1])];
		let sums = sums_by_bucket(ifma, 2, pair.into_iter());
		assert!(sums[0].infinity);
		assert_eq!(sums[1], (distinct[1] + distinct[1]).into_affine());
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
