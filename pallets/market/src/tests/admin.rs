//! Root calls, genesis, and the opening of proving periods.

use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_runtime::{traits::BadOrigin, BuildStorage};

use super::*;
use crate::{CurrentPeriod, Error, ProvingPeriod};

#[test]
fn genesis_sets_the_period_and_the_key_and_the_first_block_opens_period_zero() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(ProvingPeriod::<Test>::get(), PROVING_PERIOD);
		assert_eq!(VerifyingKey::<Test>::get().to_vec(), DEV_KEY.to_vec());
		assert_eq!(CurrentPeriod::<Test>::get(), Some(0));
		let info = Periods::<Test>::get(0).unwrap();
		assert_eq!((info.start, info.length), (1, PROVING_PERIOD));
		assert!(market_events().contains(&Event::PeriodOpened {
			period: 0,
			start: 1,
			length: PROVING_PERIOD,
			seed: info.seed
		}));
	});
}

#[test]
#[should_panic(expected = "the genesis proving period must be positive")]
fn genesis_rejects_a_zero_period() {
	let _ =
		crate::GenesisConfig::<Test> { proving_period: 0, verifying_key: vec![] }.build_storage();
}

#[test]
fn periods_open_every_p_blocks_with_a_fresh_seed_and_old_ones_are_pruned() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_block(period_start(1) - 1);
		assert_eq!(CurrentPeriod::<Test>::get(), Some(0));
		run_to_block(period_start(1));
		assert_eq!(CurrentPeriod::<Test>::get(), Some(1));
		assert_ne!(Periods::<Test>::get(0).unwrap().seed, Periods::<Test>::get(1).unwrap().seed);
		run_to_block(period_start(9));
		// Eight periods of history: period 1 is gone, period 2 is kept.
		assert!(Periods::<Test>::get(1).is_none());
		assert!(Periods::<Test>::get(2).is_some());
	});
}

#[test]
fn root_sets_the_proving_period_for_the_next_periods() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Market::set_proving_period(RuntimeOrigin::signed(BUYER), 5), BadOrigin);
		assert_noop!(
			Market::set_proving_period(RuntimeOrigin::root(), 0),
			Error::<Test>::ZeroProvingPeriod
		);
		run_to_block(3);
		assert_ok!(Market::set_proving_period(RuntimeOrigin::root(), 5));
		assert_eq!(market_events().last(), Some(&Event::ProvingPeriodSet { blocks: 5 }));
		// The current period keeps its length; the next one is shorter.
		run_to_block(period_start(1));
		assert_eq!(CurrentPeriod::<Test>::get(), Some(1));
		run_to_block(period_start(1) + 5);
		assert_eq!(CurrentPeriod::<Test>::get(), Some(2));
		assert_eq!(Periods::<Test>::get(2).unwrap().length, 5);
	});
}

#[test]
fn a_shorter_period_pays_for_its_own_length() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		assert_ok!(Market::set_proving_period(RuntimeOrigin::root(), 4));
		run_to_block(period_start(1));
		prove(id, 0, 1);
		assert_eq!(
			Contracts::<Test>::get(id).unwrap().paid,
			PROVIDER_PRICE * SHARD_BYTES as Balance * 4
		);
	});
}

#[test]
fn root_replaces_the_verifying_key_and_old_proofs_stop_verifying() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let old = valid_proof(provider(0), id, 0, 1);
		let key: BoundedVec<u8, _> = BoundedVec::truncate_from(b"ceremony key".to_vec());
		assert_noop!(
			Market::set_verifying_key(RuntimeOrigin::signed(BUYER), key.clone()),
			BadOrigin
		);
		assert_ok!(Market::set_verifying_key(RuntimeOrigin::root(), key));
		assert_eq!(market_events().last(), Some(&Event::VerifyingKeySet { length: 12 }));
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(0)), id, 0, 1, old),
			Error::<Test>::InvalidProof
		);
		prove(id, 0, 1);
	});
}

#[test]
fn account_bytes_keep_32_byte_accounts_and_hash_the_rest() {
	let account = sp_core::crypto::AccountId32::new([7; 32]);
	assert_eq!(account_bytes(&account), [7; 32]);
	assert_eq!(account_bytes(&5u64), sp_crypto_hashing::blake2_256(&codec::Encode::encode(&5u64)));
	assert_ne!(account_bytes(&5u64), account_bytes(&6u64));
}
