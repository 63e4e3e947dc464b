//! The lanes where no CPU has them (another target, or no standard library to ask the CPU): the
//! types exist, and no token is ever made, so none of this runs.

use core::marker::PhantomData;

use ark_ff::{Field, Fp2, Fp256, Fp2Config, MontBackend, MontConfig};

/// Elements per call.
pub const LANES: usize = 16;

/// The lanes' token: no value of it exists here.
#[derive(Clone, Copy, Debug)]
pub struct Ifma(Never);

#[derive(Clone, Copy, Debug)]
enum Never {}

impl Ifma {
	/// Never a token here.
	#[inline]
	pub fn detect() -> Option<Ifma> {
		None
	}

	/// Affine additions in the lanes; without a token, never called.
	pub fn add_affine<F: LaneField>(self, _: &mut [[F; 4]], _: &mut AffineScratch<F>) {
		match self.0 {}
	}
}

/// A field the lanes compute in where the CPU has them.
pub trait LaneField: Field {}

impl<C: MontConfig<4>> LaneField for Fp256<MontBackend<C, 4>> {}

impl<P: Fp2Config<Fp = Fp256<MontBackend<C, 4>>>, C: MontConfig<4>> LaneField for Fp2<P> {}

/// What [`Ifma::add_affine`] keeps from one call to the next: nothing here.
pub struct AffineScratch<F>(PhantomData<F>);

impl<F> Default for AffineScratch<F> {
	fn default() -> Self {
		Self(PhantomData)
	}
}
