//! Creating, confirming, reassigning and ending contracts.

use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_runtime::traits::BadOrigin;

use super::*;
use crate::{Error, NextContractId};

const ESCROW: Balance = 3 * PROVIDER_PRICE * SHARD_BYTES as Balance * DURATION as Balance;

#[test]
fn create_contract_holds_the_full_price_and_reserves_capacity() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!(
			(contract.owner, contract.k, contract.m, contract.escrow, contract.end),
			(BUYER, 2, 1, ESCROW, 1 + DURATION)
		);
		assert!(contract
			.shards
			.iter()
			.all(|shard| shard.status == ShardStatus::Pending { deadline: 1 + CONFIRM_WINDOW }));
		assert_eq!(Balances::balance_on_hold(&HoldReason::ContractEscrow.into(), &BUYER), ESCROW);
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - ESCROW);
		assert_eq!(
			pallet_providers::Providers::<Test>::get(provider(1)).unwrap().used,
			SHARD_BYTES
		);
		assert_eq!(NextContractId::<Test>::get(), id + 1);
		assert!(market_events().contains(&Event::ContractCreated {
			contract: id,
			owner: BUYER,
			shards: 3,
			escrow: ESCROW,
			end: 1 + DURATION
		}));
		assert!(market_events().contains(&Event::ShardAssigned {
			contract: id,
			shard: 2,
			provider: provider(2),
			deadline: 1 + CONFIRM_WINDOW
		}));
	});
}

#[test]
fn each_shard_is_priced_at_its_providers_price() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(1)),
			None,
			Some(3),
			None,
			None
		));
		let id = create_contract(specs(2, SHARD_BYTES), 1, 1, providers(0, 2), 10, 3).unwrap();
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!(contract.escrow, (1 + 3) * SHARD_BYTES as Balance * 10);
		assert_eq!(contract.shards[1].price_per_byte_block, 3);
	});
}

fn create_contract(
	shards: BoundedVec<ShardSpec, ConstU32Shards>,
	k: u8,
	m: u8,
	chosen: BoundedVec<AccountId, ConstU32Shards>,
	duration: u64,
	max_price: Balance,
) -> Result<ContractId, sp_runtime::DispatchError> {
	let id = NextContractId::<Test>::get();
	Market::create_contract(
		RuntimeOrigin::signed(BUYER),
		shards,
		k,
		m,
		chosen,
		duration,
		max_price,
	)?;
	Ok(id)
}

#[test]
fn create_contract_rejects_every_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let ok_specs = || specs(3, SHARD_BYTES);
		let create = |shards, k, m, chosen, duration, max_price| {
			Market::create_contract(
				RuntimeOrigin::signed(BUYER),
				shards,
				k,
				m,
				chosen,
				duration,
				max_price,
			)
		};
		assert_noop!(
			Market::create_contract(
				RuntimeOrigin::root(),
				ok_specs(),
				2,
				1,
				providers(0, 3),
				10,
				1
			),
			BadOrigin
		);
		assert_noop!(
			create(specs(1, SHARD_BYTES), 0, 1, providers(0, 1), 10, 1),
			Error::<Test>::ZeroDataShards
		);
		assert_noop!(
			create(ok_specs(), 2, 2, providers(0, 3), 10, 1),
			Error::<Test>::ShardCountMismatch
		);
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 2), 10, 1),
			Error::<Test>::ProviderCountMismatch
		);
		let twice = BoundedVec::truncate_from(vec![provider(0), provider(1), provider(0)]);
		assert_noop!(create(ok_specs(), 2, 1, twice, 10, 1), Error::<Test>::DuplicateProvider);
		assert_noop!(create(specs(3, 0), 2, 1, providers(0, 3), 10, 1), Error::<Test>::EmptyShard);
		let too_big = cairn_primitives::tree::MAX_SHARD_BYTES + 1;
		assert_noop!(
			create(specs(3, too_big), 2, 1, providers(0, 3), 10, 1),
			Error::<Test>::ShardTooLarge
		);
		let mut bad_root = ok_specs();
		bad_root[1].root = [0xff; 32];
		assert_noop!(
			create(bad_root, 2, 1, providers(0, 3), 10, 1),
			Error::<Test>::RootNotFieldElement
		);
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 3), 0, 1),
			Error::<Test>::InvalidDuration
		);
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 3), MAX_DURATION + 1, 1),
			Error::<Test>::InvalidDuration
		);
		// Providers 8 and 9 never registered.
		assert_noop!(
			create(ok_specs(), 2, 1, providers(7, 3), 10, 1),
			Error::<Test>::ProviderNotActive
		);
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 3), 10, 0),
			Error::<Test>::PriceAboveLimit
		);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(2)),
			Some(SHARD_BYTES - 1),
			None,
			None,
			None
		));
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 3), 10, 1),
			pallet_providers::Error::<Test>::InsufficientCapacity
		);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(2)),
			Some(SHARD_BYTES),
			None,
			None,
			None
		));
		assert_noop!(
			Market::create_contract(
				RuntimeOrigin::signed(POOR_BUYER),
				ok_specs(),
				2,
				1,
				providers(0, 3),
				10,
				1
			),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(0)),
			None,
			Some(u128::MAX),
			None,
			None
		));
		assert_noop!(
			create(ok_specs(), 2, 1, providers(0, 3), 10, u128::MAX),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn confirm_shard_activates_it_from_the_next_period() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		run_to_block(3);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(1)), id, 1));
		let shard = Contracts::<Test>::get(id).unwrap().shards[1].clone();
		assert_eq!(
			(shard.status, shard.settled_through, shard.last_proven),
			(ShardStatus::Active, 0, None)
		);
		assert_eq!(
			market_events().last(),
			Some(&Event::ShardConfirmed { contract: id, shard: 1, provider: provider(1) })
		);
	});
}

