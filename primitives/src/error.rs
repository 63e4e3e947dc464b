//! Errors of the checked (`try_*`) entry points.

use thiserror::Error;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
	/// 32 little-endian bytes encode an integer that is not below the field modulus.
	#[error("value 0x{value_le_hex} (little-endian) is not below the BN254 scalar field modulus")]
	NotInField {
		/// The refused bytes, little-endian hex.
		value_le_hex: alloc::string::String,
	},
	/// A Merkle proof has the wrong number of sibling levels.
	#[error("Merkle proof has {actual} sibling levels, the tree has {expected}")]
	PathLength {
		/// Levels the tree has.
		expected: usize,
		/// Levels the proof carries.
		actual: usize,
	},
	/// A leaf index beyond the largest tree.
	#[error("leaf index {index} is beyond the tree's {capacity} leaves")]
	IndexOutOfRange {
		/// The refused index.
		index: u64,
		/// Leaves a tree of full depth holds.
		capacity: u64,
	},
	/// A width other than the two each hash defines.
	#[error("Poseidon width {width} is not supported (Poseidon has 3 and 5, Poseidon2 3 and 4)")]
	UnsupportedWidth {
		/// The refused width.
		width: usize,
	},
}
