//! The interface the storage market uses: eligibility, prices, capacity, faults and slashing.

use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use sp_runtime::traits::{Saturating, Zero};

use crate::{
	pallet::{BalanceOf, Config, Error, Event, Pallet, Providers},
	HoldReason,
};

/// What a storage market needs from a provider registry.
pub trait ProviderRegistry<AccountId, Balance> {
	/// Whether `who` may take new shards: registered, not exiting, and its stake covers its
	/// capacity.
	fn is_active(who: &AccountId) -> bool;
	/// `who`'s asked price per byte per block, if registered.
	fn price_per_byte_block(who: &AccountId) -> Option<Balance>;
	/// `who`'s capacity not reserved by shards, if registered.
	fn free_capacity(who: &AccountId) -> Option<u64>;
	/// Reserve `bytes` of an active provider's capacity for one shard.
	fn reserve_capacity(who: &AccountId, bytes: u64) -> DispatchResult;
	/// Release `bytes` reserved for one shard by [`Self::reserve_capacity`].
	fn release_capacity(who: &AccountId, bytes: u64) -> DispatchResult;
	/// Move up to `amount` of `who`'s stake to `beneficiary`; returns what was actually moved
	/// (less when the stake is smaller).
	fn slash(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance;
	/// `who`'s current stake (zero when not registered).
	fn stake(who: &AccountId) -> Balance;
	/// Count `count` more faults against `who`.
	fn record_fault(who: &AccountId, count: u32);

	/// Register `who` with `capacity` bytes at `price` per byte per block, funding its stake,
	/// for benchmarks of pallets that need providers.
	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmark(who: &AccountId, capacity: u64, price: Balance) -> DispatchResult;
}

impl<T: Config> ProviderRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn is_active(who: &T::AccountId) -> bool {
		Providers::<T>::get(who).is_some_and(|info| Pallet::<T>::takes_new_shards(&info))
	}

	fn price_per_byte_block(who: &T::AccountId) -> Option<BalanceOf<T>> {
		Providers::<T>::get(who).map(|info| info.price_per_byte_block)
	}

	fn free_capacity(who: &T::AccountId) -> Option<u64> {
		Providers::<T>::get(who).map(|info| info.free_capacity())
	}

	fn reserve_capacity(who: &T::AccountId, bytes: u64) -> DispatchResult {
		ensure!(Self::is_active(who), Error::<T>::ProviderNotActive);
		Providers::<T>::try_mutate(who, |maybe_info| {
			let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			ensure!(bytes <= info.free_capacity(), Error::<T>::InsufficientCapacity);
			info.used = info.used.checked_add(bytes).ok_or(Error::<T>::Overflow)?;
			info.shards = info.shards.checked_add(1).ok_or(Error::<T>::Overflow)?;
			Ok(())
		})
	}

	fn release_capacity(who: &T::AccountId, bytes: u64) -> DispatchResult {
		Providers::<T>::try_mutate(who, |maybe_info| {
			let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			info.used = info.used.checked_sub(bytes).ok_or(Error::<T>::CapacityUnderflow)?;
			info.shards = info.shards.checked_sub(1).ok_or(Error::<T>::CapacityUnderflow)?;
			Ok(())
		})
	}

	fn slash(who: &T::AccountId, amount: BalanceOf<T>, beneficiary: &T::AccountId) -> BalanceOf<T> {
		let Some(mut info) = Providers::<T>::get(who) else { return Zero::zero() };
		let wanted = amount.min(info.stake);
		if wanted.is_zero() {
			return Zero::zero();
		}
		// Best effort: the hold can only be smaller than the recorded stake if something outside
		// this pallet touched it; whatever actually moved is what the record loses.
		let moved = T::Currency::transfer_on_hold(
			&HoldReason::ProviderStake.into(),
			who,
			beneficiary,
			wanted,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|_| Zero::zero());
		if moved.is_zero() {
			return moved;
		}
		info.stake = info.stake.saturating_sub(moved);
		Providers::<T>::insert(who, info);
		Pallet::<T>::deposit_event(Event::ProviderSlashed {
			provider: who.clone(),
			amount: moved,
			beneficiary: beneficiary.clone(),
		});
		moved
	}

	fn stake(who: &T::AccountId) -> BalanceOf<T> {
		Providers::<T>::get(who).map_or_else(Zero::zero, |info| info.stake)
	}

	fn record_fault(who: &T::AccountId, count: u32) {
		Providers::<T>::mutate(who, |maybe_info| {
			if let Some(info) = maybe_info {
				info.faults = info.faults.saturating_add(count);
			}
		});
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmark(
		who: &T::AccountId,
		capacity: u64,
		price: BalanceOf<T>,
	) -> DispatchResult {
		use frame_support::traits::fungible::Mutate;
		let stake = Pallet::<T>::required_stake(capacity).max(1u32.into());
		let funds = stake.saturating_mul(4u32.into()).saturating_add(
			<T::Currency as frame_support::traits::fungible::Inspect<_>>::minimum_balance(),
		);
		T::Currency::set_balance(who, funds);
		Pallet::<T>::register_provider(
			frame_system::RawOrigin::Signed(who.clone()).into(),
			stake,
			capacity,
			price,
			Default::default(),
			Default::default(),
		)
	}
}
