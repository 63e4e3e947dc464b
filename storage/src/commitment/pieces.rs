//! Pieces of a shard checked on their own against the shard's BLAKE3 digest, so that a receiver
//! refuses a bad piece the moment it arrives instead of after the whole shard.
//!
//! BLAKE3 is itself a Merkle tree over 1 KiB chunks (left subtree: the largest power of two of
//! bytes shorter than the input). For pieces of a power-of-two size `piece` ≥ 1 KiB, aligned at
//! multiples of `piece`, every piece is one subtree of that tree, so a piece is proven by the
//! chaining values of the subtrees beside its path to the root, [`PiecePath`] (at most
//! `log2(shard / piece) + 1` values). No other digest needs publishing: the on-chain BLAKE3
//! digest is the root.

use std::ops::Range;

use blake3::hazmat::{
	merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};

/// The chaining values beside a piece's path, from the piece up to the root.
pub type PiecePath = Vec<[u8; 32]>;

/// Why a piece does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PieceError {
	/// `piece` is not a power of two of at least 1 KiB.
	#[error("piece size {0} is not a power of two of at least 1024 bytes")]
	PieceSize(u64),
	/// The piece does not start at a piece boundary inside the shard, or has the wrong length.
	#[error("{len} bytes at {offset} are not a piece of a {total}-byte shard")]
	Misplaced {
		/// Where the piece claims to start.
		offset: u64,
		/// Its length.
		len: u64,
		/// The shard's length.
		total: u64,
	},
	/// The path has the wrong number of values.
	#[error("the piece at {offset} needs {expected} path values, not {got}")]
	PathLength {
		/// The piece.
		offset: u64,
		/// Values the tree needs.
		expected: usize,
		/// Values given.
		got: usize,
	},
	/// The bytes and path do not lead to the digest.
	#[error("the piece at {offset} does not match the shard's BLAKE3 digest")]
	Mismatch {
		/// The piece.
		offset: u64,
	},
}

fn check_piece_size(piece: u64) -> Result<(), PieceError> {
	if piece.is_power_of_two() && piece >= blake3::CHUNK_LEN as u64 {
		Ok(())
	} else {
		Err(PieceError::PieceSize(piece))
	}
}

/// BLAKE3's split of `len` bytes (more than one chunk) into a left and right subtree.
fn left_len(len: u64) -> u64 {
	blake3::hazmat::left_subtree_len(len)
}

/// The sides of the path from the root to the piece at `offset` of a `total`-byte input, root
/// first: `true` where the piece lies in the left subtree.
fn sides(total: u64, offset: u64, piece: u64) -> Vec<bool> {
	let (mut start, mut len) = (0, total);
	let mut sides = Vec::new();
	while len > piece {
		let left = left_len(len);
		if offset < start + left {
			sides.push(true);
			len = left;
		} else {
			sides.push(false);
			start += left;
			len -= left;
		}
	}
	sides
}

fn piece_cv(offset: u64, data: &[u8]) -> ChainingValue {
	let mut hasher = blake3::Hasher::new();
	hasher.set_input_offset(offset);
	hasher.update(data);
	hasher.finalize_non_root()
}

/// The chaining value of the subtree of the BLAKE3 tree over bytes `start..start + len` of a
/// `total`-byte shard, at least one piece long (the root hash for the whole shard), from the
/// chaining values `cvs` of its pieces; appends to the path of each piece in `wanted` (piece
/// indices; `paths[0]` is the first of them) the value beside it at this subtree's level.
fn subtree(
	cvs: &[ChainingValue],
	start: u64,
	len: u64,
	piece: u64,
	total: u64,
	wanted: &Range<usize>,
	paths: &mut [PiecePath],
) -> ChainingValue {
	if len <= piece {
		return cvs[(start / piece) as usize];
	}
	let left = left_len(len);
	let left_cv = subtree(cvs, start, left, piece, total, wanted, paths);
	let right_cv = subtree(cvs, start + left, len - left, piece, total, wanted, paths);
	let first = (start / piece) as usize;
	let split = ((start + left) / piece) as usize;
	let end = (start + len).div_ceil(piece) as usize;
	let mut beside = |pieces: Range<usize>, value: ChainingValue| {
		let from = pieces.start.max(wanted.start);
		let to = pieces.end.min(wanted.end);
		for path in paths.iter_mut().take(to.saturating_sub(wanted.start)).skip(from - wanted.start)
		{
			path.push(value);
		}
	};
	beside(first..split, right_cv);
	beside(split..end, left_cv);
	merge(left_cv, right_cv, start == 0 && len == total)
}

/// The parent of two subtrees: the root hash for the root, else a chaining value.
fn merge(left: ChainingValue, right: ChainingValue, root: bool) -> ChainingValue {
	if root {
		*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes()
	} else {
		merge_subtrees_non_root(&left, &right, Mode::Hash)
	}
}

