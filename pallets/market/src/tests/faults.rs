//! Faults: missed periods are slashed exactly once, lost shards are repaired, the sweep is bounded.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

use super::*;
use crate::{Error, Sweep};

/// 10 % of the provider stake.
const SLICE: Balance = PROVIDER_STAKE / 10;

#[test]
fn a_missed_period_slashes_the_buyer_exactly_once() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		prove(id, 0, 1);
		prove(id, 1, 1);
		// Shard 2 misses period 1; period 2 opens and the sweep settles period 1.
		run_to_block(period_start(2));
		assert_eq!(slashes(), vec![(provider(2), SLICE, BUYER)]);
		assert_eq!(stake_of(provider(2)), PROVIDER_STAKE - SLICE);
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - 3 * 100_000 + SLICE);
		assert!(market_events().contains(&Event::ShardFaulted {
			contract: id,
			shard: 2,
			provider: provider(2),
			missed: 1,
			through: 1,
			slashed: SLICE
		}));
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(2)).unwrap().faults, 1);
		// More blocks, a proof that settles earlier periods, and the owner's early end do not
		// count period 1 again.
		run_to_block(period_start(2) + 5);
		prove(id, 2, 2);
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), id));
		assert_eq!(slashes().len(), 1);
		assert_eq!(stake_of(provider(2)), PROVIDER_STAKE - SLICE);
	});
}

#[test]
fn a_proof_settles_the_periods_it_skipped_before_the_sweep_does() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		// Periods 1 and 2 pass without proofs of shard 0, and without the sweep settling them.
		open_period_3_unswept();
		prove(id, 0, 3);
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert_eq!(
			(shard.settled_through, shard.last_proven, shard.consecutive_faults),
			(2, Some(3), 0)
		);
		// Two missed periods: two slices (of the stake at the time), in one slash.
		assert_eq!(slashes(), vec![(provider(0), 2 * SLICE, BUYER)]);
		// The sweep afterwards settles shards 1 and 2 but not shard 0's periods again.
		run_to_block(period_start(3) + 1);
		Sweep::<Test>::put(crate::SweepState { started_in: 3, last_visited: None });
		run_to_block(period_start(3) + 2);
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(0)).count(), 1);
		assert_eq!(slashes().len(), 3);
	});
}

#[test]
fn consecutive_faults_lose_the_shard_and_repair_pays_the_new_provider_from_escrow() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		for period in 1..=MAX_FAULTS {
			run_to_block(period_start(period));
			prove(id, 0, period);
			prove(id, 1, period);
		}
		// Shard 2 missed periods 1..=MAX_FAULTS; the last one is settled when the next opens.
		run_to_block(period_start(MAX_FAULTS + 1));
		let shard = Contracts::<Test>::get(id).unwrap().shards[2].clone();
		assert_eq!(shard.status, ShardStatus::Lost);
		assert!(market_events().contains(&Event::ShardLost {
			contract: id,
			shard: 2,
			provider: provider(2)
		}));
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(2)).unwrap().used, 0);
		assert_eq!(slashes().len(), MAX_FAULTS as usize);
		// A lost shard is neither proven nor faulted any more.
		assert_noop!(
			Market::submit_proof(
				RuntimeOrigin::signed(provider(2)),
				id,
				2,
				MAX_FAULTS + 1,
				valid_proof(provider(2), id, 2, MAX_FAULTS + 1)
			),
			Error::<Test>::ShardNotActive
		);
		// Repair: the owner reassigns it; the new provider confirms and is paid per proof.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 2, provider(6)));
		assert!(Contracts::<Test>::get(id).unwrap().shards[2].repair);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(6)), id, 2));
		assert!(market_events().contains(&Event::ShardRepaired {
			contract: id,
			shard: 2,
			provider: provider(6)
		}));
		let escrow_before = Contracts::<Test>::get(id).unwrap().escrow;
		run_to_block(period_start(MAX_FAULTS + 2));
		let balance_before = Balances::balance(&provider(6));
		prove(id, 2, MAX_FAULTS + 2);
		let payment = PROVIDER_PRICE * SHARD_BYTES as Balance * PROVING_PERIOD as Balance;
		assert_eq!(Balances::balance(&provider(6)), balance_before + payment);
		// Shards 0 and 1 missed period MAX_FAULTS + 1 meanwhile; only the repair was paid here.
		assert_eq!(Contracts::<Test>::get(id).unwrap().escrow, escrow_before - payment);
		assert_eq!(slashes().len(), MAX_FAULTS as usize + 2);
	});
}

#[test]
fn the_sweep_visits_a_bounded_number_of_contracts_per_block() {
	ExtBuilder::default().build_and_execute(|| {
		let ids: Vec<_> = (0..5).map(|_| create_confirmed_contract_of(OTHER_BUYER)).collect();
		run_to_block(period_start(2) - 1);
		assert!(slashes().is_empty());
		// Period 2 opens: period 1 was missed by all 15 shards. Two contracts per block.
		run_to_block(period_start(2));
		assert_eq!(slashes().len(), 2 * 3);
		run_to_block(period_start(2) + 1);
		assert_eq!(slashes().len(), 4 * 3);
		run_to_block(period_start(2) + 2);
		assert_eq!(slashes().len(), 5 * 3);
		assert!(Sweep::<Test>::get().is_none());
		run_to_block(period_start(2) + 5);
		assert_eq!(slashes().len(), 5 * 3);
		for id in ids {
			assert!(Contracts::<Test>::get(id)
				.unwrap()
				.shards
				.iter()
				.all(|shard| shard.settled_through == 1));
		}
	});
}

