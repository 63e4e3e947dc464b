//! Receiving shards: a `Put` piece reaches the intake only from a sender the contract's owner
//! granted the shard (the [`serving`](super::serving) check), and is taken only for a shard
//! assigned to this provider and waiting for its data, and only if the piece checks against the
//! shard's on-chain BLAKE3 digest with its path. Pieces are staged
//! per sender, so a stranger's piece never touches an honest upload. When a sender has delivered
//! every piece, the shard is committed in the background (its Poseidon root checked against the
//! chain's while it is written to the store); the provider then confirms it on chain.

use std::{
	collections::{BTreeSet, HashMap, HashSet},
	os::unix::fs::FileExt,
	path::PathBuf,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

use cairn_net::{Response, CHUNK_BYTES};
use cairn_storage::{
	commitment::pieces::verify_piece,
	store::{RocksShardStore, ShardId, ShardStore},
	StorageError,
};
use libp2p::PeerId;
use pallet_market::ShardSpec;
use substrate_prometheus_endpoint::{Counter, U64};
use tokio::sync::Mutex;

/// Staged uploads that receive nothing for this long are dropped.
const STAGING_IDLE: Duration = Duration::from_secs(600);

/// Shards one sender may be staging at once.
const MAX_STAGED_PER_SENDER: usize = 64;

/// One `Put` piece, as it arrived from a sender with the owner's grant.
pub struct Piece {
	/// The sender.
	pub peer: PeerId,
	/// The shard.
	pub id: ShardId,
	/// Where the piece starts.
	pub offset: u64,
	/// The shard's length as the sender says.
	pub total: u64,
	/// The bytes.
	pub data: Vec<u8>,
	/// Its BLAKE3 path.
	pub path: Vec<[u8; 32]>,
}

/// What the chain says about the shard a piece is for.
pub struct Assignment {
	/// The shard's commitments.
	pub spec: ShardSpec,
	/// Whether the shard waits for its data (pending confirmation).
	pub pending: bool,
}

/// An upload: a shard, and the peer that sends it.
type Upload = (ShardId, PeerId);

/// One sender's upload of one shard, in a staging file of its own.
struct Staged {
	file: Arc<std::fs::File>,
	path: PathBuf,
	received: BTreeSet<u64>,
	touched: Instant,
}

/// The shards being received.
pub struct Intake {
	dir: PathBuf,
	store: Arc<RocksShardStore>,
	staged: Mutex<HashMap<Upload, Arc<Mutex<Staged>>>>,
	/// Numbers staging files, so that no two uploads ever share one.
	next_file: AtomicU64,
	/// Shards whose pieces are all here and that are being written to the store.
	committing: Arc<Mutex<HashSet<ShardId>>>,
	/// Shards whose data matched the BLAKE3 digest but not the Poseidon root: the contract's
	/// commitments disagree, and no upload can ever succeed.
	rejected: Arc<Mutex<HashMap<ShardId, String>>>,
	/// Counts the bytes of shards stored.
	stored_bytes: Counter<U64>,
}

impl Intake {
	/// Receives into `dir` (emptied of an earlier run's pieces), counting the bytes of shards
	/// stored in `stored_bytes`.
	pub fn new(
		dir: PathBuf,
		store: Arc<RocksShardStore>,
		stored_bytes: Counter<U64>,
	) -> std::io::Result<Self> {
		std::fs::create_dir_all(&dir)?;
		for entry in std::fs::read_dir(&dir)?.flatten() {
			let _ = std::fs::remove_file(entry.path());
		}
		Ok(Self {
			dir,
			store,
			staged: Mutex::new(HashMap::new()),
			next_file: AtomicU64::new(0),
			committing: Arc::new(Mutex::new(HashSet::new())),
			rejected: Arc::new(Mutex::new(HashMap::new())),
			stored_bytes,
		})
	}

	/// Handles one piece of a shard the chain assigns to this provider and that waits for data.
	pub async fn put(&self, piece: Piece, assignment: Assignment) -> Response {
		let id = piece.id;
		let total = assignment.spec.bytes;
		if piece.total != total {
			return Response::Refused(format!("shard {id} has {total} bytes, not {}", piece.total));
		}
		// Every piece is checked against the digest, whatever has been stored already, so that
		// garbage never costs a Poseidon pass.
		// Hashing and writing a piece are blocking work: off the async runtime.
		let spec = assignment.spec.clone();
		let Piece { peer, offset, data, path, .. } = piece;
		let checked = tokio::task::spawn_blocking(move || {
			verify_piece(&spec.blake3, total, CHUNK_BYTES, offset, &data, &path).map(|()| data)
		})
		.await;
		let data = match checked {
			Ok(Ok(data)) => data,
			Ok(Err(error)) => return Response::Refused(format!("shard {id}: {error}")),
			Err(error) => return Response::Refused(format!("shard {id}: {error}")),
		};
		if self.store.commitment(id).is_ok() || self.committing.lock().await.contains(&id) {
			return Response::Stored { received: total, complete: true };
		}
		if let Some(reason) = self.rejected.lock().await.get(&id) {
			return Response::Refused(format!("shard {id} refused: {reason}"));
		}
		if !assignment.pending {
			return Response::Refused(format!("shard {id} is not waiting for data"));
		}
		let staged = match self.staging(id, peer).await {
			Ok(staged) => staged,
			Err(reason) => return Response::Refused(reason),
		};
		let mut staged = staged.lock().await;
		let file = staged.file.clone();
		let written = tokio::task::spawn_blocking(move || file.write_all_at(&data, offset)).await;
		if let Err(error) = written.map_err(std::io::Error::other).and_then(|written| written) {
			return Response::Refused(format!("cannot stage: {error}"));
		}
		staged.received.insert(offset);
		staged.touched = Instant::now();
		let pieces = total.div_ceil(CHUNK_BYTES);
		let received = (staged.received.len() as u64 * CHUNK_BYTES).min(total);
		if (staged.received.len() as u64) < pieces {
			return Response::Stored { received, complete: false };
		}
		// Every piece is here and checked. Only the piece that takes the upload out of the
		// table commits it (a duplicate piece racing it finds it gone), and only once a shard.
		let (file, path) = (staged.file.clone(), staged.path.clone());
		drop(staged);
		if self.staged.lock().await.remove(&(id, peer)).is_some() {
			if self.committing.lock().await.insert(id) {
				self.commit(id, file, path, assignment.spec);
			} else {
				let _ = std::fs::remove_file(&path);
			}
		}
		Response::Stored { received: total, complete: true }
	}

	/// The staging file of `peer`'s upload of `id`, made on its first piece.
	async fn staging(&self, id: ShardId, peer: PeerId) -> Result<Arc<Mutex<Staged>>, String> {
		let mut staged = self.staged.lock().await;
		if let Some(entry) = staged.get(&(id, peer)) {
			return Ok(entry.clone());
		}
		if staged.keys().filter(|(_, sender)| *sender == peer).count() >= MAX_STAGED_PER_SENDER {
			return Err(format!("at most {MAX_STAGED_PER_SENDER} shards at once from one sender"));
		}
		let number = self.next_file.fetch_add(1, Ordering::Relaxed);
		let path = self.dir.join(format!("{}-{}-{number}", id.contract, id.index));
		let file = std::fs::OpenOptions::new()
			.create_new(true)
			.read(true)
			.write(true)
			.open(&path)
			.map_err(|e| format!("cannot stage: {e}"))?;
		let entry = Arc::new(Mutex::new(Staged {
			file: Arc::new(file),
			path,
			received: BTreeSet::new(),
			touched: Instant::now(),
		}));
		staged.insert((id, peer), entry.clone());
		Ok(entry)
	}

	/// Writes a fully received shard to the store, checking its Poseidon root as it goes. Only
	/// a root that does not match the chain's marks the shard refused for good; any other
	/// failure (a full store, an I/O error) leaves it to the next upload.
	fn commit(&self, id: ShardId, file: Arc<std::fs::File>, path: PathBuf, spec: ShardSpec) {
		let store = self.store.clone();
		let committing = self.committing.clone();
		let rejected = self.rejected.clone();
		let stored_bytes = self.stored_bytes.clone();
		tokio::spawn(async move {
			let written = tokio::task::spawn_blocking(move || -> Result<(), StorageError> {
				let root = cairn_primitives::field::fr_from_le_bytes(&spec.root).map_err(|e| {
					StorageError::Io(std::io::Error::other(format!("root on chain: {e:?}")))
				})?;
				let mut reader = std::io::BufReader::new(PieceReader { file: &file, at: 0 });
				store.put(id, spec.bytes, &mut reader, Some(&root))?;
				Ok(())
			})
			.await;
			let _ = std::fs::remove_file(&path);
			match written {
				Ok(Ok(())) => {
					stored_bytes.inc_by(spec.bytes);
					log::info!(target: "cairn-provider", "stored shard {id} ({} bytes)", spec.bytes)
				}
				Ok(Err(error @ StorageError::RootMismatch { .. })) => {
					log::warn!(target: "cairn-provider", "shard {id} refused: {error}");
					rejected.lock().await.insert(id, error.to_string());
				}
				Ok(Err(error)) => {
					log::warn!(target: "cairn-provider", "shard {id} not stored: {error}")
				}
				Err(error) => {
					log::warn!(target: "cairn-provider", "shard {id} not stored: {error}")
				}
			}
			committing.lock().await.remove(&id);
		});
	}

	/// Drops uploads that stalled, and what was rejected of shards no longer waiting for data.
	pub async fn expire(&self, waiting: &HashSet<ShardId>) {
		let now = Instant::now();
		let mut staged = self.staged.lock().await;
		let mut stale = Vec::new();
		for (key, entry) in staged.iter() {
			let idle = match entry.try_lock() {
				Ok(entry) => now.saturating_duration_since(entry.touched) > STAGING_IDLE,
				Err(_) => false,
			};
			if idle || !waiting.contains(&key.0) {
				stale.push(*key);
			}
		}
		for key in stale {
			if let Some(entry) = staged.remove(&key) {
				// A piece being written holds the entry's lock; the file goes once it is done.
				let _ = std::fs::remove_file(&entry.lock().await.path);
				log::debug!(target: "cairn-provider", "dropped the staged upload of {} from {}", key.0, key.1);
			}
		}
		drop(staged);
		self.rejected.lock().await.retain(|id, _| waiting.contains(id));
	}
}

/// Reads a staging file from the start by position, whatever else holds the file.
struct PieceReader<'a> {
	file: &'a std::fs::File,
	at: u64,
}

impl std::io::Read for PieceReader<'_> {
	fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
		let read = self.file.read_at(buf, self.at)?;
		self.at += read as u64;
		Ok(read)
	}
}