/// The path of every `piece`-byte piece of `shard`, in order (empty paths when the shard is a
/// single piece, whose digest is its own hash).
pub fn piece_paths(shard: &[u8], piece: u64) -> Result<Vec<PiecePath>, PieceError> {
	let mut values = PieceValues::new(piece)?;
	values.update(shard);
	let total = shard.len() as u64;
	paths_of(piece, total, &values.finish(), 0..total.div_ceil(piece).max(1))
}

/// The chaining value of each piece of a shard, worked out as its bytes stream past in slices of
/// any size: what a store keeps beside a shard (32 bytes a piece), so that it can give any
/// piece's path later ([`piece_path`]) without reading the shard again.
pub struct PieceValues {
	piece: u64,
	/// Bytes taken so far.
	total: u64,
	/// The piece being taken.
	hasher: blake3::Hasher,
	values: Vec<ChainingValue>,
}

impl PieceValues {
	/// Values of pieces of `piece` bytes, a power of two of at least 1 KiB.
	pub fn new(piece: u64) -> Result<Self, PieceError> {
		check_piece_size(piece)?;
		Ok(Self { piece, total: 0, hasher: blake3::Hasher::new(), values: Vec::new() })
	}

	/// The shard's next bytes.
	pub fn update(&mut self, mut data: &[u8]) {
		while !data.is_empty() {
			let room = self.piece - self.total % self.piece;
			let (now, rest) = data.split_at(data.len().min(room as usize));
			self.hasher.update(now);
			self.total += now.len() as u64;
			if self.total.is_multiple_of(self.piece) {
				self.values.push(self.hasher.finalize_non_root());
				self.hasher = blake3::Hasher::new();
				self.hasher.set_input_offset(self.total);
			}
			data = rest;
		}
	}

	/// The value of every piece, in order (of an empty shard, its digest: it has one piece,
	/// with an empty path).
	pub fn finish(mut self) -> Vec<[u8; 32]> {
		if self.total == 0 {
			self.values.push(*blake3::hash(&[]).as_bytes());
		} else if !self.total.is_multiple_of(self.piece) {
			self.values.push(self.hasher.finalize_non_root());
		}
		self.values
	}
}

/// The paths of the pieces `wanted` (indices) of a `total`-byte shard, from the chaining
/// `values` of its pieces of `piece` bytes ([`PieceValues`]): every value is merged once, but
/// only the wanted paths are kept.
pub fn paths_of(
	piece: u64,
	total: u64,
	values: &[[u8; 32]],
	wanted: Range<u64>,
) -> Result<Vec<PiecePath>, PieceError> {
	check_piece_size(piece)?;
	let pieces = total.div_ceil(piece).max(1);
	if values.len() as u64 != pieces {
		return Err(PieceError::PathLength {
			offset: 0,
			expected: pieces as usize,
			got: values.len(),
		});
	}
	if wanted.start >= wanted.end || wanted.end > pieces {
		let offset = wanted.start.saturating_mul(piece);
		let len = (wanted.end.saturating_sub(wanted.start)).saturating_mul(piece);
		return Err(PieceError::Misplaced { offset, len, total });
	}
	let wanted = wanted.start as usize..wanted.end as usize;
	let mut paths = vec![PiecePath::new(); wanted.len()];
	if total > piece {
		subtree(values, 0, total, piece, total, &wanted, &mut paths);
	}
	Ok(paths)
}