#[test]
fn a_sweep_pass_that_spans_a_period_end_starts_over() {
	ExtBuilder::default().build_and_execute(|| {
		let _ids: Vec<_> = (0..5).map(|_| create_confirmed_contract_of(OTHER_BUYER)).collect();
		run_to_block(period_start(2));
		// The pass for period 1 is still running when period 3 opens.
		System::set_block_number(period_start(3));
		crate::Pallet::<Test>::open_period_if_due(period_start(3));
		assert_eq!(Sweep::<Test>::get().map(|state| state.started_in), Some(2));
		run_to_block(period_start(4) - 1);
		// Every shard faulted for periods 1 and 2, each period counted once.
		let missed: u32 = market_events()
			.iter()
			.filter_map(|e| match e {
				Event::ShardFaulted { missed, .. } => Some(*missed),
				_ => None,
			})
			.sum();
		assert_eq!(missed, 15 * 2);
	});
}

/// Moves from period 1 to the start of period 3 with the sweep stopped, so that periods 1 and
/// 2 are left unsettled.
fn open_period_3_unswept() {
	run_to_block(period_start(1));
	Sweep::<Test>::kill();
	System::set_block_number(period_start(3));
	crate::Pallet::<Test>::open_period_if_due(period_start(2));
	crate::Pallet::<Test>::open_period_if_due(period_start(3));
	Sweep::<Test>::kill();
}

fn create_confirmed_contract_of(owner: AccountId) -> ContractId {
	let id = crate::NextContractId::<Test>::get();
	assert_ok!(Market::create_contract(
		RuntimeOrigin::signed(owner),
		specs(3, SHARD_BYTES),
		2,
		1,
		providers(3, 3),
		DURATION,
		PROVIDER_PRICE
	));
	for n in 0..3 {
		assert_ok!(Market::confirm_shard(
			RuntimeOrigin::signed(provider(3 + n)),
			id,
			n as ShardIndex
		));
	}
	id
}

#[test]
fn a_reported_loss_costs_one_fault_and_the_shard_is_repaired_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1) + 2);
		prove(id, 0, 1);
		assert_ok!(Market::report_lost(RuntimeOrigin::signed(provider(2)), id, 2));
		let shard = Contracts::<Test>::get(id).unwrap().shards[2].clone();
		assert_eq!(shard.status, ShardStatus::Lost);
		assert_eq!(slashes(), vec![(provider(2), SLICE, BUYER)]);
		let events = market_events();
		let reported =
			Event::LossReported { contract: id, shard: 2, provider: provider(2), slashed: SLICE };
		let lost = Event::ShardLost { contract: id, shard: 2, provider: provider(2) };
		let at = events.iter().position(|e| *e == reported).expect("LossReported");
		assert_eq!(events.get(at + 1), Some(&lost));
		let info = pallet_providers::Providers::<Test>::get(provider(2)).unwrap();
		assert_eq!((info.used, info.faults), (0, 1));
		// Nothing more is owed for the lost shard, and it cannot be reported twice.
		assert_noop!(
			Market::report_lost(RuntimeOrigin::signed(provider(2)), id, 2),
			Error::<Test>::ShardNotActive
		);
		run_to_block(period_start(3));
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(2)).count(), 1);
		// The owner repairs it in the same period.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 2, provider(6)));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(6)), id, 2));
		assert!(market_events().contains(&Event::ShardRepaired {
			contract: id,
			shard: 2,
			provider: provider(6)
		}));
	});
}

#[test]
fn a_report_settles_the_missed_periods_before_it() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		// Shard 1 misses periods 1 and 2, unsettled by the sweep, then is reported.
		open_period_3_unswept();
		assert_ok!(Market::report_lost(RuntimeOrigin::signed(provider(1)), id, 1));
		let shard = Contracts::<Test>::get(id).unwrap().shards[1].clone();
		assert_eq!((shard.status, shard.settled_through), (ShardStatus::Lost, 2));
		// Two missed periods, then the report: three faults in all.
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(1)).unwrap().faults, 3);
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(1)).count(), 2);
	});
}

#[test]
fn only_the_provider_of_an_active_shard_reports_it_lost() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		assert_noop!(
			Market::report_lost(RuntimeOrigin::signed(provider(0)), id + 1, 0),
			Error::<Test>::ContractNotFound
		);
		assert_noop!(
			Market::report_lost(RuntimeOrigin::signed(provider(0)), id, 7),
			Error::<Test>::ShardNotFound
		);
		assert_noop!(
			Market::report_lost(RuntimeOrigin::signed(provider(1)), id, 0),
			Error::<Test>::NotShardProvider
		);
		// Still pending: nothing to lose yet.
		assert_noop!(
			Market::report_lost(RuntimeOrigin::signed(provider(0)), id, 0),
			Error::<Test>::ShardNotActive
		);
		assert_noop!(
			Market::report_lost(RuntimeOrigin::none(), id, 0),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}
