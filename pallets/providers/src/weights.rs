//! Weights of `pallet_providers`, from its benchmarks run by the node in the WASM runtime (built with
//! `--features runtime-benchmarks`); database reads and writes are counted by the benchmarks
//! and priced with the runtime's database weights.
//!
//! Written by `scripts/benchmark-weights.sh` (frame-benchmarking-cli 64.0.0) on 2026-12-05 on
//! AMD EPYC (20 steps, 10 repeats, Compiled WASM
//! execution), with:
//!
//! ```text
//! cairn-node benchmark pallet --chain dev --pallet pallet_providers --extrinsic * --steps 20 --repeat 10 --wasm-execution compiled --template scripts/benchmark/weights.hbs --output pallets/providers/src/weights.rs
//! ```

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

/// Weights for `pallet_providers` with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Providers::ProviderCount` (r:1 w:1)
	/// Proof: `Providers::ProviderCount` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// The range of component `a` is `[0, 8]`.
	fn register_provider(a: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `180`
		//  Estimated: `4685`
		// Minimum execution time: 78_156_000 picoseconds.
		Weight::from_parts(82_059_979, 4685)
			// Standard Error: 5_767
			.saturating_add(Weight::from_parts(642_846, 0).saturating_mul(a.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// The range of component `a` is `[0, 8]`.
	fn update_provider(a: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1274`
		//  Estimated: `4685`
		// Minimum execution time: 20_500_000 picoseconds.
		Weight::from_parts(22_458_305, 4685)
			// Standard Error: 2_405
			.saturating_add(Weight::from_parts(496_642, 0).saturating_mul(a.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	fn add_stake() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1503`
		//  Estimated: `4685`
		// Minimum execution time: 83_465_000 picoseconds.
		Weight::from_parts(87_500_000, 4685)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	fn begin_exit() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1274`
		//  Estimated: `4685`
		// Minimum execution time: 21_782_000 picoseconds.
		Weight::from_parts(23_855_000, 4685)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Providers::ProviderCount` (r:1 w:1)
	/// Proof: `Providers::ProviderCount` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn withdraw() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1507`
		//  Estimated: `4685`
		// Minimum execution time: 73_349_000 picoseconds.
		Weight::from_parts(77_194_000, 4685)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

/// The same weights with RocksDB's database weights, for tests.
impl WeightInfo for () {
	fn register_provider(a: u32, ) -> Weight {
		Weight::from_parts(82_059_979, 4685)
			.saturating_add(Weight::from_parts(642_846, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn update_provider(a: u32, ) -> Weight {
		Weight::from_parts(22_458_305, 4685)
			.saturating_add(Weight::from_parts(496_642, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn add_stake() -> Weight {
		Weight::from_parts(87_500_000, 4685)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn begin_exit() -> Weight {
		Weight::from_parts(23_855_000, 4685)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(77_194_000, 4685)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
}
