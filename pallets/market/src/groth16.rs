//! The market's production [`ProofVerifier`]: Groth16 over BN254 from `cairn-prover`.

use alloc::vec::Vec;

use cairn_prover::{
	statement::Statement,
	verifier::{self, BatchVerdict, StorageProof, VerifierKey},
};

use crate::{ProofVerifier, PublicInputs};

/// Verifies proofs made by `cairn-prover` against a verifying key file stored on chain.
///
/// A key that does not decode, a proof that does not decode, or public inputs that do not fit the
/// key (wrong challenge count, values outside the field) all count as an invalid proof.
pub struct Groth16Verifier;

/// The verifying key, decoded and prepared. Preparing (decompression, subgroup checks, one
/// pairing) costs more than a verification, so a native build keeps the last key it prepared;
/// the result is the same either way.
#[cfg(feature = "std")]
fn prepared_key(bytes: &[u8]) -> Option<VerifierKey> {
	use std::sync::Mutex;
	static LAST: Mutex<Option<(Vec<u8>, VerifierKey)>> = Mutex::new(None);
	let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
	if let Some((cached, key)) = last.as_ref() {
		if cached.as_slice() == bytes {
			return Some(key.clone());
		}
	}
	let key = VerifierKey::from_bytes(bytes).ok()?;
	*last = Some((bytes.to_vec(), key.clone()));
	Some(key)
}

#[cfg(not(feature = "std"))]
fn prepared_key(bytes: &[u8]) -> Option<VerifierKey> {
	VerifierKey::from_bytes(bytes).ok()
}

fn statement(inputs: &PublicInputs) -> Option<Statement> {
	Statement::new(&inputs.root, &inputs.binding, inputs.indices.clone()).ok()
}

impl ProofVerifier for Groth16Verifier {
	fn key_challenges(verifying_key: &[u8]) -> Option<u32> {
		let key = VerifierKey::from_bytes(verifying_key).ok()?;
		u32::try_from(key.challenges()).ok()
	}

	fn verify(verifying_key: &[u8], public_inputs: &PublicInputs, proof: &[u8]) -> bool {
		let (Some(key), Some(statement), Ok(proof)) = (
			prepared_key(verifying_key),
			statement(public_inputs),
			StorageProof::from_bytes(proof),
		) else {
			return false;
		};
		verifier::verify(&key, &proof, &statement).unwrap_or(false)
	}

	/// One random-linear-combination check for the whole batch; only when it fails is each proof
	/// checked on its own, to tell the invalid ones apart.
	fn verify_batch(verifying_key: &[u8], batch: &[(PublicInputs, &[u8])]) -> Vec<bool> {
		let Some(key) = prepared_key(verifying_key) else {
			return batch.iter().map(|_| false).collect();
		};
		// Items that do not even decode stay invalid; the others go into one batch.
		let mut valid = alloc::vec![false; batch.len()];
		let mut positions = Vec::with_capacity(batch.len());
		let mut items = Vec::with_capacity(batch.len());
		for (position, (inputs, proof)) in batch.iter().enumerate() {
			if let (Ok(proof), Some(statement)) =
				(StorageProof::from_bytes(proof), statement(inputs))
			{
				positions.push(position);
				items.push((proof, statement));
			}
		}
		let invalid = match verifier::verify_batch(&key, &items) {
			Ok(BatchVerdict::AllValid) => Vec::new(),
			Ok(BatchVerdict::Invalid(invalid)) => invalid,
			Err(_) => (0..items.len()).collect(),
		};
		for (item, position) in positions.into_iter().enumerate() {
			valid[position] = !invalid.contains(&item);
		}
		valid
	}
}
