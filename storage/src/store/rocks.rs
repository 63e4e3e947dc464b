//! The RocksDB shard store engine.

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use cairn_primitives::{tree, Fr};
use rocksdb::{Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB};

use super::layout::{self, ShardMeta, NODES_PER_BLOCK};
use super::{
	ShardId, ShardStore, StoredShard, Usage, CHUNK_BYTES, MAX_LIST, MAX_READ_BYTES, PIECE_BYTES,
};
use crate::commitment::{
	empty_root,
	pieces::{paths_of, PiecePath, PieceValues},
	prove, ProofSource, ShardCommitment, TreeBuilder, UpperLevels, MAX_SHARD_BYTES,
	REHASHED_LEVELS,
};
use crate::encoding::erasure::read_full;
use crate::error::{Result, StorageError};

/// The tree of a shard being put: built from its bytes as they stream in, or built already by
/// the caller from the same bytes, which are then only checked against its BLAKE3 digest.
enum Tree {
	Building(TreeBuilder),
	Built { commitment: ShardCommitment, upper: UpperLevels, digest: blake3::Hasher },
}

impl Tree {
	fn update(&mut self, data: &[u8]) -> Result<()> {
		match self {
			Tree::Building(builder) => builder.update(data),
			Tree::Built { digest, .. } => {
				digest.update(data);
				Ok(())
			}
		}
	}

	fn finish(self, id: ShardId) -> Result<(ShardCommitment, UpperLevels)> {
		match self {
			Tree::Building(builder) => Ok(builder.finish()),
			Tree::Built { commitment, upper, digest } => {
				if *digest.finalize().as_bytes() != commitment.blake3 {
					return Err(StorageError::NotTheTreesBytes { shard: id });
				}
				Ok((commitment, upper))
			}
		}
	}
}

/// Chunks gathered into one (unsynced) write batch while a shard streams in.
const CHUNKS_PER_BATCH: usize = 16;

fn db_error(error: rocksdb::Error) -> StorageError {
	StorageError::Database(error.into_string())
}

/// Settings of a [`RocksShardStore`].
#[derive(Clone, Copy, Debug)]
pub struct StoreConfig {
	/// Most shard bytes the store accepts.
	pub capacity_bytes: u64,
}

/// What [`RocksShardStore::open`] found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
	/// Shards whose put had not finished when the store was last closed; their bytes were removed.
	pub removed_pending: Vec<ShardId>,
	/// Committed shards found.
	pub committed: u64,
}

struct Accounting {
	used: u64,
	in_flight: HashSet<ShardId>,
}

/// Shards in RocksDB: chunked with per-chunk checksums, synced before a put returns.
pub struct RocksShardStore {
	db: DB,
	capacity: u64,
	accounting: Mutex<Accounting>,
}

fn synced() -> WriteOptions {
	let mut options = WriteOptions::default();
	options.set_sync(true);
	options
}

impl RocksShardStore {
	/// Opens (or creates) the store at `path`, removing every half-written shard.
	pub fn open(path: &Path, config: StoreConfig) -> Result<(Self, RecoveryReport)> {
		let mut options = Options::default();
		options.create_if_missing(true);
		options.set_write_buffer_size(64 << 20);
		let db = DB::open(&options, path).map_err(db_error)?;
		let mut report = RecoveryReport::default();
		let mut used = 0u64;
		let mut cleanup = WriteBatch::default();
		for entry in db.prefix_iterator([layout::META]) {
			let (key, value) = entry.map_err(db_error)?;
			let Some(id) = layout::id_from_meta_key(&key) else { break };
			match ShardMeta::decode(&value) {
				Some(ShardMeta::Committed(commitment)) => {
					used = used.saturating_add(commitment.bytes);
					report.committed = report.committed.saturating_add(1);
				}
				Some(ShardMeta::Pending { .. }) => {
					delete_shard_keys(&mut cleanup, id);
					report.removed_pending.push(id);
				}
				None => {
					return Err(StorageError::CorruptMetadata {
						shard: id,
						reason: "checksum or layout",
					})
				}
			}
		}
		db.write_opt(cleanup, &synced()).map_err(db_error)?;
		let accounting = Mutex::new(Accounting { used, in_flight: HashSet::new() });
		Ok((Self { db, capacity: config.capacity_bytes, accounting }, report))
	}

