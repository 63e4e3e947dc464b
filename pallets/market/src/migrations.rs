//! The migration of the upgrade test's runtime (feature `upgrade-test`): contracts move from
//! the released runtime's keys (`Twox64Concat` of the id) to [`ContractsHasher`]'s. A chain
//! upgraded to that runtime keeps every contract, under keys the node was not built with, which
//! is what the test needs to show that the node reads the market only through the runtime API.

use alloc::vec::Vec;
use core::marker::PhantomData;

use frame_support::{
	storage::migration::storage_key_iter,
	traits::{Get, OnRuntimeUpgrade, PalletInfoAccess},
	weights::Weight,
	Twox64Concat,
};

use crate::{Config, ContractId, ContractOf, Contracts, Pallet};

/// Moves every contract from its `Twox64Concat` key to its [`crate::ContractsHasher`] key.
pub struct RekeyContracts<T>(PhantomData<T>);

impl<T: Config> OnRuntimeUpgrade for RekeyContracts<T> {
	fn on_runtime_upgrade() -> Weight {
		let pallet = <Pallet<T> as PalletInfoAccess>::name().as_bytes();
		// Drained whole before the first insert: old and new keys share the map's prefix.
		let contracts: Vec<(ContractId, ContractOf<T>)> =
			storage_key_iter::<ContractId, ContractOf<T>, Twox64Concat>(pallet, b"Contracts")
				.drain()
				.collect();
		let moved = contracts.len() as u64;
		for (id, contract) in contracts {
			Contracts::<T>::insert(id, contract);
		}
		T::DbWeight::get().reads_writes(moved, moved * 2)
	}
}
