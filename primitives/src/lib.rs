//! Definitions that Cairn's runtime, prover and storage engine must agree on, bit for bit.
//!
//! - [`poseidon2`]: Poseidon2 over the BN254 scalar field (x^5 S-box, width 4), a leaf and a node
//!   permutation in compression mode, with the parameters the R1CS gadget also reads;
//!   `poseidon2::lanes` runs sixteen permutations at once with AVX-512 IFMA where the CPU has it
//!   (chosen at run time; [`poseidon2::compress_leaf_many`] and [`poseidon2::compress4_many`]
//!   take it).
//! - [`poseidon`]: circom-compatible Poseidon, widths 3 and 5: the hash of the commitment before
//!   Poseidon2, kept as the benchmarks' baseline.
//! - [`tree`]: the 4-ary Poseidon2 Merkle tree that commits a shard (124-byte leaves).
//! - [`challenge`]: the challenged leaf indices and the binding value of a proof (`no_std`, also
//!   run by the runtime).
//! - [`field`]: checked conversions between bytes and field elements.
//! - [`montgomery`]: field multiplication with BMI2/ADX where the CPU has them, chosen at run
//!   time.
//! - [`lanes`]: field arithmetic on sixteen elements at once with AVX-512 IFMA where the CPU has
//!   it (x86-64), under the Poseidon2 lanes and the prover's affine point additions
//!   ([`lanes::Ifma::add_affine`]); on other targets its token is never made.
//!
//! ```
//! use cairn_primitives::{challenge, tree};
//!
//! let leaves = [[7u8; tree::LEAF_BYTES], [9u8; tree::LEAF_BYTES]];
//! let shard: Vec<u8> = leaves.concat();
//! assert_eq!(tree::leaf_count(shard.len() as u64), 2);
//!
//! let seed = [1u8; 32];
//! let indices = challenge::challenge_indices(&seed, 5, 0, 3, 4, 2);
//! assert_eq!(indices.len(), 4);
//! assert!(indices.iter().all(|index| *index < 2));
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;
// `thiserror` without its `std` feature (the crate builds for `no_std` targets); its derive refers
// to the crate as `thiserror`.
extern crate thiserror_no_std as thiserror;

pub mod challenge;
mod error;
pub mod field;
pub mod lanes;
pub mod montgomery;
pub mod poseidon;
pub mod poseidon2;
pub mod tree;

pub use ark_bn254::Fr;
pub use error::Error;
