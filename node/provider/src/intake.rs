//! Receiving shards: a `Put` piece reaches the intake only from a sender the contract's owner
//! granted the shard (the [`serving`](super::serving) check), and is taken only for a shard
//! assigned to this provider and waiting for its data, and only if the piece checks against the
//! shard's on-chain BLAKE3 digest with its path. Pieces are staged
//! per sender, so a stranger's piece never touches an honest upload. The shard's Poseidon tree is
//! built while its pieces arrive: each piece that continues the bytes fed so far feeds it, with
//! the pieces after it that came early. When a sender has delivered every piece, the shard is
//! committed in the background: the tree's root checked against the chain's, the bytes against
//! the tree's digest as they are written to the store (or, if the tree could not be built on the
//! way, the tree built then); the provider then confirms it on chain.

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
	commitment::{pieces::verify_piece, TreeBuilder},
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
	/// The shard's tree, built from the pieces received from its start on, in order, as they
	/// arrive; `None` once building it failed (the store then builds it).
	tree: Option<TreeBuilder>,
	/// Bytes the tree has been fed: every piece before this offset.
	fed: u64,
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
		// The piece that continues the tree's bytes feeds it, with the pieces after it that came
		// early (read back from the file); any other only waits in the file.
		let next = staged.tree.is_some() && offset == staged.fed;
		let mut tree = if next { staged.tree.take() } else { None };
		let following: Vec<u64> = (1..)
			.map(|n| offset + n * CHUNK_BYTES)
			.take_while(|after| next && staged.received.contains(after))
			.collect();
		let staging = tokio::task::spawn_blocking(move || {
			let written = file.write_all_at(&data, offset);
			let fed = match (&written, tree.as_mut()) {
				(Ok(()), Some(builder)) => {
					Some(feed(builder, &file, &data, offset, &following, total))
				}
				_ => None,
			};
			(written, tree, fed)
		})
		.await;
		let written = match staging {
			Ok((written, tree, fed)) => {
				match (tree, fed) {
					(Some(tree), Some(Ok(fed))) => {
						staged.tree = Some(tree);
						staged.fed = fed;
					}
					// Not written: the tree is as it was.
					(Some(tree), None) => staged.tree = Some(tree),
					// Fed only in part: the store builds the tree from the file instead.
					(_, Some(Err(error))) => log::debug!(
						target: "cairn-provider",
						"shard {id}: the tree is built once it is whole: {error}"
					),
					(None, _) => {}
				}
				written
			}
			Err(error) => Err(std::io::Error::other(error)),
		};
		if let Err(error) = written {
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
		let tree = staged.tree.take().filter(|_| staged.fed == total);
		drop(staged);
		if self.staged.lock().await.remove(&(id, peer)).is_some() {
			if self.committing.lock().await.insert(id) {
				self.commit(id, file, path, assignment.spec, tree);
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
			tree: Some(TreeBuilder::new()),
			fed: 0,
		}));
		staged.insert((id, peer), entry.clone());
		Ok(entry)
	}

	/// Writes a fully received shard to the store, checking its Poseidon root: that of `tree`,
	/// built while the pieces arrived (the store then checks the bytes against its digest), or
	/// else the one the store builds as it writes. Only a root that does not match the chain's
	/// marks the shard refused for good; any other failure (a full store, an I/O error) leaves
	/// it to the next upload.
	fn commit(
		&self,
		id: ShardId,
		file: Arc<std::fs::File>,
		path: PathBuf,
		spec: ShardSpec,
		tree: Option<TreeBuilder>,
	) {
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
				match tree.map(TreeBuilder::finish) {
					Some((commitment, _)) if commitment.root != root => {
						Err(StorageError::RootMismatch { shard: id })
					}
					Some((commitment, upper)) => {
						store.put_built(id, &mut reader, commitment, upper).map(drop)
					}
					None => store.put(id, spec.bytes, &mut reader, Some(&root)).map(drop),
				}
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

/// Feeds `builder` the piece `data` at `offset`, then the pieces that start at `following`, read
/// back from `file` (a shard of `total` bytes); the offset every byte before which it has had.
fn feed(
	builder: &mut TreeBuilder,
	file: &std::fs::File,
	data: &[u8],
	offset: u64,
	following: &[u64],
	total: u64,
) -> std::io::Result<u64> {
	builder.update(data).map_err(std::io::Error::other)?;
	let mut fed = offset + data.len() as u64;
	let mut piece = Vec::new();
	for &next in following {
		piece.resize(CHUNK_BYTES.min(total.saturating_sub(next)) as usize, 0);
		file.read_exact_at(&mut piece, next)?;
		builder.update(&piece).map_err(std::io::Error::other)?;
		fed = next + piece.len() as u64;
	}
	Ok(fed)
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

#[cfg(test)]
mod tests {
	use cairn_primitives::field::fr_to_le_bytes;
	use cairn_storage::{
		commitment::{commit, pieces::piece_paths},
		store::StoreConfig,
	};

	use super::*;

	const SHARD: ShardId = ShardId { contract: 3, index: 1 };

	fn shard(len: usize) -> Vec<u8> {
		let mut data = vec![0; len];
		blake3::Hasher::new().update(b"intake").finalize_xof().fill(&mut data);
		data
	}

	/// An intake over a new store, and the shard's assignment.
	fn new_intake(root: &std::path::Path) -> (Intake, Arc<RocksShardStore>) {
		let config = StoreConfig { capacity_bytes: 1 << 30 };
		let (store, _) = RocksShardStore::open(&root.join("store"), config).unwrap();
		let store = Arc::new(store);
		let counter = Counter::new("stored", "bytes").unwrap();
		(Intake::new(root.join("staging"), store.clone(), counter).unwrap(), store)
	}

	fn assignment(data: &[u8], root: [u8; 32]) -> Assignment {
		let spec =
			ShardSpec { root, blake3: *blake3::hash(data).as_bytes(), bytes: data.len() as u64 };
		Assignment { spec, pending: true }
	}

	/// Piece `index` of `data` with its path, from `peer`.
	fn piece(data: &[u8], index: usize, peer: PeerId) -> Piece {
		let paths = piece_paths(data, CHUNK_BYTES).unwrap();
		let offset = index as u64 * CHUNK_BYTES;
		let end = (offset + CHUNK_BYTES).min(data.len() as u64);
		Piece {
			peer,
			id: SHARD,
			offset,
			total: data.len() as u64,
			data: data[offset as usize..end as usize].to_vec(),
			path: paths[index].clone(),
		}
	}

	async fn fed(intake: &Intake, peer: PeerId) -> u64 {
		let staged = intake.staged.lock().await[&(SHARD, peer)].clone();
		let staged = staged.lock().await;
		staged.fed
	}

	/// Waits until the background commit of the shard is over (looking every few milliseconds).
	async fn committed(intake: &Intake) {
		tokio::time::timeout(Duration::from_secs(60), async {
			while intake.committing.lock().await.contains(&SHARD) {
				tokio::time::sleep(Duration::from_millis(5)).await;
			}
		})
		.await
		.expect("the commit ends");
	}

	/// Pieces arriving out of order and twice build the tree as they come: each that continues
	/// the bytes fed so far feeds it with those after it that came early, and the shard is
	/// stored under the commitment of its bytes. A root other than the chain's is refused.
	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn the_tree_is_built_while_the_pieces_arrive() {
		let dir = tempfile::tempdir().unwrap();
		let (intake, store) = new_intake(dir.path());
		let data = shard(3 * CHUNK_BYTES as usize + 12_345);
		let (expected, _) = commit(&data).unwrap();
		let peer = PeerId::random();
		let put = |index| {
			intake.put(piece(&data, index, peer), assignment(&data, fr_to_le_bytes(&expected.root)))
		};
		assert!(matches!(put(2).await, Response::Stored { complete: false, .. }));
		assert_eq!(fed(&intake, peer).await, 0);
		assert!(matches!(put(0).await, Response::Stored { complete: false, .. }));
		assert_eq!(fed(&intake, peer).await, CHUNK_BYTES);
		assert!(matches!(put(0).await, Response::Stored { complete: false, .. }));
		assert_eq!(fed(&intake, peer).await, CHUNK_BYTES);
		// Piece 1 feeds piece 2 too.
		assert!(matches!(put(1).await, Response::Stored { complete: false, .. }));
		assert_eq!(fed(&intake, peer).await, 3 * CHUNK_BYTES);
		assert!(matches!(put(3).await, Response::Stored { complete: true, .. }));
		committed(&intake).await;
		assert_eq!(store.commitment(SHARD).unwrap(), expected);
		assert_eq!(store.read_range(SHARD, 0, data.len() as u64).unwrap(), data);

		// Another shard's root: the bytes check, the tree does not.
		let dir = tempfile::tempdir().unwrap();
		let (intake, store) = new_intake(dir.path());
		let wrong = fr_to_le_bytes(&commit(&data[1..]).unwrap().0.root);
		for index in 0..4 {
			intake.put(piece(&data, index, peer), assignment(&data, wrong)).await;
		}
		committed(&intake).await;
		assert!(store.commitment(SHARD).is_err());
		let refused = intake.put(piece(&data, 0, peer), assignment(&data, wrong)).await;
		assert!(matches!(refused, Response::Refused(reason) if reason.contains("Poseidon root")));
	}
}
