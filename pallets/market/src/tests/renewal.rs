//! Extending contracts: who may, for how long, at what price, and what the extension pays for.

use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::traits::BadOrigin;

use super::*;
use crate::Error;

/// Blocks most extensions here add: five proving periods.
const EXTRA: u64 = 5 * PROVING_PERIOD;

/// What a proof of one of the tests' shards pays for a whole period at the genesis price.
const PERIOD_PRICE: Balance = PROVIDER_PRICE * SHARD_BYTES as Balance * PROVING_PERIOD as Balance;

/// Extend `contract` by `blocks` as `who`, at prices up to `max_price`.
fn extend(
	who: AccountId,
	contract: ContractId,
	blocks: u64,
	max_price: Balance,
) -> sp_runtime::DispatchResult {
	Market::extend_contract(RuntimeOrigin::signed(who), contract, blocks, max_price)
}

/// The escrow held from `who` for its contracts.
fn escrow_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ContractEscrow.into(), &who)
}

/// Prove `shard` of `contract` in `period` for its provider; returns what the proof paid.
fn proven_payment(contract: ContractId, shard: ShardIndex, period: PeriodIndex) -> Balance {
	prove(contract, shard, period);
	match market_events().last() {
		Some(Event::ProofAccepted { payment, .. }) => *payment,
		other => panic!("the last event is not an accepted proof: {other:?}"),
	}
}

/// An extension moves the end by the blocks added and holds their price, at the agreed prices.
#[test]
fn an_extension_moves_the_end_and_holds_its_escrow() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1) + 2);
		prove(id, 0, 1);
		let before = Contracts::<Test>::get(id).unwrap();
		// 3 shards × 1 × 1_000 bytes × 100 blocks held at creation, less the proof of period 1
		// (1 × 1_000 × 10).
		assert_eq!(before.escrow, 300_000 - 10_000);
		assert_eq!(escrow_held(BUYER), before.escrow);
		assert_ok!(extend(BUYER, id, EXTRA, PROVIDER_PRICE));
		// No provider changed its ask: 3 shards × 1 × 1_000 bytes × 50 blocks.
		let top_up = 3 * PROVIDER_PRICE * SHARD_BYTES as Balance * EXTRA as Balance;
		assert_eq!(top_up, 150_000);
		let end = 1 + DURATION + EXTRA;
		assert_eq!(
			market_events().last(),
			Some(&Event::ContractExtended { contract: id, end, escrow: top_up })
		);
		let after = Contracts::<Test>::get(id).unwrap();
		assert_eq!((after.end, after.escrow), (end, before.escrow + top_up));
		// Nothing else changes: the start, what was paid, and the shards with their prices.
		assert_eq!((after.start, after.paid), (before.start, before.paid));
		assert_eq!(after.shards, before.shards);
		assert_eq!(escrow_held(BUYER), before.escrow + top_up);
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - 300_000 - top_up);
	});
}

