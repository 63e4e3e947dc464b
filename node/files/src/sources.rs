//! Where a contract's shards may be fetched from: their providers, and the providers they were
//! moved away from. A provider keeps a shard moved away from it until the shard is active
//! elsewhere (its garbage collection), so while a moved shard waits for its data, the provider
//! that lost it (back from a restart, say) may be the one copy there is.
//!
//! The chain does not say where a shard was before, so this node writes down where it moved
//! shards from ([`Former`]): a file beside the files' records, replaced whole at every change and
//! read back when the node starts, so that a restart of the owner's node does not forget the one
//! provider that may still hold a shard.

use std::{collections::HashMap, path::PathBuf};

use cairn_runtime::{AccountId, Runtime};
use codec::{DecodeAll, Encode};
use pallet_market::{ContractId, ContractOf, ShardStatus};

/// Former providers remembered per shard, newest last.
const REMEMBERED: usize = 4;

/// How likely a provider is to hold a shard's data; likeliest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Holds {
	/// It confirmed the shard, and proves it.
	Confirmed,
	/// The shard is assigned to it, not confirmed yet: it may have the data already.
	Pending,
	/// The shard was lost there, declined, or moved away from it: it keeps what it had until the
	/// shard is active elsewhere, if it was not lost for good.
	Former,
}

/// A provider that may hold shard `index` of a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ShardSource {
	pub index: usize,
	pub provider: AccountId,
	pub holds: Holds,
}

type Moves = HashMap<(ContractId, u32), Vec<AccountId>>;

/// The providers this node moved shards away from, kept in a file (`None`: in memory only).
pub(super) struct Former {
	moves: std::sync::Mutex<Moves>,
	path: Option<PathBuf>,
}

