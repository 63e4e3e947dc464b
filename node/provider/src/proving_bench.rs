//! What one provider keeps proven: a store filled with shards of random bytes, each proven with
//! a real Groth16 proof by the provider's own path (the challenged leaves read from the store,
//! proven, the proof checked), beside the naive path of the same run (every byte of the shard
//! read and checked against its digest, then proven, as the provider did before the scrub).
//!
//! ```sh
//! cargo test --release --workspace -- --ignored --nocapture proving_capacity
//! ```
//!
//! `CAIRN_BENCH_SHARDS` (default 12) shards of `CAIRN_BENCH_SHARD_MIB` (default 8) MiB. A proof
//! costs the same for any shard size (the circuit opens 16 leaves of a tree of fixed depth);
//! reading a shard does not, so the naive path is also given for the largest shard, from the
//! read rate measured here.

use std::time::Instant;

use cairn_primitives::{field::fr_to_le_bytes, tree::MAX_SHARD_BYTES};
use cairn_prover::{
	prover::{dev_setup, Prover},
	statement::ProofRequest,
	verifier::{verify_encoded, VerifierKey},
	DEFAULT_CHALLENGES,
};
use cairn_runtime::{genesis_config_presets::PRODUCTION_PROVING_PERIOD, time::MILLISECS_PER_BLOCK};
use cairn_storage::store::{RocksShardStore, ShardId, ShardStore, StoreConfig};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};

use super::{proving::prove_stored, scrub::check, untraced};
use cairn_chain::fixtures::scratch;

fn env_or(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Shards a prover taking `seconds` a proof proves in a period of `period` seconds.
fn per_period(seconds: f64, period: f64) -> f64 {
	(period / seconds).floor()
}

/// Shards a provider proving at `seconds` a proof keeps in periods of `period` seconds: the
/// limit the provider computes for itself and offers capacity for.
fn kept(seconds: f64, period: f64) -> f64 {
	f64::from(super::capacity::provable_shards(seconds, period))
}

/// TiB of the largest shards that `shards` proofs a period keep proven.
fn tib(shards: f64) -> f64 {
	shards * MAX_SHARD_BYTES as f64 / (1u64 << 40) as f64
}

#[test]
#[ignore = "a benchmark: a minute or more of real proofs"]
fn proving_capacity() {
	let shards = env_or("CAIRN_BENCH_SHARDS", 12);
	let shard_bytes = env_or("CAIRN_BENCH_SHARD_MIB", 8) << 20;
	let dir = scratch();
	let (store, _) =
		RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: u64::MAX }).unwrap();
	let mut rng = ChaCha20Rng::seed_from_u64(18);
	let mut data = vec![0u8; shard_bytes as usize];
	let mut stored = Vec::new();
	let filling = Instant::now();
	for index in 0..shards {
		rng.fill_bytes(&mut data);
		let id = ShardId::new(index, 0);
		let commitment = store.put(id, shard_bytes, &mut &data[..], None).unwrap();
		stored.push((id, commitment, *blake3::hash(&data).as_bytes()));
	}
	let filled = filling.elapsed().as_secs_f64();
	let keys = untraced(|| dev_setup(DEFAULT_CHALLENGES)).unwrap();
	let verifier = VerifierKey::new(keys.verifying_key().clone(), DEFAULT_CHALLENGES).unwrap();
	let prover = untraced(|| Prover::new(keys)).unwrap();
	let request = |id: ShardId, root, period: u32| ProofRequest {
		seed: [period as u8; 32],
		provider: [7; 32],
		contract: id.contract,
		shard: id.index,
		period,
		root,
		shard_bytes,
	};
	let prove = |id: ShardId, root: [u8; 32], period: u32| {
		let request = request(id, root, period);
		let proof = prove_stored(&store, &prover, id, &request).unwrap();
		let statement = request.statement(DEFAULT_CHALLENGES).unwrap();
		let binding = fr_to_le_bytes(&statement.binding());
		assert!(
			verify_encoded(&verifier, &proof, &root, &binding, statement.indices()).unwrap(),
			"shard {id}'s proof verifies"
		);
	};

	// The provider's path: challenged leaves only.
	let started = Instant::now();
	for (id, commitment, _) in &stored {
		prove(*id, fr_to_le_bytes(&commitment.root), 1);
	}
	let ours = started.elapsed().as_secs_f64() / shards as f64;

	// The naive path: every byte read and checked, then the proof.
	let (mut reading, started) = (0.0, Instant::now());
	for (id, commitment, digest) in &stored {
		let read = Instant::now();
		check(&store, *id, digest, 0).unwrap();
		reading += read.elapsed().as_secs_f64();
		prove(*id, fr_to_le_bytes(&commitment.root), 2);
	}
	let naive = started.elapsed().as_secs_f64() / shards as f64;
	let read_rate = (shards * shard_bytes) as f64 / reading;
	let naive_largest = naive - reading / shards as f64 + MAX_SHARD_BYTES as f64 / read_rate;

	let block_seconds = MILLISECS_PER_BLOCK as f64 / 1000.0;
	let production = f64::from(PRODUCTION_PROVING_PERIOD) * block_seconds;
	let test = f64::from(cairn_runtime::genesis_config_presets::DEV_PROVING_PERIOD) * block_seconds;
	println!(
		"\n{shards} shards of {} MiB stored in {filled:.1} s; {} cores\n",
		shard_bytes >> 20,
		std::thread::available_parallelism().map_or(1, |n| n.get())
	);
	println!("| figure | provider's path | naive path, same run |");
	println!("|---|---|---|");
	println!("| seconds a proof ({} MiB shards) | {ours:.2} | {naive:.2} |", shard_bytes >> 20);
	println!("| seconds a proof (largest shard, 248 MiB) | {ours:.2} | {naive_largest:.2} |");
	for (name, period) in [("test chain, 40 s", test), ("production, 1 h", production)] {
		let (a, b) = (per_period(ours, period), per_period(naive_largest, period));
		println!("| shards proven a period ({name}) | {a} | {b} |");
		println!("| TiB kept proven, largest shards ({name}) | {:.3} | {:.3} |", tib(a), tib(b));
		let (a, b) = (kept(ours, period), kept(naive_largest, period));
		println!("| shards taken, half a period ({name}) | {a} | {b} |");
		println!("| TiB offered, largest shards ({name}) | {:.3} | {:.3} |", tib(a), tib(b));
	}
	println!("| read and checked, MB/s | — | {:.0} |", read_rate / 1e6);
}
