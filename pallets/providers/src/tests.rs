//! Tests of every call, every error path and the registry interface.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect, BoundedVec};
use sp_runtime::traits::BadOrigin;

use crate::{
	mock::*, pallet::Providers as Records, Error, Event, ProviderRegistry, ProviderStatus, Slashed,
	TIB,
};

/// The registry's invariants ([`crate::Pallet::do_try_state`]), checked after every test.
pub fn assert_invariants() {
	Providers::do_try_state().expect("the registry's invariants hold");
}

fn peer_id() -> BoundedVec<u8, frame_support::traits::ConstU32<64>> {
	BoundedVec::truncate_from(b"12D3KooWProvider".to_vec())
}

fn addrs(n: usize) -> crate::MultiaddrsOf<Test> {
	BoundedVec::truncate_from(
		(0..n)
			.map(|i| BoundedVec::truncate_from(format!("/ip4/127.0.0.1/tcp/{i}").into_bytes()))
			.collect(),
	)
}

fn register(who: AccountId, stake: Balance, capacity: u64) -> sp_runtime::DispatchResult {
	Providers::register_provider(
		RuntimeOrigin::signed(who),
		stake,
		capacity,
		2,
		peer_id(),
		addrs(1),
	)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event was deposited").event
}

#[test]
fn register_holds_the_stake_and_records_the_offer() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(ALICE, 3_000, 2 * TIB + 1));
		let info = Records::<Test>::get(ALICE).unwrap();
		assert_eq!(
			(info.stake, info.capacity, info.used, info.price_per_byte_block),
			(3_000, 2 * TIB + 1, 0, 2)
		);
		assert_eq!(info.status, ProviderStatus::Active);
		assert_eq!(Balances::balance(&ALICE), INITIAL_BALANCE - 3_000);
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::ProviderRegistered {
				provider: ALICE,
				stake: 3_000,
				capacity: 2 * TIB + 1,
				price_per_byte_block: 2,
			})
		);
		assert!(<crate::Pallet<Test> as ProviderRegistry<_, _>>::is_active(&ALICE));
	});
}

#[test]
fn register_rejects_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		// Three started TiB need three times the per-TiB stake.
		assert_noop!(register(ALICE, 2 * STAKE_PER_TIB, 2 * TIB + 1), Error::<Test>::StakeTooLow);
		assert_noop!(register(ALICE, 1_000, 0), Error::<Test>::ZeroCapacity);
		assert_noop!(register(ALICE, u128::MAX, MAX_CAPACITY + 1), Error::<Test>::CapacityTooLarge);
		assert_noop!(register(PAUPER, 1_000, TIB), Error::<Test>::InsufficientBalance);
		assert_noop!(register(ALICE, INITIAL_BALANCE + 1, TIB), Error::<Test>::InsufficientBalance);
		assert_noop!(
			Providers::register_provider(RuntimeOrigin::root(), 1_000, TIB, 1, peer_id(), addrs(0)),
			BadOrigin
		);
		assert_ok!(register(ALICE, 1_000, TIB));
		assert_noop!(register(ALICE, 1_000, TIB), Error::<Test>::AlreadyRegistered);
	});
}

#[test]
fn update_changes_only_the_given_fields() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(ALICE, 2_000, TIB));
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(ALICE),
			Some(2 * TIB),
			None,
			None,
			Some(addrs(3))
		));
		let info = Records::<Test>::get(ALICE).unwrap();
		assert_eq!(
			(info.capacity, info.price_per_byte_block, info.multiaddrs.len()),
			(2 * TIB, 2, 3)
		);
		assert_ok!(Providers::update_provider(
			RuntimeOrigin::signed(ALICE),
			None,
			Some(7),
			None,
			None
		));
		assert_eq!(Records::<Test>::get(ALICE).unwrap().price_per_byte_block, 7);
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::ProviderUpdated {
				provider: ALICE,
				capacity: 2 * TIB,
				price_per_byte_block: 7
			})
		);
	});
}

#[test]
fn update_rejects_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let update = |who, capacity| {
			Providers::update_provider(RuntimeOrigin::signed(who), Some(capacity), None, None, None)
		};
		assert_noop!(update(ALICE, TIB), Error::<Test>::NotRegistered);
		assert_ok!(register(ALICE, 1_000, TIB));
		assert_noop!(update(ALICE, 0), Error::<Test>::ZeroCapacity);
		assert_noop!(update(ALICE, MAX_CAPACITY + 1), Error::<Test>::CapacityTooLarge);
		assert_noop!(update(ALICE, TIB + 1), Error::<Test>::StakeTooLow);
		assert_ok!(<crate::Pallet<Test> as ProviderRegistry<_, _>>::reserve_capacity(
			&ALICE, 1_000
		));
		assert_noop!(update(ALICE, 999), Error::<Test>::CapacityBelowUsed);
		assert_ok!(update(ALICE, 1_000));
		assert_ok!(<crate::Pallet<Test> as ProviderRegistry<_, _>>::release_capacity(
			&ALICE, 1_000
		));
		assert_ok!(Providers::begin_exit(RuntimeOrigin::signed(ALICE)));
		assert_noop!(update(ALICE, TIB), Error::<Test>::ProviderExiting);
	});
}

