//! Montgomery multiplication of four-limb field elements (BN254's scalar and base fields), with
//! the BMI2 and ADX instructions where the CPU has them and portable code elsewhere.
//!
//! ark-ff has an assembly multiplication too, but it is chosen at compile time (its `asm` feature
//! and `-C target-feature=+bmi2,+adx` for every crate), which would make the release binary
//! refuse CPUs without them. Here the choice is made at run time: [`Adx::detect`] gives a token
//! only on a CPU that has both extensions, and code generic over [`Multiply`] is instantiated
//! once per path, so the hot loops contain no branch:
//!
//! ```
//! use cairn_primitives::{montgomery::{Adx, Multiply, Portable}, Fr};
//!
//! fn cube<M: Multiply>(m: M, x: Fr) -> Fr {
//!     m.mul(&m.square(&x), &x)
//! }
//! let x = Fr::from(3u64);
//! let fast = match Adx::detect() {
//!     Some(adx) => cube(adx, x),
//!     None => cube(Portable, x),
//! };
//! assert_eq!(fast, Fr::from(27u64));
//! ```
//!
//! Measured on the 2-core AMD EPYC reference machine (`docs/PERFORMANCE.md`): most of the gain
//! over ark-ff's `*` comes from [`Portable`] being inlined into the hot loops (ark-ff's
//! multiplication is a call there, about 25% slower in a Poseidon2 permutation); BMI2/ADX adds
//! 4–9% to a permutation and nothing measurable to the prover's MSM on that CPU.
//!
//! The [`Adx`] path also adds without a branch ([`Multiply::add`]): ark-ff compares a sum with
//! `p` limb by limb and branches on it, and a sum of random elements is above `p` half the time,
//! so the branch is mispredicted half the time. In a Poseidon2 permutation, where the linear
//! layers are two additions for every multiplication, that was a fifth of the time.
//!
//! Both paths keep ark-ff's representation (Montgomery form with `R = 2^256`, fully reduced), so
//! their values mix freely with ark-ff's arithmetic; tests check that they agree on random
//! values, on the extremes of the field and in both fields.

use ark_ff::{BigInt, Field, Fp256, MontBackend, MontConfig};

/// A field whose elements are four 64-bit limbs in ark-ff's Montgomery form, with a modulus
/// below `2^254` (so a product's intermediate sums never carry out of five limbs).
pub trait Mont4: Field {
	/// The modulus' limbs, least significant first, then `-p⁻¹ mod 2^64`.
	const MODULUS_AND_INVERSE: [u64; 5];
	/// The element's limbs in Montgomery form.
	fn limbs(&self) -> &[u64; 4];
	/// The element with these limbs in Montgomery form; they must be below the modulus.
	fn from_limbs(limbs: [u64; 4]) -> Self;
}

impl<C: MontConfig<4>> Mont4 for Fp256<MontBackend<C, 4>> {
	const MODULUS_AND_INVERSE: [u64; 5] = {
		assert!(C::MODULUS.0[3] >> 62 == 0, "the modulus must be below 2^254");
		let p = C::MODULUS.0;
		[p[0], p[1], p[2], p[3], C::INV]
	};

	#[inline(always)]
	fn limbs(&self) -> &[u64; 4] {
		&self.0 .0
	}

	#[inline(always)]
	fn from_limbs(limbs: [u64; 4]) -> Self {
		Self::new_unchecked(BigInt(limbs))
	}
}

/// A way to multiply field elements, passed by value into generic hot loops.
pub trait Multiply: Copy + Send + Sync {
	/// `a · b`.
	fn mul<F: Mont4>(self, a: &F, b: &F) -> F;

	/// `a²`.
	#[inline(always)]
	fn square<F: Mont4>(self, a: &F) -> F {
		self.mul(a, a)
	}

	/// `a + b`, on the path's own terms: ark-ff's addition, or one without a branch.
	#[inline(always)]
	fn add<F: Mont4>(self, a: &F, b: &F) -> F {
		*a + b
	}

	/// `2a`.
	#[inline(always)]
	fn double<F: Mont4>(self, a: &F) -> F {
		self.add(a, a)
	}
}

/// Portable multiplication, every CPU and target: ark-ff's algorithm (CIOS with the no-carry
/// optimisation) in plain Rust, written here so that it is always inlined into the hot loops
/// (ark-ff's own is not, once a loop calls it from many places).
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl Multiply for Portable {
	#[inline(always)]
	fn mul<F: Mont4>(self, a: &F, b: &F) -> F {
		F::from_limbs(portable::mul(a.limbs(), b.limbs(), &F::MODULUS_AND_INVERSE))
	}
}

