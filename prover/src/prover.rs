//! Deterministic development setup and proving with cached constraint matrices.
//!
//! Synthesizing the constraint matrices dominates a naive arkworks prover; [`Prover::new`] builds
//! them once from the blank circuit, and [`Prover::prove`] only computes the witness assignment
//! (synthesis without matrices) before the Groth16 prover runs on the cached matrices. The
//! prover's five multi-scalar multiplications run on [`crate::msm`] (affine buckets, batched
//! inversions) instead of arkworks' Jacobian buckets; the proof is the same Groth16 proof.

use alloc::{format, string::ToString, vec::Vec};

use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup};
use ark_ff::{PrimeField, UniformRand, Zero};
use ark_groth16::{
	r1cs_to_qap::{LibsnarkReduction, R1CSToQAP},
	Groth16, Proof, ProvingKey, VerifyingKey,
};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::r1cs::{
	ConstraintMatrices, ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};
use cairn_primitives::{
	tree::{MemoryTree, MerkleProof},
	Fr,
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

use crate::{
	circuit::StorageCircuit, msm::msm, statement::Statement, verifier::StorageProof,
	verifier::VerifierKey, Curve, Error, MAX_CHALLENGES,
};

/// Seed of the development setup; anyone can rerun it and get the same keys.
pub const DEV_SETUP_SEED: &[u8] = b"cairn/dev-setup/v1";

type Snark = Groth16<Curve, LibsnarkReduction>;

fn proof_system(error: impl ToString) -> Error {
	Error::ProofSystem(error.to_string())
}

/// Where the prover reads challenged leaves and their paths (the shard store implements it).
pub trait LeafOpener {
	/// Leaf `index` and its siblings up to the root.
	fn open_leaf(&self, index: u64) -> Result<MerkleProof, Error>;
}

impl LeafOpener for MemoryTree {
	fn open_leaf(&self, index: u64) -> Result<MerkleProof, Error> {
		Ok(self.proof(index)?)
	}
}

/// A proving key and the challenge count of its circuit.
#[derive(Clone)]
pub struct Keys {
	proving_key: ProvingKey<Curve>,
	challenges: usize,
}

impl Keys {
	/// Keys from a proving key for `challenges` challenges.
	pub fn new(proving_key: ProvingKey<Curve>, challenges: usize) -> Self {
		Keys { proving_key, challenges }
	}

	/// The proving key.
	pub fn proving_key(&self) -> &ProvingKey<Curve> {
		&self.proving_key
	}

	/// The verifying key.
	pub fn verifying_key(&self) -> &VerifyingKey<Curve> {
		&self.proving_key.vk
	}

	/// Challenges per proof.
	pub fn challenges(&self) -> usize {
		self.challenges
	}

	/// The prepared verifier for these keys.
	pub fn verifier_key(&self) -> Result<VerifierKey, Error> {
		VerifierKey::new(self.proving_key.vk.clone(), self.challenges)
	}
}

fn check_count(challenges: usize) -> Result<(), Error> {
	if challenges == 0 || challenges > MAX_CHALLENGES {
		return Err(Error::ChallengeCount { count: challenges, max: MAX_CHALLENGES });
	}
	Ok(())
}

/// The deterministic development setup for `challenges` challenges: Groth16 parameters drawn from
/// ChaCha20 seeded with `blake2_256(DEV_SETUP_SEED)`. Its toxic waste is public by construction:
/// for development and tests only (production keys come from a multi-party ceremony).
pub fn dev_setup(challenges: usize) -> Result<Keys, Error> {
	check_count(challenges)?;
	let mut rng = ChaCha20Rng::from_seed(sp_crypto_hashing::blake2_256(DEV_SETUP_SEED));
	let proving_key = Snark::generate_random_parameters_with_reduction(
		StorageCircuit::blank(challenges),
		&mut rng,
	)
	.map_err(proof_system)?;
	Ok(Keys { proving_key, challenges })
}

/// Number of constraints of the circuit with `challenges` challenges.
pub fn constraint_count(challenges: usize) -> Result<usize, Error> {
	Ok(matrices(challenges)?.num_constraints)
}

fn matrices(challenges: usize) -> Result<ConstraintMatrices<Fr>, Error> {
	check_count(challenges)?;
	let cs = ConstraintSystem::new_ref();
	cs.set_optimization_goal(OptimizationGoal::Constraints);
	cs.set_mode(SynthesisMode::Setup);
	StorageCircuit::blank(challenges).generate_constraints(cs.clone()).map_err(proof_system)?;
	cs.finalize();
	cs.to_matrices().ok_or_else(|| proof_system("setup-mode synthesis yields matrices"))
}

fn check_shape(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
	if expected != found {
		return Err(Error::KeyShape { what, expected, found });
	}
	Ok(())
}

/// Proves storage with one proving key, reusing the circuit's constraint matrices.
pub struct Prover {
	keys: Keys,
	matrices: ConstraintMatrices<Fr>,
}

impl Prover {
	/// A prover for `keys`; builds the constraint matrices once and checks they fit the key.
	pub fn new(keys: Keys) -> Result<Self, Error> {
		let matrices = matrices(keys.challenges)?;
		let key = &keys.proving_key;
		let variables = matrices.num_instance_variables + matrices.num_witness_variables;
		check_shape("public inputs", matrices.num_instance_variables, key.vk.gamma_abc_g1.len())?;
		check_shape("variables", variables, key.a_query.len())?;
		check_shape("private variables", matrices.num_witness_variables, key.l_query.len())?;
		Ok(Prover { keys, matrices })
	}

	/// The keys.
	pub fn keys(&self) -> &Keys {
		&self.keys
	}

	/// Constraints of the circuit.
	pub fn num_constraints(&self) -> usize {
		self.matrices.num_constraints
	}

	/// Opens the challenged leaves, checks them natively, and proves.
	pub fn prove<O: LeafOpener, R: RngCore + CryptoRng>(
		&self,
		opener: &O,
		statement: &Statement,
		rng: &mut R,
	) -> Result<StorageProof, Error> {
		self.check_statement(statement)?;
		let openings = statement
			.indices()
			.iter()
			.map(|index| opener.open_leaf(*index))
			.collect::<Result<Vec<_>, _>>()?;
		statement.check_openings(&openings)?;
		self.prove_openings(statement, openings, rng)
	}

	/// Proves with the given openings without checking them first; a wrong opening yields a proof
	/// that does not verify.
	pub fn prove_openings<R: RngCore + CryptoRng>(
		&self,
		statement: &Statement,
		openings: Vec<MerkleProof>,
		rng: &mut R,
	) -> Result<StorageProof, Error> {
		self.check_statement(statement)?;
		let circuit = StorageCircuit::new(statement.clone(), openings)?;
		let cs = ConstraintSystem::new_ref();
		cs.set_optimization_goal(OptimizationGoal::Constraints);
		cs.set_mode(SynthesisMode::Prove { construct_matrices: false });
		circuit.generate_constraints(cs.clone()).map_err(proof_system)?;
		let system =
			cs.into_inner().ok_or_else(|| proof_system("constraint system still shared"))?;
		let matrices = &self.matrices;
		check_shape("constraints", matrices.num_constraints, system.num_constraints)?;
		check_shape(
			"private variables",
			matrices.num_witness_variables,
			system.witness_assignment.len(),
		)?;
		let mut assignment = system.instance_assignment;
		assignment.extend(system.witness_assignment);
		let r = Fr::rand(rng);
		let s = Fr::rand(rng);
		let proof = create_proof(&self.keys.proving_key, r, s, matrices, &assignment)?;
		Ok(StorageProof::from(proof))
	}

	fn check_statement(&self, statement: &Statement) -> Result<(), Error> {
		let actual = statement.indices().len();
		if actual != self.keys.challenges {
			return Err(Error::ChallengeMismatch { expected: self.keys.challenges, actual });
		}
		Ok(())
	}
}

type G1 = <Curve as Pairing>::G1;

/// `initial + query[0] + Σ assignment[i] · query[i + 1] + key_term`: one of A, B (G1 or G2).
fn linear_term<
	P: ark_ec::short_weierstrass::SWCurveConfig<ScalarField = Fr, BaseField: crate::msm::BucketField>,
>(
	initial: ark_ec::short_weierstrass::Projective<P>,
	query: &[ark_ec::short_weierstrass::Affine<P>],
	key_term: ark_ec::short_weierstrass::Affine<P>,
	assignment: &[<Fr as PrimeField>::BigInt],
) -> ark_ec::short_weierstrass::Projective<P> {
	let mut sum = initial + query[0];
	sum += msm(&query[1..], assignment);
	sum + key_term
}

/// The Groth16 proof of `full_assignment` (the constant one first, then the public inputs, then
/// the witness) with randomness `r` and `s`: arkworks' `create_proof_with_reduction_and_matrices`,
/// step for step, with [`msm`] for the multi-scalar multiplications.
fn create_proof(
	key: &ProvingKey<Curve>,
	r: Fr,
	s: Fr,
	matrices: &ConstraintMatrices<Fr>,
	full_assignment: &[Fr],
) -> Result<Proof<Curve>, Error> {
	let inputs = matrices.num_instance_variables;
	let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
		matrices,
		inputs,
		matrices.num_constraints,
		full_assignment,
	)
	.map_err(|e| proof_system(format!("witness map: {e}")))?;
	let bigints = |values: &[Fr]| values.iter().map(|v| v.into_bigint()).collect::<Vec<_>>();
	let h_term = msm(&key.h_query, &bigints(&h));
	drop(h);
	let assignment = bigints(&full_assignment[1..]);
	let witness = &assignment[inputs - 1..];
	let l_term = msm(&key.l_query, witness);

	let delta = key.delta_g1.into_group();
	let a = linear_term(delta * r, &key.a_query, key.vk.alpha_g1, &assignment);
	let b_g1 = if r.is_zero() {
		G1::zero()
	} else {
		linear_term(delta * s, &key.b_g1_query, key.beta_g1, &assignment)
	};
	let b =
		linear_term(key.vk.delta_g2.into_group() * s, &key.b_g2_query, key.vk.beta_g2, &assignment);
	let c = a * s + b_g1 * r - delta * (r * s) + l_term + h_term;
	Ok(Proof { a: a.into_affine(), b: b.into_affine(), c: c.into_affine() })
}
