//! Creating, confirming, reassigning and ending contracts.

use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_runtime::traits::BadOrigin;

use super::*;
use crate::{Error, Manifests, NextContractId};

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
			deposit: 0,
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
		BoundedVec::new(),
	)?;
	Ok(id)
}

#[test]
fn a_manifest_is_kept_for_its_deposit_until_the_contract_ends() {
	ExtBuilder::default().build_and_execute(|| {
		ContractDeposit::set(&1_000);
		ShardDeposit::set(&100);
		ManifestByteDeposit::set(&10);
		let manifest: BoundedVec<u8, _> =
			BoundedVec::truncate_from(vec![0xab; MAX_MANIFEST_BYTES as usize]);
		let id = create_contract_with_manifest(manifest.clone());
		let deposit = 1_000 + 3 * 100 + 10 * Balance::from(MAX_MANIFEST_BYTES);
		assert_eq!(Contracts::<Test>::get(id).unwrap().deposit, deposit);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ContractDeposit.into(), &BUYER), deposit);
		assert_eq!(Manifests::<Test>::get(id), Some(manifest));
		// A contract without one keeps none, and pays nothing for it.
		let bare = create_contract(specs(1, SHARD_BYTES), 1, 0, providers(3, 1), 10, 1).unwrap();
		assert_eq!(Contracts::<Test>::get(bare).unwrap().deposit, 1_000 + 100);
		assert!(!Manifests::<Test>::contains_key(bare));
		// The end removes it and returns the whole deposit.
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), id));
		assert!(!Manifests::<Test>::contains_key(id));
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ContractDeposit.into(), &BUYER),
			1_000 + 100
		);
	});
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
				BoundedVec::new(),
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
				1,
				BoundedVec::new()
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
				1,
				BoundedVec::new()
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
fn the_confirmation_window_grows_with_the_bytes_to_send() {
	ExtBuilder::default().build_and_execute(|| {
		// Three shards of 1 000 bytes at 100 bytes a block: 30 blocks of sending.
		crate::mock::ConfirmBytesPerBlock::set(&100);
		let id = create_default_contract();
		let deadline = 1 + CONFIRM_WINDOW + 30;
		assert!(Contracts::<Test>::get(id)
			.unwrap()
			.shards
			.iter()
			.all(|shard| shard.status == ShardStatus::Pending { deadline }));
		run_to_block(deadline);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		run_to_block(deadline + 1);
		assert_noop!(
			Market::confirm_shard(RuntimeOrigin::signed(provider(1)), id, 1),
			Error::<Test>::ConfirmationDeadlinePassed
		);
		// A reassigned shard is sent alone: its 1 000 bytes take 10 blocks.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(5)));
		let moved = deadline + 1 + CONFIRM_WINDOW + 10;
		assert_eq!(
			Contracts::<Test>::get(id).unwrap().shards[1].status,
			ShardStatus::Pending { deadline: moved }
		);
		run_to_block(moved);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(5)), id, 1));
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
fn an_unconfirmed_shard_frees_its_capacity_after_the_deadline_and_the_provider_can_exit() {
	ExtBuilder::default().build_and_execute(|| {
		// A buyer assigns providers 0, 1 and 2 a shard each and sends only provider 0's.
		let id = create_default_contract();
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_ok!(Providers::begin_exit(RuntimeOrigin::signed(provider(1))));
		// The deadline passes; the sweep that follows the next period's opening frees them.
		run_to_block(period_start(1));
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!(contract.shards[0].status, ShardStatus::Active);
		assert_eq!(contract.shards[1].status, ShardStatus::Vacant);
		assert_eq!(contract.shards[2].status, ShardStatus::Vacant);
		assert!(market_events().contains(&Event::ShardUnconfirmed {
			contract: id,
			shard: 1,
			provider: provider(1)
		}));
		for n in 1..=2 {
			let info = pallet_providers::Providers::<Test>::get(provider(n)).unwrap();
			assert_eq!((info.used, info.shards), (0, 0));
		}
		// Nothing holds provider 1 once its unbonding is over, though the contract runs on.
		run_to_block(1 + UnbondingPeriod::get());
		assert_ok!(Providers::withdraw(RuntimeOrigin::signed(provider(1))));
		assert!(Contracts::<Test>::get(id).is_some());
		// The owner moves a vacant shard to another provider.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 2, provider(5)));
		assert!(matches!(
			Contracts::<Test>::get(id).unwrap().shards[2].status,
			ShardStatus::Pending { .. }
		));
	});
}

