//! The scrub: every active shard of ours is read whole in the background and checked against
//! its BLAKE3 digest, at most [`ProviderConfig::scrub_rate`](super::ProviderConfig) bytes a
//! second, the shard checked longest ago (or never since the start) first, and each at most once
//! a proving period.
//!
//! A shard that fails is dropped and reported lost at once ([`Provider::lose`]), so that its
//! owner repairs it without waiting for missed proofs. A read that fails for another reason (the
//! disk or the database, this time) is logged and tried again later: it is not a loss. Proofs
//! never wait for the scrub: a proof reads only its challenged chunks, each checked against its
//! own checksum.

use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
	time::{Duration, Instant},
};

use cairn_runtime::{time::MILLISECS_PER_BLOCK, Runtime};
use cairn_storage::{
	store::{RocksShardStore, ShardId, ShardStore},
	StorageError,
};
use pallet_market::{ContractOf, ShardStatus};
use sp_blockchain::HeaderBackend;
use tokio::sync::watch;

use super::{held_by, Provider};

/// The open contracts as of the latest best block.
pub(super) type Contracts = Arc<Vec<(u64, ContractOf<Runtime>)>>;

/// Bytes read at once.
const PIECE: u64 = 1 << 20;

/// Why a check did not pass.
#[derive(Debug)]
pub(super) enum Failed {
	/// The shard's data is damaged or gone.
	Damaged(String),
	/// The store could not be read this time.
	Unreadable(String),
}

impl From<StorageError> for Failed {
	fn from(error: StorageError) -> Self {
		if error.is_damage() {
			Failed::Damaged(error.to_string())
		} else {
			Failed::Unreadable(error.to_string())
		}
	}
}

impl Provider {
	/// Checks shards for as long as the node runs, following `contracts`.
	pub(super) async fn scrub(self: Arc<Self>, mut contracts: watch::Receiver<Contracts>) {
		let mut checked: HashMap<ShardId, Instant> = HashMap::new();
		let me = self.signer.account();
		loop {
			let next = {
				let open = contracts.borrow_and_update().clone();
				let ours: Vec<(ShardId, [u8; 32])> = held_by(&open, &me)
					.filter(|(_, shard)| shard.status == ShardStatus::Active)
					.map(|(id, shard)| (id, shard.spec.blake3))
					.collect();
				let held: HashSet<ShardId> = ours.iter().map(|(id, _)| *id).collect();
				checked.retain(|id, _| held.contains(id));
				// Never checked (`None`) sorts first.
				ours.into_iter().min_by_key(|(id, _)| checked.get(id).copied())
			};
			let again_after = self.period_duration();
			let due =
				next.filter(|(id, _)| checked.get(id).is_none_or(|at| at.elapsed() >= again_after));
			let Some((id, digest)) = due else {
				// Nothing to check before the next block.
				if contracts.changed().await.is_err() {
					return;
				}
				continue;
			};
			checked.insert(id, Instant::now());
			if !self.is_stored(id).await {
				// Gone from the store: reported lost with the next block.
				continue;
			}
			let (store, rate) = (self.store.clone(), self.config.scrub_rate);
			let started = Instant::now();
			let found = self.metrics.scrub_shards.clone();
			match tokio::task::spawn_blocking(move || check(&store, id, &digest, rate)).await {
				Ok(Ok(bytes)) => {
					found.with_label_values(&["ok"]).inc();
					self.metrics.scrub_bytes.inc_by(bytes);
					log::debug!(
						target: "cairn-provider",
						"scrub: shard {id} ({bytes} bytes) is intact ({:.1} s)",
						started.elapsed().as_secs_f64()
					)
				}
				Ok(Err(Failed::Damaged(error))) => {
					found.with_label_values(&["damaged"]).inc();
					self.lose(id, &error).await
				}
				Ok(Err(Failed::Unreadable(error))) => {
					found.with_label_values(&["unreadable"]).inc();
					log::warn!(
						target: "cairn-provider",
						"scrub: shard {id} could not be read ({error}); it is checked again later"
					)
				}
				Err(error) => log::error!(target: "cairn-provider", "scrub: {error}"),
			}
		}
	}

	/// How long the current proving period lasts (a minute if the chain has none yet).
	fn period_duration(&self) -> Duration {
		let best = self.state.client().info().best_hash;
		let blocks = match self.state.current_period(best) {
			Ok(Some((_, info))) => info.length,
			_ => 30,
		};
		Duration::from_millis(u64::from(blocks) * MILLISECS_PER_BLOCK)
	}
}

/// Reads shard `id` whole, at most `rate` bytes a second (0: as fast as it can), and compares its
/// BLAKE3 digest with `expected`. Returns the shard's length.
pub(super) fn check(
	store: &RocksShardStore,
	id: ShardId,
	expected: &[u8; 32],
	rate: u64,
) -> Result<u64, Failed> {
	let bytes = store.commitment(id)?.bytes;
	let started = Instant::now();
	let mut hasher = blake3::Hasher::new();
	let mut at = 0;
	while at < bytes {
		let len = (bytes - at).min(PIECE);
		hasher.update(&store.read_range(id, at, len)?);
		at += len;
		if rate > 0 {
			let due = Duration::from_secs_f64(at as f64 / rate as f64);
			if let Some(ahead) = due.checked_sub(started.elapsed()) {
				std::thread::sleep(ahead);
			}
		}
	}
	if hasher.finalize().as_bytes() != expected {
		return Err(Failed::Damaged("its BLAKE3 digest no longer matches".into()));
	}
	Ok(bytes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_storage::store::StoreConfig;

	fn store_with(data: &[u8]) -> (tempfile::TempDir, RocksShardStore, ShardId) {
		let dir = tempfile::tempdir().unwrap();
		let (store, _) =
			RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 30 }).unwrap();
		let id = ShardId::new(1, 0);
		store.put(id, data.len() as u64, &mut &data[..], None).unwrap();
		(dir, store, id)
	}

	#[test]
	fn an_intact_shard_passes_at_the_rate_asked() {
		let data = vec![7u8; 3 << 20];
		let (_dir, store, id) = store_with(&data);
		let digest = *blake3::hash(&data).as_bytes();
		let started = Instant::now();
		assert_eq!(check(&store, id, &digest, 12 << 20).ok(), Some(3 << 20));
		// 3 MiB at 12 MiB/s: a quarter of a second at least.
		assert!(started.elapsed() >= Duration::from_millis(250));
	}

	#[test]
	fn a_wrong_digest_or_a_missing_shard_is_damage() {
		let data = vec![7u8; 1000];
		let (_dir, store, id) = store_with(&data);
		assert!(matches!(check(&store, id, &[0; 32], 0), Err(Failed::Damaged(_))));
		let other = ShardId::new(2, 0);
		assert!(matches!(check(&store, other, &[0; 32], 0), Err(Failed::Damaged(_))));
	}

	#[test]
	fn a_disk_or_database_error_is_not_damage() {
		let io = StorageError::Io(std::io::Error::other("the disk went away"));
		assert!(matches!(Failed::from(io), Failed::Unreadable(_)));
		let database = StorageError::Database("busy".into());
		assert!(matches!(Failed::from(database), Failed::Unreadable(_)));
		let corrupt = StorageError::Corrupt { shard: ShardId::new(1, 0), chunk: 3 };
		assert!(matches!(Failed::from(corrupt), Failed::Damaged(_)));
	}
}
