//! The transaction pool's view of proofs: due proofs rank above anything a tip can buy, proofs
//! that are not due are refused before they can take block space, other calls pass untouched, and
//! proofs are operational.

use codec::Encode;
use frame_support::{
	assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo},
	BoundedVec,
};
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{
		InvalidTransaction, TransactionSource, TransactionValidityError, ValidTransaction,
	},
};

use super::*;
use crate::{InvalidProofCode, PrioritizeProofs, ProofSubmission, PROOF_PRIORITY};

type Validity = Result<ValidTransaction, TransactionValidityError>;

/// What [`PrioritizeProofs`] tells the pool about `call` from `origin`.
fn validate_from(origin: RuntimeOrigin, call: &RuntimeCall) -> Validity {
	let info = call.get_dispatch_info();
	PrioritizeProofs::<Test>::new()
		.validate_only(origin, call, &info, 0, TransactionSource::External, 0)
		.map(|(valid, (), _)| valid)
}

/// What [`PrioritizeProofs`] tells the pool about `call` signed by `who`.
fn validate(who: AccountId, call: &RuntimeCall) -> Validity {
	validate_from(RuntimeOrigin::signed(who), call)
}

fn refused(code: InvalidProofCode) -> Validity {
	Err(InvalidTransaction::Custom(code as u8).into())
}

/// The tag a transaction provides for one of its proofs.
fn tag(contract: ContractId, shard: ShardIndex, period: PeriodIndex) -> Vec<u8> {
	(b"cairn/proof", contract, shard, period).encode()
}

/// Proof bytes the pool never looks at.
fn junk() -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	BoundedVec::truncate_from(vec![7u8; 32])
}

/// `submit_proof` of junk bytes.
fn single(contract: ContractId, shard: ShardIndex, period: PeriodIndex) -> RuntimeCall {
	RuntimeCall::Market(crate::Call::submit_proof { contract, shard, period, proof: junk() })
}

/// `submit_proofs` of junk bytes for each (contract, shard, period).
fn batch(proofs: &[(ContractId, ShardIndex, PeriodIndex)]) -> RuntimeCall {
	let proofs: Vec<_> = proofs
		.iter()
		.map(|&(contract, shard, period)| ProofSubmission {
			contract,
			shard,
			period,
			proof: junk(),
		})
		.collect();
	RuntimeCall::Market(crate::Call::submit_proofs { proofs: BoundedVec::truncate_from(proofs) })
}

/// A second contract, of one shard on provider 0, confirmed; returns its id.
fn create_second_contract_on_provider_0() -> ContractId {
	let id = crate::NextContractId::<Test>::get();
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
	assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
	id
}

#[test]
fn a_due_proof_batch_gets_proof_priority_and_one_tag_per_proof() {
	ExtBuilder::default().build_and_execute(|| {
		let first = create_confirmed_contract();
		let second = create_second_contract_on_provider_0();
		run_to_block(period_start(1));
		let proofs: crate::ProofBatchOf<Test> = BoundedVec::truncate_from(vec![
			ProofSubmission {
				contract: first,
				shard: 0,
				period: 1,
				proof: valid_proof(provider(0), first, 0, 1),
			},
			ProofSubmission {
				contract: second,
				shard: 0,
				period: 1,
				proof: valid_proof(provider(0), second, 0, 1),
			},
		]);
		let call = RuntimeCall::Market(crate::Call::submit_proofs { proofs: proofs.clone() });
		let valid = validate(provider(0), &call).expect("both proofs are due");
		assert_eq!(valid.priority, PROOF_PRIORITY);
		assert_eq!(valid.provides, vec![tag(first, 0, 1), tag(second, 0, 1)]);
		assert!(valid.requires.is_empty());
		// The pool does not verify: junk bytes for a due shard rank the same (dispatch rejects
		// them, and the fee is paid).
		let single_proof = validate(provider(1), &single(first, 1, 1)).expect("shard 1 is due");
		assert_eq!(single_proof.priority, PROOF_PRIORITY);
		assert_eq!(single_proof.provides, vec![tag(first, 1, 1)]);
		// A batch sent again after one of its proofs landed keeps its place for the other.
		prove(first, 0, 1);
		let partly = validate(provider(0), &call).expect("the second proof is still due");
		assert_eq!(partly.provides, vec![tag(second, 0, 1)]);
		// Once all are accepted, the batch is refused.
		assert_ok!(Market::submit_proofs(RuntimeOrigin::signed(provider(0)), proofs));
		assert_eq!(validate(provider(0), &call), refused(InvalidProofCode::AlreadyProven));
	});
}

#[test]
fn a_proof_from_another_than_the_shard_provider_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_eq!(
			validate(provider(1), &single(id, 0, 1)),
			refused(InvalidProofCode::NotShardProvider)
		);
		assert_eq!(
			validate(STRANGER, &single(id, 0, 1)),
			refused(InvalidProofCode::NotShardProvider)
		);
	});
}

#[test]
fn a_proof_for_an_unknown_contract_or_shard_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_eq!(
			validate(provider(0), &single(id + 1, 0, 1)),
			refused(InvalidProofCode::UnknownContract)
		);
		assert_eq!(
			validate(provider(0), &single(id, 5, 1)),
			refused(InvalidProofCode::UnknownShard)
		);
	});
}

