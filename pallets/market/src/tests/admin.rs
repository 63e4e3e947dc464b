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
		assert_noop!(
			Market::set_proving_period(RuntimeOrigin::root(), MaxProvingPeriod::get() + 1),
			Error::<Test>::ProvingPeriodTooLong
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
fn root_replaces_the_verifying_key_from_the_next_period_and_late_proofs_keep_the_old_one() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let old_key = VerifyingKey::<Test>::get();
		let key: BoundedVec<u8, _> = BoundedVec::truncate_from(b"ceremony key".to_vec());
		assert_noop!(
			Market::set_verifying_key(RuntimeOrigin::signed(BUYER), key.clone()),
			BadOrigin
		);
		assert_ok!(Market::set_verifying_key(RuntimeOrigin::root(), key.clone()));
		assert_eq!(market_events().last(), Some(&Event::VerifyingKeySet { length: 12, from: 2 }));
		// Period 1 is proven against the key it opened with, also late, in its grace.
		assert_eq!(VerifyingKey::<Test>::get(), old_key);
		prove(id, 0, 1);
		run_to_block(period_start(2));
		assert_eq!(VerifyingKey::<Test>::get(), key);
		let under_old_key = proof_under(&old_key, &inputs_for(provider(1), id, 1, 1));
		assert_ok!(Market::submit_proof(
			RuntimeOrigin::signed(provider(1)),
			id,
			1,
			1,
			under_old_key
		));
		// Period 2 only under the new key.
		let under_old_key = proof_under(&old_key, &inputs_for(provider(0), id, 0, 2));
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(0)), id, 0, 2, under_old_key),
			Error::<Test>::InvalidProof
		);
		prove(id, 0, 2);
	});
}

#[test]
fn a_key_no_proof_could_pass_under_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let before = VerifyingKey::<Test>::get();
		// A key file's header over garbage: its points do not decode.
		let mut garbage = cairn_prover::keys::KEY_MAGIC.to_vec();
		garbage.extend_from_slice(&[0xAB; 600]);
		assert_noop!(
			Market::set_verifying_key(RuntimeOrigin::root(), BoundedVec::truncate_from(garbage)),
			Error::<Test>::InvalidVerifyingKey
		);
		// A real key file cut short.
		let cut = cairn_prover::keys::DEV_VERIFYING_KEY[..200].to_vec();
		assert_noop!(
			Market::set_verifying_key(RuntimeOrigin::root(), BoundedVec::truncate_from(cut)),
			Error::<Test>::InvalidVerifyingKey
		);
		assert_noop!(
			Market::set_verifying_key(RuntimeOrigin::root(), BoundedVec::new()),
			Error::<Test>::InvalidVerifyingKey
		);
		// The real development key passes.
		let dev = cairn_prover::keys::DEV_VERIFYING_KEY.to_vec();
		assert_ok!(Market::set_verifying_key(
			RuntimeOrigin::root(),
			BoundedVec::truncate_from(dev)
		));
		assert_eq!(VerifyingKey::<Test>::get(), before);
		assert!(crate::NextVerifyingKey::<Test>::get().is_some());
	});
}

#[test]
fn periods_without_a_key_slash_nobody() {
	ExtBuilder::default().without_key().build_and_execute(|| {
		let id = create_confirmed_contract();
		// Nobody can prove: no key.
		run_to_block(period_start(1));
		let proof = valid_proof(provider(0), id, 0, 1);
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(0)), id, 0, 1, proof),
			Error::<Test>::NoVerifyingKey
		);
		// Three keyless periods pass and are settled: no fault, nothing lost.
		run_to_block(period_start(5));
		assert!(slashes().is_empty());
		let contract = Contracts::<Test>::get(id).unwrap();
		assert!(contract.shards.iter().all(|shard| shard.status == ShardStatus::Active
			&& shard.consecutive_faults == 0
			&& shard.settled_through == 3));
		// A key set in period 5 counts from period 6 on: period 6 missed is a fault.
		let key: BoundedVec<u8, _> = BoundedVec::truncate_from(b"ceremony key".to_vec());
		assert_ok!(Market::set_verifying_key(RuntimeOrigin::root(), key));
		run_to_block(period_start(8));
		assert_eq!(slashes().len(), 3, "each shard faulted once, for period 6");
		assert!(market_events().iter().all(|event| !matches!(
			event,
			Event::ShardFaulted { through, missed, .. } if *through != 6 || *missed != 1
		)));
	});
}

#[test]
fn account_bytes_keep_32_byte_accounts_and_hash_the_rest() {
	let account = sp_core::crypto::AccountId32::new([7; 32]);
	assert_eq!(account_bytes(&account), [7; 32]);
	assert_eq!(account_bytes(&5u64), sp_crypto_hashing::blake2_256(&codec::Encode::encode(&5u64)));
	assert_ne!(account_bytes(&5u64), account_bytes(&6u64));
}
