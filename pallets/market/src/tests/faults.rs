//! Faults: missed periods are slashed exactly once and in proportion to the shard, the buyer
//! gets back no more than it paid, lost shards are repaired, the sweep is bounded.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};

use super::*;
use crate::{Error, Sweep};

/// The slash of one fault on a genesis provider's shard of `SHARD_BYTES`: `FaultSlash` (10 %) of
/// the stake that backs it, the stake's share for `SHARD_BYTES` of `PROVIDER_CAPACITY` (a
/// hundredth).
const SLICE: Balance = PROVIDER_STAKE * SHARD_BYTES as Balance / PROVIDER_CAPACITY as Balance / 10;

/// What a proof of one of the tests' shards pays for a whole period.
const PERIOD_PRICE: Balance = PROVIDER_PRICE * SHARD_BYTES as Balance * PROVING_PERIOD as Balance;

#[test]
fn a_missed_period_is_slashed_exactly_once() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		prove(id, 0, 1);
		prove(id, 1, 1);
		// Shard 2 misses period 1; its grace, period 2, passes; period 3 opens and the sweep
		// settles period 1.
		let issuance = Balances::total_issuance();
		run_to_block(period_start(3) - 1);
		assert!(slashes().is_empty());
		run_to_block(period_start(3));
		assert_eq!(slashes(), vec![(provider(2), SLICE, BUYER)]);
		assert_eq!(stake_of(provider(2)), PROVIDER_STAKE - SLICE);
		// The buyer has paid nothing for shard 2, so it gets nothing back: the slash is burned.
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - 3 * 100_000);
		assert_eq!(Balances::total_issuance(), issuance - SLICE);
		assert!(market_events().contains(&Event::ShardFaulted {
			contract: id,
			shard: 2,
			provider: provider(2),
			missed: 1,
			through: 1,
			slashed: SLICE,
			compensation: 0
		}));
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(2)).unwrap().faults, 1);
		// More blocks, a late proof of period 2 (in its grace) that settles earlier periods, and
		// the owner's early end do not count period 1 again.
		run_to_block(period_start(3) + 5);
		prove(id, 2, 2);
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), id));
		assert_eq!(slashes().len(), 1);
		assert_eq!(stake_of(provider(2)), PROVIDER_STAKE - SLICE);
	});
}

#[test]
fn a_proof_settles_the_periods_past_their_grace_before_the_sweep_does() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		// Periods 1 and 2 pass without proofs of shard 0, and without the sweep settling them.
		open_period_3_unswept();
		prove(id, 0, 3);
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		// Period 1 is past its grace and settled; period 2 may still be proven.
		assert_eq!(
			(shard.settled_through, shard.last_proven, shard.consecutive_faults),
			(1, Some(3), 0)
		);
		assert_eq!(slashes(), vec![(provider(0), SLICE, BUYER)]);
		prove(id, 0, 2);
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert!(shard.is_proven(2) && shard.is_proven(3) && !shard.is_proven(1));
		// The sweep afterwards settles shards 1 and 2 but not shard 0's period 1 again.
		run_to_block(period_start(3) + 1);
		Sweep::<Test>::put(crate::SweepState::new(3, System::block_number()));
		run_to_block(period_start(3) + 2);
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(0)).count(), 1);
		assert_eq!(slashes().len(), 3);
		// Periods 2 and 3 were proven (one late): settling them later faults nothing.
		run_to_block(period_start(5) + 2);
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(0)).count(), 1);
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert_eq!((shard.settled_through, shard.consecutive_faults), (3, 0));
	});
}