/// Only the owner extends, a running contract, by some blocks and to at most the longest term
/// from now, and only with the escrow to pay for it.
#[test]
fn only_the_owner_extends_a_running_contract_within_the_longest_term() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		assert_noop!(
			Market::extend_contract(RuntimeOrigin::root(), id, EXTRA, PROVIDER_PRICE),
			BadOrigin
		);
		assert_noop!(extend(BUYER, id + 1, EXTRA, PROVIDER_PRICE), Error::<Test>::ContractNotFound);
		assert_noop!(extend(STRANGER, id, EXTRA, PROVIDER_PRICE), Error::<Test>::NotContractOwner);
		assert_noop!(extend(BUYER, id, 0, PROVIDER_PRICE), Error::<Test>::InvalidDuration);
		// At block 1 the contract ends at 1 + DURATION, DURATION blocks from now: it may be
		// extended to MAX_DURATION blocks from now, to block 1_001, by 900 blocks.
		let longest = MAX_DURATION - DURATION;
		assert_eq!(longest, 900);
		assert_noop!(
			extend(BUYER, id, longest + 1, PROVIDER_PRICE),
			Error::<Test>::InvalidDuration
		);
		assert_ok!(extend(BUYER, id, longest, PROVIDER_PRICE));
		assert_eq!(Contracts::<Test>::get(id).unwrap().end, 1 + MAX_DURATION);
		assert_noop!(extend(BUYER, id, 1, PROVIDER_PRICE), Error::<Test>::InvalidDuration);
		// The longest term counts from now: a block later, one more block fits.
		run_to_block(2);
		assert_ok!(extend(BUYER, id, 1, PROVIDER_PRICE));
		assert_eq!(Contracts::<Test>::get(id).unwrap().end, 2 + MAX_DURATION);

		// A contract of five blocks from block 2 ends at block 7. At its end block (the first
		// after it) it is still stored, but no longer extended.
		let short = create_single_shard_contract_for(BUYER, 3, 5);
		let end = Contracts::<Test>::get(short).unwrap().end;
		assert_eq!(end, 2 + 5);
		run_to_block(end);
		assert!(Contracts::<Test>::get(short).is_some());
		assert_noop!(extend(BUYER, short, EXTRA, PROVIDER_PRICE), Error::<Test>::ContractExpired);

		// POOR_BUYER's 100 cannot pay one block of a 1_000-byte shard, so it owns no contract:
		// OTHER_BUYER opens one and then moves all it can (all but the existential deposit)
		// away, leaving less than the extension's 1 × 1_000 × 50.
		let other = create_single_shard_contract(OTHER_BUYER, 4);
		assert_ok!(Balances::transfer_all(RuntimeOrigin::signed(OTHER_BUYER), STRANGER, true));
		let cost = PROVIDER_PRICE * SHARD_BYTES as Balance * EXTRA as Balance;
		assert!(Balances::balance(&OTHER_BUYER) < cost);
		assert_noop!(
			extend(OTHER_BUYER, other, EXTRA, PROVIDER_PRICE),
			Error::<Test>::InsufficientBalance
		);
		// Its escrow for the original term (1 × 1_000 × 100) is still held.
		assert_eq!(escrow_held(OTHER_BUYER), 100_000);
	});
}

/// A contract extended before its end is proven and paid in the periods after its original end,
/// is not ended by the sweep then, and ends at its new end with the unspent escrow refunded.
#[test]
fn a_renewed_contract_is_proven_and_paid_past_its_original_end() {
	ExtBuilder::default().build_and_execute(|| {
		// Three periods from block 1: it ends at block 31, when period 3 opens. Confirmed in
		// period 0, it is due from period 1 on.
		let id = create_single_shard_contract_for(BUYER, 0, 3 * PROVING_PERIOD);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		let original_end = period_start(3);
		assert_eq!(Contracts::<Test>::get(id).unwrap().end, original_end);
		// 1 × 1_000 bytes × 30 blocks.
		assert_eq!(Contracts::<Test>::get(id).unwrap().escrow, 3 * PERIOD_PRICE);
		for period in 1..=2 {
			run_to_block(period_start(period));
			assert_eq!(proven_payment(id, 0, period), PERIOD_PRICE);
		}
		// Extended during its last period by three periods: it ends at block 61, when period 6
		// opens. The price is unchanged: 1 × 1_000 bytes × 30 blocks more.
		run_to_block(period_start(2) + 5);
		assert_ok!(extend(BUYER, id, 3 * PROVING_PERIOD, PROVIDER_PRICE));
		let end = period_start(6);
		assert_eq!(
			market_events().last(),
			Some(&Event::ContractExtended { contract: id, end, escrow: 3 * PERIOD_PRICE })
		);
		// Periods 3, 4 and 5 open at or after the original end and before the new one: each is
		// due, proven and paid in full.
		for period in 3..=5 {
			run_to_block(period_start(period));
			assert!(Contracts::<Test>::get(id).is_some());
			let before = Balances::balance(&provider(0));
			assert_eq!(proven_payment(id, 0, period), PERIOD_PRICE);
			assert_eq!(Balances::balance(&provider(0)), before + PERIOD_PRICE);
		}
		// The sweep visited it when period 4 opened, when it would have ended it at its original
		// end (period 3, opened at that end, was then the oldest open period).
		assert!(market_events().contains(&Event::SweepFinished {
			period: 4,
			contracts: 1,
			blocks: 0
		}));
		// Held: 30_000 at creation and 30_000 at the extension; paid: periods 1 to 5.
		assert_eq!(Contracts::<Test>::get(id).unwrap().escrow, 6 * PERIOD_PRICE - 5 * PERIOD_PRICE);
		// Period 6, opened at the new end, is not due; period 5's grace is period 6. When period
		// 7 opens the sweep ends the contract.
		run_to_block(period_start(7) - 1);
		assert!(Contracts::<Test>::get(id).is_some());
		run_to_block(period_start(7));
		assert!(Contracts::<Test>::get(id).is_none());
		// The escrow left is period 0's, never due: refunded.
		assert!(market_events().contains(&Event::ContractEnded {
			contract: id,
			paid: 5 * PERIOD_PRICE,
			refunded: PERIOD_PRICE,
			early: false
		}));
		assert!(!market_events().iter().any(|event| matches!(event, Event::ShardFaulted { .. })));
		assert_eq!(escrow_held(BUYER), 0);
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - 5 * PERIOD_PRICE);
		assert_eq!(
			Balances::balance(&provider(0)),
			INITIAL_BALANCE - PROVIDER_STAKE + 5 * PERIOD_PRICE
		);
	});
}

