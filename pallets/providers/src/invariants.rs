//! What must hold of the registry after every block: checked by `try_state` (try-runtime) and
//! after every test of this pallet.

use frame_support::{ensure, traits::fungible::InspectHold};
use sp_runtime::TryRuntimeError;

use crate::{
	pallet::{Config, Pallet, ProviderCount, Providers},
	HoldReason,
};

impl<T: Config> Pallet<T> {
	/// Every provider's recorded stake is exactly what is held for it, no provider uses more
	/// than its capacity, bytes and shard counts agree, and the provider count matches the map.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut count = 0u32;
		for (who, info) in Providers::<T>::iter() {
			count = count.saturating_add(1);
			let held = T::Currency::balance_on_hold(&HoldReason::ProviderStake.into(), &who);
			ensure!(held == info.stake, "a provider's held stake differs from its record");
			ensure!(info.used <= info.capacity, "a provider uses more than its capacity");
			ensure!(
				(info.used == 0) == (info.shards == 0),
				"a provider's stored bytes and shard count disagree"
			);
		}
		ensure!(ProviderCount::<T>::get() == count, "the provider count differs from the map");
		Ok(())
	}
}
