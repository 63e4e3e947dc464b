//! Real Groth16 proving with the deterministic development keys: the proofs of the pallet's
//! tests and of its benchmarks, in the mock and (through [`crate::host::cairn_benchmark_proofs`])
//! in the runtime run by `cairn-node benchmark pallet`. Native code only.

use std::{
	collections::HashMap,
	sync::{Mutex, OnceLock},
};

use cairn_primitives::{field::fr_to_le_bytes, tree::MemoryTree};
use cairn_prover::{
	keys::DEV_VERIFYING_KEY,
	prover::{dev_setup, Prover},
	statement::Statement,
	DEFAULT_CHALLENGES,
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

use crate::PublicInputs;

/// The development prover (its setup takes a few seconds, once per process).
pub fn prover() -> &'static Prover {
	static PROVER: OnceLock<Prover> = OnceLock::new();
	PROVER.get_or_init(|| {
		let keys = dev_setup(DEFAULT_CHALLENGES).expect("development setup");
		Prover::new(keys).expect("prover of the development keys")
	})
}

/// The development verifying key file, as the runtime's genesis installs it.
pub fn verifying_key() -> Vec<u8> {
	DEV_VERIFYING_KEY.to_vec()
}

fn trees() -> &'static Mutex<HashMap<[u8; 32], MemoryTree>> {
	static TREES: OnceLock<Mutex<HashMap<[u8; 32], MemoryTree>>> = OnceLock::new();
	TREES.get_or_init(Default::default)
}

/// Deterministic shard contents for `seed`.
pub fn shard_data(seed: u32, bytes: u64) -> Vec<u8> {
	let mut rng = ChaCha20Rng::seed_from_u64(seed.into());
	let mut data = vec![0u8; bytes as usize];
	rand_chacha::rand_core::RngCore::fill_bytes(&mut rng, &mut data);
	data
}

/// Commit to `data`; remembers the tree so that [`prove`] can open it later.
pub fn commit(data: &[u8]) -> [u8; 32] {
	let tree = MemoryTree::from_shard(data).expect("a shard within the tree's size");
	let root = fr_to_le_bytes(&tree.root());
	trees().lock().expect("tree cache").insert(root, tree);
	root
}

/// The root of shard number `index` of `bytes` deterministic bytes ([`shard_data`]), committed
/// once per process.
pub fn shard_root(index: u32, bytes: u64) -> [u8; 32] {
	type Roots = Mutex<HashMap<(u32, u64), [u8; 32]>>;
	static ROOTS: OnceLock<Roots> = OnceLock::new();
	let mut roots = ROOTS.get_or_init(Default::default).lock().expect("root cache");
	*roots.entry((index, bytes)).or_insert_with(|| commit(&shard_data(index, bytes)))
}

/// A Groth16 proof of `inputs` for a shard committed with [`commit`]. Proofs are kept, so a
/// benchmark repeated over the same state proves once.
pub fn prove(inputs: &PublicInputs) -> Vec<u8> {
	static PROOFS: OnceLock<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = OnceLock::new();
	let cache_key = codec::Encode::encode(&(inputs.root, inputs.binding, &inputs.indices));
	let proofs = PROOFS.get_or_init(Default::default);
	if let Some(proof) = proofs.lock().expect("proof cache").get(&cache_key) {
		return proof.clone();
	}
	let trees = trees().lock().expect("tree cache");
	let tree = trees.get(&inputs.root).expect("the shard was committed with `commit`");
	let statement = Statement::new(&inputs.root, &inputs.binding, inputs.indices.clone())
		.expect("the pallet's public inputs form a statement");
	let mut rng = ChaCha20Rng::from_seed(inputs.binding);
	let proof = prover().prove(tree, &statement, &mut rng).expect("proving").to_bytes().to_vec();
	proofs.lock().expect("proof cache").insert(cache_key, proof.clone());
	proof
}
