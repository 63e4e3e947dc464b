//! Proofs end to end: honest proofs verify, every kind of wrong statement or witness fails,
//! batches name their bad proofs.

mod common;

use cairn_primitives::{
	field::fr_to_le_bytes,
	tree::{MerkleProof, LEAF_BYTES},
	Fr,
};
use cairn_prover::{
	statement::Statement,
	verifier::{self, BatchVerdict, StorageProof, PROOF_BYTES},
	Error,
};
use common::{fixture, keys, prover, rng, TEST_CHALLENGES};

fn openings(fixture: &common::Fixture) -> Vec<MerkleProof> {
	fixture.statement.indices().iter().map(|i| fixture.tree.proof(*i).expect("in range")).collect()
}

fn verifier_key() -> verifier::VerifierKey {
	keys().verifier_key().expect("key fits the circuit")
}

#[test]
fn honest_proof_verifies_and_round_trips() {
	let fixture = fixture(LEAF_BYTES * 100 + 1, 1, 4);
	let proof = prover().prove(&fixture.tree, &fixture.statement, &mut rng(1)).expect("proves");
	let key = verifier_key();
	assert!(verifier::verify(&key, &proof, &fixture.statement).expect("fits"));
	let bytes = proof.to_bytes();
	assert_eq!(bytes.len(), PROOF_BYTES);
	assert_eq!(StorageProof::from_bytes(&bytes).expect("decodes"), proof);
	let statement = &fixture.statement;
	let root = fr_to_le_bytes(&statement.root());
	let binding = fr_to_le_bytes(&statement.binding());
	assert!(
		verifier::verify_encoded(&key, &bytes, &root, &binding, statement.indices()).expect("fits")
	);
}

#[test]
fn proof_does_not_verify_for_another_binding_root_or_index() {
	let fixture = fixture(LEAF_BYTES * 100, 2, 4);
	let proof = prover().prove(&fixture.tree, &fixture.statement, &mut rng(2)).expect("proves");
	let key = verifier_key();
	let statement = &fixture.statement;

	let mut other_provider = fixture.request.clone();
	other_provider.provider = [2; 32];
	let mut other_period = fixture.request.clone();
	other_period.period += 1;
	let mut other_shard = fixture.request.clone();
	other_shard.shard += 1;
	for (name, request) in
		[("provider", other_provider), ("period", other_period), ("shard", other_shard)]
	{
		let replayed = Statement::from_fields(
			statement.root(),
			request.statement(TEST_CHALLENGES).expect("valid").binding(),
			statement.indices().to_vec(),
		)
		.expect("valid statement");
		assert_ne!(replayed.binding(), statement.binding());
		assert!(
			!verifier::verify(&key, &proof, &replayed).expect("fits"),
			"replayed for another {name}"
		);
	}

	let other_root = Statement::from_fields(
		statement.root() + Fr::from(1u64),
		statement.binding(),
		statement.indices().to_vec(),
	)
	.expect("valid statement");
	assert!(!verifier::verify(&key, &proof, &other_root).expect("fits"));

	let mut indices = statement.indices().to_vec();
	indices[1] ^= 1;
	let other_index =
		Statement::from_fields(statement.root(), statement.binding(), indices).expect("valid");
	assert!(!verifier::verify(&key, &proof, &other_index).expect("fits"));
}

#[test]
fn proofs_from_wrong_witnesses_do_not_verify() {
	let fixture = fixture(LEAF_BYTES * 100, 3, 4);
	let key = verifier_key();
	let honest = openings(&fixture);

	let mut wrong_leaf = honest.clone();
	wrong_leaf[0].leaf[0] ^= 1;
	let mut wrong_path = honest.clone();
	wrong_path[2].siblings[7][1] += Fr::from(1u64);
	let mut wrong_index = honest.clone();
	wrong_index[1] = fixture.tree.proof((honest[1].index + 1) % 100).expect("in range");
	for (name, openings) in [("leaf", wrong_leaf), ("path", wrong_path), ("index", wrong_index)] {
		assert!(
			fixture.statement.check_openings(&openings).is_err(),
			"native check catches {name}"
		);
		let proof = prover()
			.prove_openings(&fixture.statement, openings, &mut rng(3))
			.expect("the prover runs on any witness");
		assert!(!verifier::verify(&key, &proof, &fixture.statement).expect("fits"), "wrong {name}");
	}
}