	fn accounting(&self) -> MutexGuard<'_, Accounting> {
		// The lock guards two plain counters that every holder leaves consistent, so a poisoned lock
		// still holds valid data.
		self.accounting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn meta(&self, id: ShardId) -> Result<Option<ShardMeta>> {
		let Some(value) = self.db.get_pinned(layout::id_key(layout::META, id)).map_err(db_error)?
		else {
			return Ok(None);
		};
		ShardMeta::decode(&value)
			.map(Some)
			.ok_or(StorageError::CorruptMetadata { shard: id, reason: "checksum or layout" })
	}

	fn committed(&self, id: ShardId) -> Result<ShardCommitment> {
		match self.meta(id)? {
			Some(ShardMeta::Committed(commitment)) => Ok(commitment),
			_ => Err(StorageError::UnknownShard(id)),
		}
	}

	fn reserve(&self, id: ShardId, bytes: u64) -> Result<()> {
		let mut accounting = self.accounting();
		if accounting.in_flight.contains(&id) || self.meta(id)?.is_some() {
			return Err(StorageError::AlreadyStored(id));
		}
		let used = accounting.used;
		if used.checked_add(bytes).is_none_or(|total| total > self.capacity) {
			return Err(StorageError::CapacityExceeded {
				requested: bytes,
				used,
				capacity: self.capacity,
			});
		}
		accounting.used = used.saturating_add(bytes);
		accounting.in_flight.insert(id);
		Ok(())
	}

	fn stream_in(
		&self,
		id: ShardId,
		bytes: u64,
		data: &mut dyn Read,
		mut tree: Tree,
	) -> Result<(ShardCommitment, UpperLevels, Vec<[u8; 32]>)> {
		self.db
			.put(layout::id_key(layout::META, id), ShardMeta::Pending { bytes }.encode())
			.map_err(db_error)?;
		let mut values = piece_values()?;
		let mut chunk = vec![0u8; CHUNK_BYTES];
		let mut batch = WriteBatch::default();
		let mut chunk_index = 0u32;
		let mut delivered = 0u64;
		loop {
			let remaining = bytes - delivered;
			let want = remaining.min(CHUNK_BYTES as u64) as usize;
			let read = read_full(data, &mut chunk[..want.max(1)])?;
			if read == 0 {
				break;
			}
			delivered = delivered.saturating_add(read as u64);
			if read > want {
				return Err(StorageError::LengthMismatch { shard: id, declared: bytes, delivered });
			}
			tree.update(&chunk[..read])?;
			values.update(&chunk[..read]);
			batch.put(layout::chunk_key(id, chunk_index), layout::seal(&chunk[..read]));
			chunk_index = chunk_index.saturating_add(1);
			if batch.len() >= CHUNKS_PER_BATCH {
				self.db.write(std::mem::take(&mut batch)).map_err(db_error)?;
			}
			if read < want {
				break;
			}
		}
		if delivered != bytes {
			return Err(StorageError::LengthMismatch { shard: id, declared: bytes, delivered });
		}
		self.db.write(batch).map_err(db_error)?;
		let (commitment, upper) = tree.finish(id)?;
		Ok((commitment, upper, values.finish()))
	}

	/// Stores a shard whose tree `tree` builds or has built, if its root is `expected_root`.
	fn put_tree(
		&self,
		id: ShardId,
		bytes: u64,
		data: &mut dyn Read,
		tree: Tree,
		expected_root: Option<&Fr>,
	) -> Result<ShardCommitment> {
		if bytes > MAX_SHARD_BYTES {
			return Err(StorageError::ShardTooLarge { bytes, max: MAX_SHARD_BYTES });
		}
		self.reserve(id, bytes)?;
		let outcome =
			self.stream_in(id, bytes, data, tree).and_then(|(commitment, upper, values)| {
				if expected_root.is_some_and(|root| *root != commitment.root) {
					return Err(StorageError::RootMismatch { shard: id });
				}
				self.commit(id, commitment, &upper, &values)?;
				Ok(commitment)
			});
		let mut accounting = self.accounting();
		accounting.in_flight.remove(&id);
		if outcome.is_err() {
			accounting.used = accounting.used.saturating_sub(bytes);
			// Best effort: whatever is left is removed on the next open, as it is still pending.
			let _ = self.remove_keys(id);
		}
		outcome
	}

