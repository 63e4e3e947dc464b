//! Groth16 verification as a host function. The WASM runtime hands proofs to the node, which
//! checks them natively with [`crate::Groth16Verifier`]: pairings run many times faster in native
//! code than in WASM, so a block can verify many more proofs. Every node registers
//! [`cairn_proofs::HostFunctions`] with its WASM executor.

use alloc::vec::Vec;

use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode, PassFatPointerAndRead},
	runtime_interface,
};

use crate::{ProofVerifier, PublicInputs};

/// Proof verification the node provides to the runtime.
#[runtime_interface]
pub trait CairnProofs {
	/// The challenge count of `verifying_key` if it is a usable Groth16 key (header, points and
	/// subgroups, input count checked), else `None`.
	fn groth16_key_challenges(
		verifying_key: PassFatPointerAndRead<&[u8]>,
	) -> AllocateAndReturnByCodec<Option<u32>> {
		<crate::Groth16Verifier as ProofVerifier>::key_challenges(verifying_key)
	}

	/// One verdict per `(public inputs, proof)` of `batch`, under `verifying_key`; the batch is
	/// checked together first (random linear combination), single proofs only if that fails.
	fn verify_groth16_batch(
		verifying_key: PassFatPointerAndRead<&[u8]>,
		batch: PassFatPointerAndDecode<Vec<(PublicInputs, Vec<u8>)>>,
	) -> AllocateAndReturnByCodec<Vec<bool>> {
		let items: Vec<(PublicInputs, &[u8])> =
			batch.iter().map(|(inputs, proof)| (inputs.clone(), proof.as_slice())).collect();
		<crate::Groth16Verifier as ProofVerifier>::verify_batch(verifying_key, &items)
	}
}

/// The runtime's [`ProofVerifier`]: Groth16, verified by the node through [`cairn_proofs`].
pub struct HostGroth16Verifier;

impl ProofVerifier for HostGroth16Verifier {
	fn key_challenges(verifying_key: &[u8]) -> Option<u32> {
		cairn_proofs::groth16_key_challenges(verifying_key)
	}

	fn verify(verifying_key: &[u8], public_inputs: &PublicInputs, proof: &[u8]) -> bool {
		let batch = alloc::vec![(public_inputs.clone(), proof.to_vec())];
		cairn_proofs::verify_groth16_batch(verifying_key, batch).first().copied().unwrap_or(false)
	}

	fn verify_batch(verifying_key: &[u8], batch: &[(PublicInputs, &[u8])]) -> Vec<bool> {
		let batch = batch.iter().map(|(inputs, proof)| (inputs.clone(), proof.to_vec())).collect();
		cairn_proofs::verify_groth16_batch(verifying_key, batch)
	}
}
