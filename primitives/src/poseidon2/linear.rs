//! The linear layers of both permutations, written once for every path. The external layer
//! `M4` and the internal layer `J + diag(d)` are additions and doublings only; a path supplies
//! them on its own terms: one element at a time ([`Multiply`]) or sixteen lanes at a time (the
//! AVX-512 IFMA arithmetic, in `lanes.rs`).

use super::{DIAGONAL, WIDTH};
use crate::{montgomery::Multiply, Fr};

/// The additions a path computes the linear layers with. Every call is inlined into the path's
/// permutation, so that the vector path's is compiled for its target features.
pub(super) trait Additions {
	/// One element, or one per lane.
	type Element: Copy;
	/// `a + b`.
	fn add(&self, a: &Self::Element, b: &Self::Element) -> Self::Element;
	/// `2a`.
	fn double(&self, a: &Self::Element) -> Self::Element;
}

impl<M: Multiply> Additions for M {
	type Element = Fr;

	#[inline(always)]
	fn add(&self, a: &Fr, b: &Fr) -> Fr {
		Multiply::add(*self, a, b)
	}

	#[inline(always)]
	fn double(&self, a: &Fr) -> Fr {
		Multiply::double(*self, a)
	}
}

/// The external layer `M4` as the reference computes it: 8 additions and 4 doublings.
#[inline(always)]
pub(super) fn external<A: Additions>(f: &A, state: &mut [A::Element; WIDTH]) {
	let [a, b, c, d] = *state;
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

/// `k·x` for a small `k > 0`, by doubling and adding along `k`'s bits: with `k` a constant after
/// inlining (an entry of [`DIAGONAL`]), the loop unrolls into a few additions.
#[inline(always)]
fn times_small<A: Additions>(f: &A, x: &A::Element, k: u64) -> A::Element {
	let mut product = *x;
	for bit in (0..u64::BITS - 1 - k.leading_zeros()).rev() {
		product = f.double(&product);
		if k >> bit & 1 == 1 {
			product = f.add(&product, x);
		}
	}
	product
}

/// The internal layer `J + diag(d)`: each element times its entry of [`DIAGONAL`], plus the sum
/// of all.
#[inline(always)]
pub(super) fn internal<A: Additions>(f: &A, state: &mut [A::Element; WIDTH]) {
	let mut sum = state[0];
	for element in &state[1..] {
		sum = f.add(&sum, element);
	}
	for (element, factor) in state.iter_mut().zip(DIAGONAL) {
		*element = f.add(&times_small(f, element, factor), &sum);
	}
}
