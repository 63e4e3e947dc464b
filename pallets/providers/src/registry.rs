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
	HoldReason, ProviderStatus, Slashed,
};

/// What a storage market needs from a provider registry.
pub trait ProviderRegistry<AccountId, Balance> {
	/// Whether `who` may take new shards: registered, not exiting, and its stake covers its
	/// capacity.
	fn is_active(who: &AccountId) -> bool;
	/// Whether `who` stays in the market: registered and not exiting. Its shards may be kept
	/// past their agreed end even when a slash left its stake short of its capacity.
	fn is_staying(who: &AccountId) -> bool;
	/// `who`'s asked price per byte per block, if registered.
	fn price_per_byte_block(who: &AccountId) -> Option<Balance>;
	/// `who`'s capacity not reserved by shards, if registered.
	fn free_capacity(who: &AccountId) -> Option<u64>;
	/// The bytes and shards of `who`'s capacity reserved by shards (zeros when not registered).
	fn reserved(who: &AccountId) -> (u64, u32);
	/// Reserve `bytes` of an active provider's capacity for one shard.
	fn reserve_capacity(who: &AccountId, bytes: u64) -> DispatchResult;
	/// Release `bytes` reserved for one shard by [`Self::reserve_capacity`].
	fn release_capacity(who: &AccountId, bytes: u64) -> DispatchResult;
	/// Take up to `amount` of `who`'s stake for a fault: up to `compensation` of it goes to
	/// `beneficiary`, the rest is burned. Returns what was actually taken, split the same way
	/// (less when the stake is smaller).
	fn slash(
		who: &AccountId,
		amount: Balance,
		beneficiary: &AccountId,
		compensation: Balance,
	) -> Slashed<Balance>;
	/// `who`'s current stake (zero when not registered).
	fn stake(who: &AccountId) -> Balance;
	/// The part of `who`'s stake that backs `bytes` of its stored data (zero when not
	/// registered); see [`Pallet::stake_for`].
	fn stake_backing(who: &AccountId, bytes: u64) -> Balance;
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

	fn is_staying(who: &T::AccountId) -> bool {
		Providers::<T>::get(who).is_some_and(|info| info.status == ProviderStatus::Active)
	}

	fn price_per_byte_block(who: &T::AccountId) -> Option<BalanceOf<T>> {
		Providers::<T>::get(who).map(|info| info.price_per_byte_block)
	}

	fn free_capacity(who: &T::AccountId) -> Option<u64> {
		Providers::<T>::get(who).map(|info| info.free_capacity())
	}

	fn reserved(who: &T::AccountId) -> (u64, u32) {
		Providers::<T>::get(who).map_or((0, 0), |info| (info.used, info.shards))
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

	fn slash(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		beneficiary: &T::AccountId,
		compensation: BalanceOf<T>,
	) -> Slashed<BalanceOf<T>> {
		let Some(mut info) = Providers::<T>::get(who) else { return Slashed::default() };
		let wanted = amount.min(info.stake);
		if wanted.is_zero() {
			return Slashed::default();
		}
		let reason: T::RuntimeHoldReason = HoldReason::ProviderStake.into();
		// Best effort: the hold can only be smaller than the recorded stake if something outside
		// this pallet touched it; whatever actually left it is what the record loses.
		let to_beneficiary = compensation.min(wanted);
		let compensation = if to_beneficiary.is_zero() {
			Zero::zero()
		} else {
			T::Currency::transfer_on_hold(
				&reason,
				who,
				beneficiary,
				to_beneficiary,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| Zero::zero())
		};
		// Whatever the beneficiary does not get leaves the supply: nobody, the provider least of
		// all (through a buyer account it controls), gains from a fault beyond the compensation.
		let to_burn = wanted.saturating_sub(compensation);
		let burned = if to_burn.is_zero() {
			Zero::zero()
		} else {
			T::Currency::burn_held(&reason, who, to_burn, Precision::BestEffort, Fortitude::Force)
				.unwrap_or_else(|_| Zero::zero())
		};
		let slashed = Slashed { compensation, burned };
		let taken = slashed.total();
		if taken.is_zero() {
			return slashed;
		}
		info.stake = info.stake.saturating_sub(taken);
		Providers::<T>::insert(who, info);
		Pallet::<T>::deposit_event(Event::ProviderSlashed {
			provider: who.clone(),
			amount: taken,
			beneficiary: beneficiary.clone(),
			compensation,
			burned,
		});
		slashed
	}

	fn stake(who: &T::AccountId) -> BalanceOf<T> {
		Providers::<T>::get(who).map_or_else(Zero::zero, |info| info.stake)
	}

	fn stake_backing(who: &T::AccountId, bytes: u64) -> BalanceOf<T> {
		Providers::<T>::get(who)
			.map_or_else(Zero::zero, |info| Pallet::<T>::stake_for(&info, bytes))
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
		// 2^20 times the minimum: with a TiB of capacity, each MiB stored is then backed by the
		// minimum stake of a whole TiB, so that the market's benchmarks slash real amounts (a
		// transfer and a burn) whatever the runtime's stake per TiB.
		let stake = Pallet::<T>::required_stake(capacity)
			.max(1u32.into())
			.saturating_mul((1u32 << 20).into());
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
