//! Weights of `pallet-market`.
//!
//! Not produced by the node's `benchmark pallet` command, which `cairn-node` does not offer yet.
//! The execution times below come from this pallet's own FRAME v2 benchmarks, run natively in the
//! mock runtime and printed next to a balance transfer measured the same way:
//!
//! ```text
//! cargo test -p pallet-market --release --features runtime-benchmarks -- --ignored --nocapture bench_timings
//! ```
//!
//! (medians of 101 runs on the 2-core reference machine, 2026-11-24; per-component slopes from
//! the lowest and highest component values), rounded up. Proof verification is measured in
//! them: the benchmarks submit real Groth16 proofs and the mock verifies them with the same
//! native code the node's host function runs (`crate::host`), the runtime's verifier. Database
//! reads and writes are counted from what each benchmarked call touches.

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
	fn sweep_contracts(c: u32, s: u32, ) -> Weight;
}

// Execution times in picoseconds (see the header).
/// Checked 2026-12-03 with a full (1 KiB) sealed manifest: 32,278 ns at one shard and 58,197 ns
/// at eight (a balance transfer took 38,487 ns in that run; 79,118 ns at eight in a noisier run
/// whose transfer took 44,587 ns), within what these constants charge.
const CREATE_BASE: u64 = 33_000_000;
const CREATE_PER_SHARD: u64 = 6_400_000;
const CONFIRM: u64 = 8_600_000;
const REASSIGN: u64 = 19_700_000;
/// Measured 2026-12-02 (4,036 ns; a balance transfer took 42,373 ns in that run).
const DECLINE: u64 = 4_100_000;
/// Measured 2026-12-02 (80,291 ns; a balance transfer took 44,604 ns in that run).
const REPORT_LOST: u64 = 80_300_000;
const END_BASE: u64 = 30_900_000;
const END_PER_SHARD: u64 = 36_100_000;
/// Measured 2026-12-03 (27,180 ns with one shard, 36,765 ns with eight; a balance transfer
/// took 52,017 ns in that run).
const EXTEND_BASE: u64 = 25_900_000;
const EXTEND_PER_SHARD: u64 = 1_400_000;
/// Includes one Groth16 verification (proof decoding with subgroup checks and four pairings).
const SUBMIT_PROOF: u64 = 4_180_000_000;
/// Includes one batch check (random linear combination, one multi-pairing).
const SUBMIT_PROOFS_BASE: u64 = 3_133_000_000;
/// One more proof in the batch: decoding, its share of the combination and payment.
const SUBMIT_PROOFS_PER_PROOF: u64 = 931_000_000;
/// A batch in which every proof passes the pool's checks and none verifies: the batch check
/// fails, then every proof is verified on its own. Measured 2026-12-02 (3,274,546 ns for one
/// proof, 18,245,287 ns for eight, against 2,817,184 and 5,963,489 ns for valid batches in the
/// same run; a balance transfer took 42,373 ns). The call is charged the larger of the two.
const SUBMIT_INVALID_BASE: u64 = 1_136_000_000;
const SUBMIT_INVALID_PER_PROOF: u64 = 2_139_000_000;
const SET_PROVING_PERIOD: u64 = 5_400_000;
/// Includes decoding the key and checking its points (measured 2026-12-02: 2,230,238 ns).
const SET_VERIFYING_KEY: u64 = 2_231_000_000;
const OPEN_PERIOD: u64 = 6_800_000;
const SWEEP_BASE: u64 = 1_000_000;
const SWEEP_PER_CONTRACT: u64 = 7_700_000;
const SWEEP_PER_SHARD: u64 = 32_800_000;

