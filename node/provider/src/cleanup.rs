//! Deleting what is no longer ours: shards of ended contracts, and shards moved to another
//! provider, once the finalized chain has shown it on several blocks in a row.

use std::collections::{HashMap, HashSet};

use cairn_runtime::{AccountId, BlockNumber, Hash, Runtime};
use cairn_storage::store::{AllShards, ShardId, ShardStore, StoredShard};
use pallet_market::{ContractOf, ShardStatus};
use sp_blockchain::HeaderBackend;

use super::{shard_id, Provider, ProviderError};

/// Finalized blocks in a row that must show a stored shard is no longer ours before it is deleted.
const DELETE_AFTER_BLOCKS: u32 = 5;

/// How long a shard moved away from us is kept while it is active nowhere: long enough for its
/// owner's node (down for a day, say) to fetch it for its new provider, short enough that moving
/// shards to a provider that never confirms them buys their owner no free storage here.
const KEEP_MOVED_BLOCKS: BlockNumber = 2 * cairn_runtime::time::DAYS;

impl Provider {
	/// Deletes shards no longer ours (ended contracts, shards moved to another provider and
	/// confirmed there, or moved [`KEEP_MOVED_BLOCKS`] ago), however many the store holds. Only
	/// on evidence in the finalized state, seen on [`DELETE_AFTER_BLOCKS`] finalized blocks in a
	/// row, so that neither a reorganisation nor a node still catching up costs a shard.
	pub(super) async fn collect_garbage(&self, now: BlockNumber) -> Result<(), ProviderError> {
		let info = self.state.client().info();
		let (finalized, finalized_number) = (info.finalized_hash, info.finalized_number);
		let mut doomed = self.doomed.lock().await;
		if doomed.at == Some(finalized) {
			return Ok(());
		}
		let next_contract = self.state.next_contract_id(finalized)?;
		let me = self.signer.account();
		// The walks over the store, the reads and the deletions block: off the async runtime.
		let (store, state) = (self.store.clone(), self.state.clone());
		let mut pass = std::mem::take(&mut *doomed);
		let (pass, deleted) = tokio::task::spawn_blocking(move || {
			// The contracts of the shards stored, read by id a page at a time: what the store
			// keeps is decided by them alone, however many other contracts the chain has.
			let mut ids = std::collections::BTreeSet::new();
			for shard in AllShards::new(&*store) {
				ids.insert(shard?.id.contract);
			}
			let ids: Vec<_> = ids.into_iter().collect();
			let contracts = state.contracts_with_ids(finalized, &ids)?;
			let keep = Keep::new(&contracts, &me);
			let due = pass.pass(AllShards::new(&*store), &keep, next_contract, finalized_number)?;
			for id in &due {
				store.delete(*id)?;
			}
			Ok::<_, ProviderError>((pass, due))
		})
		.await??;
		*doomed = Doomed { at: Some(finalized), ..pass };
		for id in deleted {
			log::info!(target: "cairn-provider", "shard {id} is no longer ours: deleted (block {now})");
		}
		Ok(())
	}
}

/// Stored shards the finalized chain no longer assigns to us, and on how many finalized blocks
/// in a row it showed so; and the shards kept though moved away.
#[derive(Debug, Default)]
pub(super) struct Doomed {
	/// The finalized block of the last pass.
	at: Option<Hash>,
	counts: HashMap<ShardId, u32>,
	/// Shards moved away and active nowhere, and the finalized block they were first seen so.
	moved: HashMap<ShardId, BlockNumber>,
}

impl Doomed {
	/// One pass over every stored shard at finalized block `now`: a shard is no longer ours when
	/// its contract was opened (its id is below `next_contract`; a contract the finalized block
	/// does not know yet is kept), `keep` does not assign it to us, and it is active elsewhere or
	/// was moved away [`KEEP_MOVED_BLOCKS`] ago. Returns those found so on
	/// [`DELETE_AFTER_BLOCKS`] passes in a row.
	fn pass(
		&mut self,
		stored: impl Iterator<Item = cairn_storage::Result<StoredShard>>,
		keep: &Keep,
		next_contract: u64,
		now: BlockNumber,
	) -> cairn_storage::Result<Vec<ShardId>> {
		let mut counts = HashMap::new();
		let mut moved = HashMap::new();
		let mut due = Vec::new();
		for shard in stored {
			let id = shard?.id;
			if id.contract >= next_contract || keep.ours.contains(&id) {
				continue;
			}
			if keep.unconfirmed.contains(&id) {
				let since = self.moved.get(&id).copied().unwrap_or(now);
				moved.insert(id, since);
				if now.saturating_sub(since) < KEEP_MOVED_BLOCKS {
					continue;
				}
			}
			let count = self.counts.get(&id).copied().unwrap_or(0) + 1;
			if count >= DELETE_AFTER_BLOCKS {
				due.push(id);
			} else {
				counts.insert(id, count);
			}
		}
		self.counts = counts;
		self.moved = moved;
		Ok(due)
	}
}

/// What a store of ours keeps, as the chain says.
#[derive(Debug, Default)]
struct Keep {
	/// The shards assigned to us, pending or active.
	ours: HashSet<ShardId>,
	/// The shards of open contracts active nowhere (lost, vacant, or moved and not confirmed by
	/// their new provider yet). One moved away from us (we were down, or late) may be the one
	/// copy its owner can fetch: deleting it at once could leave the file short of the `k`
	/// shards its rebuild needs.
	unconfirmed: HashSet<ShardId>,
}