#[test]
fn confirm_shard_rejects_every_bad_case() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let confirm = |who, contract, shard| {
			Market::confirm_shard(RuntimeOrigin::signed(who), contract, shard)
		};
		assert_noop!(Market::confirm_shard(RuntimeOrigin::root(), id, 0), BadOrigin);
		assert_noop!(confirm(provider(0), id + 1, 0), Error::<Test>::ContractNotFound);
		assert_noop!(confirm(provider(0), id, 3), Error::<Test>::ShardNotFound);
		assert_noop!(confirm(provider(1), id, 0), Error::<Test>::NotShardProvider);
		assert_ok!(confirm(provider(0), id, 0));
		assert_noop!(confirm(provider(0), id, 0), Error::<Test>::ShardNotPending);
		run_to_block(2 + CONFIRM_WINDOW);
		assert_noop!(confirm(provider(1), id, 1), Error::<Test>::ConfirmationDeadlinePassed);
		crate::CurrentPeriod::<Test>::kill();
		assert_noop!(confirm(provider(2), id, 2), Error::<Test>::NoProvingPeriod);
	});
}

#[test]
fn confirm_shard_fails_after_the_contract_end() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_contract(specs(1, SHARD_BYTES), 1, 0, providers(0, 1), 3, 1).unwrap();
		System::set_block_number(4);
		assert_noop!(
			Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0),
			Error::<Test>::ContractExpired
		);
	});
}

#[test]
fn an_unconfirmed_shard_moves_to_another_provider_after_its_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		run_to_block(2 + CONFIRM_WINDOW);
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(5)));
		let shard = Contracts::<Test>::get(id).unwrap().shards[1].clone();
		assert_eq!(shard.provider, provider(5));
		assert_eq!(shard.status, ShardStatus::Pending { deadline: 2 + 2 * CONFIRM_WINDOW });
		assert!(!shard.repair);
		assert_eq!(pallet_providers::Providers::<Test>::get(provider(1)).unwrap().used, 0);
		assert_eq!(
			pallet_providers::Providers::<Test>::get(provider(5)).unwrap().used,
			SHARD_BYTES
		);
		assert!(market_events().contains(&Event::ShardReassigned {
			contract: id,
			shard: 1,
			from: provider(1),
			to: provider(5)
		}));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(5)), id, 1));
		assert_noop!(
			Market::confirm_shard(RuntimeOrigin::signed(provider(1)), id, 1),
			Error::<Test>::NotShardProvider
		);
	});
}

