//! Providers as nodes and clients read them: a runtime API, so that a reader does not depend on
//! how a runtime lays out the pallet's storage.

use alloc::vec::Vec;

use codec::Codec;
use frame_support::storage::StoragePrefixedMap;

use crate::{Config, Pallet, ProviderInfoOf, Providers};

/// Providers a page of [`ProvidersApi::providers`] holds at most: a page is built in the
/// runtime's memory, so a reader of many providers asks page by page.
pub const PROVIDERS_PAGE: u32 = 256;

sp_api::decl_runtime_apis! {
	/// The provider registry of `pallet-providers`. `Provider` is the runtime's provider record
	/// (`ProviderInfoOf<Runtime>`).
	pub trait ProvidersApi<AccountId, Provider>
	where
		AccountId: Codec,
		Provider: Codec,
	{
		/// The record of `who`, if registered.
		fn provider(who: AccountId) -> Option<Provider>;

		/// Registered providers, at most `limit` (and at most [`PROVIDERS_PAGE`]), in the
		/// pallet's storage order from the one after `after` (from the first without it). The
		/// next page starts after the last of this one; a page shorter than asked is the last.
		fn providers(after: Option<AccountId>, limit: u32) -> Vec<(AccountId, Provider)>;
	}
}

impl<T: Config> Pallet<T> {
	/// A page of registered providers for [`ProvidersApi::providers`]: at most `limit` (and
	/// [`PROVIDERS_PAGE`]), from the one after `after` in storage order.
	pub fn providers_page(
		after: Option<T::AccountId>,
		limit: u32,
	) -> Vec<(T::AccountId, ProviderInfoOf<T>)> {
		let limit = limit.min(PROVIDERS_PAGE) as usize;
		let start = match after {
			Some(after) => Providers::<T>::hashed_key_for(after),
			None => Providers::<T>::final_prefix().to_vec(),
		};
		Providers::<T>::iter_from(start).take(limit).collect()
	}
}
