//! The circuit against the native check: satisfied exactly when the openings are honest.

mod common;

use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
use cairn_primitives::{
	tree::{CircomPoseidonTree, MerkleProof, LEAF_BYTES},
	Fr,
};
use cairn_prover::{
	circuit::StorageCircuit, prover::constraint_count, statement::Statement, DEFAULT_CHALLENGES,
};
use common::{fixture, TEST_CHALLENGES};
use proptest::prelude::*;

fn satisfied(statement: &Statement, openings: Vec<MerkleProof>) -> bool {
	let circuit = StorageCircuit::new(statement.clone(), openings).expect("shapes match");
	let cs = ConstraintSystem::<Fr>::new_ref();
	circuit.generate_constraints(cs.clone()).expect("synthesizes");
	cs.is_satisfied().expect("prove mode")
}

fn honest_openings(fixture: &common::Fixture) -> Vec<MerkleProof> {
	fixture.statement.indices().iter().map(|i| fixture.tree.proof(*i).expect("in range")).collect()
}

/// Per challenge: 22 index bits, a leaf hash (the Poseidon2 leaf permutation, 264), 11 levels of
/// placement (7) and node compression (the node permutation, 264), one root equality; plus one
/// packing equality per 11 challenges and the binding.
const PER_CHALLENGE: usize = 22 + 264 + 11 * (7 + 264) + 1;

#[test]
fn constraint_count_is_pinned() {
	assert_eq!(PER_CHALLENGE, 3268);
	assert_eq!(constraint_count(1).expect("synthesizes"), PER_CHALLENGE + 1 + 1);
	let default = constraint_count(DEFAULT_CHALLENGES).expect("synthesizes");
	assert_eq!(default, DEFAULT_CHALLENGES * PER_CHALLENGE + DEFAULT_CHALLENGES.div_ceil(11) + 1);
	assert_eq!(default, 52_291);
}

/// The circuit the prover benchmark keeps as its baseline: the same tree over circom's Poseidon
/// (width 5 for leaves and nodes, 297), 58,627 constraints at 16 challenges (57,715 while leaves
/// were two elements hashed at width 3, 240).
#[test]
fn the_circom_baseline_circuit_keeps_its_size() {
	let cs = ConstraintSystem::<Fr>::new_ref();
	cs.set_mode(SynthesisMode::Setup);
	StorageCircuit::<CircomPoseidonTree>::blank_over(DEFAULT_CHALLENGES)
		.generate_constraints(cs.clone())
		.expect("synthesizes");
	let per_challenge = 22 + 297 + 11 * (7 + 297) + 1;
	assert_eq!(cs.num_constraints(), DEFAULT_CHALLENGES * per_challenge + 2 + 1);
	assert_eq!(cs.num_constraints(), 58_627);
}

#[test]
fn honest_openings_satisfy_the_circuit() {
	let fixture = fixture(LEAF_BYTES * 40 + 5, 1, 1);
	let openings = honest_openings(&fixture);
	fixture.statement.check_openings(&openings).expect("native check passes");
	assert!(satisfied(&fixture.statement, openings));
}

#[test]
fn wrong_root_fails() {
	let fixture = fixture(LEAF_BYTES * 40, 2, 1);
	let wrong = Statement::from_fields(
		fixture.statement.root() + Fr::from(1u64),
		fixture.statement.binding(),
		fixture.statement.indices().to_vec(),
	)
	.expect("valid statement");
	assert!(!satisfied(&wrong, honest_openings(&fixture)));
}

#[test]
fn wrong_leaf_fails() {
	let fixture = fixture(LEAF_BYTES * 40, 3, 1);
	let mut openings = honest_openings(&fixture);
	openings[TEST_CHALLENGES - 1].leaf[10] ^= 1;
	assert!(!satisfied(&fixture.statement, openings));
}

#[test]
fn wrong_path_fails() {
	let fixture = fixture(LEAF_BYTES * 40, 4, 1);
	for level in [0, 5, 10] {
		let mut openings = honest_openings(&fixture);
		openings[1].siblings[level][2] += Fr::from(1u64);
		assert!(!satisfied(&fixture.statement, openings), "level {level}");
	}
}

#[test]
fn wrong_index_fails() {
	// Another leaf's honest opening, presented for the challenged index.
	let fixture = fixture(LEAF_BYTES * 200, 5, 1);
	let mut openings = honest_openings(&fixture);
	let challenged = openings[0].index;
	let other = if challenged == 0 { 1 } else { challenged - 1 };
	openings[0] = fixture.tree.proof(other).expect("in range");
	assert!(!satisfied(&fixture.statement, openings.clone()));
	// The challenged leaf's own opening, but claiming the other index's path digits.
	let mut moved = honest_openings(&fixture);
	moved[0].index = other;
	assert!(!satisfied(&fixture.statement, moved));
	// The same openings against a statement with that index changed.
	let mut indices = fixture.statement.indices().to_vec();
	indices[2] ^= 1 << 7;
	let statement =
		Statement::from_fields(fixture.statement.root(), fixture.statement.binding(), indices)
			.expect("valid statement");
	assert!(!satisfied(&statement, honest_openings(&fixture)));
}

#[test]
fn binding_is_a_constrained_input() {
	let cs = ConstraintSystem::<Fr>::new_ref();
	cs.set_mode(SynthesisMode::Setup);
	StorageCircuit::blank(TEST_CHALLENGES).generate_constraints(cs.clone()).expect("synthesizes");
	cs.finalize();
	let matrices = cs.to_matrices().expect("setup mode builds matrices");
	// Instance variable 2 is the binding (0 is the constant one, 1 the root).
	let uses_binding =
		|rows: &Vec<Vec<(Fr, usize)>>| rows.iter().flatten().any(|(_, var)| *var == 2);
	assert!(uses_binding(&matrices.a) || uses_binding(&matrices.b));
	assert_eq!(matrices.num_instance_variables, 1 + Statement::input_count(TEST_CHALLENGES));
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(6))]

	#[test]
	fn circuit_agrees_with_the_native_check(
		len in 1usize..LEAF_BYTES * 300,
		salt in any::<u8>(),
		period in any::<u32>(),
		tamper in 0usize..4,
	) {
		let fixture = fixture(len, salt, period);
		let mut openings = honest_openings(&fixture);
		match tamper {
			0 => {},
			1 => openings[0].leaf[61] ^= 0x40,
			2 => openings[1].siblings[3][0] += Fr::from(5u64),
			_ => openings[2].index = (openings[2].index + 1) % 1000,
		}
		let native = fixture.statement.check_openings(&openings).is_ok();
		prop_assert_eq!(native, satisfied(&fixture.statement, openings));
		if tamper == 0 {
			prop_assert!(native);
		}
	}
}
