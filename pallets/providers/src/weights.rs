//! Weights of `pallet-providers`.
//!
//! NOT YET GENERATED: these figures must be regenerated with the node's `benchmark pallet` command
//! (which `cairn-node` does not offer yet) on reference hardware, against the WASM runtime.
//!
//! Until then, the execution times below come from this pallet's own benchmarks run natively in
//! the mock runtime (`cargo test -p pallet-providers --release --features runtime-benchmarks
//! -- --ignored --nocapture bench_timings`; see `docs/PERFORMANCE.md`), rounded up, and the
//! database reads and writes are counted from what each benchmarked call touches. They are a
//! floor, not a calibration: WASM execution and a real database are slower.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_providers`.
pub trait WeightInfo {
	fn register_provider(a: u32, ) -> Weight;
	fn update_provider(a: u32, ) -> Weight;
	fn add_stake() -> Weight;
	fn begin_exit() -> Weight;
	fn withdraw() -> Weight;
}

/// Weights for `pallet_providers` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Providers::Providers` (r:1 w:1), `Balances::Holds` (r:1 w:1),
	/// `System::Account` (r:1 w:1), `Providers::ProviderCount` (r:1 w:1)
	fn register_provider(a: u32, ) -> Weight {
		Weight::from_parts(REGISTER_BASE, 3_000)
			.saturating_add(Weight::from_parts(REGISTER_PER_ADDR, 0).saturating_mul(a.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	fn update_provider(a: u32, ) -> Weight {
		Weight::from_parts(UPDATE_BASE, 1_500)
			.saturating_add(Weight::from_parts(UPDATE_PER_ADDR, 0).saturating_mul(a.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1), `Balances::Holds` (r:1 w:1),
	/// `System::Account` (r:1 w:1)
	fn add_stake() -> Weight {
		Weight::from_parts(ADD_STAKE, 3_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	fn begin_exit() -> Weight {
		Weight::from_parts(BEGIN_EXIT, 1_500)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1), `Balances::Holds` (r:1 w:1),
	/// `System::Account` (r:1 w:1), `Providers::ProviderCount` (r:1 w:1)
	fn withdraw() -> Weight {
		Weight::from_parts(WITHDRAW, 3_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

// Execution times in picoseconds: the native medians measured on 2026-11-24 (2 cores), rounded
// up; per-component slopes from the lowest and highest component values (see the header).
const REGISTER_BASE: u64 = 32_500_000;
const REGISTER_PER_ADDR: u64 = 250_000;
const UPDATE_BASE: u64 = 7_500_000;
const UPDATE_PER_ADDR: u64 = 300_000;
const ADD_STAKE: u64 = 27_500_000;
const BEGIN_EXIT: u64 = 6_600_000;
const WITHDRAW: u64 = 25_000_000;

// For tests and for runtimes without a database-weight configuration.
impl WeightInfo for () {
	fn register_provider(a: u32, ) -> Weight {
		Weight::from_parts(REGISTER_BASE, 3_000)
			.saturating_add(Weight::from_parts(REGISTER_PER_ADDR, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn update_provider(a: u32, ) -> Weight {
		Weight::from_parts(UPDATE_BASE, 1_500)
			.saturating_add(Weight::from_parts(UPDATE_PER_ADDR, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn add_stake() -> Weight {
		Weight::from_parts(ADD_STAKE, 3_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn begin_exit() -> Weight {
		Weight::from_parts(BEGIN_EXIT, 1_500)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(WITHDRAW, 3_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
}