/// A shard whose provider raised its ask is repriced to it (within the buyer's limit) for every
/// period still payable, and one whose provider lowered its ask keeps its agreed price.
#[test]
fn a_provider_that_raised_its_price_is_paid_its_new_ask_and_a_lower_ask_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		for shard in 0..3 {
			prove(id, shard, 1);
		}
		// Shard 1's proof of period 2 is left for later, in period 2's grace.
		run_to_block(period_start(2));
		prove(id, 0, 2);
		prove(id, 2, 2);
		run_to_block(period_start(3) + 4);
		let set_price = |n: u64, price: Balance| {
			let origin = RuntimeOrigin::signed(provider(n));
			Providers::update_provider(origin, None, Some(price), None, None)
		};
		let raised: Balance = 3;
		assert_ok!(set_price(1, raised));
		assert_ok!(set_price(2, 0));
		assert_noop!(
			extend(BUYER, id, 2 * PROVING_PERIOD, raised - 1),
			Error::<Test>::PriceAboveLimit
		);
		let before = Contracts::<Test>::get(id).unwrap();
		// 3 × 1 × 1_000 × 100 held at creation, less five proofs of 1 × 1_000 × 10.
		assert_eq!(before.escrow, 300_000 - 5 * PERIOD_PRICE);
		assert_ok!(extend(BUYER, id, 2 * PROVING_PERIOD, raised));

		// Now, in period 3, proofs of period 2 (opened at block 21) are still paid, so the
		// raised shard pays its rise over the old term's blocks 21 ..= 100, 80 blocks.
		let bytes = SHARD_BYTES as Balance;
		let added = (2 * PROVING_PERIOD) as Balance;
		let repriced = (1 + DURATION - period_start(3 - GRACE_PERIODS)) as Balance;
		assert_eq!((added, repriced), (20, 80));
		// Shard 0, ask unchanged: 1 × 1_000 × 20.
		let shard_0 = PROVIDER_PRICE * bytes * added;
		// Shard 1, ask 1 → 3: 3 × 1_000 × 20 + (3 − 1) × 1_000 × 80.
		let shard_1 = raised * bytes * added + (raised - PROVIDER_PRICE) * bytes * repriced;
		// Shard 2, ask 1 → 0: its agreed price, 1 × 1_000 × 20.
		let shard_2 = PROVIDER_PRICE * bytes * added;
		assert_eq!((shard_0, shard_1, shard_2), (20_000, 60_000 + 160_000, 20_000));
		let top_up = shard_0 + shard_1 + shard_2;
		let end = 1 + DURATION + 2 * PROVING_PERIOD;
		assert_eq!(
			market_events().last(),
			Some(&Event::ContractExtended { contract: id, end, escrow: top_up })
		);
		let after = Contracts::<Test>::get(id).unwrap();
		assert_eq!((after.end, after.escrow), (end, before.escrow + top_up));
		assert_eq!(escrow_held(BUYER), before.escrow + top_up);
		assert_eq!(
			after.shards.iter().map(|shard| shard.price_per_byte_block).collect::<Vec<_>>(),
			vec![PROVIDER_PRICE, raised, PROVIDER_PRICE]
		);

		// Shard 1's late proof of period 2 is paid at its new price, as are its later ones;
		// shards 0 and 2 at the agreed price.
		let raised_period = raised * bytes * PROVING_PERIOD as Balance;
		assert_eq!(raised_period, 30_000);
		assert_eq!(proven_payment(id, 1, 2), raised_period);
		assert_eq!(proven_payment(id, 1, 3), raised_period);
		assert_eq!(proven_payment(id, 0, 3), PERIOD_PRICE);
		assert_eq!(proven_payment(id, 2, 3), PERIOD_PRICE);
		// The escrow pays every period through the new end (block 121, when period 12 opens)
		// in full.
		for period in 4..=11 {
			run_to_block(period_start(period));
			assert_eq!(proven_payment(id, 0, period), PERIOD_PRICE);
			assert_eq!(proven_payment(id, 1, period), raised_period);
			assert_eq!(proven_payment(id, 2, period), PERIOD_PRICE);
		}
		run_to_block(period_start(13));
		assert!(Contracts::<Test>::get(id).is_none());
		// Period 1 at the agreed prices, periods 2 to 11 with shard 1 at its new one; what is
		// left, 300_000 + 260_000 − 530_000, is the three shards' period 0, never due.
		let paid = 3 * PERIOD_PRICE + 10 * (2 * PERIOD_PRICE + raised_period);
		assert_eq!(paid, 530_000);
		assert!(market_events().contains(&Event::ContractEnded {
			contract: id,
			paid,
			refunded: 3 * PERIOD_PRICE,
			early: false
		}));
	});
}