/// Multiplication with `mulx`, `adcx` and `adox` (two carry chains at once). The value is a
/// token: only [`Adx::detect`] makes one, and only on a CPU that has BMI2 and ADX.
#[derive(Clone, Copy, Debug)]
pub struct Adx(());

impl Adx {
	/// The token if this CPU has BMI2 and ADX (x86-64 with the standard library only; the
	/// check is cached by the standard library, a load and a test).
	#[inline(always)]
	pub fn detect() -> Option<Adx> {
		#[cfg(all(target_arch = "x86_64", feature = "std"))]
		if std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx") {
			return Some(Adx(()));
		}
		None
	}
}

impl Multiply for Adx {
	#[inline(always)]
	fn mul<F: Mont4>(self, a: &F, b: &F) -> F {
		#[cfg(all(target_arch = "x86_64", feature = "std"))]
		{
			F::from_limbs(x86_64::mul(a.limbs(), b.limbs(), &F::MODULUS_AND_INVERSE))
		}
		// No token is ever made here.
		#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
		{
			Portable.mul(a, b)
		}
	}

	/// Without a branch: ark-ff's addition compares the sum with `p` limb by limb and branches,
	/// which a sum of random elements mispredicts half the time.
	#[inline(always)]
	fn add<F: Mont4>(self, a: &F, b: &F) -> F {
		#[cfg(all(target_arch = "x86_64", feature = "std"))]
		{
			F::from_limbs(x86_64::add(a.limbs(), b.limbs(), &F::MODULUS_AND_INVERSE))
		}
		#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
		{
			Portable.add(a, b)
		}
	}
}

/// Runs `$body` with `$m` bound to the fastest [`Multiply`] this CPU has: the body is compiled
/// once per path, and the check is made once per call.
#[macro_export]
macro_rules! with_fastest_multiply {
	($m:ident => $body:expr) => {
		match $crate::montgomery::Adx::detect() {
			Some($m) => $body,
			None => {
				let $m = $crate::montgomery::Portable;
				$body
			}
		}
	};
}

mod portable {
	/// `a + b·c + carry`, returning the low word and leaving the high word in `carry`.
	#[inline(always)]
	fn mac(a: u64, b: u64, c: u64, carry: &mut u64) -> u64 {
		let wide = u128::from(a) + u128::from(b) * u128::from(c) + u128::from(*carry);
		*carry = (wide >> 64) as u64;
		wide as u64
	}

	/// `a · b · 2^-256 mod p` for `a, b < p < 2^254`, fully reduced: coarsely integrated operand
	/// scanning, where `t < 2p` after each step and the top word never carries.
	#[inline(always)]
	pub(super) fn mul(a: &[u64; 4], b: &[u64; 4], p: &[u64; 5]) -> [u64; 4] {
		let mut t = [0u64; 4];
		for &word in b {
			let mut carry = 0;
			t[0] = mac(t[0], a[0], word, &mut carry);
			let m = t[0].wrapping_mul(p[4]);
			let mut reduction_carry = 0;
			mac(t[0], m, p[0], &mut reduction_carry);
			for j in 1..4 {
				t[j] = mac(t[j], a[j], word, &mut carry);
				t[j - 1] = mac(t[j], m, p[j], &mut reduction_carry);
			}
			t[3] = carry + reduction_carry;
		}
		// t - p unless it borrows.
		let mut reduced = [0u64; 4];
		let mut borrow = false;
		for j in 0..4 {
			let (difference, first) = t[j].overflowing_sub(p[j]);
			let (difference, second) = difference.overflowing_sub(u64::from(borrow));
			reduced[j] = difference;
			borrow = first | second;
		}
		if borrow {
			t
		} else {
			reduced
		}
	}
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
mod x86_64 {
	/// `lo:hi = rdx · [x + offset]`, then `low += lo` on the overflow-flag chain (`adox`) and
	/// `high += hi` on the carry-flag chain (`adcx`): both chains advance one word.
	#[rustfmt::skip]
	macro_rules! mac {
		($x:literal, $offset:literal, $low:literal, $high:literal) => {
			concat!(
				"mulx {hi}, {lo}, qword ptr [", $x, $offset, "]\n",
				"adox ", $low, ", {lo}\n",
				"adcx ", $high, ", {hi}\n",
			)
		};
	}