	fn commit(
		&self,
		id: ShardId,
		commitment: ShardCommitment,
		upper: &UpperLevels,
		values: &[[u8; 32]],
	) -> Result<()> {
		let mut batch = WriteBatch::default();
		batch
			.put(layout::id_key(layout::PIECES, id), layout::seal(&layout::values_payload(values)));
		for (offset, nodes) in upper.levels().iter().enumerate() {
			let level = (REHASHED_LEVELS as usize + offset) as u8;
			for (block, block_nodes) in nodes.chunks(NODES_PER_BLOCK).enumerate() {
				let block = u32::try_from(block).map_err(|_| StorageError::ShardTooLarge {
					bytes: commitment.bytes,
					max: MAX_SHARD_BYTES,
				})?;
				batch.put(
					layout::tree_key(id, level, block),
					layout::seal(&layout::nodes_payload(block_nodes)),
				);
			}
		}
		batch.put(layout::id_key(layout::META, id), ShardMeta::Committed(commitment).encode());
		// The synced write makes the WAL durable up to and including every chunk written before it.
		self.db.write_opt(batch, &synced()).map_err(db_error)
	}

	fn remove_keys(&self, id: ShardId) -> Result<()> {
		let mut batch = WriteBatch::default();
		delete_shard_keys(&mut batch, id);
		self.db.write_opt(batch, &synced()).map_err(db_error)
	}

	/// `read` run on chunk `chunk`'s bytes, checked, where the database holds them (no copy).
	fn with_chunk<T>(
		&self,
		id: ShardId,
		chunk: u64,
		shard_bytes: u64,
		read: impl FnOnce(&[u8]) -> T,
	) -> Result<T> {
		let corrupt = StorageError::Corrupt { shard: id, chunk };
		let index = u32::try_from(chunk).map_err(|_| StorageError::Corrupt { shard: id, chunk })?;
		let value = self
			.db
			.get_pinned(layout::chunk_key(id, index))
			.map_err(db_error)?
			.ok_or(StorageError::Corrupt { shard: id, chunk })?;
		let payload = layout::unseal(&value).ok_or(StorageError::Corrupt { shard: id, chunk })?;
		let start = chunk.saturating_mul(CHUNK_BYTES as u64);
		let expected = shard_bytes.saturating_sub(start).min(CHUNK_BYTES as u64);
		if payload.len() as u64 != expected {
			return Err(corrupt);
		}
		Ok(read(payload))
	}

	/// The chaining values of a committed shard's pieces: as kept with it, or, for a shard
	/// stored before they were kept, worked out from its bytes once and kept from then on.
	fn piece_values(&self, id: ShardId, commitment: &ShardCommitment) -> Result<Vec<[u8; 32]>> {
		let key = layout::id_key(layout::PIECES, id);
		let corrupt = || StorageError::CorruptMetadata { shard: id, reason: "piece values" };
		if let Some(value) = self.db.get_pinned(&key).map_err(db_error)? {
			let payload = layout::unseal(&value).ok_or_else(corrupt)?;
			return layout::values_from_payload(payload).ok_or_else(corrupt);
		}
		let mut values = piece_values()?;
		let mut offset = 0;
		while offset < commitment.bytes {
			let len = MAX_READ_BYTES.min(commitment.bytes - offset);
			values.update(&self.read_checked(id, commitment.bytes, offset, len)?);
			offset += len;
		}
		let values = values.finish();
		// Kept only while the shard is still the one read (a delete holds the same lock).
		let _accounting = self.accounting();
		if self.committed(id).ok().as_ref() == Some(commitment) {
			let payload = layout::seal(&layout::values_payload(&values));
			self.db.put(&key, payload).map_err(db_error)?;
		}
		Ok(values)
	}

	fn read_checked(
		&self,
		id: ShardId,
		shard_bytes: u64,
		offset: u64,
		len: u64,
	) -> Result<Vec<u8>> {
		let mut out = Vec::with_capacity(len.min(MAX_READ_BYTES) as usize);
		self.each_checked(id, shard_bytes, offset, len, |data| out.extend_from_slice(data))?;
		Ok(out)
	}

