//! Benchmarks of every call, the period opening and the fault sweep (frame-benchmarking v2).
//!
//! Each case sets up its worst case: the largest contracts, and faults to slash where a call
//! settles finished periods.

use super::*;
use crate::{BenchmarkHelper, Pallet as Market};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_providers::{ProviderRegistry, TIB};
use sp_runtime::{traits::Saturating, SaturatedConversion};

const SHARD_BYTES: u64 = 1 << 20;
const SEED: u32 = 0;

fn buyer<T: Config>(index: u32) -> T::AccountId {
	let who: T::AccountId = account("buyer", index, SEED);
	T::Currency::set_balance(&who, (1u64 << 60).saturated_into());
	who
}

fn providers<T: Config>(count: u32) -> Vec<T::AccountId> {
	providers_from::<T>(0, count)
}

/// Providers number `first` to `first + count - 1`, registered.
fn providers_from<T: Config>(first: u32, count: u32) -> Vec<T::AccountId> {
	(first..first + count)
		.map(|index| {
			let who: T::AccountId = account("provider", index, SEED);
			if !T::Providers::is_active(&who) {
				T::Providers::register_for_benchmark(&who, TIB, 1u32.into())
					.expect("a funded account registers as a provider");
			}
			who
		})
		.collect()
}

fn root<T: Config>(index: u32) -> [u8; 32] {
	T::BenchmarkHelper::shard_root(index, SHARD_BYTES)
}

fn duration<T: Config>() -> BlockNumberFor<T> {
	T::MaxContractDuration::get().min(10_000u32.into())
}

fn ensure_period<T: Config>() {
	// The helper's key, whatever genesis installed: its proofs verify only under it. In force
	// for every period from now on, as if set at genesis.
	let key = T::BenchmarkHelper::verifying_key();
	if VerifyingKey::<T>::get().as_slice() != key.as_slice() {
		VerifyingKey::<T>::put(VerifyingKeyOf::<T>::truncate_from(key));
		VerifyingKeySince::<T>::put(CurrentPeriod::<T>::get().map_or(0, |current| current + 1));
	}
	if CurrentPeriod::<T>::get().is_none() {
		if ProvingPeriod::<T>::get() == 0u32.into() {
			ProvingPeriod::<T>::put(BlockNumberFor::<T>::from(10u32));
		}
		Market::<T>::open_period_if_due(frame_system::Pallet::<T>::block_number());
	}
}

/// Open periods until the current one's first due proofs are those of a period whose grace
/// is over: the period after the one the shards were confirmed in, and its grace, pass.
fn past_the_first_grace<T: Config>() {
	for _ in 0..(2 + GRACE_PERIODS) {
		next_period::<T>();
	}
}

/// Move to the first block of the next period and open it (without sweeping).
fn next_period<T: Config>() {
	let current = CurrentPeriod::<T>::get().expect("a period is open");
	let info = Periods::<T>::get(current).expect("the current period is recorded");
	let start = info.start.saturating_add(info.length);
	frame_system::Pallet::<T>::set_block_number(start);
	Market::<T>::open_period_if_due(start);
}

/// A contract from the first buyer with one shard on each of `chosen`, none confirmed yet.
fn pending_contract<T: Config>(
	chosen: &[T::AccountId],
) -> Result<ContractId, sp_runtime::DispatchError> {
	ensure_period::<T>();
	let id = NextContractId::<T>::get();
	let count = chosen.len() as u32;
	let specs: Vec<ShardSpec> = (0..count)
		.map(|index| ShardSpec { root: root::<T>(index), blake3: [7; 32], bytes: SHARD_BYTES })
		.collect();
	Market::<T>::create_contract(
		RawOrigin::Signed(buyer::<T>(0)).into(),
		BoundedVec::truncate_from(specs),
		1,
		(count - 1) as u8,
		BoundedVec::truncate_from(chosen.to_vec()),
		duration::<T>(),
		1u32.into(),
		full_manifest::<T>(),
	)?;
	Ok(id)
}

/// The largest manifest a contract may carry: every contract the benchmarks make has one, so
/// that its storage is counted where it costs the most.
fn full_manifest<T: Config>() -> ManifestOf<T> {
	BoundedVec::truncate_from(alloc::vec![7; T::MaxManifestBytes::get() as usize])
}

