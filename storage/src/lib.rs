//! Cairn's storage engine: turns a file into erasure-coded shards and commitments, keeps shards
//! durably, and serves the leaves and Merkle proofs that storage proofs need.
//!
//! - [`encoding`]: chunked XChaCha20-Poly1305 encryption, striping and Reed–Solomon `k + m`
//!   coding, streamed through [`std::io::Read`] / [`std::io::Write`]; a [`encoding::FileManifest`]
//!   describes the result.
//! - [`commitment`]: 124-byte leaves → 4-ary Poseidon Merkle root over the full tree (shared with
//!   the prover through `cairn-primitives`) plus a BLAKE3 digest per shard, on all cores.
//! - [`store`]: the [`store::ShardStore`] trait and its RocksDB engine, with per-chunk checksums,
//!   synced puts, crash recovery, capacity accounting and fast challenge proofs.
//!
//! ```
//! use cairn_storage::encoding::{decode_stream, encode_stream, CodingParams, Encryption, EncryptionKey};
//!
//! let file = vec![42u8; 10_000];
//! let key = EncryptionKey::from_bytes([1; 32]);
//! let params = CodingParams::with_piece_bytes(4, 2, 1024)?;
//! let mut shards = vec![Vec::new(); 6];
//! let manifest = encode_stream(params, Encryption::with_random_nonce(&key), &file[..], &mut shards)?;
//!
//! // Any 4 of the 6 shards give the file back.
//! let mut available: Vec<Option<&[u8]>> = shards.iter().map(|shard| Some(&shard[..])).collect();
//! available[0] = None;
//! available[3] = None;
//! let decoded = decode_stream(&manifest, Some(&key), &mut available, Vec::new())?;
//! assert_eq!(decoded, file);
//!
//! let (commitment, _levels) = cairn_storage::commitment::commit(&shards[0])?;
//! assert_eq!(commitment.bytes, shards[0].len() as u64);
//! # Ok::<(), cairn_storage::StorageError>(())
//! ```

pub mod commitment;
pub mod encoding;
mod error;
pub mod store;

pub use error::{Result, StorageError};
