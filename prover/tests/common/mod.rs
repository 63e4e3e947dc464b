//! Shared fixtures: small-circuit keys (set up once per test binary) and honest statements.

#![allow(dead_code)]

use std::sync::OnceLock;

use cairn_primitives::{field::fr_to_le_bytes, tree::MemoryTree};
use cairn_prover::{
	prover::{dev_setup, Keys, Prover},
	statement::{ProofRequest, Statement},
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

/// Challenges of the test circuit: small for speed, more than one to exercise packing order.
pub const TEST_CHALLENGES: usize = 3;

pub fn prover() -> &'static Prover {
	static PROVER: OnceLock<Prover> = OnceLock::new();
	PROVER.get_or_init(|| {
		let keys = dev_setup(TEST_CHALLENGES).expect("setup of the small circuit");
		Prover::new(keys).expect("matrices fit the key")
	})
}

pub fn keys() -> &'static Keys {
	prover().keys()
}

pub fn shard(len: usize, salt: u8) -> Vec<u8> {
	(0..len).map(|i| ((i * 131 + usize::from(salt) * 7) % 256) as u8).collect()
}

pub fn request(tree: &MemoryTree, shard_bytes: usize, period: u32) -> ProofRequest {
	ProofRequest {
		seed: [9; 32],
		provider: [1; 32],
		contract: 77,
		shard: 1,
		period,
		root: fr_to_le_bytes(&tree.root()),
		shard_bytes: shard_bytes as u64,
	}
}

pub struct Fixture {
	pub shard: Vec<u8>,
	pub tree: MemoryTree,
	pub request: ProofRequest,
	pub statement: Statement,
}

pub fn fixture(len: usize, salt: u8, period: u32) -> Fixture {
	let shard = shard(len, salt);
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	let request = request(&tree, len, period);
	let statement = request.statement(TEST_CHALLENGES).expect("valid request");
	Fixture { shard, tree, request, statement }
}

pub fn rng(seed: u64) -> ChaCha20Rng {
	ChaCha20Rng::seed_from_u64(seed)
}
