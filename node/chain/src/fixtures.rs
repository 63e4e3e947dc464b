//! Contracts and shards for unit tests.

use cairn_runtime::{AccountId, Balance, BlockNumber, Runtime};
use frame_support::BoundedVec;
use pallet_market::{ContractOf, PeriodIndex, Shard, ShardSpec, ShardStatus};
use sp_runtime::AccountId32;

/// An active shard of 1 MiB kept by `provider`, settled through period `settled_through`, with
/// `faults` periods missed in a row.
pub fn shard(
	provider: &AccountId,
	settled_through: PeriodIndex,
	faults: u32,
) -> Shard<AccountId, Balance, BlockNumber> {
	Shard {
		spec: ShardSpec { root: [0; 32], blake3: [0; 32], bytes: 1 << 20 },
		provider: provider.clone(),
		price_per_byte_block: 1,
		status: ShardStatus::Active,
		repair: false,
		settled_through,
		last_proven: None,
		proven_before_last: 0,
		consecutive_faults: faults,
		proofs: 0,
		refundable: 0,
	}
}

/// A shard of 1 MiB named to `provider`, in `status`.
pub fn shard_in(
	provider: &AccountId,
	status: ShardStatus<BlockNumber>,
) -> Shard<AccountId, Balance, BlockNumber> {
	Shard { status, ..shard(provider, 0, 0) }
}

/// A contract of `shards` ending at `end`.
pub fn contract(
	shards: Vec<Shard<AccountId, Balance, BlockNumber>>,
	end: BlockNumber,
) -> ContractOf<Runtime> {
	pallet_market::Contract {
		owner: AccountId32::new([9; 32]),
		k: 1,
		m: 0,
		start: 0,
		end,
		escrow: 0,
		deposit: 0,
		paid: 0,
		shards: BoundedVec::truncate_from(shards),
	}
}

/// A temporary directory where syncing costs nothing when the system has one in memory: the
/// store syncs every put, and these tests put thousands.
pub fn scratch() -> tempfile::TempDir {
	let memory = std::path::Path::new("/dev/shm");
	if memory.is_dir() {
		if let Ok(dir) = tempfile::tempdir_in(memory) {
			return dir;
		}
	}
	tempfile::tempdir().expect("a temporary directory")
}
