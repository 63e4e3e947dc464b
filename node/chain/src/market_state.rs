//! The storage market as the node's own services and RPC read it: contracts, providers and
//! proving periods through the runtime's `MarketApi` and `ProvidersApi` (so that a runtime may
//! lay out its storage as it likes), and the choice of providers for a new contract.

use std::{fmt::Debug, marker::PhantomData, sync::Arc};

use cairn_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeEvent};
use codec::Decode;
use frame_support::traits::Get;
use pallet_market::{
	runtime_api::{MarketApi, CONTRACTS_PAGE},
	ContractId, ContractOf, PeriodIndex, PeriodInfo,
};
use pallet_providers::{
	runtime_api::{ProvidersApi, PROVIDERS_PAGE},
	ProviderInfoOf,
};
use sc_client_api::StorageProvider;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::storage::StorageKey;

/// Why the state could not be read.
#[derive(Debug, thiserror::Error)]
#[error("state not readable: {0}")]
pub struct Unreadable(pub String);

fn unreadable(error: impl Debug) -> Unreadable {
	Unreadable(format!("{error:?}"))
}

/// Why no providers can be chosen for a contract.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
	/// A parameter is out of range (the message says which and why).
	#[error("{0}")]
	Invalid(String),
	/// Fewer eligible providers than shards.
	#[error(
		"{eligible} eligible providers with room for a {shard_bytes}-byte shard; {needed} needed"
	)]
	TooFewProviders {
		/// Providers that could take a shard.
		eligible: usize,
		/// Providers needed.
		needed: usize,
		/// The shard size asked for.
		shard_bytes: u64,
	},
	/// The state could not be read.
	#[error(transparent)]
	Unreadable(#[from] Unreadable),
}

/// The cheapest eligible providers for a contract and what it costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
	/// One provider per shard, with its price per byte per block.
	pub providers: Vec<(AccountId, Balance)>,
	/// The highest of their prices (the `max_price` of `create_contract`).
	pub max_price: Balance,
	/// The escrow the contract holds.
	pub escrow: Balance,
}

/// Cairn's runtime APIs, as the node's runtime implements them.
pub trait CairnApi:
	MarketApi<Block, AccountId, BlockNumber, ContractOf<Runtime>>
	+ ProvidersApi<Block, AccountId, ProviderInfoOf<Runtime>>
{
}

impl<T> CairnApi for T where
	T: MarketApi<Block, AccountId, BlockNumber, ContractOf<Runtime>>
		+ ProvidersApi<Block, AccountId, ProviderInfoOf<Runtime>>
{
}

/// A client [`MarketState`] reads through: blocks, their state, and Cairn's runtime APIs.
pub trait MarketClient<B: sc_client_api::Backend<Block>>:
	StorageProvider<Block, B>
	+ HeaderBackend<Block>
	+ ProvideRuntimeApi<Block, Api: CairnApi>
	+ Send
	+ Sync
	+ 'static
{
}

impl<C, B: sc_client_api::Backend<Block>> MarketClient<B> for C where
	C: StorageProvider<Block, B>
		+ HeaderBackend<Block>
		+ ProvideRuntimeApi<Block, Api: CairnApi>
		+ Send
		+ Sync
		+ 'static
{
}

/// Every record of a paged runtime API read: `page(after)` gives those after key `after` (from
/// the first without one), at most `size`; a page shorter than that is the last.
fn every_page<K: Clone, V, E: Debug>(
	size: u32,
	mut page: impl FnMut(Option<K>) -> Result<Vec<(K, V)>, E>,
) -> Result<Vec<(K, V)>, Unreadable> {
	let mut all: Vec<(K, V)> = Vec::new();
	loop {
		let next = page(all.last().map(|(key, _)| key.clone())).map_err(unreadable)?;
		let last = next.len() < size as usize;
		all.extend(next);
		if last {
			return Ok(all);
		}
	}
}

/// Reads the market from a client's state.
pub struct MarketState<C, B> {
	client: Arc<C>,
	_backend: PhantomData<B>,
}

impl<C, B> Clone for MarketState<C, B> {
	fn clone(&self) -> Self {
		Self { client: self.client.clone(), _backend: PhantomData }
	}
}

