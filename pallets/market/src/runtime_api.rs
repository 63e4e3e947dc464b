//! The market as nodes and clients read it: a runtime API, so that a reader does not depend on
//! how a runtime lays out the pallet's storage. A runtime that changes the layout keeps the API;
//! one that changes what the API returns raises its version.

use alloc::vec::Vec;

use codec::Codec;
use frame_support::storage::StoragePrefixedMap;

use crate::{Config, ContractId, ContractOf, Contracts, Pallet, PeriodIndex, PeriodInfo};

/// Contracts a page of [`MarketApi::contracts`] holds at most: a page is built in the runtime's
/// memory, so a reader of many contracts asks page by page.
pub const CONTRACTS_PAGE: u32 = 256;

sp_api::decl_runtime_apis! {
	/// Contracts, proving periods and the verifying key of `pallet-market`. `Contract` is the
	/// runtime's contract record (`ContractOf<Runtime>`).
	pub trait MarketApi<AccountId, BlockNumber, Contract>
	where
		AccountId: Codec,
		BlockNumber: Codec,
		Contract: Codec,
	{
		/// Contract `id`, while it is open.
		fn contract(id: ContractId) -> Option<Contract>;

		/// Open contracts, at most `limit` (and at most [`CONTRACTS_PAGE`]), of `owner` or of
		/// anyone, in the pallet's storage order from the one after contract `after` (from the
		/// first without it). The next page starts after the last id of this one; a page shorter
		/// than asked is the last.
		fn contracts(owner: Option<AccountId>, after: Option<ContractId>, limit: u32) -> Vec<(ContractId, Contract)>;

		/// Those of contracts `ids` still open, at most [`CONTRACTS_PAGE`] of them (the first
		/// ids asked), in the order asked.
		fn contracts_with_ids(ids: Vec<ContractId>) -> Vec<(ContractId, Contract)>;

		/// The id the next contract gets: every contract with a smaller id was opened.
		fn next_contract_id() -> ContractId;

		/// The sealed manifest contract `id` carries, if any.
		fn manifest(id: ContractId) -> Option<Vec<u8>>;

		/// The current proving period, if one has opened.
		fn current_period() -> Option<(PeriodIndex, PeriodInfo<BlockNumber>)>;

		/// Proving period `index`, while the chain remembers it.
		fn period(index: PeriodIndex) -> Option<PeriodInfo<BlockNumber>>;

		/// The verifying key proofs are checked against now (empty when none is installed).
		fn verifying_key() -> Vec<u8>;
	}
}

impl<T: Config> Pallet<T> {
	/// Those of contracts `ids` still open, for [`MarketApi::contracts_with_ids`].
	pub fn contracts_with_ids(ids: Vec<ContractId>) -> Vec<(ContractId, ContractOf<T>)> {
		ids.into_iter()
			.take(CONTRACTS_PAGE as usize)
			.filter_map(|id| Contracts::<T>::get(id).map(|contract| (id, contract)))
			.collect()
	}

	/// A page of open contracts for [`MarketApi::contracts`]: at most `limit` (and
	/// [`CONTRACTS_PAGE`]) of `owner` (or of anyone), from the one after contract `after` in
	/// storage order.
	pub fn contracts_page(
		owner: Option<T::AccountId>,
		after: Option<ContractId>,
		limit: u32,
	) -> Vec<(ContractId, ContractOf<T>)> {
		let limit = limit.min(CONTRACTS_PAGE) as usize;
		let start = match after {
			Some(after) => Contracts::<T>::hashed_key_for(after),
			None => Contracts::<T>::final_prefix().to_vec(),
		};
		Contracts::<T>::iter_from(start)
			.filter(|(_, contract)| owner.as_ref().is_none_or(|owner| contract.owner == *owner))
			.take(limit)
			.collect()
	}
}
