//! Groth16 verification of storage proofs, one at a time or in batches (`no_std`).
//!
//! Batch verification checks a random linear combination of the proofs' pairing equations with
//! one multi-pairing: `Π e(rᵢAᵢ, Bᵢ) · e(Σ rᵢXᵢ, −γ) · e(Σ rᵢCᵢ, −δ) · e(−(Σ rᵢ)α, β) = 1`, where
//! `Xᵢ` are the prepared public inputs. The 128-bit weights `rᵢ` are BLAKE2b-256 of every proof and
//! every input in the batch, so no proof can be chosen after them. If the batch fails, each proof
//! is checked alone and the failing positions are reported.

use alloc::{vec, vec::Vec};

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, Field};
use ark_groth16::{prepare_verifying_key, Groth16, PreparedVerifyingKey, Proof, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use cairn_primitives::field::fr_to_le_bytes;
use sp_crypto_hashing::blake2_256;

use crate::{keys, statement::Statement, Curve, Error};

/// Bytes of a compressed proof (two G1 points and one G2 point).
pub const PROOF_BYTES: usize = 128;

/// Domain tag of the batch weights.
const BATCH_DOMAIN: &[u8] = b"cairn/batch-verify/v1";

/// A Groth16 proof of storage.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageProof(Proof<Curve>);

impl From<Proof<Curve>> for StorageProof {
	fn from(proof: Proof<Curve>) -> Self {
		StorageProof(proof)
	}
}

impl StorageProof {
	/// The compressed encoding.
	pub fn to_bytes(&self) -> [u8; PROOF_BYTES] {
		let mut out = [0u8; PROOF_BYTES];
		let mut writer = &mut out[..];
		self.0
			.serialize_compressed(&mut writer)
			.expect("a proof compresses to exactly PROOF_BYTES bytes");
		out
	}

	/// Decodes a compressed proof with curve and subgroup checks.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
		let malformed = Error::MalformedProof { expected: PROOF_BYTES, actual: bytes.len() };
		if bytes.len() != PROOF_BYTES {
			return Err(malformed);
		}
		let mut reader = bytes;
		let proof = Proof::deserialize_with_mode(&mut reader, Compress::Yes, Validate::Yes)
			.map_err(|_| malformed)?;
		Ok(StorageProof(proof))
	}

	/// The underlying Groth16 proof.
	pub fn inner(&self) -> &Proof<Curve> {
		&self.0
	}
}

/// A verifying key prepared for pairings, with its circuit's challenge count.
#[derive(Debug, Clone)]
pub struct VerifierKey {
	prepared: PreparedVerifyingKey<Curve>,
	beta_prepared: <Curve as Pairing>::G2Prepared,
	challenges: usize,
	hash: [u8; 32],
}

impl VerifierKey {
	/// Prepares a verifying key for `challenges` challenges; refuses a key with another number
	/// of public inputs.
	pub fn new(key: VerifyingKey<Curve>, challenges: usize) -> Result<Self, Error> {
		let expected = Statement::input_count(challenges);
		let actual = key.gamma_abc_g1.len().saturating_sub(1);
		if actual != expected {
			return Err(Error::InputCount { expected, actual });
		}
		let hash = keys::verifying_key_hash(&key);
		let beta_prepared = key.beta_g2.into();
		Ok(VerifierKey { prepared: prepare_verifying_key(&key), beta_prepared, challenges, hash })
	}

	/// Reads a verifying key file (header checked, points validated).
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
		let (key, challenges) = keys::verifying_key_from_bytes(bytes, None)?;
		Self::new(key, challenges)
	}

	/// Challenges per proof.
	pub fn challenges(&self) -> usize {
		self.challenges
	}

	/// BLAKE2b-256 of the compressed verifying key.
	pub fn hash(&self) -> [u8; 32] {
		self.hash
	}

	fn inputs(&self, statement: &Statement) -> Result<Vec<Fr>, Error> {
		let actual = statement.indices().len();
		if actual != self.challenges {
			return Err(Error::ChallengeMismatch { expected: self.challenges, actual });
		}
		let inputs = statement.public_inputs();
		let expected = self.prepared.vk.gamma_abc_g1.len().saturating_sub(1);
		if inputs.len() != expected {
			return Err(Error::InputCount { expected, actual: inputs.len() });
		}
		Ok(inputs)
	}
}

/// Whether `proof` proves `statement`. `Err` for a statement that does not fit the key.
pub fn verify(
	key: &VerifierKey,
	proof: &StorageProof,
	statement: &Statement,
) -> Result<bool, Error> {
	let inputs = key.inputs(statement)?;
	Ok(Groth16::<Curve>::verify_proof(&key.prepared, &proof.0, &inputs).unwrap_or(false))
}

/// [`verify`] from encodings: the proof's bytes, the root and binding as 32 little-endian bytes
/// (refused if `>= p`), and the challenged indices.
pub fn verify_encoded(
	key: &VerifierKey,
	proof: &[u8],
	root: &[u8; 32],
	binding: &[u8; 32],
	indices: &[u64],
) -> Result<bool, Error> {
	let statement = Statement::new(root, binding, indices.to_vec())?;
	verify(key, &StorageProof::from_bytes(proof)?, &statement)
}

