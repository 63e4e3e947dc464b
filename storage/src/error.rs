//! The one error type of the storage engine.

use crate::store::ShardId;

/// Everything that can go wrong while encoding, committing or storing shards.
///
/// Every variant carries the values that failed, so that a caller can report them without
/// re-deriving them.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
	/// `k` (data shards) or `m` (parity shards) is outside what the codec supports.
	#[error("erasure coding {data_shards} + {parity_shards} is out of range: need 1 <= k and k + m <= {max_total}")]
	CodingOutOfRange { data_shards: usize, parity_shards: usize, max_total: usize },
	/// A stripe piece size outside the supported bounds.
	#[error(
		"stripe piece size {piece_bytes} is out of range {min}..={max} bytes (and must be even)"
	)]
	PieceSizeOutOfRange { piece_bytes: usize, min: usize, max: usize },
	/// The caller handed over a different number of shards than the coding has.
	#[error("expected {expected} shards, got {actual}")]
	WrongShardCount { expected: usize, actual: usize },
	/// Fewer than `k` shards are available, so the file cannot be decoded.
	#[error("decoding needs {needed} shards, only {available} are available")]
	NotEnoughShards { needed: usize, available: usize },
	/// A shard is shorter or longer than the manifest says.
	#[error("shard {shard} has {actual} bytes, the manifest says {expected}")]
	ShardLengthMismatch { shard: usize, expected: u64, actual: u64 },
	/// A shard would exceed the largest shard the Merkle tree can commit to.
	#[error("a shard of {bytes} bytes exceeds the maximum of {max} bytes")]
	ShardTooLarge { bytes: u64, max: u64 },
	/// A decoded shard does not match the BLAKE3 digest it was published with.
	#[error("shard {shard} does not match its BLAKE3 digest")]
	DigestMismatch { shard: usize },
	/// Authenticated decryption failed: the ciphertext, the key or the nonce is wrong, or the
	/// stream was truncated or reordered.
	#[error("decryption failed at chunk {chunk}")]
	Decryption { chunk: u64 },
	/// The decoded stream ended before the length recorded in the manifest.
	#[error("encrypted stream truncated: ended after chunk {chunk} without the final flag")]
	Truncated { chunk: u64 },
	/// A manifest could not be parsed or is internally inconsistent.
	#[error("invalid manifest: {reason}")]
	InvalidManifest { reason: &'static str },
	/// The store does not hold this shard (or only a half-written copy of it).
	#[error("unknown shard {0}")]
	UnknownShard(ShardId),
	/// A shard with this id is already stored or being written.
	#[error("shard {0} is already stored or being written")]
	AlreadyStored(ShardId),
	/// The reader delivered a different number of bytes than the put declared.
	#[error("shard {shard}: declared {declared} bytes, the reader delivered {delivered}")]
	LengthMismatch { shard: ShardId, declared: u64, delivered: u64 },
	/// The shard's Poseidon root is not the one the caller expected; nothing was stored.
	#[error("shard {shard}: Poseidon root does not match the expected commitment")]
	RootMismatch { shard: ShardId },
	/// The bytes of a put with a tree built already do not match the tree's BLAKE3 digest;
	/// nothing was stored.
	#[error("shard {shard}: the bytes differ from those its tree was built from")]
	NotTheTreesBytes { shard: ShardId },
	/// Stored bytes failed their checksum on read.
	#[error("shard {shard}: chunk {chunk} is corrupt")]
	Corrupt { shard: ShardId, chunk: u64 },
	/// A stored block of tree nodes failed its checksum or is missing.
	#[error("shard {shard}: tree level {level} block {block} is corrupt")]
	CorruptTree { shard: ShardId, level: u32, block: u64 },
	/// Stored metadata could not be decoded.
	#[error("corrupt metadata for shard {shard}: {reason}")]
	CorruptMetadata { shard: ShardId, reason: &'static str },
	/// Storing the shard would exceed the configured capacity.
	#[error("capacity exceeded: {requested} bytes requested, {used} of {capacity} used")]
	CapacityExceeded { requested: u64, used: u64, capacity: u64 },
	/// A read past the end of a shard, or longer than one read may be.
	#[error(
		"range {offset}+{len} is invalid for a shard of {shard_bytes} bytes (max read {max_read})"
	)]
	InvalidRange { offset: u64, len: u64, shard_bytes: u64, max_read: u64 },
	/// A range of a file's bytes that is empty or reaches past its end.
	#[error("bytes {first}..={last} are not within a file of {bytes} bytes")]
	OutsideFile { first: u64, last: u64, bytes: u64 },
	/// The rehashed bottom of a subtree disagrees with the kept upper levels.
	#[error("subtree {subtree}: rehashed root differs from the kept tree level")]
	InconsistentTree { subtree: u64 },
	/// A challenge index outside the tree.
	#[error("challenge index {index} is outside the tree of {leaves} leaves")]
	ChallengeOutOfRange { index: u64, leaves: u64 },
	/// More challenges in one request than the store answers at once.
	#[error("{count} challenges requested, at most {max} per request")]
	TooManyChallenges { count: usize, max: usize },
	/// An error of the underlying database engine.
	#[error("database error: {0}")]
	Database(String),
	/// An I/O error of a reader, a writer or the file system.
	#[error("I/O error: {0}")]
	Io(#[from] std::io::Error),
}

impl StorageError {
	/// Whether the error says that a stored shard is damaged or gone, rather than that the disk
	/// or the database could not be read this time (which may pass).
	pub fn is_damage(&self) -> bool {
		matches!(
			self,
			StorageError::UnknownShard(_)
				| StorageError::Corrupt { .. }
				| StorageError::CorruptTree { .. }
				| StorageError::CorruptMetadata { .. }
				| StorageError::InconsistentTree { .. }
		)
	}
}

/// Result alias used throughout the crate.
pub type Result<T, E = StorageError> = core::result::Result<T, E>;