/// A contract of `shards` shards from `owner` on `chosen` (one shard each), all confirmed, and
/// each with payments that its faults may give back to the owner.
fn confirmed_contract<T: Config>(owner: &T::AccountId, chosen: &[T::AccountId]) -> ContractId {
	let id = NextContractId::<T>::get();
	let count = chosen.len() as u32;
	let specs: Vec<ShardSpec> = (0..count)
		.map(|index| ShardSpec { root: root::<T>(index), blake3: [7; 32], bytes: SHARD_BYTES })
		.collect();
	Market::<T>::create_contract(
		RawOrigin::Signed(owner.clone()).into(),
		BoundedVec::truncate_from(specs),
		1,
		(count - 1) as u8,
		BoundedVec::truncate_from(chosen.to_vec()),
		duration::<T>(),
		1u32.into(),
		full_manifest::<T>(),
	)
	.expect("funded buyer and active providers open a contract");
	for (index, provider) in chosen.iter().enumerate() {
		Market::<T>::confirm_shard(RawOrigin::Signed(provider.clone()).into(), id, index as u32)
			.expect("the assigned provider confirms in time");
	}
	// As if earlier periods had been paid: a fault then compensates the owner (a transfer) as
	// well as burning the rest of the slash, its worst case.
	Contracts::<T>::mutate(id, |maybe_contract| {
		if let Some(contract) = maybe_contract {
			for shard in contract.shards.iter_mut() {
				shard.refundable = (1u64 << 40).saturated_into();
			}
		}
	});
	id
}

/// The largest confirmed contract whose first due period finished without proofs and is past
/// its grace, so that it is settled (a fault per shard) by whatever comes next. Returns its
/// providers and its id.
fn contract_with_a_missed_period<T: Config>() -> (Vec<T::AccountId>, ContractId) {
	ensure_period::<T>();
	let owner = buyer::<T>(0);
	let chosen = providers::<T>(T::MaxShards::get());
	let id = confirmed_contract::<T>(&owner, &chosen);
	past_the_first_grace::<T>();
	(chosen, id)
}

fn valid_proof<T: Config>(
	provider: &T::AccountId,
	contract: ContractId,
	shard: ShardIndex,
	period: PeriodIndex,
) -> ProofOf<T> {
	let inputs = Market::<T>::public_inputs_for(provider, contract, shard, period)
		.expect("the shard is due in this period");
	let proof = T::BenchmarkHelper::valid_proof(&Market::<T>::verifying_key_for(period), &inputs);
	BoundedVec::truncate_from(proof)
}

/// `n` one-shard contracts on one provider, due in the current period (their first due period
/// past its grace). Returns the provider, the contracts and the period.
fn shards_due<T: Config>(n: u32) -> (T::AccountId, Vec<ContractId>, PeriodIndex) {
	ensure_period::<T>();
	let owner = buyer::<T>(0);
	let chosen = providers::<T>(1);
	let ids = (0..n).map(|_| confirmed_contract::<T>(&owner, &chosen)).collect();
	past_the_first_grace::<T>();
	let period = CurrentPeriod::<T>::get().expect("a period is open");
	(chosen[0].clone(), ids, period)
}