/// Outcome of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchVerdict {
	/// Every proof verifies.
	AllValid,
	/// These positions (ascending) fail; the others verify.
	Invalid(Vec<usize>),
}

fn batch_weights(
	key: &VerifierKey,
	items: &[(StorageProof, Statement)],
	inputs: &[Vec<Fr>],
) -> Vec<Fr> {
	let mut transcript = Vec::with_capacity(
		BATCH_DOMAIN.len()
			+ 32 + items.len() * (PROOF_BYTES + 32 * inputs.first().map_or(0, Vec::len)),
	);
	transcript.extend_from_slice(BATCH_DOMAIN);
	transcript.extend_from_slice(&key.hash);
	for ((proof, _), item_inputs) in items.iter().zip(inputs) {
		transcript.extend_from_slice(&proof.to_bytes());
		for input in item_inputs {
			transcript.extend_from_slice(&fr_to_le_bytes(input));
		}
	}
	let seed = blake2_256(&transcript);
	(0..items.len() as u64)
		.map(|position| {
			let mut preimage = [0u8; 40];
			preimage[..32].copy_from_slice(&seed);
			preimage[32..].copy_from_slice(&position.to_le_bytes());
			let digest = blake2_256(&preimage);
			let mut weight = [0u8; 16];
			weight.copy_from_slice(&digest[..16]);
			// A zero weight would drop a proof from the check; 2^-128 odds, excluded anyway.
			Fr::from(u128::from_le_bytes(weight).max(1))
		})
		.collect()
}

fn batch_holds(key: &VerifierKey, items: &[(StorageProof, Statement)], inputs: &[Vec<Fr>]) -> bool {
	let weights = batch_weights(key, items, inputs);
	let vk = &key.prepared.vk;
	// Σ rᵢXᵢ = (Σ rᵢ)·IC₀ + Σⱼ (Σᵢ rᵢ xᵢⱼ)·ICⱼ₊₁: one small MSM instead of one per proof.
	let mut input_scalars = vec![Fr::ZERO; vk.gamma_abc_g1.len()];
	for (weight, item_inputs) in weights.iter().zip(inputs) {
		input_scalars[0] += weight;
		for (scalar, input) in input_scalars[1..].iter_mut().zip(item_inputs) {
			*scalar += *weight * input;
		}
	}
	let weight_sum = input_scalars[0];
	let combined_inputs = G1Projective::msm(&vk.gamma_abc_g1, &input_scalars);
	let c_points: Vec<G1Affine> = items.iter().map(|(proof, _)| proof.0.c).collect();
	let combined_c = G1Projective::msm(&c_points, &weights);
	let (Ok(combined_inputs), Ok(combined_c)) = (combined_inputs, combined_c) else {
		return false;
	};
	let mut g1: Vec<G1Projective> =
		items.iter().zip(&weights).map(|((proof, _), weight)| proof.0.a * weight).collect();
	g1.push(combined_inputs);
	g1.push(combined_c);
	g1.push(-(vk.alpha_g1.into_group() * weight_sum));
	let g1 = G1Projective::normalize_batch(&g1);
	let mut g2: Vec<<Curve as Pairing>::G2Prepared> =
		items.iter().map(|(proof, _)| <G2Affine as Into<_>>::into(proof.0.b)).collect();
	g2.push(key.prepared.gamma_g2_neg_pc.clone());
	g2.push(key.prepared.delta_g2_neg_pc.clone());
	g2.push(key.beta_prepared.clone());
	let product = Curve::multi_miller_loop(g1, g2);
	Curve::final_exponentiation(product)
		.is_some_and(|value| value.0 == <Curve as Pairing>::TargetField::ONE)
}

/// Verifies many proofs at once; on failure, names every failing position.
pub fn verify_batch(
	key: &VerifierKey,
	items: &[(StorageProof, Statement)],
) -> Result<BatchVerdict, Error> {
	let inputs =
		items.iter().map(|(_, statement)| key.inputs(statement)).collect::<Result<Vec<_>, _>>()?;
	if items.is_empty() || batch_holds(key, items, &inputs) {
		return Ok(BatchVerdict::AllValid);
	}
	let failed: Vec<usize> = items
		.iter()
		.zip(&inputs)
		.enumerate()
		.filter(|(_, ((proof, _), item_inputs))| {
			!Groth16::<Curve>::verify_proof(&key.prepared, &proof.0, item_inputs).unwrap_or(false)
		})
		.map(|(position, _)| position)
		.collect();
	if failed.is_empty() {
		// The combination failed while every proof holds: impossible but for a weight
		// collision (probability ~2^-128); the individual checks are authoritative.
		return Ok(BatchVerdict::AllValid);
	}
	Ok(BatchVerdict::Invalid(failed))
}
