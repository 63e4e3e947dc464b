//! Proofs: what is accepted and paid, and every way a proof is refused.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect, BoundedVec};
use sp_runtime::traits::BadOrigin;

use super::*;
use crate::{Error, ProofSubmission};

const PAYMENT: Balance = PROVIDER_PRICE * SHARD_BYTES as Balance * PROVING_PERIOD as Balance;

fn submit(
	who: AccountId,
	contract: ContractId,
	shard: ShardIndex,
	period: PeriodIndex,
	proof: BoundedVec<u8, frame_support::traits::ConstU32<256>>,
) -> sp_runtime::DispatchResult {
	Market::submit_proof(RuntimeOrigin::signed(who), contract, shard, period, proof)
}

#[test]
fn a_valid_proof_pays_price_times_bytes_times_period() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1) + 3);
		let before = Balances::balance(&provider(0));
		assert_ok!(submit(provider(0), id, 0, 1, valid_proof(provider(0), id, 0, 1)));
		assert_eq!(Balances::balance(&provider(0)), before + PAYMENT);
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!((contract.paid, contract.shards[0].last_proven), (PAYMENT, Some(1)));
		assert_eq!(
			market_events().last(),
			Some(&Event::ProofAccepted {
				contract: id,
				shard: 0,
				period: 1,
				provider: provider(0),
				payment: PAYMENT
			})
		);
	});
}

#[test]
fn the_pallet_computes_the_same_public_inputs_as_the_primitives() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let on_chain = crate::Pallet::<Test>::public_inputs_for(&provider(2), id, 2, 1).unwrap();
		assert_eq!(on_chain, inputs_for(provider(2), id, 2, 1));
		assert_eq!(on_chain.indices.len(), CHALLENGES as usize);
		// One 1000-byte shard has 9 leaves of 124 bytes.
		assert!(on_chain.indices.iter().all(|index| *index < 9));
	});
}

#[test]
fn a_wrong_proof_is_rejected() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_noop!(
			submit(provider(0), id, 0, 1, BoundedVec::truncate_from(vec![0u8; 32])),
			Error::<Test>::InvalidProof
		);
		// A proof of another root (another shard's data).
		let mut inputs = inputs_for(provider(0), id, 0, 1);
		inputs.root = root(9);
		assert_noop!(submit(provider(0), id, 0, 1, proof_of(&inputs)), Error::<Test>::InvalidProof);
		// A proof of other leaves than the challenged ones.
		let mut inputs = inputs_for(provider(0), id, 0, 1);
		inputs.indices[0] = (inputs.indices[0] + 1) % 17;
		assert_noop!(submit(provider(0), id, 0, 1, proof_of(&inputs)), Error::<Test>::InvalidProof);
		// A proof made under another verifying key.
		let inputs = inputs_for(provider(0), id, 0, 1);
		let foreign = BoundedVec::truncate_from(MacVerifier::proof(b"another key", &inputs));
		assert_noop!(submit(provider(0), id, 0, 1, foreign), Error::<Test>::InvalidProof);
	});
}

#[test]
fn a_proof_bound_to_another_provider_shard_or_period_is_rejected() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		// Provider 1's valid proof for shard 1, replayed by provider 0 for shard 0: wrong binding.
		let mut replay = inputs_for(provider(0), id, 0, 1);
		replay.binding = inputs_for(provider(1), id, 0, 1).binding;
		assert_noop!(submit(provider(0), id, 0, 1, proof_of(&replay)), Error::<Test>::InvalidProof);
		// Only the assigned provider may submit for a shard at all.
		assert_noop!(
			submit(provider(1), id, 0, 1, valid_proof(provider(1), id, 0, 1)),
			Error::<Test>::NotShardProvider
		);
		// Last period's proof (other indices and binding) does not prove this period.
		prove(id, 0, 1);
		let old = valid_proof(provider(0), id, 0, 1);
		run_to_block(period_start(2));
		assert_noop!(submit(provider(0), id, 0, 2, old), Error::<Test>::InvalidProof);
		// Another shard's proof does not prove this one.
		assert_noop!(
			submit(provider(1), id, 1, 2, valid_proof(provider(1), id, 2, 2)),
			Error::<Test>::InvalidProof
		);
	});
}

#[test]
fn late_future_and_double_proofs_are_rejected() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let proof_1 = valid_proof(provider(0), id, 0, 1);
		assert_noop!(submit(provider(0), id, 0, 2, proof_1.clone()), Error::<Test>::PeriodNotOpen);
		assert_ok!(submit(provider(0), id, 0, 1, proof_1.clone()));
		assert_noop!(submit(provider(0), id, 0, 1, proof_1.clone()), Error::<Test>::AlreadyProven);
		let proof_1_shard_1 = valid_proof(provider(1), id, 1, 1);
		let proof_1_shard_2 = valid_proof(provider(2), id, 2, 1);
		// In period 2, period 1 is in its grace: a late proof is accepted, a double one not.
		run_to_block(period_start(2));
		assert_noop!(submit(provider(0), id, 0, 1, proof_1), Error::<Test>::AlreadyProven);
		assert_ok!(submit(provider(1), id, 1, 1, proof_1_shard_1));
		// In period 3 it is over.
		run_to_block(period_start(3));
		assert_noop!(submit(provider(2), id, 2, 1, proof_1_shard_2), Error::<Test>::ProofTooLate);
	});
}