#[test]
fn a_fault_before_a_later_proof_does_not_count_toward_losing_the_shard() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		// Shard 0 misses period 1, proves period 2 during period 2, and period 1 is settled
		// afterwards: a fault, but not one in a row with the present.
		run_to_block(period_start(2));
		prove(id, 0, 2);
		run_to_block(period_start(3));
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert_eq!((shard.settled_through, shard.consecutive_faults), (1, 0));
		assert_eq!(slashes().iter().filter(|(who, ..)| *who == provider(0)).count(), 1);
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
		// Shard 2 missed periods 1..=MAX_FAULTS; the last one is settled when its grace is over.
		run_to_block(period_start(MAX_FAULTS + 2));
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
				MAX_FAULTS + 2,
				valid_proof(provider(2), id, 2, MAX_FAULTS + 2)
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
		run_to_block(period_start(MAX_FAULTS + 3));
		let balance_before = Balances::balance(&provider(6));
		prove(id, 2, MAX_FAULTS + 3);
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
		run_to_block(period_start(3) - 1);
		assert!(slashes().is_empty());
		// Period 3 opens: period 1 was missed by all 15 shards, and its grace is over. Two
		// contracts per block.
		run_to_block(period_start(3));
		assert_eq!(slashes().len(), 2 * 3);
		run_to_block(period_start(3) + 1);
		assert_eq!(slashes().len(), 4 * 3);
		run_to_block(period_start(3) + 2);
		assert_eq!(slashes().len(), 5 * 3);
		assert!(Sweep::<Test>::get().is_none());
		run_to_block(period_start(3) + 5);
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
		run_to_block(period_start(3));
		// The pass that settles period 1 is still running when period 4 opens.
		System::set_block_number(period_start(4));
		crate::Pallet::<Test>::open_period_if_due(period_start(4));
		assert_eq!(Sweep::<Test>::get().map(|state| state.started_in), Some(3));
		run_to_block(period_start(5) - 1);
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
		PROVIDER_PRICE,
		BoundedVec::new()
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
		let reported = Event::LossReported {
			contract: id,
			shard: 2,
			provider: provider(2),
			slashed: SLICE,
			compensation: 0,
		};
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
		// Period 1 is past its grace and settled; period 2, still in its grace, is not: the
		// report's own fault stands for it.
		assert_eq!((shard.status, shard.settled_through), (ShardStatus::Lost, 1));
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(1)).unwrap().faults, 2);
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

/// Register provider `n` (not one of the genesis providers) with `stake` and the genesis
/// providers' capacity and price.
fn register_provider_with_stake(n: u64, stake: Balance) -> AccountId {
	let who = provider(n);
	assert_ok!(Providers::register_provider(
		RuntimeOrigin::signed(who),
		stake,
		PROVIDER_CAPACITY,
		PROVIDER_PRICE,
		BoundedVec::truncate_from(b"peer".to_vec()),
		BoundedVec::new(),
	));
	who
}

#[test]
fn missing_a_period_on_a_hundred_shards_costs_a_proportional_slice() {
	ExtBuilder::default().build_and_execute(|| {
		let stake: Balance = 100_000_000;
		let who = register_provider_with_stake(8, stake);
		// A hundred one-shard contracts fill the provider's capacity.
		let ids: Vec<ContractId> = (0..100)
			.map(|_| {
				let id = crate::NextContractId::<Test>::get();
				assert_ok!(Market::create_contract(
					RuntimeOrigin::signed(BUYER),
					specs(1, SHARD_BYTES),
					1,
					0,
					providers(8, 1),
					30,
					PROVIDER_PRICE,
					BoundedVec::new()
				));
				assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(who), id, 0));
				id
			})
			.collect();
		assert_eq!(pallet_providers::Providers::<Test>::get(who).unwrap().used, PROVIDER_CAPACITY);
		let issuance = Balances::total_issuance();
		// No shard is proven in period 1. When period 3 opens (period 1's grace over) the sweep
		// settles two contracts; the owner ending the others settles theirs.
		run_to_block(period_start(3));
		for id in ids {
			assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), id));
		}
		assert_eq!(slashes().len(), 100);
		// Each fault takes `FaultSlash` (10 %) of the stake behind its shard, a hundredth of the
		// stake: a thousandth of what is left, rounded down. The hundred faults take 9_520_741,
		// 9.52 % of the stake: at most `FaultSlash` of it for missing a period on everything
		// stored. Slashing 10 % of the whole stake per shard took 1 − 0.9^100 = 99.997 % (and the
		// runtime's former 1 % per shard 1 − 0.99^100 = 63 %).
		let lost: Balance = 9_520_741;
		assert_eq!(stake_of(who), stake - lost);
		assert!(lost <= stake / 10);
		// The buyer paid nothing for the missed period: the whole slash was burned.
		assert_eq!(Balances::total_issuance(), issuance - lost);
	});
}