	/// `t += rdx · x` for the four words of `x` at `$x`, the flags cleared first and both chains'
	/// last carries added into `t₄`.
	#[rustfmt::skip]
	macro_rules! add_product {
		($x:literal, $t0:literal, $t1:literal, $t2:literal, $t3:literal, $t4:literal) => {
			concat!(
				"xor {zero:e}, {zero:e}\n",
				mac!($x, "", $t0, $t1),
				mac!($x, " + 8", $t1, $t2),
				mac!($x, " + 16", $t2, $t3),
				mac!($x, " + 24", $t3, $t4),
				"adox ", $t4, ", {zero}\n",
			)
		};
	}

	/// One step of the coarsely integrated operand scanning (CIOS) method: `t += a · b[i]`, then
	/// `t += m · p` with `m = t₀ · (-p⁻¹) mod 2^64`, which clears `t₀`. `t` is five registers
	/// named in a rotating order: the cleared `t₀` is the next step's zero top word, so the
	/// shift costs nothing.
	#[rustfmt::skip]
	macro_rules! step {
		($offset:literal, $t0:literal, $t1:literal, $t2:literal, $t3:literal, $t4:literal) => {
			concat!(
				"mov rdx, qword ptr [{b} + ", $offset, "]\n",
				add_product!("{a}", $t0, $t1, $t2, $t3, $t4),
				"mov rdx, ", $t0, "\n",
				"imul rdx, qword ptr [{p} + 32]\n",
				add_product!("{p}", $t0, $t1, $t2, $t3, $t4),
			)
		};
	}

	/// `a · b · 2^-256 mod p` for `a, b < p < 2^254`, fully reduced. The CPU must have BMI2 and
	/// ADX (the caller holds an [`Adx`](super::Adx) token).
	///
	/// After each step `t < 2p` (`t ≤ (t + a·bᵢ + m·p) / 2^64` with `t, a < p`), and every
	/// intermediate sum is below `2^320`, so neither flag chain carries out of the fifth word;
	/// one conditional subtraction of `p` ends in `[0, p)`. Registers other than `rdx` (which
	/// `mulx` reads) are left to the compiler.
	#[inline(always)]
	pub(super) fn mul(a: &[u64; 4], b: &[u64; 4], p: &[u64; 5]) -> [u64; 4] {
		let (r0, r1, r2, r3): (u64, u64, u64, u64);
		// SAFETY: reads 4 words at `a` and `b` and 5 at `p`, all borrowed for the call; writes
		// only the registers declared below; `mulx`, `adcx` and `adox` exist on this CPU (the
		// caller's token).
		unsafe {
			core::arch::asm!(
				"xor {t0:e}, {t0:e}",
				"xor {t1:e}, {t1:e}",
				"xor {t2:e}, {t2:e}",
				"xor {t3:e}, {t3:e}",
				"xor {t4:e}, {t4:e}",
				step!("0", "{t0}", "{t1}", "{t2}", "{t3}", "{t4}"),
				step!("8", "{t1}", "{t2}", "{t3}", "{t4}", "{t0}"),
				step!("16", "{t2}", "{t3}", "{t4}", "{t0}", "{t1}"),
				step!("24", "{t3}", "{t4}", "{t0}", "{t1}", "{t2}"),
				// t = (t4, t0, t1, t2); keep t - p unless it borrows.
				"mov {t3}, {t4}",
				"sub {t3}, qword ptr [{p}]",
				"mov {lo}, {t0}",
				"sbb {lo}, qword ptr [{p} + 8]",
				"mov {hi}, {t1}",
				"sbb {hi}, qword ptr [{p} + 16]",
				"mov rdx, {t2}",
				"sbb rdx, qword ptr [{p} + 24]",
				"cmovnc {t4}, {t3}",
				"cmovnc {t0}, {lo}",
				"cmovnc {t1}, {hi}",
				"cmovnc {t2}, rdx",
				a = in(reg) a.as_ptr(),
				b = in(reg) b.as_ptr(),
				p = in(reg) p.as_ptr(),
				zero = out(reg) _,
				lo = out(reg) _,
				hi = out(reg) _,
				out("rdx") _,
				t3 = out(reg) _,
				t4 = out(reg) r0,
				t0 = out(reg) r1,
				t1 = out(reg) r2,
				t2 = out(reg) r3,
				options(pure, readonly, nostack),
			);
		}
		[r0, r1, r2, r3]
	}

