//! Weights of `pallet_market`, from its benchmarks run by the node in the WASM runtime (built with
//! `--features runtime-benchmarks`); database reads and writes are counted by the benchmarks
//! and priced with the runtime's database weights.
//!
//! The proofs in them are real Groth16 proofs made by the node, so the verification the chain
//! runs is in the figures. `submit_proofs_all_invalid` is the worst case of a batch: every proof
//! passes the pool's checks and none verifies, so the batch check fails and each proof is then
//! verified on its own; `submit_proofs` is charged the larger of the two.
//!
//! Written by `scripts/benchmark-weights.sh` (frame-benchmarking-cli 64.0.0) on 2026-12-05 on
//! AMD EPYC (20 steps, 10 repeats, Compiled WASM
//! execution), with:
//!
//! ```text
//! cairn-node benchmark pallet --chain dev --pallet pallet_market --extrinsic * --steps 20 --repeat 10 --wasm-execution compiled --template scripts/benchmark/weights.hbs --output pallets/market/src/weights.rs
//! ```

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_market`.
pub trait WeightInfo {
	fn create_contract(s: u32, ) -> Weight;
	fn confirm_shard() -> Weight;
	fn reassign_shard() -> Weight;
	fn decline_shard() -> Weight;
	fn report_lost() -> Weight;
	fn end_contract(s: u32, ) -> Weight;
	fn extend_contract(s: u32, ) -> Weight;
	fn submit_proof() -> Weight;
	fn submit_proofs(n: u32, ) -> Weight;
	fn submit_proofs_all_invalid(n: u32, ) -> Weight;
	fn set_proving_period() -> Weight;
	fn set_verifying_key() -> Weight;
	fn open_period() -> Weight;
	fn sweep_contracts(c: u32, ) -> Weight;
}

/// Weights for `pallet_market` with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Providers::Providers` (r:32 w:32)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Market::NextContractId` (r:1 w:1)
	/// Proof: `Market::NextContractId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Market::Manifests` (r:0 w:1)
	/// Proof: `Market::Manifests` (`max_values`: None, `max_size`: Some(1042), added: 3517, mode: `MaxEncodedLen`)
	/// Storage: `Market::Contracts` (r:0 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// The range of component `s` is `[1, 32]`.
	fn create_contract(s: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `595 + s * (94 ±0)`
		//  Estimated: `3593 + s * (3695 ±0)`
		// Minimum execution time: 160_428_000 picoseconds.
		Weight::from_parts(146_367_154, 3593)
			// Standard Error: 130_241
			.saturating_add(Weight::from_parts(17_394_798, 0).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(s.into())))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	fn confirm_shard() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `5440`
		//  Estimated: `8788`
		// Minimum execution time: 34_051_000 picoseconds.
		Weight::from_parts(36_685_000, 8788)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:2 w:2)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	fn reassign_shard() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `6173`
		//  Estimated: `8788`
		// Minimum execution time: 65_677_000 picoseconds.
		Weight::from_parts(71_026_000, 8788)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	fn decline_shard() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `6051`
		//  Estimated: `8788`
		// Minimum execution time: 44_876_000 picoseconds.
		Weight::from_parts(47_981_000, 8788)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:2 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	fn report_lost() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `7119`
		//  Estimated: `8788`
		// Minimum execution time: 276_311_000 picoseconds.
		Weight::from_parts(288_129_000, 8788)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:1 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:32 w:32)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:33 w:33)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:33 w:33)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Market::Manifests` (r:0 w:1)
	/// Proof: `Market::Manifests` (`max_values`: None, `max_size`: Some(1042), added: 3517, mode: `MaxEncodedLen`)
	/// The range of component `s` is `[1, 32]`.
	fn end_contract(s: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `897 + s * (396 ±0)`
		//  Estimated: `8788 + s * (3695 ±0)`
		// Minimum execution time: 250_182_000 picoseconds.
		Weight::from_parts(155_036_577, 8788)
			// Standard Error: 96_437
			.saturating_add(Weight::from_parts(117_105_147, 0).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(s.into())))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:1 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:32 w:0)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// The range of component `s` is `[1, 32]`.
	fn extend_contract(s: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `951 + s * (251 ±0)`
		//  Estimated: `8788 + s * (3695 ±0)`
		// Minimum execution time: 108_111_000 picoseconds.
		Weight::from_parts(107_238_708, 8788)
			// Standard Error: 7_234
			.saturating_add(Weight::from_parts(7_964_729, 0).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	/// Storage: `Market::Contracts` (r:1 w:1)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:2 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKeySince` (r:1 w:0)
	/// Proof: `Market::VerifyingKeySince` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKey` (r:1 w:0)
	/// Proof: `Market::VerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:2 w:2)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	fn submit_proof() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `7687`
		//  Estimated: `17873`
		// Minimum execution time: 3_032_151_000 picoseconds.
		Weight::from_parts(3_347_290_000, 17873)
			.saturating_add(T::DbWeight::get().reads(11_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Market::Contracts` (r:16 w:16)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:2 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKeySince` (r:1 w:0)
	/// Proof: `Market::VerifyingKeySince` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKey` (r:1 w:0)
	/// Proof: `Market::VerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:1 w:1)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:2 w:2)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[1, 16]`.
	fn submit_proofs(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1776 + n * (52 ±0)`
		//  Estimated: `17873 + n * (7798 ±0)`
		// Minimum execution time: 3_281_501_000 picoseconds.
		Weight::from_parts(2_395_969_060, 17873)
			// Standard Error: 12_983_614
			.saturating_add(Weight::from_parts(845_717_599, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7798).saturating_mul(n.into()))
	}
	/// Storage: `Market::Contracts` (r:16 w:0)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:1 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKeySince` (r:1 w:0)
	/// Proof: `Market::VerifyingKeySince` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKey` (r:1 w:0)
	/// Proof: `Market::VerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[1, 16]`.
	fn submit_proofs_all_invalid(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1117 + n * (52 ±0)`
		//  Estimated: `17873 + n * (7798 ±0)`
		// Minimum execution time: 4_916_534_000 picoseconds.
		Weight::from_parts(2_610_069_225, 17873)
			// Standard Error: 15_516_668
			.saturating_add(Weight::from_parts(2_660_719_064, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7798).saturating_mul(n.into()))
	}
	/// Storage: `Market::ProvingPeriod` (r:0 w:1)
	/// Proof: `Market::ProvingPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn set_proving_period() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `0`
		// Minimum execution time: 7_281_000 picoseconds.
		Weight::from_parts(8_282_000, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::NextVerifyingKey` (r:0 w:1)
	/// Proof: `Market::NextVerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	fn set_verifying_key() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `126`
		//  Estimated: `1489`
		// Minimum execution time: 2_248_615_000 picoseconds.
		Weight::from_parts(2_349_626_000, 1489)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Market::CurrentPeriod` (r:1 w:1)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:1 w:1)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Market::ProvingPeriod` (r:1 w:0)
	/// Proof: `Market::ProvingPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Babe::AuthorVrfRandomness` (r:1 w:0)
	/// Proof: `Babe::AuthorVrfRandomness` (`max_values`: Some(1), `max_size`: Some(33), added: 528, mode: `MaxEncodedLen`)
	/// Storage: `System::ParentHash` (r:1 w:0)
	/// Proof: `System::ParentHash` (`max_values`: Some(1), `max_size`: Some(32), added: 527, mode: `MaxEncodedLen`)
	/// Storage: `Market::NextVerifyingKey` (r:1 w:0)
	/// Proof: `Market::NextVerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	/// Storage: `Market::VerifyingKey` (r:1 w:0)
	/// Proof: `Market::VerifyingKey` (`max_values`: Some(1), `max_size`: Some(16388), added: 16883, mode: `MaxEncodedLen`)
	/// Storage: `Market::Sweep` (r:1 w:1)
	/// Proof: `Market::Sweep` (`max_values`: Some(1), `max_size`: Some(21), added: 516, mode: `MaxEncodedLen`)
	fn open_period() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `811`
		//  Estimated: `17873`
		// Minimum execution time: 29_524_000 picoseconds.
		Weight::from_parts(31_617_000, 17873)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Market::Sweep` (r:1 w:1)
	/// Proof: `Market::Sweep` (`max_values`: Some(1), `max_size`: Some(21), added: 516, mode: `MaxEncodedLen`)
	/// Storage: `Market::CurrentPeriod` (r:1 w:0)
	/// Proof: `Market::CurrentPeriod` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Market::Contracts` (r:17 w:16)
	/// Proof: `Market::Contracts` (`max_values`: None, `max_size`: Some(5323), added: 7798, mode: `MaxEncodedLen`)
	/// Storage: `Market::Periods` (r:1 w:0)
	/// Proof: `Market::Periods` (`max_values`: None, `max_size`: Some(53), added: 2528, mode: `MaxEncodedLen`)
	/// Storage: `Providers::Providers` (r:512 w:512)
	/// Proof: `Providers::Providers` (`max_values`: None, `max_size`: Some(1220), added: 3695, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:512 w:512)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:513 w:513)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// The range of component `c` is `[1, 16]`.
	fn sweep_contracts(c: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `336 + c * (12906 ±0)`
		//  Estimated: `8788 + c * (118240 ±0)`
		// Minimum execution time: 3_586_315_000 picoseconds.
		Weight::from_parts(3_616_210_000, 8788)
			// Standard Error: 21_974_985
			.saturating_add(Weight::from_parts(3_424_324_812, 0).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((97_u64).saturating_mul(c.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().writes((97_u64).saturating_mul(c.into())))
			.saturating_add(Weight::from_parts(0, 118240).saturating_mul(c.into()))
	}
}

/// The same weights with RocksDB's database weights, for tests.
impl WeightInfo for () {
	fn create_contract(s: u32, ) -> Weight {
		Weight::from_parts(146_367_154, 3593)
			.saturating_add(Weight::from_parts(17_394_798, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(s.into())))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(s.into())))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	fn confirm_shard() -> Weight {
		Weight::from_parts(36_685_000, 8788)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn reassign_shard() -> Weight {
		Weight::from_parts(71_026_000, 8788)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn decline_shard() -> Weight {
		Weight::from_parts(47_981_000, 8788)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn report_lost() -> Weight {
		Weight::from_parts(288_129_000, 8788)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn end_contract(s: u32, ) -> Weight {
		Weight::from_parts(155_036_577, 8788)
			.saturating_add(Weight::from_parts(117_105_147, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(s.into())))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	fn extend_contract(s: u32, ) -> Weight {
		Weight::from_parts(107_238_708, 8788)
			.saturating_add(Weight::from_parts(7_964_729, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(s.into())))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(Weight::from_parts(0, 3695).saturating_mul(s.into()))
	}
	fn submit_proof() -> Weight {
		Weight::from_parts(3_347_290_000, 17873)
			.saturating_add(RocksDbWeight::get().reads(11_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn submit_proofs(n: u32, ) -> Weight {
		Weight::from_parts(2_395_969_060, 17873)
			.saturating_add(Weight::from_parts(845_717_599, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(10_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7798).saturating_mul(n.into()))
	}
	fn submit_proofs_all_invalid(n: u32, ) -> Weight {
		Weight::from_parts(2_610_069_225, 17873)
			.saturating_add(Weight::from_parts(2_660_719_064, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7798).saturating_mul(n.into()))
	}
	fn set_proving_period() -> Weight {
		Weight::from_parts(8_282_000, 0)
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn set_verifying_key() -> Weight {
		Weight::from_parts(2_349_626_000, 1489)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn open_period() -> Weight {
		Weight::from_parts(31_617_000, 17873)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn sweep_contracts(c: u32, ) -> Weight {
		Weight::from_parts(3_616_210_000, 8788)
			.saturating_add(Weight::from_parts(3_424_324_812, 0).saturating_mul(c.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().reads((97_u64).saturating_mul(c.into())))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
			.saturating_add(RocksDbWeight::get().writes((97_u64).saturating_mul(c.into())))
			.saturating_add(Weight::from_parts(0, 118240).saturating_mul(c.into()))
	}
}
