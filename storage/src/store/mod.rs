//! The shard store: an engine-neutral [`ShardStore`] trait and its RocksDB engine
//! ([`RocksShardStore`]).

mod layout;
mod rocks;

use std::{
	io::{self, Read},
	ops::Range,
};

use cairn_primitives::{tree::MerkleProof, Fr};

use crate::commitment::{pieces::PiecePath, ShardCommitment, UpperLevels};
use crate::error::{Result, StorageError};

pub use rocks::{RecoveryReport, RocksShardStore, StoreConfig};

/// Bytes per stored chunk; each chunk carries its own checksum.
pub const CHUNK_BYTES: usize = 64 << 10;
/// Bytes of a piece [`ShardStore::pieces`] gives with its BLAKE3 path: a stored chunk.
pub const PIECE_BYTES: u64 = CHUNK_BYTES as u64;
/// Longest range one [`ShardStore::read_range`] call returns.
pub const MAX_READ_BYTES: u64 = 16 << 20;
/// Most shards one [`ShardStore::list`] call returns.
pub const MAX_LIST: usize = 10_000;

/// Names a shard: shard `index` of storage contract `contract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId {
	/// The storage contract.
	pub contract: u64,
	/// The shard's position among the contract's `k + m` shards.
	pub index: u32,
}

impl ShardId {
	/// Shard `index` of `contract`.
	pub fn new(contract: u64, index: u32) -> Self {
		Self { contract, index }
	}
}

impl core::fmt::Display for ShardId {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "{}/{}", self.contract, self.index)
	}
}

/// A stored shard and its commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredShard {
	/// Which shard.
	pub id: ShardId,
	/// Its root, digest and length.
	pub commitment: ShardCommitment,
}

/// Configured capacity and bytes in use (committed shards plus puts in progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
	/// Most shard bytes the store accepts.
	pub capacity: u64,
	/// Shard bytes stored or reserved by puts in progress.
	pub used: u64,
}

/// Durable shard storage. Implementations are safe to share between threads.
pub trait ShardStore: Send + Sync {
	/// Stores `bytes` bytes read from `data` as shard `id`, computing its commitment on the way.
	/// Returns only once the shard is durable; if `expected_root` is given and differs, nothing is
	/// stored. A shard whose put did not return `Ok` is never reported as stored.
	fn put(
		&self,
		id: ShardId,
		bytes: u64,
		data: &mut dyn Read,
		expected_root: Option<&Fr>,
	) -> Result<ShardCommitment>;

	/// Stores shard `id` as [`put`](Self::put) does, with its tree built already from the same
	/// bytes (a [`TreeBuilder`](crate::commitment::TreeBuilder) fed as they arrived, then
	/// finished): the bytes are only checked against the tree's BLAKE3 digest and length, and
	/// if they differ, nothing is stored.
	fn put_built(
		&self,
		id: ShardId,
		data: &mut dyn Read,
		commitment: ShardCommitment,
		upper: UpperLevels,
	) -> Result<ShardCommitment>;

	/// `len` bytes of shard `id` from `offset`, checked against the chunk checksums.
	fn read_range(&self, id: ShardId, offset: u64, len: u64) -> Result<Vec<u8>>;

	/// The commitment of a stored shard.
	fn commitment(&self, id: ShardId) -> Result<ShardCommitment>;

	/// The pieces `wanted` (indices; piece `i` is the [`PIECE_BYTES`] from `i × PIECE_BYTES`,
	/// fewer for the last; at most [`MAX_READ_BYTES`] in all) of shard `id`, checked against the
	/// chunk checksums, each with its BLAKE3 path: a reader that knows only the shard's digest
	/// checks each piece on its own ([`verify_piece`](crate::commitment::pieces::verify_piece)).
	fn pieces(&self, id: ShardId, wanted: Range<u64>) -> Result<Vec<(Vec<u8>, PiecePath)>>;

	/// The leaf and Merkle proof for each challenge index, rehashing only the bottom levels.
	fn challenge_proofs(&self, id: ShardId, indices: &[u64]) -> Result<Vec<MerkleProof>>;

	/// Up to `limit` (at most [`MAX_LIST`]) stored shards, in id order, after `start_after`.
	fn list(&self, start_after: Option<ShardId>, limit: usize) -> Result<Vec<StoredShard>>;

	/// Removes a stored shard and frees its bytes.
	fn delete(&self, id: ShardId) -> Result<()>;

	/// Capacity and bytes in use.
	fn usage(&self) -> Usage;
}

/// Every stored shard of a store, in id order, read one [`ShardStore::list`] page at a time, so
/// that a store of any size is walked whole in bounded memory.
pub struct AllShards<'a, S: ShardStore + ?Sized> {
	store: &'a S,
	page: std::vec::IntoIter<StoredShard>,
	after: Option<ShardId>,
	done: bool,
}

impl<'a, S: ShardStore + ?Sized> AllShards<'a, S> {
	/// Every shard of `store`, from the first.
	pub fn new(store: &'a S) -> Self {
		Self { store, page: Vec::new().into_iter(), after: None, done: false }
	}
}

impl<S: ShardStore + ?Sized> Iterator for AllShards<'_, S> {
	type Item = Result<StoredShard>;

	fn next(&mut self) -> Option<Self::Item> {
		if let Some(shard) = self.page.next() {
			self.after = Some(shard.id);
			return Some(Ok(shard));
		}
		if self.done {
			return None;
		}
		match self.store.list(self.after, MAX_LIST) {
			Ok(page) => {
				self.done = page.len() < MAX_LIST;
				self.page = page.into_iter();
				let shard = self.page.next()?;
				self.after = Some(shard.id);
				Some(Ok(shard))
			}
			Err(error) => {
				self.done = true;
				Some(Err(error))
			}
		}
	}
}

/// Reads a whole stored shard through [`Read`], one bounded range at a time.
pub struct ShardReader<'a, S: ShardStore + ?Sized> {
	store: &'a S,
	id: ShardId,
	position: u64,
	shard_bytes: u64,
	buffer: Vec<u8>,
	buffer_at: usize,
}

impl<'a, S: ShardStore + ?Sized> ShardReader<'a, S> {
	/// A reader over shard `id` of `store`.
	pub fn new(store: &'a S, id: ShardId) -> Result<Self> {
		let shard_bytes = store.commitment(id)?.bytes;
		Ok(Self { store, id, position: 0, shard_bytes, buffer: Vec::new(), buffer_at: 0 })
	}
}

impl<S: ShardStore + ?Sized> Read for ShardReader<'_, S> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		if self.buffer_at == self.buffer.len() {
			let len = (self.shard_bytes - self.position).min(1 << 20);
			if len == 0 {
				return Ok(0);
			}
			self.buffer =
				self.store.read_range(self.id, self.position, len).map_err(
					|error| match error {
						StorageError::Io(error) => error,
						other => io::Error::new(io::ErrorKind::InvalidData, other),
					},
				)?;
			self.buffer_at = 0;
			self.position += self.buffer.len() as u64;
		}
		let available = &self.buffer[self.buffer_at..];
		let count = available.len().min(buf.len());
		buf[..count].copy_from_slice(&available[..count]);
		self.buffer_at += count;
		Ok(count)
	}
}
