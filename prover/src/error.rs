//! Errors of statement building, proving, key handling and verification.

use alloc::string::String;

use thiserror::Error;

/// Why an operation was refused; each variant carries the values that failed.
#[derive(Debug, Error)]
pub enum Error {
	/// A shared definition refused a value (field element, path length, index).
	#[error(transparent)]
	Primitives(#[from] cairn_primitives::Error),
	/// A shard of zero bytes has no leaf to challenge.
	#[error("an empty shard has no leaf to challenge")]
	EmptyShard,
	/// A shard longer than the largest tree.
	#[error("shard of {bytes} bytes exceeds the {max} bytes a tree commits")]
	ShardTooLarge {
		/// The shard's size.
		bytes: u64,
		/// The largest size.
		max: u64,
	},
	/// A challenge count of zero or above [`crate::MAX_CHALLENGES`].
	#[error("{count} challenges requested; between 1 and {max} are supported")]
	ChallengeCount {
		/// The refused count.
		count: usize,
		/// The largest count.
		max: usize,
	},
	/// A leaf index beyond the largest tree.
	#[error("leaf index {index} is beyond the tree's {capacity} leaves")]
	IndexOutOfRange {
		/// The refused index.
		index: u64,
		/// Leaves of a full tree.
		capacity: u64,
	},
	/// A statement or witness with another number of challenges than the key or circuit.
	#[error("the key proves {expected} challenges, the statement has {actual}")]
	ChallengeMismatch {
		/// Challenges the key proves.
		expected: usize,
		/// Challenges offered.
		actual: usize,
	},
	/// Public inputs that do not match the verifying key's count.
	#[error("the verifying key takes {expected} public inputs, {actual} were given")]
	InputCount {
		/// Inputs the key takes.
		expected: usize,
		/// Inputs given.
		actual: usize,
	},
	/// An opening for another leaf than the one challenged.
	#[error("challenge {position} asks for leaf {expected}, the opening is for leaf {actual}")]
	OpeningIndex {
		/// Which challenge.
		position: usize,
		/// The challenged index.
		expected: u64,
		/// The opened index.
		actual: u64,
	},
	/// An opening whose path does not lead to the root.
	#[error("the opening of leaf {index} (challenge {position}) does not lead to the shard root")]
	OpeningInvalid {
		/// Which challenge.
		position: usize,
		/// The opened leaf.
		index: u64,
	},
	/// The shard store could not open a challenged leaf.
	#[error("leaf {index} could not be opened: {reason}")]
	LeafUnavailable {
		/// The leaf.
		index: u64,
		/// What the store reported.
		reason: String,
	},
	/// Proof bytes that are not a valid compressed proof.
	#[error("proof is not {expected} bytes of valid curve points (got {actual} bytes)")]
	MalformedProof {
		/// Bytes of a compressed proof.
		expected: usize,
		/// Bytes given.
		actual: usize,
	},
	/// A key file shorter than its header says.
	#[error("key file is truncated: {needed} bytes needed, {available} present")]
	KeyTruncated {
		/// Bytes needed.
		needed: u64,
		/// Bytes present.
		available: u64,
	},
	/// Not a Cairn key file.
	#[error("not a Cairn key file (magic {found:02x?})")]
	KeyMagic {
		/// The first bytes found.
		found: [u8; 8],
	},
	/// A key file format this build does not read.
	#[error("key file format version {found} is not supported (this build reads {supported})")]
	KeyVersion {
		/// Version in the file.
		found: u16,
		/// Version this build reads.
		supported: u16,
	},
	/// A proving key where a verifying key was expected, or the reverse.
	#[error("key file holds a {found} key, a {expected} key was expected")]
	KeyKind {
		/// Kind expected.
		expected: &'static str,
		/// Kind found.
		found: &'static str,
	},
	/// A key for other circuit parameters.
	#[error(
		"key is for {found_challenges} challenges at depth {found_depth}, \
		 {expected_challenges} at depth {expected_depth} were expected"
	)]
	KeyParameters {
		/// Challenges expected.
		expected_challenges: usize,
		/// Challenges in the file.
		found_challenges: usize,
		/// Tree depth expected.
		expected_depth: u32,
		/// Tree depth in the file.
		found_depth: u32,
	},
	/// A key whose bytes do not hash to the digest in its header.
	#[error("key file is corrupt: payload hash {actual} differs from header hash {expected}")]
	KeyHash {
		/// Hash in the header (hex).
		expected: String,
		/// Hash of the payload (hex).
		actual: String,
	},
	/// A key payload that is not a valid key (bad point, trailing bytes, wrong shape).
	#[error("key payload is not a valid {what}")]
	KeyEncoding {
		/// What was being decoded.
		what: &'static str,
	},
	/// A proving key that does not fit the circuit (sizes differ).
	#[error("proving key has {found} {what}, the circuit needs {expected}")]
	KeyShape {
		/// Which size.
		what: &'static str,
		/// Size the circuit needs.
		expected: usize,
		/// Size in the key.
		found: usize,
	},
	/// Constraint synthesis or the proof system failed.
	#[error("proof system error: {0}")]
	ProofSystem(String),
	/// Reading or writing a key file failed.
	#[cfg(feature = "std")]
	#[error("{path}: {source}")]
	Io {
		/// The file.
		path: String,
		/// The failure.
		source: std::io::Error,
	},
}
