//! Field arithmetic on sixteen elements at once with AVX-512 IFMA where the CPU has it: under the
//! Poseidon2 permutations of the shard tree ([`crate::poseidon2`]) and the affine point additions
//! of the prover's multi-scalar multiplications ([`Ifma::add_affine`]).
//!
//! The arithmetic is x86-64's (with the standard library, which asks the CPU what it has). On
//! every other target the same types exist and [`Ifma::detect`] never gives a token, as
//! [`crate::montgomery::Adx`] does, so that callers choose their path at run time with no `cfg`
//! of their own.

#[cfg(all(target_arch = "x86_64", feature = "std"))]
mod avx512;
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub use avx512::*;

#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
mod unavailable;
#[cfg(not(all(target_arch = "x86_64", feature = "std")))]
pub use unavailable::*;