#[test]
fn a_provider_declines_a_pending_shard_and_the_owner_moves_it_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let decline = |who, shard| Market::decline_shard(RuntimeOrigin::signed(who), id, shard);
		assert_noop!(Market::decline_shard(RuntimeOrigin::root(), id, 1), BadOrigin);
		assert_noop!(
			Market::decline_shard(RuntimeOrigin::signed(provider(1)), id + 1, 1),
			Error::<Test>::ContractNotFound
		);
		assert_noop!(decline(provider(1), 7), Error::<Test>::ShardNotFound);
		assert_noop!(decline(provider(1), 0), Error::<Test>::NotShardProvider);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_noop!(decline(provider(0), 0), Error::<Test>::ShardNotPending);
		assert_ok!(decline(provider(1), 1));
		assert_eq!(
			market_events().last(),
			Some(&Event::ShardDeclined { contract: id, shard: 1, provider: provider(1) })
		);
		let info = pallet_providers::Providers::<Test>::get(provider(1)).unwrap();
		assert_eq!((info.used, info.shards), (0, 0));
		assert_noop!(decline(provider(1), 1), Error::<Test>::ShardNotPending);
		assert_noop!(
			Market::confirm_shard(RuntimeOrigin::signed(provider(1)), id, 1),
			Error::<Test>::ShardNotPending
		);
		// Before the deadline, a declined shard can already move.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(5)));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(5)), id, 1));
	});
}

#[test]
fn the_owner_moves_a_pending_shard_before_its_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		// Provider 1 never answers; its owner does not wait out the confirmation window.
		let id = create_default_contract();
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(5)));
		assert!(market_events().contains(&Event::ShardReassigned {
			contract: id,
			shard: 1,
			from: provider(1),
			to: provider(5)
		}));
		let info = pallet_providers::Providers::<Test>::get(provider(1)).unwrap();
		assert_eq!((info.used, info.shards), (0, 0));
		assert_noop!(
			Market::confirm_shard(RuntimeOrigin::signed(provider(1)), id, 1),
			Error::<Test>::NotShardProvider
		);
		// A confirmed shard stays where it is, and a provider holding a pending shard of the
		// contract takes no second one.
		assert_noop!(
			Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 0, provider(6)),
			Error::<Test>::ShardNotReassignable
		);
		assert_noop!(
			Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(2)),
			Error::<Test>::DuplicateProvider
		);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(5)), id, 1));
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!(contract.shards[1].provider, provider(5));
		assert_eq!(contract.shards[1].status, ShardStatus::Active);
	});
}

#[test]
fn a_provider_named_only_on_a_vacant_shard_may_take_another_one() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		// Provider 1 declines: its shard is vacant but still names it.
		assert_ok!(Market::decline_shard(RuntimeOrigin::signed(provider(1)), id, 1));
		// It may take shard 2 from provider 2, and provider 2, now holding nothing of the
		// contract, may take the vacant shard 1.
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 2, provider(1)));
		assert_ok!(Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 1, provider(2)));
		// Each now holds one shard, so neither may take the other's.
		assert_noop!(
			Market::reassign_shard(RuntimeOrigin::signed(BUYER), id, 2, provider(2)),
			Error::<Test>::DuplicateProvider
		);
		for (shard, n) in [(1, 2), (2, 1)] {
			assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(n)), id, shard));
			let info = pallet_providers::Providers::<Test>::get(provider(n)).unwrap();
			assert_eq!((info.used, info.shards), (SHARD_BYTES, 1));
		}
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
		// Period 2, opening at block 21, is period 1's grace; when period 3 opens the sweep
		// ends the contract on its own.
		run_to_block(period_start(2));
		assert_noop!(
			Market::end_contract(RuntimeOrigin::signed(STRANGER), id),
			Error::<Test>::ContractStillRunning
		);
		run_to_block(period_start(3));
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
		// Open periods 1 and 2 (after the contract's end and period 0's grace) without running
		// the sweep.
		for period in 1..=2 {
			System::set_block_number(period_start(period));
			crate::Pallet::<Test>::open_period_if_due(period_start(period));
		}
		assert!(Contracts::<Test>::get(id).is_some());
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(STRANGER), id));
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE);
	});
}
