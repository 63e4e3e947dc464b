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

/// Real Groth16 proofs for the runtime's benchmarks, made natively by the node: a WASM runtime
/// cannot prove in any useful time, and the benchmarks of `submit_proof(s)` must verify real
/// proofs to weigh what the chain really does. Only a node built with the `runtime-benchmarks`
/// feature registers these functions, and only a runtime built with it calls them.
#[cfg(feature = "runtime-benchmarks")]
#[runtime_interface]
pub trait CairnBenchmarkProofs {
	/// The root of the benchmark's shard number `index` of `bytes` deterministic bytes.
	fn shard_root(index: u32, bytes: u64) -> AllocateAndReturnByCodec<[u8; 32]> {
		native::shard_root(index, bytes)
	}

	/// A proof of `public_inputs` under the development verifying key, for a shard made by
	/// [`shard_root`](cairn_benchmark_proofs::shard_root) in this process.
	fn valid_proof(
		public_inputs: PassFatPointerAndDecode<PublicInputs>,
	) -> AllocateAndReturnByCodec<Vec<u8>> {
		native::prove(&public_inputs)
	}
}

/// What the benchmark host functions run: the development prover where it is built in (a node
/// with `runtime-benchmarks`, and the pallet's tests), else a clear failure.
#[cfg(all(feature = "runtime-benchmarks", not(substrate_runtime)))]
mod native {
	#[cfg(feature = "benchmark-prover")]
	pub fn shard_root(index: u32, bytes: u64) -> [u8; 32] {
		untraced(|| crate::bench_prover::shard_root(index, bytes))
	}

	#[cfg(feature = "benchmark-prover")]
	pub fn prove(inputs: &crate::PublicInputs) -> alloc::vec::Vec<u8> {
		untraced(|| crate::bench_prover::prove(inputs))
	}

	/// Runs `work` with no tracing subscriber on this thread: the circuit's gadgets open a span
	/// per namespace and never close it, and under the node's subscriber those spans pile up by
	/// the million while a circuit is synthesized.
	#[cfg(feature = "benchmark-prover")]
	fn untraced<T>(work: impl FnOnce() -> T) -> T {
		tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), work)
	}

	#[cfg(all(test, not(feature = "benchmark-prover")))]
	pub use crate::bench_prover::{prove, shard_root};

	#[cfg(not(any(test, feature = "benchmark-prover")))]
	pub fn shard_root(_index: u32, _bytes: u64) -> [u8; 32] {
		unavailable()
	}

	#[cfg(not(any(test, feature = "benchmark-prover")))]
	pub fn prove(_inputs: &crate::PublicInputs) -> alloc::vec::Vec<u8> {
		unavailable()
	}

	#[cfg(not(any(test, feature = "benchmark-prover")))]
	fn unavailable() -> ! {
		panic!("benchmark proofs need pallet-market's `benchmark-prover` feature")
	}
}

/// The benchmarks' [`crate::BenchmarkHelper`] in the runtime and in the mock: the development
/// verifying key, and shards and proofs from [`cairn_benchmark_proofs`].
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkProofs;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for BenchmarkProofs {
	fn verifying_key() -> Vec<u8> {
		cairn_prover::keys::DEV_VERIFYING_KEY.to_vec()
	}

	fn shard_root(index: u32, bytes: u64) -> [u8; 32] {
		cairn_benchmark_proofs::shard_root(index, bytes)
	}

	fn valid_proof(_verifying_key: &[u8], public_inputs: &PublicInputs) -> Vec<u8> {
		cairn_benchmark_proofs::valid_proof(public_inputs.clone())
	}
}