#[test]
fn a_proof_for_a_past_or_future_period_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_eq!(
			validate(provider(0), &single(id, 0, 2)),
			refused(InvalidProofCode::PeriodNotOpen)
		);
		// In period 2, period 1 is in its grace: still due.
		run_to_block(period_start(2));
		assert_ok!(validate(provider(0), &single(id, 0, 1)));
		assert_ok!(validate(provider(0), &single(id, 0, 2)));
		run_to_block(period_start(3));
		assert_eq!(validate(provider(0), &single(id, 0, 1)), refused(InvalidProofCode::PeriodOver));
		assert_ok!(validate(provider(0), &single(id, 0, 2)));
	});
}

#[test]
fn a_proof_for_an_already_proven_shard_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		prove(id, 0, 1);
		assert_eq!(
			validate(provider(0), &single(id, 0, 1)),
			refused(InvalidProofCode::AlreadyProven)
		);
		// The other shards are still due.
		assert_ok!(validate(provider(1), &single(id, 1, 1)));
	});
}

#[test]
fn a_proof_for_a_shard_that_owes_none_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		run_to_block(3);
		assert_eq!(
			validate(provider(0), &single(id, 0, 0)),
			refused(InvalidProofCode::ShardNotActive)
		);
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_eq!(
			validate(provider(0), &single(id, 0, 0)),
			refused(InvalidProofCode::ShardNotDueYet)
		);
	});
}

#[test]
fn a_proof_of_a_period_without_a_key_is_refused() {
	ExtBuilder::default().without_key().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		assert_eq!(
			validate(provider(0), &single(id, 0, 1)),
			refused(InvalidProofCode::NoVerifyingKey)
		);
	});
}

#[test]
fn one_proof_that_is_not_due_refuses_the_whole_batch() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		let second = create_second_contract_on_provider_0();
		run_to_block(period_start(1));
		assert_ok!(validate(provider(0), &batch(&[(id, 0, 1), (second, 0, 1)])));
		// Shard 1 is provider 1's.
		assert_eq!(
			validate(provider(0), &batch(&[(id, 0, 1), (id, 1, 1), (second, 0, 1)])),
			refused(InvalidProofCode::NotShardProvider)
		);
		assert_eq!(
			validate(provider(0), &batch(&[(id, 0, 1), (second, 0, 2)])),
			refused(InvalidProofCode::PeriodNotOpen)
		);
		assert_eq!(
			validate(provider(0), &batch(&[(id, 0, 1), (id, 0, 1)])),
			refused(InvalidProofCode::DuplicateProof)
		);
		assert_eq!(validate(provider(0), &batch(&[])), refused(InvalidProofCode::EmptyBatch));
	});
}

#[test]
fn other_calls_and_origins_pass_with_default_validity() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		run_to_block(period_start(1));
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![0u8; 1024] });
		assert_eq!(validate(STRANGER, &remark), Ok(ValidTransaction::default()));
		let end = RuntimeCall::Market(crate::Call::end_contract { contract: id });
		assert_eq!(validate(BUYER, &end), Ok(ValidTransaction::default()));
		// Not signed: no priority here, and dispatch refuses the origin.
		assert_eq!(
			validate_from(RuntimeOrigin::root(), &single(id, 0, 1)),
			Ok(ValidTransaction::default())
		);
	});
}

#[test]
fn proofs_are_operational() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_confirmed_contract();
		assert_eq!(batch(&[(id, 0, 1)]).get_dispatch_info().class, DispatchClass::Operational);
		assert_eq!(single(id, 0, 1).get_dispatch_info().class, DispatchClass::Operational);
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![0u8; 1024] });
		assert_eq!(remark.get_dispatch_info().class, DispatchClass::Normal);
	});
}

#[test]
fn a_due_confirmation_ranks_like_a_proof_and_a_bad_one_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_default_contract();
		let confirm =
			|contract, shard| RuntimeCall::Market(crate::Call::confirm_shard { contract, shard });
		assert_eq!(confirm(id, 0).get_dispatch_info().class, DispatchClass::Operational);
		assert_eq!(
			validate(provider(0), &confirm(id, 0)),
			Ok(ValidTransaction {
				priority: PROOF_PRIORITY,
				provides: vec![(b"cairn/confirm", id, 0 as ShardIndex).encode()],
				..Default::default()
			})
		);
		assert_eq!(
			validate(provider(1), &confirm(id, 0)),
			refused(InvalidProofCode::NotShardProvider)
		);
		assert_eq!(
			validate(provider(0), &confirm(id + 1, 0)),
			refused(InvalidProofCode::UnknownContract)
		);
		assert_eq!(validate(provider(0), &confirm(id, 7)), refused(InvalidProofCode::UnknownShard));
		assert_ok!(Market::confirm_shard(RuntimeOrigin::signed(provider(0)), id, 0));
		assert_eq!(
			validate(provider(0), &confirm(id, 0)),
			refused(InvalidProofCode::ShardNotPending)
		);
		run_to_block(2 + CONFIRM_WINDOW);
		assert_eq!(
			validate(provider(1), &confirm(id, 1)),
			refused(InvalidProofCode::ConfirmationDeadlinePassed)
		);
	});
}