	/// Gives `take` bytes `offset..offset + len` of the shard, checked, chunk by chunk in order,
	/// where the database holds them (no copy).
	fn each_checked(
		&self,
		id: ShardId,
		shard_bytes: u64,
		offset: u64,
		len: u64,
		mut take: impl FnMut(&[u8]),
	) -> Result<()> {
		let invalid =
			StorageError::InvalidRange { offset, len, shard_bytes, max_read: MAX_READ_BYTES };
		let end = offset.checked_add(len).ok_or(StorageError::InvalidRange {
			offset,
			len,
			shard_bytes,
			max_read: MAX_READ_BYTES,
		})?;
		if end > shard_bytes || len > MAX_READ_BYTES {
			return Err(invalid);
		}
		if len == 0 {
			return Ok(());
		}
		let chunk_bytes = CHUNK_BYTES as u64;
		for chunk in offset / chunk_bytes..=(end - 1) / chunk_bytes {
			self.with_chunk(id, chunk, shard_bytes, |data| {
				let chunk_start = chunk * chunk_bytes;
				let from = offset.saturating_sub(chunk_start) as usize;
				let to = (end - chunk_start).min(data.len() as u64) as usize;
				take(&data[from..to]);
			})?;
		}
		Ok(())
	}
}

fn delete_shard_keys(batch: &mut WriteBatch, id: ShardId) {
	for tag in [layout::CHUNK, layout::TREE] {
		let (start, end) = layout::id_range(tag, id);
		batch.delete_range(start, end);
	}
	batch.delete(layout::id_key(layout::PIECES, id));
	batch.delete(layout::id_key(layout::META, id));
}

/// An accumulator of piece values of [`PIECE_BYTES`].
fn piece_values() -> Result<PieceValues> {
	PieceValues::new(PIECE_BYTES).map_err(|e| StorageError::Database(e.to_string()))
}

impl ShardStore for RocksShardStore {
	fn put(
		&self,
		id: ShardId,
		bytes: u64,
		data: &mut dyn Read,
		expected_root: Option<&Fr>,
	) -> Result<ShardCommitment> {
		self.put_tree(id, bytes, data, Tree::Building(TreeBuilder::new()), expected_root)
	}

	fn put_built(
		&self,
		id: ShardId,
		data: &mut dyn Read,
		commitment: ShardCommitment,
		upper: UpperLevels,
	) -> Result<ShardCommitment> {
		let tree = Tree::Built { commitment, upper, digest: blake3::Hasher::new() };
		self.put_tree(id, commitment.bytes, data, tree, None)
	}

	fn read_range(&self, id: ShardId, offset: u64, len: u64) -> Result<Vec<u8>> {
		let commitment = self.committed(id)?;
		self.read_checked(id, commitment.bytes, offset, len)
	}

	fn commitment(&self, id: ShardId) -> Result<ShardCommitment> {
		self.committed(id)
	}

	fn pieces(&self, id: ShardId, wanted: Range<u64>) -> Result<Vec<(Vec<u8>, PiecePath)>> {
		let commitment = self.committed(id)?;
		let shard_bytes = commitment.bytes;
		let offset = wanted.start.saturating_mul(PIECE_BYTES);
		let end = wanted.end.saturating_mul(PIECE_BYTES).min(shard_bytes);
		let len = end.saturating_sub(offset);
		let pieces = shard_bytes.div_ceil(PIECE_BYTES);
		if wanted.start >= wanted.end || wanted.end > pieces || len > MAX_READ_BYTES {
			let max_read = MAX_READ_BYTES;
			return Err(StorageError::InvalidRange { offset, len, shard_bytes, max_read });
		}
		let values = self.piece_values(id, &commitment)?;
		let paths = paths_of(PIECE_BYTES, shard_bytes, &values, wanted)
			.map_err(|_| StorageError::CorruptMetadata { shard: id, reason: "piece values" })?;
		// Pieces never straddle chunks: each is copied once, out of its chunk.
		let mut pieces = Vec::with_capacity(paths.len());
		self.each_checked(id, shard_bytes, offset, len, |data| {
			pieces.extend(data.chunks(PIECE_BYTES as usize).map(<[u8]>::to_vec))
		})?;
		Ok(pieces.into_iter().zip(paths).collect())
	}