/// Checks that `data` is the piece at `offset` of a `total`-byte shard whose BLAKE3 digest is
/// `digest`, given its `path` from [`piece_paths`].
pub fn verify_piece(
	digest: &[u8; 32],
	total: u64,
	piece: u64,
	offset: u64,
	data: &[u8],
	path: &[[u8; 32]],
) -> Result<(), PieceError> {
	check_piece_size(piece)?;
	let len = data.len() as u64;
	let expected_len = piece.min(total.saturating_sub(offset));
	if !offset.is_multiple_of(piece) || offset >= total.max(1) || len != expected_len {
		return Err(PieceError::Misplaced { offset, len, total });
	}
	let sides = sides(total, offset, piece);
	if path.len() != sides.len() {
		return Err(PieceError::PathLength { offset, expected: sides.len(), got: path.len() });
	}
	let computed = if sides.is_empty() {
		*blake3::hash(data).as_bytes()
	} else {
		let mut cv = piece_cv(offset, data);
		// `sides` runs root first, `path` piece first.
		for (level, (sibling, left)) in path.iter().zip(sides.iter().rev()).enumerate() {
			let (l, r) = if *left { (cv, *sibling) } else { (*sibling, cv) };
			cv = merge(l, r, level + 1 == sides.len());
		}
		cv
	};
	if computed == *digest {
		Ok(())
	} else {
		Err(PieceError::Mismatch { offset })
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	/// Bytes that never repeat a piece (a repeating pattern would make every piece alike).
	fn bytes(len: usize, seed: u8) -> Vec<u8> {
		let mut data = vec![0; len];
		blake3::Hasher::new().update(&[seed]).finalize_xof().fill(&mut data);
		data
	}

	fn check_all(shard: &[u8], piece: u64) {
		let digest = *blake3::hash(shard).as_bytes();
		let total = shard.len() as u64;
		let paths = piece_paths(shard, piece).unwrap();
		assert_eq!(paths.len(), total.div_ceil(piece).max(1) as usize);
		for (index, path) in paths.iter().enumerate() {
			let offset = index as u64 * piece;
			let end = (offset + piece).min(total) as usize;
			let data = &shard[offset as usize..end];
			verify_piece(&digest, total, piece, offset, data, path)
				.unwrap_or_else(|e| panic!("piece {index} of {total} bytes: {e}"));
		}
	}

	#[test]
	fn every_piece_of_every_shape_checks() {
		for piece in [1024u64, 4096] {
			for total in [1, 1023, 1024, 1025, 4095, 4096, 4097, 8192, 12_289, 40_000, 65_536] {
				check_all(&bytes(total, 3), piece);
			}
		}
		// A full-size piece of the shard network.
		check_all(&bytes(3 << 20 | 5, 9), 1 << 20);
	}

	/// Values kept as the shard streamed past in slices of any size give the same paths as
	/// the shard taken whole, for any run of pieces, and each checks.
	#[test]
	fn kept_values_give_the_paths_of_any_run_of_pieces() {
		let piece = 1024u64;
		for (total, slice) in [(0, 1), (1, 1), (1024, 7), (1025, 1024), (5000, 333), (65_536, 4096)]
		{
			let shard = bytes(total, 5);
			let digest = *blake3::hash(&shard).as_bytes();
			let mut values = PieceValues::new(piece).unwrap();
			for part in shard.chunks(slice) {
				values.update(part);
			}
			let values = values.finish();
			let all = piece_paths(&shard, piece).unwrap();
			let pieces = all.len() as u64;
			assert_eq!(values.len() as u64, pieces);
			for first in 0..pieces {
				for end in first + 1..=pieces.min(first + 5) {
					let paths = paths_of(piece, total as u64, &values, first..end).unwrap();
					assert_eq!(
						paths,
						all[first as usize..end as usize],
						"{first}..{end} of {total}"
					);
					for (index, path) in (first..end).zip(&paths) {
						let offset = index * piece;
						let data =
							&shard[offset as usize..(offset + piece).min(total as u64) as usize];
						verify_piece(&digest, total as u64, piece, offset, data, path).unwrap();
					}
				}
			}
			assert!(paths_of(piece, total as u64, &values, pieces..pieces + 1).is_err());
			assert!(paths_of(piece, total as u64, &values, 0..0).is_err());
			assert!(paths_of(piece, total as u64 + 2 * piece, &values, 0..1).is_err());
		}
	}

	#[test]
	fn pieces_of_a_size_blake3_does_not_split_at_are_refused() {
		for piece in [0, 1, 512, 1000, 1025, 3 << 10] {
			assert_eq!(PieceValues::new(piece).err(), Some(PieceError::PieceSize(piece)));
			assert_eq!(piece_paths(&[0; 4096], piece), Err(PieceError::PieceSize(piece)));
		}
	}

	#[test]
	fn forged_pieces_and_paths_are_refused() {
		let piece = 4096;
		let shard = bytes(5 * 4096 + 100, 1);
		let total = shard.len() as u64;
		let digest = *blake3::hash(&shard).as_bytes();
		let paths = piece_paths(&shard, piece).unwrap();
		let good = &shard[4096..8192];
		verify_piece(&digest, total, piece, 4096, good, &paths[1]).unwrap();

		let mut flipped = good.to_vec();
		flipped[17] ^= 1;
		assert_eq!(
			verify_piece(&digest, total, piece, 4096, &flipped, &paths[1]),
			Err(PieceError::Mismatch { offset: 4096 })
		);
		// The right bytes at another place, or with another piece's path.
		assert!(verify_piece(&digest, total, piece, 8192, good, &paths[2]).is_err());
		assert!(verify_piece(&digest, total, piece, 4096, good, &paths[2]).is_err());
		// Paths of the wrong length, misplaced or wrongly sized pieces.
		assert!(matches!(
			verify_piece(&digest, total, piece, 4096, good, &paths[1][1..]),
			Err(PieceError::PathLength { .. })
		));
		assert!(matches!(
			verify_piece(&digest, total, piece, 4095, good, &paths[1]),
			Err(PieceError::Misplaced { .. })
		));
		assert!(matches!(
			verify_piece(&digest, total, piece, 4096, &good[1..], &paths[1]),
			Err(PieceError::Misplaced { .. })
		));
		assert!(matches!(
			verify_piece(&digest, total, piece, total + 4096, good, &paths[1]),
			Err(PieceError::Misplaced { .. })
		));
		assert_eq!(
			verify_piece(&digest, total, 3000, 0, good, &paths[0]),
			Err(PieceError::PieceSize(3000))
		);
		// Another shard's digest.
		let other = *blake3::hash(&shard[1..]).as_bytes();
		assert!(verify_piece(&other, total, piece, 4096, good, &paths[1]).is_err());
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]
		#[test]
		fn pieces_of_random_shards_check(len in 1usize..70_000, seed: u8, big: bool) {
			check_all(&bytes(len, seed), if big { 8192 } else { 1024 });
		}
	}
}