	/// `a + b mod p` for `a, b < p < 2^254`, fully reduced and without a branch: the sum cannot
	/// carry out of four words, and `sum - p` is kept unless it borrows.
	#[inline(always)]
	pub(super) fn add(a: &[u64; 4], b: &[u64; 4], p: &[u64; 5]) -> [u64; 4] {
		let [mut r0, mut r1, mut r2, mut r3] = *a;
		// SAFETY: reads 4 words at `p`, borrowed for the call; writes only the registers
		// declared below; every instruction is baseline x86-64.
		unsafe {
			core::arch::asm!(
				"add {r0}, {b0}",
				"adc {r1}, {b1}",
				"adc {r2}, {b2}",
				"adc {r3}, {b3}",
				"mov {b0}, {r0}",
				"sub {b0}, qword ptr [{p}]",
				"mov {b1}, {r1}",
				"sbb {b1}, qword ptr [{p} + 8]",
				"mov {b2}, {r2}",
				"sbb {b2}, qword ptr [{p} + 16]",
				"mov {b3}, {r3}",
				"sbb {b3}, qword ptr [{p} + 24]",
				"cmovnc {r0}, {b0}",
				"cmovnc {r1}, {b1}",
				"cmovnc {r2}, {b2}",
				"cmovnc {r3}, {b3}",
				r0 = inout(reg) r0,
				r1 = inout(reg) r1,
				r2 = inout(reg) r2,
				r3 = inout(reg) r3,
				b0 = inout(reg) b[0] => _,
				b1 = inout(reg) b[1] => _,
				b2 = inout(reg) b[2] => _,
				b3 = inout(reg) b[3] => _,
				p = in(reg) p.as_ptr(),
				options(pure, readonly, nostack),
			);
		}
		[r0, r1, r2, r3]
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use ark_bn254::{Fq, Fr};
	use ark_ff::PrimeField;
	use proptest::prelude::*;

	/// Values a carry or the final subtraction could get wrong.
	fn extremes<F: PrimeField>() -> Vec<F> {
		let mut values = vec![F::ZERO, F::ONE, -F::ONE, F::from(2u64), -F::from(2u64)];
		// Limb boundaries: 2^64k, 2^64k - 1, -2^64k.
		for k in 1..4 {
			let power = F::from(2u64).pow([64 * k]);
			values.extend([power, power - F::ONE, -power]);
		}
		// (p - 1) / 2 and its neighbours.
		let half = F::from_bigint(F::MODULUS_MINUS_ONE_DIV_TWO).expect("below p");
		values.extend([half, half + F::ONE, -half]);
		values
	}

	fn extremes_agree<F: Mont4 + PrimeField>() {
		let adx = Adx::detect();
		if adx.is_none() {
			eprintln!("this CPU has no BMI2/ADX: only the portable path runs here");
		}
		let extremes = extremes::<F>();
		for a in &extremes {
			for b in &extremes {
				// The portable path's own multiplication; its addition is ark-ff's.
				assert_eq!(Portable.mul(a, b), *a * b, "{a} · {b}");
				if let Some(adx) = adx {
					assert_eq!(adx.mul(a, b), *a * b, "{a} · {b}");
					assert_eq!(adx.add(a, b), *a + b, "{a} + {b}");
				}
			}
			assert_eq!(Portable.square(a), a.square(), "{a}²");
			if let Some(adx) = adx {
				assert_eq!(adx.square(a), a.square(), "{a}²");
				assert_eq!(adx.double(a), a.double(), "2 · {a}");
			}
		}
	}

	fn element<F: PrimeField>(limbs: [u64; 4]) -> F {
		let bytes: Vec<u8> = limbs.iter().flat_map(|limb| limb.to_le_bytes()).collect();
		F::from_le_bytes_mod_order(&bytes)
	}

	#[test]
	fn both_paths_agree_on_the_extremes_of_both_fields() {
		extremes_agree::<Fr>();
		extremes_agree::<Fq>();
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(20_000))]
		#[test]
		fn both_paths_agree_on_random_values(a in any::<[u64; 4]>(), b in any::<[u64; 4]>()) {
			let (x, y) = (element::<Fr>(a), element::<Fr>(b));
			prop_assert_eq!(Portable.mul(&x, &y), x * y);
			let (x, y) = (element::<Fq>(a), element::<Fq>(b));
			prop_assert_eq!(Portable.mul(&x, &y), x * y);
			if let Some(adx) = Adx::detect() {
				let (x, y) = (element::<Fr>(a), element::<Fr>(b));
				prop_assert_eq!(adx.mul(&x, &y), x * y);
				prop_assert_eq!(adx.add(&x, &y), x + y);
				let (x, y) = (element::<Fq>(a), element::<Fq>(b));
				prop_assert_eq!(adx.mul(&x, &y), x * y);
				prop_assert_eq!(adx.add(&x, &y), x + y);
			}
		}
	}
}
