//! # Providers pallet
//!
//! The registry of Cairn's storage providers. A provider registers with a stake, the capacity it
//! offers (bytes), its price (per byte per block) and where its node can be reached (libp2p peer id
//! and multiaddresses). The stake stays in the provider's account under a balance hold
//! ([`HoldReason::ProviderStake`]), so it cannot be spent while it backs stored data, and it must be
//! at least [`Config::MinStakePerTib`] for every TiB of offered capacity (rounded up).
//!
//! The storage market reads and updates the registry only through [`ProviderRegistry`]:
//! whether a provider may take new shards, its price, capacity reservations as shards are assigned
//! and released, fault counts, the part of the stake that backs a shard
//! ([`Pallet::stake_for`]: the stake shared out over the capacity, byte by byte), and slashing:
//! part of a slash may go to a beneficiary (the buyer whose data was not proven), the rest is
//! burned.
//!
//! A provider leaves in two steps: [`Pallet::begin_exit`] stops new assignments, and after
//! [`Config::UnbondingPeriod`] blocks [`Pallet::withdraw`] releases the stake, provided the provider
//! no longer holds any shard.
//!
//! ```ignore
//! // A provider offering 2 TiB at 1 unit per byte per block, staking 500 units:
//! Providers::register_provider(origin, 500, 2 << 40, 1, peer_id, multiaddrs)?;
//! // The market reserves room for a 1 MiB shard:
//! <Providers as ProviderRegistry<_, _>>::reserve_capacity(&provider, 1 << 20)?;
//! ```

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use registry::ProviderRegistry;
pub use types::{ProviderInfo, ProviderStatus, Slashed, TIB};
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod invariants;
#[cfg(test)]
mod mock;
mod registry;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		helpers_128bit::multiply_by_rational_with_rounding,
		traits::{CheckedAdd, Saturating, Zero},
		Rounding, SaturatedConversion,
	};

	/// The balance type of the currency that holds stakes.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A provider's libp2p peer id (its multihash bytes).
	pub type PeerIdOf<T> = BoundedVec<u8, <T as Config>::MaxPeerIdLen>;
	/// One multiaddress of a provider's node (its binary form).
	pub type MultiaddrOf<T> = BoundedVec<u8, <T as Config>::MaxMultiaddrLen>;
	/// The multiaddresses a provider's node listens on.
	pub type MultiaddrsOf<T> = BoundedVec<MultiaddrOf<T>, <T as Config>::MaxMultiaddrs>;
	/// The registry record of a provider.
	pub type ProviderInfoOf<T> =
		ProviderInfo<BalanceOf<T>, BlockNumberFor<T>, PeerIdOf<T>, MultiaddrsOf<T>>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the providers pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency whose balance holds keep providers' stakes.
		type Currency: Inspect<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which [`HoldReason`] is a part.
		type RuntimeHoldReason: From<HoldReason>;
		/// Stake required for every TiB (2^40 bytes) of offered capacity; partial TiBs count as
		/// whole ones.
		#[pallet::constant]
		type MinStakePerTib: Get<BalanceOf<Self>>;
		/// Blocks between [`Pallet::begin_exit`] and the earliest [`Pallet::withdraw`].
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Largest capacity (bytes) one provider may offer.
		#[pallet::constant]
		type MaxCapacity: Get<u64>;
		/// Longest libp2p peer id, in bytes.
		#[pallet::constant]
		type MaxPeerIdLen: Get<u32>;
		/// Longest multiaddress, in bytes.
		#[pallet::constant]
		type MaxMultiaddrLen: Get<u32>;
		/// Most multiaddresses per provider.
		#[pallet::constant]
		type MaxMultiaddrs: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's stake, which backs the data it stores and can be slashed for faults.
		ProviderStake,
	}

	/// Every registered provider (active or exiting), by account.
	#[pallet::storage]
	pub type Providers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfoOf<T>>;

	/// Number of registered providers.
	#[pallet::storage]
	pub type ProviderCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Events of the providers pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and its stake is now held.
		ProviderRegistered {
			/// The provider's account.
			provider: T::AccountId,
			/// The stake held.
			stake: BalanceOf<T>,
			/// Offered capacity, in bytes.
			capacity: u64,
			/// Asked price per byte per block.
			price_per_byte_block: BalanceOf<T>,
		},
		/// A provider changed its capacity, price or addresses.
		ProviderUpdated {
			/// The provider's account.
			provider: T::AccountId,
			/// Offered capacity after the update, in bytes.
			capacity: u64,
			/// Asked price per byte per block after the update.
			price_per_byte_block: BalanceOf<T>,
		},
		/// A provider added to its stake.
		StakeAdded {
			/// The provider's account.
			provider: T::AccountId,
			/// The amount added.
			amount: BalanceOf<T>,
			/// The stake held after the addition.
			stake: BalanceOf<T>,
		},
		/// A provider stopped taking new shards; it may withdraw from `unlock_at` on.
		ExitStarted {
			/// The provider's account.
			provider: T::AccountId,
			/// First block at which [`Pallet::withdraw`] succeeds.
			unlock_at: BlockNumberFor<T>,
		},
		/// A provider left the registry and its stake was released.
		ProviderWithdrawn {
			/// The provider's account.
			provider: T::AccountId,
			/// The stake released.
			stake: BalanceOf<T>,
		},
		/// Part of a provider's stake was taken because of a fault: `compensation` of it went to
		/// a beneficiary, `burned` of it was burned.
		ProviderSlashed {
			/// The provider's account.
			provider: T::AccountId,
			/// The amount taken from the stake: `compensation + burned`.
			amount: BalanceOf<T>,
			/// Who received the compensation.
			beneficiary: T::AccountId,
			/// The part moved to the beneficiary.
			compensation: BalanceOf<T>,
			/// The part burned.
			burned: BalanceOf<T>,
		},
	}

	/// Errors of the providers pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered provider.
		AlreadyRegistered,
		/// The account is not a registered provider.
		NotRegistered,
		/// Capacity must be more than zero bytes.
		ZeroCapacity,
		/// Capacity exceeds [`Config::MaxCapacity`].
		CapacityTooLarge,
		/// The stake is below [`Config::MinStakePerTib`] times the offered TiBs.
		StakeTooLow,
		/// The amount must be more than zero.
		ZeroAmount,
		/// The account's free balance cannot cover the stake.
		InsufficientBalance,
		/// The new capacity is below what the provider already stores.
		CapacityBelowUsed,
		/// The provider is exiting and can no longer change its offer or take shards.
		ProviderExiting,
		/// The provider has not called `begin_exit`.
		NotExiting,
		/// The unbonding period has not passed yet.
		UnbondingNotOver,
		/// The provider still holds shards; they must end or be reassigned first.
		HoldsActiveShards,
		/// The provider is not active (exiting, or its stake no longer covers its capacity).
		ProviderNotActive,
		/// Not enough free capacity for the shard.
		InsufficientCapacity,
		/// Capacity accounting would go below zero: more was released than reserved.
		CapacityUnderflow,
		/// An arithmetic operation overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// What the registry takes for granted of its constants.
		fn integrity_test() {
			assert!(
				!T::MinStakePerTib::get().is_zero(),
				"capacity is backed by stake, so that a fault costs something"
			);
			assert!(
				!T::UnbondingPeriod::get().is_zero(),
				"stake leaves only after an unbonding period"
			);
			assert!(T::MaxCapacity::get() > 0, "a provider can offer some capacity");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register the signer as a storage provider, holding `stake` from its free balance.
		///
		/// `stake` must cover [`Config::MinStakePerTib`] per (started) TiB of `capacity`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_provider(multiaddrs.len() as u32))]
		pub fn register_provider(
			origin: OriginFor<T>,
			stake: BalanceOf<T>,
			capacity: u64,
			price_per_byte_block: BalanceOf<T>,
			peer_id: PeerIdOf<T>,
			multiaddrs: MultiaddrsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
			Self::ensure_capacity_allowed(capacity)?;
			ensure!(stake >= Self::required_stake(capacity), Error::<T>::StakeTooLow);
			T::Currency::hold(&HoldReason::ProviderStake.into(), &who, stake)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let info = ProviderInfo {
				stake,
				capacity,
				used: 0,
				shards: 0,
				price_per_byte_block,
				peer_id,
				multiaddrs,
				faults: 0,
				status: ProviderStatus::Active,
				registered_at: frame_system::Pallet::<T>::block_number(),
			};
			Providers::<T>::insert(&who, info);
			ProviderCount::<T>::mutate(|count| *count = count.saturating_add(1));
			Self::deposit_event(Event::ProviderRegistered {
				provider: who,
				stake,
				capacity,
				price_per_byte_block,
			});
			Ok(())
		}

		/// Change the signer's offer. `None` keeps a field as it is.
		///
		/// Capacity cannot drop below what is already stored, and the stake must still cover it.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_provider(
			multiaddrs.as_ref().map_or(0, |addrs| addrs.len() as u32)
		))]
		pub fn update_provider(
			origin: OriginFor<T>,
			capacity: Option<u64>,
			price_per_byte_block: Option<BalanceOf<T>>,
			peer_id: Option<PeerIdOf<T>>,
			multiaddrs: Option<MultiaddrsOf<T>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Providers::<T>::try_mutate(&who, |maybe_info| -> DispatchResult {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status == ProviderStatus::Active, Error::<T>::ProviderExiting);
				if let Some(capacity) = capacity {
					Self::ensure_capacity_allowed(capacity)?;
					ensure!(capacity >= info.used, Error::<T>::CapacityBelowUsed);
					ensure!(info.stake >= Self::required_stake(capacity), Error::<T>::StakeTooLow);
					info.capacity = capacity;
				}
				if let Some(price) = price_per_byte_block {
					info.price_per_byte_block = price;
				}
				if let Some(peer_id) = peer_id {
					info.peer_id = peer_id;
				}
				if let Some(multiaddrs) = multiaddrs {
					info.multiaddrs = multiaddrs;
				}
				Self::deposit_event(Event::ProviderUpdated {
					provider: who.clone(),
					capacity: info.capacity,
					price_per_byte_block: info.price_per_byte_block,
				});
				Ok(())
			})
		}

		/// Hold `amount` more of the signer's free balance as stake (for instance to offer more
		/// capacity, or to restore a slashed stake).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::add_stake())]
		pub fn add_stake(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Providers::<T>::try_mutate(&who, |maybe_info| -> DispatchResult {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				let stake = info.stake.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
				T::Currency::hold(&HoldReason::ProviderStake.into(), &who, amount)
					.map_err(|_| Error::<T>::InsufficientBalance)?;
				info.stake = stake;
				Self::deposit_event(Event::StakeAdded { provider: who.clone(), amount, stake });
				Ok(())
			})
		}

		/// Stop taking new shards and start the unbonding period. Shards already held must still
		/// be proven until their contracts end or they are reassigned.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::begin_exit())]
		pub fn begin_exit(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Providers::<T>::try_mutate(&who, |maybe_info| -> DispatchResult {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status == ProviderStatus::Active, Error::<T>::ProviderExiting);
				let unlock_at = frame_system::Pallet::<T>::block_number()
					.saturating_add(T::UnbondingPeriod::get());
				info.status = ProviderStatus::Exiting { unlock_at };
				Self::deposit_event(Event::ExitStarted { provider: who.clone(), unlock_at });
				Ok(())
			})
		}

		/// Leave the registry and release the whole stake: only after the unbonding period, and
		/// only when the provider holds no shard.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let ProviderStatus::Exiting { unlock_at } = info.status else {
				return Err(Error::<T>::NotExiting.into());
			};
			ensure!(
				frame_system::Pallet::<T>::block_number() >= unlock_at,
				Error::<T>::UnbondingNotOver
			);
			ensure!(info.shards == 0 && info.used == 0, Error::<T>::HoldsActiveShards);
			let released = T::Currency::release(
				&HoldReason::ProviderStake.into(),
				&who,
				info.stake,
				Precision::BestEffort,
			)?;
			Providers::<T>::remove(&who);
			ProviderCount::<T>::mutate(|count| *count = count.saturating_sub(1));
			Self::deposit_event(Event::ProviderWithdrawn { provider: who, stake: released });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The stake that backs `capacity` bytes: [`Config::MinStakePerTib`] per started TiB.
		pub fn required_stake(capacity: u64) -> BalanceOf<T> {
			let tibs: BalanceOf<T> = capacity.div_ceil(TIB).saturated_into();
			T::MinStakePerTib::get().saturating_mul(tibs)
		}

		/// The part of the record's stake that backs `bytes` of stored data:
		/// `stake × bytes / max(capacity, used)`, rounded down. The stake stands behind all the
		/// capacity offered, so each stored byte is backed by an equal share of it, and the shares
		/// of everything stored add up to at most the whole stake. Reads no storage.
		pub fn stake_for(info: &ProviderInfoOf<T>, bytes: u64) -> BalanceOf<T> {
			let backed = info.capacity.max(info.used);
			if backed == 0 {
				return Zero::zero();
			}
			let stake: u128 = info.stake.saturated_into();
			// With `bytes ≤ backed` the quotient is at most the stake: it neither overflows nor
			// exceeds what can be slashed.
			multiply_by_rational_with_rounding(
				stake,
				u128::from(bytes.min(backed)),
				u128::from(backed),
				Rounding::Down,
			)
			.map_or(info.stake, |share| share.saturated_into())
		}

		/// Whether a provider with this record takes new shards: not exiting, and its stake covers
		/// its capacity. Reads no storage, so off-chain code can apply it to records it read.
		pub fn takes_new_shards(info: &ProviderInfoOf<T>) -> bool {
			info.status == ProviderStatus::Active
				&& info.stake >= Self::required_stake(info.capacity)
		}

		fn ensure_capacity_allowed(capacity: u64) -> DispatchResult {
			ensure!(capacity > 0, Error::<T>::ZeroCapacity);
			ensure!(capacity <= T::MaxCapacity::get(), Error::<T>::CapacityTooLarge);
			Ok(())
		}
	}
}
