//! What must hold of the market after every block: checked by `try_state` (try-runtime) and
//! after every test of this pallet.

use alloc::collections::BTreeMap;
use frame_support::{ensure, traits::fungible::InspectHold};
use pallet_providers::ProviderRegistry;
use sp_runtime::{traits::Zero, Saturating, TryRuntimeError};

use crate::{
	pallet::{BalanceOf, Config, Contracts, CurrentPeriod, Manifests, Pallet},
	HoldReason,
};

impl<T: Config> Pallet<T> {
	/// - The escrow held from each buyer is the unpaid value of its open contracts, and the
	///   deposit held from it the sum of their deposits.
	/// - Each provider's reserved capacity (bytes and shard count) is that of the pending and
	///   active shards assigned to it, so capacity is neither counted twice nor leaked.
	/// - What a contract's faults may still give back to its owner is at most what it paid.
	/// - No shard is settled beyond the current period.
	/// - Every manifest belongs to an open contract.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut held_by_owner: BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> =
			BTreeMap::new();
		let mut reserved: BTreeMap<T::AccountId, (u64, u32)> = BTreeMap::new();
		let current = CurrentPeriod::<T>::get().unwrap_or(0);
		for (_, contract) in Contracts::<T>::iter() {
			let held = held_by_owner
				.entry(contract.owner.clone())
				.or_insert_with(|| (Zero::zero(), Zero::zero()));
			held.0 = held.0.saturating_add(contract.escrow);
			held.1 = held.1.saturating_add(contract.deposit);
			let mut refundable = BalanceOf::<T>::zero();
			for shard in contract.shards.iter() {
				refundable = refundable.saturating_add(shard.refundable);
				ensure!(shard.settled_through <= current, "a shard is settled beyond the present");
				if shard.status.holds_capacity() {
					let entry = reserved.entry(shard.provider.clone()).or_default();
					entry.0 = entry.0.saturating_add(shard.spec.bytes);
					entry.1 = entry.1.saturating_add(1);
				}
			}
			ensure!(refundable <= contract.paid, "a contract may give back more than it paid");
		}
		for (owner, (escrow, deposit)) in held_by_owner {
			let held = |reason: HoldReason| T::Currency::balance_on_hold(&reason.into(), &owner);
			ensure!(
				held(HoldReason::ContractEscrow) == escrow,
				"a buyer's held escrow differs from its contracts' unpaid value"
			);
			ensure!(
				held(HoldReason::ContractDeposit) == deposit,
				"a buyer's held deposit differs from its contracts' deposits"
			);
		}
		for (provider, expected) in reserved {
			ensure!(
				T::Providers::reserved(&provider) == expected,
				"a provider's reserved capacity differs from its assigned shards"
			);
		}
		for id in Manifests::<T>::iter_keys() {
			ensure!(Contracts::<T>::contains_key(id), "a manifest outlives its contract");
		}
		Ok(())
	}
}