/// A provider that began its exit blocks extending its shard, while a lost or a vacant shard
/// blocks nothing and keeps its price.
#[test]
fn a_leaving_provider_is_not_held_past_its_end() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		for n in 0..2 {
			assert_ok!(Market::confirm_shard(
				RuntimeOrigin::signed(provider(n)),
				id,
				n as ShardIndex
			));
		}
		assert_ok!(Providers::begin_exit(RuntimeOrigin::signed(provider(1))));
		assert_noop!(extend(BUYER, id, EXTRA, PROVIDER_PRICE), Error::<Test>::ProviderLeaving);
		// Its shard must move first: here it reports the shard lost.
		assert_ok!(Market::report_lost(RuntimeOrigin::signed(provider(1)), id, 1));
		// Provider 2 declines its pending shard, then asks more than the buyer's limit: the
		// vacant shard does not depend on it any more.
		assert_ok!(Market::decline_shard(RuntimeOrigin::signed(provider(2)), id, 2));
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(2)),
			None,
			Some(PROVIDER_PRICE + 4),
			None,
			None
		));
		let before = Contracts::<Test>::get(id).unwrap();
		assert_ok!(extend(BUYER, id, EXTRA, PROVIDER_PRICE));
		// Every shard at its agreed price, the lost and the vacant one too: 3 × 1 × 1_000 × 50.
		let top_up = 3 * PROVIDER_PRICE * SHARD_BYTES as Balance * EXTRA as Balance;
		let end = 1 + DURATION + EXTRA;
		assert_eq!(
			market_events().last(),
			Some(&Event::ContractExtended { contract: id, end, escrow: top_up })
		);
		let after = Contracts::<Test>::get(id).unwrap();
		assert_eq!(after.escrow, before.escrow + top_up);
		assert_eq!(
			after
				.shards
				.iter()
				.map(|shard| (shard.status, shard.price_per_byte_block))
				.collect::<Vec<_>>(),
			vec![
				(ShardStatus::Active, PROVIDER_PRICE),
				(ShardStatus::Lost, PROVIDER_PRICE),
				(ShardStatus::Vacant, PROVIDER_PRICE)
			]
		);
		// Whoever takes them over asks no more than the agreed price.
		for (shard, to) in [(1, provider(6)), (2, provider(7))] {
			assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, shard, to));
			assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(to), id, shard));
		}
	});
}

/// A slash that leaves a provider's stake short of its capacity stops it taking new shards, not
/// keeping the ones it holds: the contract is extended with it, at its price.
#[test]
fn a_slashed_provider_keeps_its_shard_through_an_extension() {
	ExtBuilder::default().build_and_execute(|| {
		use pallet_providers::ProviderRegistry;
		let id = create_confirmed_contract();
		// A slash leaves the stake one unit short of what its capacity needs.
		let short = stake_of(provider(0)) - Providers::required_stake(PROVIDER_CAPACITY) + 1;
		Providers::slash(&provider(0), short, &BUYER, 0);
		assert!(!Providers::is_active(&provider(0)), "no new shards for an under-staked provider");
		assert!(Providers::is_staying(&provider(0)));
		assert_ok!(extend(BUYER, id, EXTRA, PROVIDER_PRICE));
		let after = Contracts::<Test>::get(id).unwrap();
		assert_eq!(after.end, 1 + DURATION + EXTRA);
		assert_eq!(after.shards[0].provider, provider(0));
		assert_eq!(after.shards[0].price_per_byte_block, PROVIDER_PRICE);
	});
}