#[test]
fn add_stake_holds_more() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Providers::add_stake(RuntimeOrigin::signed(ALICE), 5),
			Error::<Test>::NotRegistered
		);
		assert_ok!(register(ALICE, 1_000, TIB));
		assert_noop!(
			Providers::add_stake(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Providers::add_stake(RuntimeOrigin::signed(ALICE), INITIAL_BALANCE),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Providers::add_stake(RuntimeOrigin::signed(ALICE), 500));
		assert_eq!(Records::<Test>::get(ALICE).unwrap().stake, 1_500);
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::StakeAdded {
				provider: ALICE,
				amount: 500,
				stake: 1_500
			})
		);
	});
}

#[test]
fn exit_then_withdraw_after_unbonding_releases_the_stake() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Providers::begin_exit(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Providers::withdraw(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
		assert_ok!(register(ALICE, 1_000, TIB));
		assert_noop!(Providers::withdraw(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotExiting);
		assert_ok!(Providers::begin_exit(RuntimeOrigin::signed(ALICE)));
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::ExitStarted {
				provider: ALICE,
				unlock_at: 1 + UNBONDING
			})
		);
		assert_noop!(
			Providers::begin_exit(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ProviderExiting
		);
		assert!(!<crate::Pallet<Test> as ProviderRegistry<_, _>>::is_active(&ALICE));
		System::set_block_number(UNBONDING);
		assert_noop!(
			Providers::withdraw(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::UnbondingNotOver
		);
		System::set_block_number(1 + UNBONDING);
		assert_ok!(Providers::withdraw(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Balances::balance(&ALICE), INITIAL_BALANCE);
		assert!(Records::<Test>::get(ALICE).is_none());
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::ProviderWithdrawn { provider: ALICE, stake: 1_000 })
		);
	});
}

#[test]
fn withdraw_waits_for_the_last_shard() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(ALICE, 1_000, TIB));
		assert_ok!(<crate::Pallet<Test> as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, 10));
		assert_ok!(Providers::begin_exit(RuntimeOrigin::signed(ALICE)));
		System::set_block_number(1 + UNBONDING);
		assert_noop!(
			Providers::withdraw(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::HoldsActiveShards
		);
		assert_ok!(<crate::Pallet<Test> as ProviderRegistry<_, _>>::release_capacity(&ALICE, 10));
		assert_ok!(Providers::withdraw(RuntimeOrigin::signed(ALICE)));
	});
}

#[test]
fn capacity_is_reserved_and_released_exactly() {
	ExtBuilder::default().build_and_execute(|| {
		type Registry = crate::Pallet<Test>;
		assert_noop!(
			<Registry as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, 1),
			Error::<Test>::ProviderNotActive
		);
		assert_noop!(
			<Registry as ProviderRegistry<_, _>>::release_capacity(&ALICE, 1),
			Error::<Test>::NotRegistered
		);
		assert_ok!(register(ALICE, 1_000, 100));
		assert_ok!(<Registry as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, 60));
		assert_noop!(
			<Registry as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, 41),
			Error::<Test>::InsufficientCapacity
		);
		assert_ok!(<Registry as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, 40));
		assert_eq!(<Registry as ProviderRegistry<_, _>>::free_capacity(&ALICE), Some(0));
		let info = Records::<Test>::get(ALICE).unwrap();
		assert_eq!((info.used, info.shards), (100, 2));
		assert_ok!(<Registry as ProviderRegistry<_, _>>::release_capacity(&ALICE, 60));
		assert_noop!(
			<Registry as ProviderRegistry<_, _>>::release_capacity(&ALICE, 41),
			Error::<Test>::CapacityUnderflow
		);
		assert_ok!(<Registry as ProviderRegistry<_, _>>::release_capacity(&ALICE, 40));
		assert_noop!(
			<Registry as ProviderRegistry<_, _>>::release_capacity(&ALICE, 0),
			Error::<Test>::CapacityUnderflow
		);
		assert_eq!(<Registry as ProviderRegistry<_, _>>::free_capacity(&ALICE), Some(100));
	});
}