impl<C, B> MarketState<C, B>
where
	C: MarketClient<B>,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	/// Reads through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _backend: PhantomData }
	}

	/// The client read from.
	pub fn client(&self) -> &Arc<C> {
		&self.client
	}

	/// `at`, or the best block.
	pub fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	/// The number of block `at` (zero when unknown).
	pub fn number(&self, at: Hash) -> BlockNumber {
		self.client.number(at).ok().flatten().unwrap_or_default()
	}

	/// The value under a storage key (of what the runtime APIs do not tell: accounts, the time
	/// and events, whose layout is FRAME's own).
	fn value<T: Decode>(&self, at: Hash, key: Vec<u8>) -> Result<Option<T>, Unreadable> {
		let Some(data) = self.client.storage(at, &StorageKey(key)).map_err(unreadable)? else {
			return Ok(None);
		};
		T::decode(&mut &data.0[..]).map(Some).map_err(unreadable)
	}

	/// Every open contract, page by page.
	pub fn contracts(
		&self,
		at: Hash,
	) -> Result<Vec<(ContractId, ContractOf<Runtime>)>, Unreadable> {
		self.contracts_of(at, None)
	}

	/// Every open contract of `owner` (of anyone without one), page by page.
	pub fn contracts_of(
		&self,
		at: Hash,
		owner: Option<&AccountId>,
	) -> Result<Vec<(ContractId, ContractOf<Runtime>)>, Unreadable> {
		let api = self.client.runtime_api();
		every_page(CONTRACTS_PAGE, |after| api.contracts(at, owner.cloned(), after, CONTRACTS_PAGE))
	}

	/// One contract.
	pub fn contract(
		&self,
		at: Hash,
		id: ContractId,
	) -> Result<Option<ContractOf<Runtime>>, Unreadable> {
		self.client.runtime_api().contract(at, id).map_err(unreadable)
	}

	/// Those of contracts `ids` still open, in the order of `ids` (a page at a time).
	pub fn contracts_with_ids(
		&self,
		at: Hash,
		ids: &[ContractId],
	) -> Result<Vec<(ContractId, ContractOf<Runtime>)>, Unreadable> {
		let api = self.client.runtime_api();
		let mut open = Vec::with_capacity(ids.len());
		for page in ids.chunks(CONTRACTS_PAGE as usize) {
			open.extend(api.contracts_with_ids(at, page.to_vec()).map_err(unreadable)?);
		}
		Ok(open)
	}

	/// The sealed manifest contract `id` carries, if any.
	pub fn manifest(&self, at: Hash, id: ContractId) -> Result<Option<Vec<u8>>, Unreadable> {
		self.client.runtime_api().manifest(at, id).map_err(unreadable)
	}

	/// The id the next contract gets: every contract with a smaller id was opened, and has
	/// ended if it is no longer in [`Self::contracts`].
	pub fn next_contract_id(&self, at: Hash) -> Result<ContractId, Unreadable> {
		self.client.runtime_api().next_contract_id(at).map_err(unreadable)
	}

	/// The free balance of `who`: what it can pay or stake now.
	pub fn free_balance(&self, at: Hash, who: &AccountId) -> Result<Balance, Unreadable> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		let account: Option<
			frame_system::AccountInfo<cairn_runtime::Nonce, pallet_balances::AccountData<Balance>>,
		> = self.value(at, key)?;
		Ok(account.map(|account| account.data.free).unwrap_or_default())
	}

	/// Every registered provider, page by page.
	pub fn providers(
		&self,
		at: Hash,
	) -> Result<Vec<(AccountId, ProviderInfoOf<Runtime>)>, Unreadable> {
		let api = self.client.runtime_api();
		every_page(PROVIDERS_PAGE, |after| api.providers(at, after, PROVIDERS_PAGE))
	}

	/// One provider's record.
	pub fn provider(
		&self,
		at: Hash,
		who: &AccountId,
	) -> Result<Option<ProviderInfoOf<Runtime>>, Unreadable> {
		self.client.runtime_api().provider(at, who.clone()).map_err(unreadable)
	}

	/// The current proving period and its bounds and seed.
	pub fn current_period(
		&self,
		at: Hash,
	) -> Result<Option<(PeriodIndex, PeriodInfo<BlockNumber>)>, Unreadable> {
		self.client.runtime_api().current_period(at).map_err(unreadable)
	}

	/// The time the block at `at` was made, in milliseconds since the Unix epoch.
	pub fn timestamp(&self, at: Hash) -> Result<u64, Unreadable> {
		let now = frame_support::storage::storage_prefix(b"Timestamp", b"Now");
		Ok(self.value(at, now.to_vec())?.unwrap_or_default())
	}

	/// Proving period `index`, if the chain still remembers it.
	pub fn period(
		&self,
		at: Hash,
		index: PeriodIndex,
	) -> Result<Option<PeriodInfo<BlockNumber>>, Unreadable> {
		self.client.runtime_api().period(at, index).map_err(unreadable)
	}

	/// The verifying key proofs are checked against.
	pub fn verifying_key(&self, at: Hash) -> Result<Vec<u8>, Unreadable> {
		self.client.runtime_api().verifying_key(at).map_err(unreadable)
	}

	/// The events of a block.
	pub fn events(
		&self,
		at: Hash,
	) -> Result<Vec<frame_system::EventRecord<RuntimeEvent, Hash>>, Unreadable> {
		// `frame_system::Events`, whose storage alias is private.
		let key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		Ok(self.value(at, key)?.unwrap_or_default())
	}

	/// The cheapest `shards` eligible providers (active, stake covering their capacity, room for
	/// a shard of `shard_bytes`), none of `exclude`, for `duration` blocks. Ties keep storage order.
	pub fn quote(
		&self,
		at: Hash,
		shard_bytes: u64,
		shards: u32,
		duration: BlockNumber,
		exclude: &[AccountId],
	) -> Result<Quote, QuoteError> {
		let max_shards: u32 = <Runtime as pallet_market::Config>::MaxShards::get();
		if shards == 0 || shards > max_shards {
			return Err(QuoteError::Invalid(format!(
				"shards must be 1 to {max_shards}, not {shards}"
			)));
		}
		if shard_bytes == 0 || shard_bytes > cairn_primitives::tree::MAX_SHARD_BYTES {
			return Err(QuoteError::Invalid(format!(
				"a shard must hold 1 to {} bytes, not {shard_bytes}",
				cairn_primitives::tree::MAX_SHARD_BYTES
			)));
		}
		let max_duration: BlockNumber =
			<Runtime as pallet_market::Config>::MaxContractDuration::get();
		if duration == 0 || duration > max_duration {
			return Err(QuoteError::Invalid(format!(
				"duration must be 1 to {max_duration} blocks, not {duration}"
			)));
		}
		let mut eligible: Vec<(AccountId, Balance)> = self
			.providers(at)?
			.into_iter()
			.filter(|(who, info)| {
				pallet_providers::Pallet::<Runtime>::takes_new_shards(info)
					&& info.free_capacity() >= shard_bytes
					&& !exclude.contains(who)
			})
			.map(|(who, info)| (who, info.price_per_byte_block))
			.collect();
		if eligible.len() < shards as usize {
			return Err(QuoteError::TooFewProviders {
				eligible: eligible.len(),
				needed: shards as usize,
				shard_bytes,
			});
		}
		eligible.sort_by_key(|(_, price)| *price);
		eligible.truncate(shards as usize);
		let overflow = || QuoteError::Invalid("the price of this contract overflows".into());
		let mut escrow: Balance = 0;
		for (_, price) in &eligible {
			let cost = price
				.checked_mul(Balance::from(shard_bytes))
				.and_then(|cost| cost.checked_mul(Balance::from(duration)))
				.ok_or_else(overflow)?;
			escrow = escrow.checked_add(cost).ok_or_else(overflow)?;
		}
		let max_price = eligible.iter().map(|(_, price)| *price).max().unwrap_or_default();
		Ok(Quote { providers: eligible, max_price, escrow })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_page_reads_each_record_once_and_stops_at_a_short_page() {
		for total in [0u32, 1, 2, 3, 4, 7] {
			let mut asked = 0;
			let all = every_page(2, |after: Option<u32>| {
				asked += 1;
				let from = after.map_or(0, |key| key + 1);
				Ok::<_, ()>((from..total.min(from + 2)).map(|key| (key, ())).collect())
			})
			.expect("read");
			assert_eq!(
				all.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
				(0..total).collect::<Vec<_>>()
			);
			assert_eq!(asked, total / 2 + 1, "{total} records");
		}
		let failed = every_page(2, |_: Option<u32>| Err::<Vec<(u32, ())>, _>("unreadable"));
		assert!(failed.is_err());
	}
}
