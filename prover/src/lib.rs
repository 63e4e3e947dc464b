//! Groth16 (BN254) proofs that a provider still holds a shard.
//!
//! Split as the proof system is usually split:
//! - [`statement`] (no circuit, `no_std`): the public statement of one proving period — the
//!   shard's root, the challenged leaf indices and the binding value — built from on-chain facts
//!   with [`cairn_primitives::challenge`], packed into public inputs, and checked natively against
//!   Merkle openings;
//! - [`circuit`] (feature `prove`): the same check as R1CS constraints, with a Poseidon2 gadget on
//!   exactly [`cairn_primitives::poseidon2::Permutation::params`];
//! - [`keys`]: versioned, hash-checked key files; the development setup is deterministic (production keys need a multi-party ceremony, see `docs/PROOFS.md`);
//! - [`prover`] (feature `prove`): proving that reuses the constraint matrices between proofs;
//! - [`verifier`] (`no_std`): single and batch verification.
//!
//! ```no_run
//! # #[cfg(feature = "prove")]
//! # fn main() -> Result<(), cairn_prover::Error> {
//! use cairn_primitives::tree::MemoryTree;
//! use cairn_prover::{prover::{dev_setup, Prover}, statement::ProofRequest, verifier};
//! use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
//!
//! let shard = vec![42u8; 10_000];
//! let tree = MemoryTree::from_shard(&shard)?;
//! let request = ProofRequest {
//!     seed: [1; 32],
//!     provider: [2; 32],
//!     contract: 7,
//!     shard: 0,
//!     period: 3,
//!     root: cairn_primitives::field::fr_to_le_bytes(&tree.root()),
//!     shard_bytes: shard.len() as u64,
//! };
//! let keys = dev_setup(4)?;
//! let verifier_key = keys.verifier_key()?;
//! let prover = Prover::new(keys)?;
//! let statement = request.statement(4)?;
//! let proof = prover.prove(&tree, &statement, &mut ChaCha20Rng::seed_from_u64(0))?;
//! assert!(verifier::verify(&verifier_key, &proof, &statement)?);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "prove"))]
//! # fn main() {}
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;
// `thiserror` without its `std` feature (the crate builds for `no_std` targets); its derive refers
// to the crate as `thiserror`.
extern crate thiserror_no_std as thiserror;

#[cfg(feature = "prove")]
pub mod circuit;
mod error;
pub mod keys;
#[cfg(feature = "prove")]
pub mod msm;
#[cfg(feature = "prove")]
pub mod prover;
pub mod statement;
pub mod verifier;

pub use error::Error;

/// The pairing-friendly curve of every proof.
pub type Curve = ark_bn254::Bn254;

/// Challenges per proof by default (see `docs/PROOFS.md` for the soundness argument).
pub const DEFAULT_CHALLENGES: usize = 16;

/// Upper bound on the challenge count any key may carry (bounds allocations when parsing).
pub const MAX_CHALLENGES: usize = 256;