#[test]
fn slash_compensates_the_beneficiary_burns_the_rest_and_deactivates_an_undercovered_provider() {
	ExtBuilder::default().build_and_execute(|| {
		type Registry = crate::Pallet<Test>;
		let slash = |amount, beneficiary, compensation| {
			<Registry as ProviderRegistry<_, _>>::slash(&ALICE, amount, &beneficiary, compensation)
		};
		assert_eq!(slash(10, BOB, 10), Slashed::default());
		assert_ok!(register(ALICE, 1_000, TIB));
		let issuance = Balances::total_issuance();
		assert_eq!(slash(300, BOB, 100), Slashed { compensation: 100, burned: 200 });
		assert_eq!(Balances::balance(&BOB), INITIAL_BALANCE + 100);
		assert_eq!(Balances::total_issuance(), issuance - 200);
		assert_eq!(<Registry as ProviderRegistry<_, _>>::stake(&ALICE), 700);
		assert_eq!(
			last_event(),
			RuntimeEvent::Providers(Event::ProviderSlashed {
				provider: ALICE,
				amount: 300,
				beneficiary: BOB,
				compensation: 100,
				burned: 200
			})
		);
		// The stake no longer covers one TiB: no new shards until it is topped up.
		assert!(!<Registry as ProviderRegistry<_, _>>::is_active(&ALICE));
		assert_ok!(Providers::add_stake(RuntimeOrigin::signed(ALICE), 300));
		assert!(<Registry as ProviderRegistry<_, _>>::is_active(&ALICE));
		// Never more than the stake, and the compensation never more than what is taken.
		assert_eq!(slash(5_000, CHARLIE, 5_000), Slashed { compensation: 1_000, burned: 0 });
		assert_eq!(Balances::balance(&CHARLIE), INITIAL_BALANCE + 1_000);
		assert_eq!(slash(1, CHARLIE, 1), Slashed::default());
		assert_eq!(Balances::total_issuance(), issuance - 200);
	});
}

#[test]
fn each_stored_byte_is_backed_by_an_equal_share_of_the_stake() {
	ExtBuilder::default().build_and_execute(|| {
		type Registry = crate::Pallet<Test>;
		let backing = |who, bytes| <Registry as ProviderRegistry<_, _>>::stake_backing(&who, bytes);
		assert_eq!(backing(ALICE, TIB), 0);
		assert_ok!(register(ALICE, 2_000, 2 * TIB));
		assert_eq!(backing(ALICE, TIB), 1_000);
		assert_eq!(backing(ALICE, TIB / 4), 250);
		// Rounded down: a byte of two TiB is backed by less than one unit.
		assert_eq!(backing(ALICE, 1), 0);
		// Never more than the whole stake.
		assert_eq!(backing(ALICE, 4 * TIB), 2_000);
		// What is stored does not change a byte's share while it fits the capacity.
		assert_ok!(<Registry as ProviderRegistry<_, _>>::reserve_capacity(&ALICE, TIB));
		assert_eq!(backing(ALICE, TIB / 4), 250);
	});
}

#[test]
fn faults_accumulate() {
	ExtBuilder::default().build_and_execute(|| {
		type Registry = crate::Pallet<Test>;
		assert_ok!(register(ALICE, 1_000, TIB));
		<Registry as ProviderRegistry<_, _>>::record_fault(&ALICE, 2);
		<Registry as ProviderRegistry<_, _>>::record_fault(&ALICE, u32::MAX);
		assert_eq!(Records::<Test>::get(ALICE).unwrap().faults, u32::MAX);
		assert_eq!(<Registry as ProviderRegistry<_, _>>::price_per_byte_block(&ALICE), Some(2));
		assert_eq!(<Registry as ProviderRegistry<_, _>>::price_per_byte_block(&BOB), None);
	});
}

#[test]
fn required_stake_rounds_up_and_saturates() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(crate::Pallet::<Test>::required_stake(1), STAKE_PER_TIB);
		assert_eq!(crate::Pallet::<Test>::required_stake(TIB), STAKE_PER_TIB);
		assert_eq!(crate::Pallet::<Test>::required_stake(TIB + 1), 2 * STAKE_PER_TIB);
		assert_eq!(crate::Pallet::<Test>::required_stake(u64::MAX), STAKE_PER_TIB * (1 << 24));
	});
}

#[test]
fn providers_are_read_page_by_page_each_once() {
	ExtBuilder::default().build_and_execute(|| {
		for who in [ALICE, BOB, CHARLIE] {
			assert_ok!(register(who, 1_000, TIB));
		}
		for limit in [1, 2, 3, 4] {
			let mut seen: Vec<AccountId> = Vec::new();
			loop {
				let page = Providers::providers_page(seen.last().copied(), limit);
				assert!(page.len() <= limit as usize);
				let last = page.len() < limit as usize;
				for (who, info) in page {
					assert_eq!(Some(info), Records::<Test>::get(who));
					seen.push(who);
				}
				if last {
					break;
				}
			}
			seen.sort();
			assert_eq!(seen, vec![ALICE, BOB, CHARLIE], "pages of {limit}");
		}
	});
}