#[test]
fn prover_refuses_openings_that_fail_the_native_check() {
	struct Corrupt<'a>(&'a cairn_primitives::tree::MemoryTree);
	impl cairn_prover::prover::LeafOpener for Corrupt<'_> {
		fn open_leaf(&self, index: u64) -> Result<MerkleProof, Error> {
			let mut proof = self.0.proof(index)?;
			proof.leaf[5] ^= 0xff;
			Ok(proof)
		}
	}
	let fixture = fixture(LEAF_BYTES * 50, 4, 4);
	let result = prover().prove(&Corrupt(&fixture.tree), &fixture.statement, &mut rng(4));
	assert!(matches!(result, Err(Error::OpeningInvalid { position: 0, .. })));
}

#[test]
fn batch_accepts_honest_proofs_and_names_a_bad_one() {
	let key = verifier_key();
	let mut items: Vec<(StorageProof, Statement)> = (0..5u8)
		.map(|salt| {
			let fixture = fixture(LEAF_BYTES * 30 + usize::from(salt), salt, u32::from(salt));
			let proof = prover()
				.prove(&fixture.tree, &fixture.statement, &mut rng(u64::from(salt)))
				.expect("proves");
			(proof, fixture.statement)
		})
		.collect();
	assert_eq!(verifier::verify_batch(&key, &items).expect("fits"), BatchVerdict::AllValid);
	assert_eq!(verifier::verify_batch(&key, &[]).expect("empty"), BatchVerdict::AllValid);

	// Proof 3 presented for proof 1's statement and vice versa: both fail.
	let (proof_one, proof_three) = (items[1].0.clone(), items[3].0.clone());
	items[1].0 = proof_three;
	items[3].0 = proof_one;
	assert_eq!(
		verifier::verify_batch(&key, &items).expect("fits"),
		BatchVerdict::Invalid(vec![1, 3])
	);
	items.swap(1, 3);
	assert_eq!(
		verifier::verify_batch(&key, &items).expect("fits"),
		BatchVerdict::Invalid(vec![1, 3])
	);

	// Put the proofs back; then one replayed binding among honest proofs.
	let (a, b) = (items[1].0.clone(), items[3].0.clone());
	items[1].0 = b;
	items[3].0 = a;
	let replayed = Statement::from_fields(
		items[4].1.root(),
		items[4].1.binding() + Fr::from(1u64),
		items[4].1.indices().to_vec(),
	)
	.expect("valid");
	items[4].1 = replayed;
	assert_eq!(verifier::verify_batch(&key, &items).expect("fits"), BatchVerdict::Invalid(vec![4]));
}

#[test]
fn malformed_inputs_are_errors() {
	let fixture = fixture(LEAF_BYTES * 10, 5, 4);
	let proof = prover().prove(&fixture.tree, &fixture.statement, &mut rng(5)).expect("proves");
	let key = verifier_key();
	let bytes = proof.to_bytes();
	let binding = fr_to_le_bytes(&fixture.statement.binding());
	let indices = fixture.statement.indices();
	assert!(matches!(
		verifier::verify_encoded(&key, &bytes, &[0xff; 32], &binding, indices),
		Err(Error::Primitives(cairn_primitives::Error::NotInField { .. }))
	));
	assert!(matches!(
		verifier::verify_encoded(&key, &bytes[..100], &[0; 32], &binding, indices),
		Err(Error::MalformedProof { actual: 100, .. })
	));
	assert!(matches!(
		StorageProof::from_bytes(&[0xff; PROOF_BYTES]),
		Err(Error::MalformedProof { .. })
	));
	let short = Statement::from_fields(Fr::from(1u64), Fr::from(2u64), vec![1, 2]).expect("valid");
	assert!(matches!(
		verifier::verify(&key, &proof, &short),
		Err(Error::ChallengeMismatch { expected: TEST_CHALLENGES, actual: 2 })
	));
	assert!(matches!(
		verifier::verify_batch(&key, &[(proof, short)]),
		Err(Error::ChallengeMismatch { .. })
	));
}