macro_rules! market_weights {
	($db:expr) => {
		fn create_contract(s: u32, ) -> Weight {
			// Per shard: provider (r:1 w:1). Contract, NextContractId, hold, account, and the
			// manifest (w:1, up to 1 KiB).
			Weight::from_parts(CREATE_BASE, 4_000)
				.saturating_add(Weight::from_parts(CREATE_PER_SHARD, 3_000).saturating_mul(s.into()))
				.saturating_add($db.reads(3_u64.saturating_add(s.into())))
				.saturating_add($db.writes(5_u64.saturating_add(s.into())))
		}
		fn confirm_shard() -> Weight {
			// Contract (r:1 w:1), CurrentPeriod (r:1).
			Weight::from_parts(CONFIRM, 8_000)
				.saturating_add($db.reads(2_u64))
				.saturating_add($db.writes(1_u64))
		}
		fn reassign_shard() -> Weight {
			// Contract (r:1 w:1), two providers (r:2 w:2).
			Weight::from_parts(REASSIGN, 12_000)
				.saturating_add($db.reads(3_u64))
				.saturating_add($db.writes(3_u64))
		}
		fn decline_shard() -> Weight {
			// Contract (r:1 w:1), the provider (r:1 w:1).
			Weight::from_parts(DECLINE, 8_000)
				.saturating_add($db.reads(2_u64))
				.saturating_add($db.writes(2_u64))
		}
		fn report_lost() -> Weight {
			// Contract (r:1 w:1), CurrentPeriod and Periods (r:2), the current period's Periods
			// (r:1); settling and the slash: the provider, its hold, the owner's account and the
			// total issuance (r:4 w:4).
			Weight::from_parts(REPORT_LOST, 8_000)
				.saturating_add($db.reads(8_u64))
				.saturating_add($db.writes(5_u64))
		}
		fn end_contract(s: u32, ) -> Weight {
			// Contract (r:1 w:1), the manifest (w:1), periods (r:2), hold and account (r:2 w:2);
			// per shard: provider
			// (r:1 w:1) and, for a fault, the provider's hold, the owner's account and the total
			// issuance (r:3 w:3).
			Weight::from_parts(END_BASE, 8_000)
				.saturating_add(Weight::from_parts(END_PER_SHARD, 3_000).saturating_mul(s.into()))
				.saturating_add($db.reads(5_u64.saturating_add(4_u64.saturating_mul(s.into()))))
				.saturating_add($db.writes(4_u64.saturating_add(4_u64.saturating_mul(s.into()))))
		}
		fn extend_contract(s: u32, ) -> Weight {
			// Contract (r:1 w:1), CurrentPeriod and Periods (r:2), hold and account (r:2 w:2);
			// per shard: the provider (r:1).
			Weight::from_parts(EXTEND_BASE, 8_000)
				.saturating_add(Weight::from_parts(EXTEND_PER_SHARD, 3_000).saturating_mul(s.into()))
				.saturating_add($db.reads(5_u64.saturating_add(s.into())))
				.saturating_add($db.writes(3_u64))
		}
		fn submit_proof() -> Weight {
			// Contract (r:2 w:1), CurrentPeriod, Periods (r:3), VerifyingKey (r:1), a skipped
			// period's slash (r:4 w:4, the total issuance included), payment: holds and
			// accounts (r:3 w:3).
			Weight::from_parts(SUBMIT_PROOF, 12_000)
				.saturating_add($db.reads(13_u64))
				.saturating_add($db.writes(8_u64))
		}
		fn submit_proofs(n: u32, ) -> Weight {
			Weight::from_parts(SUBMIT_PROOFS_BASE, 4_000)
				.saturating_add(Weight::from_parts(SUBMIT_PROOFS_PER_PROOF, 12_000).saturating_mul(n.into()))
				.saturating_add($db.reads(1_u64.saturating_add(12_u64.saturating_mul(n.into()))))
				.saturating_add($db.writes(8_u64.saturating_mul(n.into())))
		}
		fn submit_proofs_all_invalid(n: u32, ) -> Weight {
			// Per proof: contract (r:2), CurrentPeriod, Periods (r:2); VerifyingKeySince and the
			// key (r:2); no payment.
			Weight::from_parts(SUBMIT_INVALID_BASE, 4_000)
				.saturating_add(Weight::from_parts(SUBMIT_INVALID_PER_PROOF, 12_000).saturating_mul(n.into()))
				.saturating_add($db.reads(2_u64.saturating_add(4_u64.saturating_mul(n.into()))))
		}
		fn set_proving_period() -> Weight {
			Weight::from_parts(SET_PROVING_PERIOD, 0).saturating_add($db.writes(1_u64))
		}
		fn set_verifying_key() -> Weight {
			// CurrentPeriod (r:1), NextVerifyingKey (w:1); the key's points checked.
			Weight::from_parts(SET_VERIFYING_KEY, 0)
				.saturating_add($db.reads(1_u64))
				.saturating_add($db.writes(1_u64))
		}
		fn open_period() -> Weight {
			// CurrentPeriod, Periods, ProvingPeriod, Sweep, randomness (r:5), Periods x2,
			// CurrentPeriod, Sweep (w:4).
			Weight::from_parts(OPEN_PERIOD, 2_000)
				.saturating_add($db.reads(5_u64))
				.saturating_add($db.writes(4_u64))
		}
		fn sweep_contracts(c: u32, s: u32, ) -> Weight {
			// Sweep, CurrentPeriod (r:2 w:1); per contract: contract and periods (r:3 w:1); per
			// faulted shard: provider, its hold, the owner's account, the total issuance (r:4 w:4).
			let shards = u64::from(c).saturating_mul(s.into());
			Weight::from_parts(SWEEP_BASE, 1_000)
				.saturating_add(Weight::from_parts(SWEEP_PER_CONTRACT, 8_000).saturating_mul(c.into()))
				.saturating_add(Weight::from_parts(SWEEP_PER_SHARD, 3_000).saturating_mul(shards))
				.saturating_add($db.reads(2_u64.saturating_add(3_u64.saturating_mul(c.into())).saturating_add(4_u64.saturating_mul(shards))))
				.saturating_add($db.writes(1_u64.saturating_add(c.into()).saturating_add(4_u64.saturating_mul(shards))))
		}
	};
}

/// Weights for `pallet_market` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	market_weights!(T::DbWeight::get());
}

// For tests and for runtimes without a database-weight configuration.
impl WeightInfo for () {
	market_weights!(RocksDbWeight::get());
}