#[test]
fn contracts_with_oneself_give_back_no_more_than_was_paid() {
	ExtBuilder::default().build_and_execute(|| {
		// Provider 0 also controls the STRANGER account and buys storage from itself with it.
		let (owner, who) = (STRANGER, provider(0));
		let owner_before = Balances::total_balance(&owner);
		let pair_before = owner_before + Balances::total_balance(&who);
		let issuance = Balances::total_issuance();
		let self_contract = || {
			let id = create_single_shard_contract(owner, 0);
			assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(who), id, 0));
			id
		};
		// Shards reported lost before anything was paid for them: every slash is burned whole.
		for _ in 0..5 {
			let id = self_contract();
			assert_ok!(Market::report_lost(RuntimeOrigin::signed(who), id, 0));
			assert_ok!(Market::end_contract(RuntimeOrigin::signed(owner), id));
		}
		assert_eq!(slashes().len(), 5);
		assert!(slash_splits().iter().all(|(.., compensation, _)| *compensation == 0));
		assert_eq!(Balances::total_balance(&owner), owner_before);
		// A shard proven once (the owner pays a period), then reported lost.
		let id = self_contract();
		run_to_block(period_start(1));
		prove(id, 0, 1);
		assert_ok!(Market::report_lost(RuntimeOrigin::signed(who), id, 0));
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(owner), id));
		// The slash is 99 (a tenth of the 995 the stake left puts behind the shard); the owner
		// gets back half of it, well below the 10_000 it paid, and the other half is burned.
		assert_eq!(slash_splits().last(), Some(&(who, 99, owner, 49, 50)));
		let compensation = 49;
		// The owner ends with no more than it started with...
		assert_eq!(Balances::total_balance(&owner), owner_before - PERIOD_PRICE + compensation);
		assert!(Balances::total_balance(&owner) <= owner_before);
		// ... and the provider and its buyer account together lost exactly what was burned.
		let burned: Balance = slash_splits().iter().map(|(.., burned)| burned).sum();
		assert_eq!(burned, 5 * 99 + 1 + 50);
		assert_eq!(
			Balances::total_balance(&owner) + Balances::total_balance(&who),
			pair_before - burned
		);
		assert_eq!(Balances::total_issuance(), issuance - burned);
	});
}