impl Keep {
	fn new(contracts: &[(u64, ContractOf<Runtime>)], me: &AccountId) -> Self {
		let mut keep = Self::default();
		for (id, contract) in contracts {
			for (index, shard) in contract.shards.iter().enumerate() {
				let shard_id = shard_id(*id, index as u32);
				if shard.provider == *me && shard.status.holds_capacity() {
					keep.ours.insert(shard_id);
				} else if shard.status != ShardStatus::Active {
					keep.unconfirmed.insert(shard_id);
				}
			}
		}
		keep
	}
}

#[cfg(test)]
mod tests {
	use cairn_storage::store::{RocksShardStore, StoreConfig};

	use super::*;
	use cairn_chain::fixtures::scratch;

	#[test]
	fn a_shard_moved_away_is_kept_while_it_is_active_nowhere_for_two_days_at_most() {
		use cairn_chain::fixtures::{contract, shard, shard_in as with};
		let me = AccountId::new([1; 32]);
		let other = AccountId::new([2; 32]);
		let pending = ShardStatus::Pending { deadline: 50 };
		let contracts = |moved_to: ShardStatus<BlockNumber>| {
			vec![(
				7,
				contract(
					vec![
						shard(&me, 0, 0),
						with(&me, pending),
						with(&other, ShardStatus::Active),
						with(&other, moved_to),
						with(&other, ShardStatus::Lost),
						with(&me, ShardStatus::Vacant),
					],
					1_000,
				),
			)]
		};
		let keep = Keep::new(&contracts(pending), &me);
		let indices = |ids: &HashSet<ShardId>| {
			let mut indices: Vec<u32> = ids.iter().map(|id| id.index).collect();
			indices.sort();
			indices
		};
		assert_eq!(indices(&keep.ours), vec![0, 1]);
		// Moved and not confirmed yet, lost or vacant: whoever was named; not the one another
		// provider proves now.
		assert_eq!(indices(&keep.unconfirmed), vec![3, 4, 5]);

		// The store holds shard 3, moved away from us.
		let dir = scratch();
		let (store, _) =
			RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 30 }).unwrap();
		let moved = ShardId::new(7, 3);
		store.put(moved, 1, &mut &[3u8][..], None).unwrap();
		let mut doomed = Doomed::default();
		let pass = |doomed: &mut Doomed, keep: &Keep, now| {
			doomed.pass(AllShards::new(&store), keep, 8, now).unwrap()
		};
		// Kept for two days from the first pass that saw it moved, however many passes.
		for now in [100, 101, 102, 103, 104, 105, 100 + KEEP_MOVED_BLOCKS - 1] {
			assert!(pass(&mut doomed, &keep, now).is_empty(), "deleted at block {now}");
		}
		// Then deleted on the usual evidence.
		for now in 1..DELETE_AFTER_BLOCKS {
			assert!(pass(&mut doomed, &keep, 100 + KEEP_MOVED_BLOCKS + now).is_empty());
		}
		assert_eq!(pass(&mut doomed, &keep, 200 + KEEP_MOVED_BLOCKS), vec![moved]);

		// Confirmed by its new provider: deleted on the usual evidence, however soon.
		let confirmed = Keep::new(&contracts(ShardStatus::Active), &me);
		assert!(!confirmed.unconfirmed.contains(&moved));
		let mut doomed = Doomed::default();
		for now in 1..DELETE_AFTER_BLOCKS {
			assert!(pass(&mut doomed, &confirmed, now).is_empty());
		}
		assert_eq!(pass(&mut doomed, &confirmed, 10), vec![moved]);
	}

	#[test]
	fn shards_no_longer_ours_are_deleted_beyond_one_page_of_the_store() {
		let dir = scratch();
		let (store, _) =
			RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 30 }).unwrap();
		// More shards than one page of the store lists: the old cleanup saw the first page only.
		let total = cairn_storage::store::MAX_LIST as u64 + 250;
		for contract in 0..total {
			store.put(ShardId::new(contract, 0), 1, &mut &[contract as u8][..], None).unwrap();
		}
		// Still ours: one shard on the first page and one on the last; and the last five
		// contracts are newer than the finalized block.
		let ours: HashSet<ShardId> = [ShardId::new(3, 0), ShardId::new(total - 20, 0)].into();
		let keep = |ours: &HashSet<ShardId>| Keep { ours: ours.clone(), ..Keep::default() };
		let next_contract = total - 5;
		let mut doomed = Doomed::default();
		for pass in 1..DELETE_AFTER_BLOCKS {
			let due = doomed.pass(AllShards::new(&store), &keep(&ours), next_contract, 0).unwrap();
			assert!(due.is_empty(), "deleted on pass {pass}, before the evidence is complete");
		}
		// A shard that is ours again on the last pass starts over.
		let back = ShardId::new(total - 100, 0);
		let with_back: HashSet<ShardId> = ours.iter().copied().chain([back]).collect();
		let due = doomed.pass(AllShards::new(&store), &keep(&with_back), next_contract, 0).unwrap();
		assert_eq!(due.len() as u64, total - 5 - 3);
		assert!(!due.contains(&back));
		assert!(due.iter().any(|id| id.contract == total - 6), "the last page is walked too");
		for id in due {
			store.delete(id).unwrap();
		}
		let kept: Vec<ShardId> = AllShards::new(&store).map(|shard| shard.unwrap().id).collect();
		let mut expected: Vec<ShardId> = with_back.into_iter().collect();
		expected.extend((next_contract..total).map(|contract| ShardId::new(contract, 0)));
		expected.sort();
		assert_eq!(kept, expected);
		// The shard that came back is deleted only after a full run of passes of its own.
		for _ in 1..DELETE_AFTER_BLOCKS {
			assert!(doomed
				.pass(AllShards::new(&store), &keep(&ours), next_contract, 0)
				.unwrap()
				.is_empty());
		}
		assert_eq!(
			doomed.pass(AllShards::new(&store), &keep(&ours), next_contract, 0).unwrap(),
			vec![back]
		);
	}
}