#[test]
fn proofs_are_refused_for_shards_that_owe_none() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		run_to_block(3);
		let proof = BoundedVec::truncate_from(vec![1u8; 32]);
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::root(), id, 0, 0, proof.clone()),
			BadOrigin
		);
		assert_noop!(
			submit(provider(0), id + 1, 0, 0, proof.clone()),
			Error::<Test>::ContractNotFound
		);
		assert_noop!(submit(provider(0), id, 5, 0, proof.clone()), Error::<Test>::ShardNotFound);
		assert_noop!(submit(provider(0), id, 0, 0, proof.clone()), Error::<Test>::ShardNotActive);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		// Confirmed in period 0: the first period due is 1.
		assert_noop!(
			submit(provider(0), id, 0, 0, valid_proof(provider(0), id, 0, 0)),
			Error::<Test>::ShardNotDueYet
		);
		crate::CurrentPeriod::<Test>::kill();
		assert_noop!(submit(provider(0), id, 0, 0, proof), Error::<Test>::NoProvingPeriod);
	});
}

#[test]
fn no_proof_is_accepted_without_a_verifying_key() {
	ExtBuilder::default().without_key().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_noop!(
			submit(provider(0), id, 0, 1, valid_proof(provider(0), id, 0, 1)),
			Error::<Test>::NoVerifyingKey
		);
	});
}

#[test]
fn a_period_opened_after_the_contract_end_is_not_due() {
	ExtBuilder::default().build_and_execute(|| {
		let id = crate::NextContractId::<Test>::get();
		assert_ok!(Market::create_contract(
			RuntimeOrigin::signed(BUYER),
			specs(1, SHARD_BYTES),
			1,
			0,
			providers(0, 1),
			5,
			1,
			BoundedVec::new()
		));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		System::set_block_number(period_start(1));
		crate::Pallet::<Test>::open_period_if_due(period_start(1));
		assert_noop!(
			submit(provider(0), id, 0, 1, valid_proof(provider(0), id, 0, 1)),
			Error::<Test>::PeriodAfterContractEnd
		);
	});
}

#[test]
fn a_batch_pays_the_valid_proofs_and_reports_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let first = create_confirmed_contract();
		let second = crate::NextContractId::<Test>::get();
		assert_ok!(Market::create_contract(
			RuntimeOrigin::signed(OTHER_BUYER),
			specs(1, SHARD_BYTES),
			1,
			0,
			providers(0, 1),
			DURATION,
			1,
			BoundedVec::new()
		));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), second, 0));
		run_to_block(period_start(1));
		let item = |contract, shard, proof| ProofSubmission { contract, shard, period: 1, proof };
		let batch = BoundedVec::truncate_from(vec![
			item(first, 0, valid_proof(provider(0), first, 0, 1)),
			item(second, 0, valid_proof(provider(0), second, 0, 1)),
			item(first, 0, valid_proof(provider(0), first, 0, 1)),
			item(first, 1, valid_proof(provider(0), first, 1, 1)),
			item(second, 0, BoundedVec::truncate_from(vec![3u8; 32])),
		]);
		let before = Balances::balance(&provider(0));
		assert_ok!(Market::submit_proofs(RuntimeOrigin::signed(provider(0)), batch));
		assert_eq!(Balances::balance(&provider(0)), before + 2 * PAYMENT);
		let events = market_events();
		let accepted = events.iter().filter(|e| matches!(e, Event::ProofAccepted { .. })).count();
		let rejected: Vec<_> = events
			.iter()
			.filter_map(|e| match e {
				Event::ProofRejected { contract, shard, reason, .. } => {
					Some((*contract, *shard, *reason))
				}
				_ => None,
			})
			.collect();
		assert_eq!(accepted, 2);
		assert_eq!(
			rejected,
			vec![
				(first, 1, Error::<Test>::NotShardProvider.into()),
				(first, 0, Error::<Test>::AlreadyProven.into()),
				(second, 0, Error::<Test>::InvalidProof.into()),
			]
		);
		assert_noop!(Market::submit_proofs(RuntimeOrigin::root(), BoundedVec::new()), BadOrigin);
	});
}

#[test]
fn an_invalid_proof_in_a_batch_is_found_and_rejected_alone() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let batch = BoundedVec::truncate_from(vec![ProofSubmission {
			contract: id,
			shard: 0,
			period: 1,
			proof: BoundedVec::truncate_from(vec![3u8; 32]),
		}]);
		assert_ok!(Market::submit_proofs(RuntimeOrigin::signed(provider(0)), batch));
		assert_eq!(
			market_events().last(),
			Some(&Event::ProofRejected {
				contract: id,
				shard: 0,
				period: 1,
				provider: provider(0),
				reason: Error::<Test>::InvalidProof.into()
			})
		);
		assert_eq!(Contracts::<Test>::get(id).unwrap().paid, 0);
		prove(id, 0, 1);
	});
}

#[test]
fn a_shard_remembers_which_recent_periods_were_proven() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let mut shard = Contracts::<Test>::get(id).unwrap().shards[0].clone();
		assert!(!shard.is_proven(0));
		shard.record_proof(5);
		// A late proof of the period before, then the next period, then a long gap.
		shard.record_proof(4);
		shard.record_proof(6);
		assert!(shard.is_proven(4) && shard.is_proven(5) && shard.is_proven(6));
		assert!(!shard.is_proven(3) && !shard.is_proven(7));
		assert_eq!(shard.proven_in(3, 6).collect::<Vec<_>>(), vec![6, 5, 4]);
		assert_eq!(shard.proven_in(4, 5).collect::<Vec<_>>(), vec![5]);
		shard.record_proof(6 + 32);
		assert!(shard.is_proven(6 + 32) && shard.is_proven(6) && !shard.is_proven(5));
		shard.record_proof(200);
		assert!(shard.is_proven(200) && !shard.is_proven(38));
		assert_eq!(shard.proven_in(0, 200).collect::<Vec<_>>(), vec![200]);
		// A proof too old to remember is ignored, not wrapped around.
		shard.record_proof(100);
		assert!(!shard.is_proven(100));
	});
}