/// A batch claiming `period` for shard 0 of each of `ids`, each with a valid proof of `proven`.
fn batch_of<T: Config>(
	prover: &T::AccountId,
	ids: &[ContractId],
	period: PeriodIndex,
	proven: PeriodIndex,
) -> ProofBatchOf<T> {
	let batch = ids
		.iter()
		.map(|id| ProofSubmission {
			contract: *id,
			shard: 0,
			period,
			proof: valid_proof::<T>(prover, *id, 0, proven),
		})
		.collect();
	BoundedVec::truncate_from(batch)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_contract(s: Linear<1, { T::MaxShards::get() }>) {
		ensure_period::<T>();
		let owner = buyer::<T>(0);
		let chosen = providers::<T>(s);
		let specs: Vec<ShardSpec> = (0..s)
			.map(|index| ShardSpec { root: root::<T>(index), blake3: [7; 32], bytes: SHARD_BYTES })
			.collect();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			BoundedVec::truncate_from(specs),
			1,
			(s - 1) as u8,
			BoundedVec::truncate_from(chosen),
			duration::<T>(),
			1u32.into(),
			full_manifest::<T>(),
		);
		let id = NextContractId::<T>::get().saturating_sub(1);
		assert!(Contracts::<T>::contains_key(id) && Manifests::<T>::contains_key(id));
	}

	#[benchmark]
	fn confirm_shard() -> Result<(), BenchmarkError> {
		let chosen = providers::<T>(T::MaxShards::get());
		let id = pending_contract::<T>(&chosen)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(chosen[0].clone()), id, 0);
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].status == ShardStatus::Active));
		Ok(())
	}

	#[benchmark]
	fn reassign_shard() -> Result<(), BenchmarkError> {
		let owner = buyer::<T>(0);
		let max = T::MaxShards::get();
		let chosen = providers::<T>(max + 1);
		let id = pending_contract::<T>(&chosen[..max as usize])?;
		let late = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ConfirmWindow::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(late);
		let replacement = chosen[max as usize].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 0, replacement.clone());
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].provider == replacement));
		Ok(())
	}

	#[benchmark]
	fn decline_shard() -> Result<(), BenchmarkError> {
		let chosen = providers::<T>(T::MaxShards::get());
		let id = pending_contract::<T>(&chosen)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(chosen[0].clone()), id, 0);
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].status == ShardStatus::Vacant));
		Ok(())
	}

	#[benchmark]
	fn report_lost() {
		// The report settles the unproven period, then counts its own fault.
		let (chosen, id) = contract_with_a_missed_period::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(chosen[0].clone()), id, 0);
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].status == ShardStatus::Lost));
	}

	#[benchmark]
	fn end_contract(s: Linear<1, { T::MaxShards::get() }>) {
		ensure_period::<T>();
		let owner = buyer::<T>(0);
		let id = confirmed_contract::<T>(&owner, &providers::<T>(s));
		// One finished period without proofs: ending settles a fault per shard.
		past_the_first_grace::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);
		assert!(!Contracts::<T>::contains_key(id));
	}

	#[benchmark]
	fn extend_contract(s: Linear<1, { T::MaxShards::get() }>) {
		ensure_period::<T>();
		let owner = buyer::<T>(0);
		let id = confirmed_contract::<T>(&owner, &providers::<T>(s));
		// The worst case: every provider asks more than agreed, so every shard is repriced.
		Contracts::<T>::mutate(id, |maybe_contract| {
			if let Some(contract) = maybe_contract {
				for shard in contract.shards.iter_mut() {
					shard.price_per_byte_block = 0u32.into();
				}
			}
		});
		// A period later, so that one more block stays within the longest term.
		next_period::<T>();
		let end = Contracts::<T>::get(id).map(|c| c.end).expect("the contract exists");
		let blocks: BlockNumberFor<T> = 1u32.into();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, blocks, 1u32.into());
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.end == end.saturating_add(blocks)
			&& c.shards.iter().all(|shard| shard.price_per_byte_block == 1u32.into())));
	}

	#[benchmark]
	fn submit_proof() {
		// The proof also settles the skipped period: a fault and a slash.
		let (chosen, id) = contract_with_a_missed_period::<T>();
		let period = CurrentPeriod::<T>::get().expect("a period is open");
		let proof = valid_proof::<T>(&chosen[0], id, 0, period);
		#[extrinsic_call]
		_(RawOrigin::Signed(chosen[0].clone()), id, 0, period, proof);
		assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].last_proven == Some(period)));
	}

	#[benchmark]
	fn submit_proofs(n: Linear<1, { T::MaxProofsPerBatch::get() }>) {
		let (prover, ids, period) = shards_due::<T>(n);
		let batch = batch_of::<T>(&prover, &ids, period, period);
		#[extrinsic_call]
		_(RawOrigin::Signed(prover), batch);
		for id in ids {
			assert!(
				Contracts::<T>::get(id).is_some_and(|c| c.shards[0].last_proven == Some(period))
			);
		}
	}

	/// The worst case of a batch: every proof passes the checks from storage (as the pool's
	/// [`crate::PrioritizeProofs`] does) but none verifies, so the batch check fails and each
	/// proof is verified on its own.
	#[benchmark]
	fn submit_proofs_all_invalid(n: Linear<1, { T::MaxProofsPerBatch::get() }>) {
		let (prover, ids, period) = shards_due::<T>(n);
		// Valid proofs of the period before: well-formed, the right length, and wrong here.
		let batch = batch_of::<T>(&prover, &ids, period, period - 1);
		#[extrinsic_call]
		submit_proofs(RawOrigin::Signed(prover), batch);
		for id in ids {
			assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards[0].proofs == 0));
		}
	}

	#[benchmark]
	fn set_proving_period() {
		#[extrinsic_call]
		_(RawOrigin::Root, 7u32.into());
		assert_eq!(ProvingPeriod::<T>::get(), 7u32.into());
	}

	#[benchmark]
	fn set_verifying_key() {
		// The key is decoded and its points checked: the runtime's real key.
		let key = T::BenchmarkHelper::verifying_key();
		#[extrinsic_call]
		_(RawOrigin::Root, BoundedVec::truncate_from(key.clone()));
		assert_eq!(NextVerifyingKey::<T>::get().map(|next| next.to_vec()), Some(key));
	}

	#[benchmark]
	fn open_period() {
		ensure_period::<T>();
		let current = CurrentPeriod::<T>::get().expect("a period is open");
		let info = Periods::<T>::get(current).expect("the current period is recorded");
		let start = info.start.saturating_add(info.length);
		frame_system::Pallet::<T>::set_block_number(start);
		Sweep::<T>::kill();
		#[block]
		{
			Market::<T>::open_period_if_due(start);
		}
		assert_eq!(CurrentPeriod::<T>::get(), Some(current + 1));
	}

	#[benchmark]
	/// Contracts at their worst: every one with the most shards, each on providers of its own
	/// (so that every slash reads and writes records no other contract's did), each faulted and
	/// slashed. One component only: a sweep's cost grows with the shards it settles (contracts
	/// × shards), which a sum of per-component slopes cannot weigh, and the pallet charges
	/// every contract visited as a contract of [`Config::MaxShards`] shards.
	fn sweep_contracts(c: Linear<1, { T::SweepContractsPerBlock::get() }>) {
		ensure_period::<T>();
		let owner = buyer::<T>(0);
		let shards = T::MaxShards::get();
		let ids: Vec<ContractId> = (0..c)
			.map(|n| confirmed_contract::<T>(&owner, &providers_from::<T>(n * shards, shards)))
			.collect();
		past_the_first_grace::<T>();
		let current = CurrentPeriod::<T>::get().expect("a period is open");
		let now = frame_system::Pallet::<T>::block_number();
		Sweep::<T>::put(SweepState::new(current, now));
		#[block]
		{
			Market::<T>::sweep_step(now, c);
		}
		for id in ids {
			assert!(Contracts::<T>::get(id).is_some_and(|c| c.shards.iter().all(|shard| shard
				.settled_through
				+ 1
				+ GRACE_PERIODS
				== current)));
		}
	}

	impl_benchmark_test_suite!(
		Market,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);

	/// Native execution times of the benchmarks in the mock runtime, printed next to a balance
	/// transfer measured the same way: the source of the figures in `weights.rs`.
	#[cfg(test)]
	mod timings {
		use super::SelectedBenchmark;
		use crate::mock::{Balances, ExtBuilder, RuntimeOrigin, Test, BUYER, OTHER_BUYER};

		/// The harness both pallets share.
		mod bench_timing {
			include!("../../bench_timing.rs");
		}

		#[test]
		#[ignore = "prints timings; run with --ignored --nocapture"]
		fn bench_timings() {
			let ext = || ExtBuilder::default().build();
			let baseline = bench_timing::call_ns(&ext, || {
				Balances::transfer_allow_death(RuntimeOrigin::signed(BUYER), OTHER_BUYER, 10)
					.expect("a funded account transfers");
			});
			let cases: [bench_timing::Case<SelectedBenchmark>; 14] = [
				("create_contract", || SelectedBenchmark::create_contract),
				("confirm_shard", || SelectedBenchmark::confirm_shard),
				("reassign_shard", || SelectedBenchmark::reassign_shard),
				("decline_shard", || SelectedBenchmark::decline_shard),
				("report_lost", || SelectedBenchmark::report_lost),
				("end_contract", || SelectedBenchmark::end_contract),
				("extend_contract", || SelectedBenchmark::extend_contract),
				("submit_proof", || SelectedBenchmark::submit_proof),
				("submit_proofs", || SelectedBenchmark::submit_proofs),
				("submit_proofs_all_invalid", || SelectedBenchmark::submit_proofs_all_invalid),
				("set_proving_period", || SelectedBenchmark::set_proving_period),
				("set_verifying_key", || SelectedBenchmark::set_verifying_key),
				("open_period", || SelectedBenchmark::open_period),
				("sweep_contracts", || SelectedBenchmark::sweep_contracts),
			];
			bench_timing::print_timings::<Test, _>(ext, &cases, "balances transfer", baseline);
		}
	}
}