#[test]
fn reassign_shard_rejects_every_bad_case() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let reassign =
			|who, shard, to| Market::reassign_shard(RuntimeOrigin::signed(who), id, shard, to);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_noop!(Market::reassign_shard(RuntimeOrigin::root(), id, 1, provider(5)), BadOrigin);
		assert_noop!(
			Market::reassign_shard(RuntimeOrigin::signed(BUYER), id + 1, 1, provider(5)),
			Error::<Test>::ContractNotFound
		);
		assert_noop!(reassign(STRANGER, 1, provider(5)), Error::<Test>::NotContractOwner);
		assert_noop!(reassign(BUYER, 1, provider(5)), Error::<Test>::ShardNotReassignable);
		run_to_block(2 + CONFIRM_WINDOW);
		assert_noop!(reassign(BUYER, 0, provider(5)), Error::<Test>::ShardNotReassignable);
		assert_noop!(reassign(BUYER, 7, provider(5)), Error::<Test>::ShardNotFound);
		assert_noop!(reassign(BUYER, 1, provider(2)), Error::<Test>::DuplicateProvider);
		assert_noop!(reassign(BUYER, 1, provider(9)), Error::<Test>::ProviderNotActive);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(5)),
			None,
			Some(PROVIDER_PRICE + 1),
			None,
			None
		));
		assert_noop!(reassign(BUYER, 1, provider(5)), Error::<Test>::PriceAboveLimit);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(provider(6)),
			Some(SHARD_BYTES - 1),
			None,
			None,
			None
		));
		assert_noop!(
			reassign(BUYER, 1, provider(6)),
			pallet_providers::Error::<Test>::InsufficientCapacity
		);
		System::set_block_number(1 + DURATION);
		assert_noop!(reassign(BUYER, 1, provider(7)), Error::<Test>::ContractExpired);
	});
}

#[test]
fn the_owner_ends_early_and_gets_the_unspent_escrow_back() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		prove(id, 0, 1);
		let paid = PROVIDER_PRICE * SHARD_BYTES as Balance * PROVING_PERIOD as Balance;
		assert_noop!(
			Market::end_contract(RuntimeOrigin::signed(STRANGER), id),
			Error::<Test>::ContractStillRunning
		);
		assert_noop!(
			Market::end_contract(RuntimeOrigin::signed(BUYER), id + 1),
			Error::<Test>::ContractNotFound
		);
		assert_noop!(Market::end_contract(RuntimeOrigin::root(), id), BadOrigin);
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), id));
		assert!(Contracts::<Test>::get(id).is_none());
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - paid);
		assert_eq!(Balances::balance(&provider(0)), INITIAL_BALANCE - PROVIDER_STAKE + paid);
		assert_eq!(
			market_events().last(),
			Some(&Event::ContractEnded {
				contract: id,
				paid,
				refunded: ESCROW - paid,
				early: true
			})
		);
		for n in 0..3 {
			assert_eq!(pallet_providers::Providers::<Test>::get(provider(n)).unwrap().used, 0);
		}
	});
}

#[test]
fn anyone_ends_an_expired_contract_once_its_last_period_closed() {
	ExtBuilder::default().build_and_execute(|| {
		// Ends at block 16, inside period 1 (blocks 11..=20), which is still due.
		let id = create_contract(specs(1, SHARD_BYTES), 1, 0, providers(0, 1), 15, 1).unwrap();
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		run_to_block(17);
		assert_noop!(
			Market::end_contract(RuntimeOrigin::signed(STRANGER), id),
			Error::<Test>::ContractStillRunning
		);
		prove(id, 0, 1);
		// The last period is cut short by the end: 5 of its 10 blocks are paid.
		let paid = PROVIDER_PRICE * SHARD_BYTES as Balance * 5;
		assert_eq!(Balances::balance(&provider(0)), INITIAL_BALANCE - PROVIDER_STAKE + paid);
		// Period 2 opens at block 21; the sweep ends the contract on its own.
		run_to_block(period_start(2));
		assert!(Contracts::<Test>::get(id).is_none());
		assert!(market_events().contains(&Event::ContractEnded {
			contract: id,
			paid,
			refunded: 15_000 - paid,
			early: false
		}));
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - paid);
	});
}

#[test]
fn a_stranger_may_end_an_expired_contract_before_the_sweep_reaches_it() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_contract(specs(1, SHARD_BYTES), 1, 0, providers(0, 1), 5, 1).unwrap();
		// Open period 1 (after the contract's end) without running the sweep.
		System::set_block_number(period_start(1));
		crate::Pallet::<Test>::open_period_if_due(period_start(1));
		assert!(Contracts::<Test>::get(id).is_some());
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(STRANGER), id));
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE);
	});
}