impl Former {
	/// What the file at `path` holds (nothing if there is none, or it does not decode: the
	/// repair loop then rebuilds such shards from others), written back there at every change.
	pub fn open(path: PathBuf) -> Self {
		let moves = match std::fs::read(&path) {
			Ok(bytes) => Vec::<((ContractId, u32), Vec<AccountId>)>::decode_all(&mut &bytes[..])
				.map(|moves| moves.into_iter().collect())
				.unwrap_or_else(|error| {
					log::warn!(
						target: "cairn-client",
						"{} does not decode ({error}): the providers shards were moved away \
						 from are forgotten",
						path.display()
					);
					Moves::new()
				}),
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => Moves::new(),
			Err(error) => {
				log::warn!(target: "cairn-client", "cannot read {}: {error}", path.display());
				Moves::new()
			}
		};
		Self { moves: std::sync::Mutex::new(moves), path: Some(path) }
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, Moves> {
		self.moves.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
	}

	/// Writes `moves` down (while the caller holds the lock, so that writes keep their order). A
	/// failure is logged: the moves stay known until the node stops.
	fn keep(&self, moves: &Moves) {
		let Some(path) = &self.path else { return };
		let mut listed: Vec<_> = moves.iter().collect();
		listed.sort_by_key(|(key, _)| **key);
		let written = path
			.parent()
			.map_or(Ok(()), std::fs::create_dir_all)
			.map_err(|error| error.to_string())
			.and_then(|()| {
				crate::local_file::write_private(path, &listed.encode())
					.map_err(|error| error.to_string())
			});
		if let Err(error) = written {
			log::warn!(target: "cairn-client", "cannot keep {}: {error}", path.display());
		}
	}

	/// Remembers that shard `index` of contract `id` moved away from `from`.
	pub fn moved(&self, id: ContractId, index: u32, from: &AccountId) {
		let mut former = self.lock();
		let providers = former.entry((id, index)).or_default();
		providers.retain(|provider| provider != from);
		providers.push(from.clone());
		if providers.len() > REMEMBERED {
			providers.remove(0);
		}
		self.keep(&former);
	}

	/// Forgets the shards no longer waiting for their data: those of contracts not in `open`
	/// (ended), and those active again.
	pub fn forget(&self, open: &[(ContractId, ContractOf<Runtime>)]) {
		let waiting: HashMap<ContractId, &ContractOf<Runtime>> =
			open.iter().map(|(id, contract)| (*id, contract)).collect();
		let mut former = self.lock();
		let before = former.len();
		former.retain(|(id, index), _| {
			waiting
				.get(id)
				.and_then(|contract| contract.shards.get(*index as usize))
				.is_some_and(|shard| shard.status != ShardStatus::Active)
		});
		if former.len() != before {
			self.keep(&former);
		}
	}

	/// Every provider that may hold a shard of contract `id`, likeliest first.
	pub fn sources(&self, id: ContractId, contract: &ContractOf<Runtime>) -> Vec<ShardSource> {
		let former = self.lock();
		let mut sources: Vec<ShardSource> = contract
			.shards
			.iter()
			.enumerate()
			.flat_map(|(index, shard)| {
				let holds = match shard.status {
					ShardStatus::Active => Holds::Confirmed,
					ShardStatus::Pending { .. } => Holds::Pending,
					ShardStatus::Lost | ShardStatus::Vacant => Holds::Former,
				};
				let earlier = former.get(&(id, index as u32)).into_iter().flatten().rev();
				std::iter::once(ShardSource { index, provider: shard.provider.clone(), holds })
					.chain(earlier.filter(move |provider| **provider != shard.provider).map(
						move |provider| ShardSource {
							index,
							provider: provider.clone(),
							holds: Holds::Former,
						},
					))
			})
			.collect();
		sources.sort_by_key(|source| source.holds);
		sources
	}
}

/// Whether shard `index` can be had from `sources` other than its pending provider: from a
/// provider it was moved away from, or rebuilt from `k` other shards confirmed or kept somewhere.
/// Optimistic: a former provider may be down, or have lost the data.
pub(super) fn obtainable(sources: &[ShardSource], index: usize, k: usize) -> bool {
	let mut others: Vec<usize> = sources
		.iter()
		.filter(|source| source.holds != Holds::Pending)
		.map(|source| source.index)
		.collect();
	if others.contains(&index) {
		return true;
	}
	others.sort_unstable();
	others.dedup();
	others.len() >= k
}

/// In memory only, for tests.
#[cfg(test)]
impl Default for Former {
	fn default() -> Self {
		Self { moves: Default::default(), path: None }
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_chain::fixtures::shard_in;
	use cairn_runtime::BlockNumber;

	fn account(byte: u8) -> AccountId {
		AccountId::new([byte; 32])
	}

	fn contract(shards: &[(u8, ShardStatus<BlockNumber>)]) -> ContractOf<Runtime> {
		let shards = shards.iter().map(|(provider, status)| shard_in(&account(*provider), *status));
		cairn_chain::fixtures::contract(shards.collect(), 1_000)
	}

	/// The byte an account of [`account`] is made of.
	fn byte(account: &AccountId) -> u8 {
		<AccountId as AsRef<[u8; 32]>>::as_ref(account)[0]
	}

	fn listed(sources: &[ShardSource]) -> Vec<(usize, u8, Holds)> {
		sources.iter().map(|s| (s.index, byte(&s.provider), s.holds)).collect()
	}

	#[test]
	fn confirmed_shards_come_first_and_former_providers_last() {
		let pending = ShardStatus::Pending { deadline: 50 };
		let former = Former::default();
		// Shard 1 moved from provider 4 to 5, then from 5 to 2.
		former.moved(7, 1, &account(4));
		former.moved(7, 1, &account(5));
		let contract = contract(&[(1, pending), (2, pending), (3, ShardStatus::Active)]);
		let sources = former.sources(7, &contract);
		assert_eq!(
			listed(&sources),
			vec![
				(2, 3, Holds::Confirmed),
				(0, 1, Holds::Pending),
				(1, 2, Holds::Pending),
				(1, 5, Holds::Former),
				(1, 4, Holds::Former),
			]
		);
		// Shard 1 can be had from a provider it left; shard 0 rebuilt from shards 1 and 2 when
		// two are needed, not when three are.
		assert!(obtainable(&sources, 1, 2));
		assert!(obtainable(&sources, 0, 2));
		assert!(!obtainable(&sources, 0, 3));
		// Another contract's shards are not this one's.
		assert_eq!(former.sources(8, &contract).len(), 3);
	}

	#[test]
	fn a_lost_shard_is_asked_of_its_provider_last_and_forgotten_once_active() {
		let former = Former::default();
		former.moved(7, 0, &account(4));
		former.moved(7, 2, &account(6));
		former.moved(8, 0, &account(4));
		let lost = contract(&[(1, ShardStatus::Lost), (2, ShardStatus::Active)]);
		assert_eq!(
			listed(&former.sources(7, &lost)),
			vec![(1, 2, Holds::Confirmed), (0, 1, Holds::Former), (0, 4, Holds::Former)]
		);
		// Contract 8 ended; shard 2 of contract 7 no longer exists; shard 0 is waiting still.
		former.forget(&[(7, lost.clone())]);
		assert_eq!(former.lock().keys().copied().collect::<Vec<_>>(), vec![(7, 0)]);
		let active = contract(&[(1, ShardStatus::Active), (2, ShardStatus::Active)]);
		former.forget(&[(7, active)]);
		assert!(former.lock().is_empty());
	}

	#[test]
	fn a_few_former_providers_are_remembered_each_once() {
		let former = Former::default();
		for provider in [1, 2, 1, 3, 4, 5] {
			former.moved(7, 0, &account(provider));
		}
		// 1 again counts as 1 later: 2 is the oldest, and forgotten.
		assert_eq!(former.lock()[&(7, 0)].iter().map(byte).collect::<Vec<_>>(), vec![1, 3, 4, 5]);
	}

	#[test]
	fn a_restarted_node_still_knows_where_shards_moved_from() {
		let dir = tempfile::tempdir().expect("a directory");
		let path = dir.path().join("files").join("former-providers");
		let former = Former::open(path.clone());
		former.moved(7, 1, &account(4));
		former.moved(7, 1, &account(5));
		former.moved(9, 0, &account(6));
		drop(former);

		let again = Former::open(path.clone());
		let pending = ShardStatus::Pending { deadline: 50 };
		let contract = contract(&[(1, ShardStatus::Active), (2, pending)]);
		assert_eq!(
			listed(&again.sources(7, &contract)),
			vec![
				(0, 1, Holds::Confirmed),
				(1, 2, Holds::Pending),
				(1, 5, Holds::Former),
				(1, 4, Holds::Former)
			]
		);
		// Reconciled with the chain: contract 9 ended, and that is written down too.
		again.forget(&[(7, contract)]);
		assert_eq!(
			Former::open(path.clone()).lock().keys().copied().collect::<Vec<_>>(),
			vec![(7, 1)]
		);

		// A file that does not decode is set aside, not a reason to stop.
		std::fs::write(&path, b"not SCALE").expect("written");
		assert!(Former::open(path).lock().is_empty());
	}
}
