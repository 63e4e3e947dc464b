//! End to end with real proofs: shards committed with the Poseidon tree of `cairn-primitives`,
//! proven with `cairn-prover` under the development keys, verified by [`crate::Groth16Verifier`].

use frame_support::{assert_noop, assert_ok, BoundedVec};

use super::*;
use crate::{bench_prover, Error, ProofSubmission};

const BYTES: u64 = 4_096;

/// A confirmed 2 + 1 contract over providers 0, 1, 2 whose roots commit to real data, with the
/// development Groth16 key installed.
fn real_contract() -> ContractId {
	assert_ok!(Market::set_verifying_key(
		RuntimeOrigin::root(),
		BoundedVec::truncate_from(bench_prover::verifying_key())
	));
	let specs = (0..3u32)
		.map(|n| ShardSpec {
			root: bench_prover::commit(&bench_prover::shard_data(100 + n, BYTES)),
			blake3: [n as u8; 32],
			bytes: BYTES,
		})
		.collect::<Vec<_>>();
	let id = crate::NextContractId::<Test>::get();
	assert_ok!(Market::create_contract(
		RuntimeOrigin::signed(BUYER),
		BoundedVec::truncate_from(specs),
		2,
		1,
		providers(0, 3),
		DURATION,
		PROVIDER_PRICE,
		BoundedVec::new()
	));
	for n in 0..3 {
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(n)), id, n as ShardIndex));
	}
	id
}

fn groth16_proof(inputs: &PublicInputs) -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	BoundedVec::truncate_from(bench_prover::prove(inputs))
}

fn accepted(contract: ContractId, shard: ShardIndex, period: PeriodIndex) -> bool {
	market_events().iter().any(|event| {
		matches!(event, Event::ProofAccepted { contract: c, shard: s, period: p, .. }
			if (*c, *s, *p) == (contract, shard, period))
	})
}

fn rejected(contract: ContractId, shard: ShardIndex, period: PeriodIndex) -> bool {
	market_events().iter().any(|event| {
		matches!(event, Event::ProofRejected { contract: c, shard: s, period: p, reason, .. }
			if (*c, *s, *p) == (contract, shard, period)
				&& *reason == Error::<Test>::InvalidProof.into())
	})
}

#[test]
fn real_proofs_are_verified_paid_and_bound_to_their_provider_and_period() {
	ExtBuilder::default().build_and_execute(|| {
		let id = real_contract();
		run_to_block(period_start(1));

		// A proof bound to another provider (the replayed binding) is refused.
		let foreign = groth16_proof(&inputs_for(provider(1), id, 0, 1));
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(0)), id, 0, 1, foreign),
			Error::<Test>::InvalidProof
		);

		// The shard's own provider proves period 1 and is paid.
		let proof = groth16_proof(&inputs_for(provider(0), id, 0, 1));
		assert_ok!(Market::submit_proof(
			RuntimeOrigin::signed(provider(0)),
			id,
			0,
			1,
			proof.clone()
		));
		assert!(accepted(id, 0, 1));
		let contract = Contracts::<Test>::get(id).unwrap();
		assert_eq!((contract.shards[0].last_proven, contract.shards[0].proofs), (Some(1), 1));
		assert!(contract.paid > 0);
		// The same proof twice is refused.
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(0)), id, 0, 1, proof.clone()),
			Error::<Test>::AlreadyProven
		);

		// A batch: one valid proof and one made for the wrong period; only the valid one pays.
		let good = groth16_proof(&inputs_for(provider(1), id, 1, 1));
		run_to_block(period_start(2));
		let stale = groth16_proof(&inputs_for(provider(2), id, 2, 1));
		let good_now = groth16_proof(&inputs_for(provider(1), id, 1, 2));
		let batch = BoundedVec::truncate_from(vec![
			ProofSubmission { contract: id, shard: 1, period: 2, proof: good_now },
			ProofSubmission { contract: id, shard: 2, period: 2, proof: stale.clone() },
		]);
		assert_ok!(Market::submit_proofs(RuntimeOrigin::signed(provider(1)), batch));
		assert!(accepted(id, 1, 2));
		// Shard 2 belongs to provider 2: rejected before verification, as not its provider.
		assert!(!accepted(id, 2, 2));

		// Provider 2 replays its period-1 proof for period 2: the challenge differs, refused.
		let replayed = BoundedVec::truncate_from(vec![ProofSubmission {
			contract: id,
			shard: 2,
			period: 2,
			proof: stale,
		}]);
		assert_ok!(Market::submit_proofs(RuntimeOrigin::signed(provider(2)), replayed));
		assert!(rejected(id, 2, 2));

		// A period-1 proof submitted in period 2 is in its grace; in period 3 it is late.
		run_to_block(period_start(3));
		assert_noop!(
			Market::submit_proof(RuntimeOrigin::signed(provider(1)), id, 1, 1, good),
			Error::<Test>::ProofTooLate
		);
	});
}