#[test]
fn a_fault_gives_back_at_most_a_period_paid_for_and_burns_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		// A large stake, so that the slash exceeds a period's price and the price is what binds.
		let stake: Balance = 100_000_000;
		let who = register_provider_with_stake(8, stake);
		let id = create_single_shard_contract(BUYER, 8);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(who), id, 0));
		for period in 1..=2 {
			run_to_block(period_start(period));
			prove(id, 0, period);
		}
		assert_eq!(Contracts::<Test>::get(id).unwrap().shards[0].refundable, 2 * PERIOD_PRICE);
		// Periods 3, 4 and 5 are missed, each settled when its grace is over. A fault's slash is
		// a tenth of the stake behind the shard, which is a hundredth of the stake left.
		let faults: [(Balance, Balance); 3] = [
			// A period's price (10_000) binds, below half the slash and the 20_000 paid.
			(100_000, PERIOD_PRICE),
			// Again; the buyer has now got back all it paid.
			(99_900, PERIOD_PRICE),
			// Nothing paid is left to give back: all is burned, and the shard is lost.
			(99_800, 0),
		];
		for (n, (slashed, compensation)) in faults.into_iter().enumerate() {
			let period = 3 + n as PeriodIndex;
			let buyer_before = Balances::balance(&BUYER);
			let issuance = Balances::total_issuance();
			run_to_block(period_start(period + 1 + GRACE_PERIODS));
			assert!(market_events().contains(&Event::ShardFaulted {
				contract: id,
				shard: 0,
				provider: who,
				missed: 1,
				through: period,
				slashed,
				compensation
			}));
			assert!(compensation <= PERIOD_PRICE);
			assert_eq!(Balances::balance(&BUYER), buyer_before + compensation);
			assert_eq!(Balances::total_issuance(), issuance - (slashed - compensation));
		}
		assert_eq!(stake_of(who), stake - 100_000 - 99_900 - 99_800);
		let shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert_eq!((shard.status, shard.refundable), (ShardStatus::Lost, 0));
	});
}

#[test]
fn spam_contracts_cost_their_deposits_and_do_not_delay_an_honest_fault_past_the_bound() {
	ExtBuilder::default().build_and_execute(|| {
		ContractDeposit::set(&1_000);
		ShardDeposit::set(&100);
		// 200 one-shard contracts from one account, each deposit held and returned at the end.
		let before = Balances::balance(&STRANGER);
		let spam: Vec<ContractId> =
			(0..200).map(|n| create_single_shard_contract(STRANGER, 3 + n % 5)).collect();
		let deposits = 200 * (1_000 + 100);
		let escrow = 200 * PROVIDER_PRICE * SHARD_BYTES as Balance * DURATION as Balance;
		assert_eq!(Balances::balance(&STRANGER), before - deposits - escrow);
		// The honest contract, created last, is visited last.
		let honest = create_confirmed_contract();
		// Shard 2 misses period 1. With the blocks' unused weight the sweep visits all 201
		// contracts in the first block of period 3 (one sweep_contracts weight each, at most
		// MaxShards faults), instead of 101 blocks (ten periods) at two per block.
		let idle = <() as crate::WeightInfo>::sweep_contracts(256);
		run_to_block_with_idle(period_start(3), idle);
		assert!(market_events().contains(&Event::ShardFaulted {
			contract: honest,
			shard: 2,
			provider: provider(2),
			missed: 1,
			through: 1,
			slashed: SLICE,
			compensation: 0
		}));
		assert!(market_events().contains(&Event::SweepFinished {
			period: 3,
			contracts: 201,
			blocks: 0
		}));
		// Every deposit comes back at the end.
		for id in spam {
			assert_ok!(Market::end_contract(RuntimeOrigin::signed(STRANGER), id));
		}
		assert_eq!(Balances::balance(&STRANGER), before);
	});
}

#[test]
fn a_contract_swept_after_its_periods_left_the_history_is_still_settled() {
	ExtBuilder::default().build_and_execute(|| {
		// Ends at block 26, inside period 2 (blocks 21..=30).
		let late = create_single_shard_contract_for(BUYER, 1, 25);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(1)), late, 0));
		// No sweep for twenty periods, far past the eight the mock keeps.
		Sweep::<Test>::kill();
		for period in 1..=20 {
			System::set_block_number(period_start(period));
			crate::Pallet::<Test>::open_period_if_due(period_start(period));
			Sweep::<Test>::kill();
		}
		assert!(Periods::<Test>::get(2).is_none());
		// Periods 1 and 2 were due and missed: both are counted when it is ended.
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(STRANGER), late));
		assert!(market_events().contains(&Event::ShardFaulted {
			contract: late,
			shard: 0,
			provider: provider(1),
			missed: 2,
			through: 2,
			slashed: 2 * SLICE,
			compensation: 0
		}));
	});
}