	fn challenge_proofs(&self, id: ShardId, indices: &[u64]) -> Result<Vec<tree::MerkleProof>> {
		let commitment = self.committed(id)?;
		prove(&StoredProofSource { store: self, id, bytes: commitment.bytes }, indices)
	}

	fn list(&self, start_after: Option<ShardId>, limit: usize) -> Result<Vec<StoredShard>> {
		let start = match start_after {
			Some(id) => {
				let mut key = layout::id_key(layout::META, id);
				key.push(0);
				key
			}
			None => vec![layout::META],
		};
		let mut shards = Vec::new();
		for entry in self.db.iterator(IteratorMode::From(&start, Direction::Forward)) {
			if shards.len() >= limit.min(MAX_LIST) {
				break;
			}
			let (key, value) = entry.map_err(db_error)?;
			let Some(id) = layout::id_from_meta_key(&key) else { break };
			match ShardMeta::decode(&value) {
				Some(ShardMeta::Committed(commitment)) => {
					shards.push(StoredShard { id, commitment })
				}
				Some(ShardMeta::Pending { .. }) => {}
				None => {
					return Err(StorageError::CorruptMetadata {
						shard: id,
						reason: "checksum or layout",
					})
				}
			}
		}
		Ok(shards)
	}

	fn delete(&self, id: ShardId) -> Result<()> {
		let mut accounting = self.accounting();
		if accounting.in_flight.contains(&id) {
			return Err(StorageError::UnknownShard(id));
		}
		let commitment = self.committed(id)?;
		self.remove_keys(id)?;
		accounting.used = accounting.used.saturating_sub(commitment.bytes);
		Ok(())
	}

	fn usage(&self) -> Usage {
		Usage { capacity: self.capacity, used: self.accounting().used }
	}
}

/// Reads a stored shard's leaves and kept tree levels for [`prove`].
struct StoredProofSource<'a> {
	store: &'a RocksShardStore,
	id: ShardId,
	bytes: u64,
}

impl ProofSource for StoredProofSource<'_> {
	fn read_leaves(&self, first_leaf: u64, count: usize) -> Result<Vec<u8>> {
		let leaf_bytes = tree::LEAF_BYTES as u64;
		let start = first_leaf.saturating_mul(leaf_bytes).min(self.bytes);
		let end = start.saturating_add((count as u64).saturating_mul(leaf_bytes)).min(self.bytes);
		self.store.read_checked(self.id, self.bytes, start, end - start)
	}

	fn node_group(&self, level: u32, group: u64) -> Result<[Fr; tree::ARITY]> {
		let empty = empty_root(level)?;
		let first = group.saturating_mul(tree::ARITY as u64);
		let leaves = tree::leaf_count(self.bytes);
		let real_nodes = leaves.div_ceil(1u64 << (2 * level));
		let mut nodes = [empty; tree::ARITY];
		if first >= real_nodes {
			return Ok(nodes);
		}
		let block = first / NODES_PER_BLOCK as u64;
		let corrupt = || StorageError::CorruptTree { shard: self.id, level, block };
		let block_index = u32::try_from(block).map_err(|_| corrupt())?;
		let level_byte = u8::try_from(level).map_err(|_| corrupt())?;
		let value = self
			.store
			.db
			.get_pinned(layout::tree_key(self.id, level_byte, block_index))
			.map_err(db_error)?
			.ok_or_else(corrupt)?;
		let stored =
			layout::unseal(&value).and_then(layout::nodes_from_payload).ok_or_else(corrupt)?;
		let block_start = block * NODES_PER_BLOCK as u64;
		let expected_len = (real_nodes - block_start).min(NODES_PER_BLOCK as u64);
		if stored.len() as u64 != expected_len {
			return Err(corrupt());
		}
		let local = (first - block_start) as usize;
		for (slot, node) in nodes.iter_mut().zip(stored.iter().skip(local)) {
			*slot = *node;
		}
		Ok(nodes)
	}
}
