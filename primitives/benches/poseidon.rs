//! `cargo bench -p cairn-primitives --bench poseidon [-- --json]`: native Poseidon next to
//! `light-poseidon` (the circom-compatible baseline) measured in the same run, and the
//! single-core throughput of committing a shard with the in-memory tree.

use std::{hint::black_box, time::Instant};

use ark_ff::PrimeField;
use cairn_primitives::{
	poseidon::{hash2, hash4},
	tree::MemoryTree,
	Fr,
};
use light_poseidon::{Poseidon, PoseidonHasher};

const HASHES: u32 = 20_000;
const SHARD_BYTES: usize = 4 << 20;

fn per_hash_micros(mut hash: impl FnMut(u64) -> Fr) -> f64 {
	for i in 0..1_000 {
		black_box(hash(i));
	}
	let started = Instant::now();
	for i in 0..u64::from(HASHES) {
		black_box(hash(i));
	}
	started.elapsed().as_secs_f64() * 1e6 / f64::from(HASHES)
}

fn main() {
	let json = std::env::args().any(|arg| arg == "--json");
	let a = Fr::from_le_bytes_mod_order(&[0x5a; 31]);
	let b = Fr::from_le_bytes_mod_order(&[0xa5; 31]);
	let mut light2 = Poseidon::<Fr>::new_circom(2).expect("width 3");
	let mut light4 = Poseidon::<Fr>::new_circom(4).expect("width 5");

	let ours2 = per_hash_micros(|i| hash2(a + Fr::from(i), b));
	let theirs2 = per_hash_micros(|i| light2.hash(&[a + Fr::from(i), b]).expect("two inputs"));
	let ours4 = per_hash_micros(|i| hash4(&[a + Fr::from(i), b, a, b]));
	let theirs4 =
		per_hash_micros(|i| light4.hash(&[a + Fr::from(i), b, a, b]).expect("four inputs"));

	let shard: Vec<u8> = (0..SHARD_BYTES).map(|i| ((i * 2_654_435_761usize) >> 11) as u8).collect();
	let started = Instant::now();
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	black_box(tree.root());
	let commit_seconds = started.elapsed().as_secs_f64();
	let throughput = SHARD_BYTES as f64 / commit_seconds / 1e6;

	let rows = [
		("hash2", ours2, "us", format!("light-poseidon {theirs2:.2} us ({:.1}x)", theirs2 / ours2)),
		("hash4", ours4, "us", format!("light-poseidon {theirs4:.2} us ({:.1}x)", theirs4 / ours4)),
		("hash2_light_poseidon", theirs2, "us", "baseline, same run".to_string()),
		("hash4_light_poseidon", theirs4, "us", "baseline, same run".to_string()),
		(
			"tree_commit_one_core",
			throughput,
			"MB/s",
			"1.0 MB/s with light-poseidon t=3 (DESIGN)".to_string(),
		),
	];
	for (name, value, unit, baseline) in &rows {
		if json {
			println!("{{\"name\":\"{name}\",\"value\":{value:.4},\"unit\":\"{unit}\"}}");
		} else {
			println!("{name:<24} {value:>10.3} {unit:<5} {baseline}");
		}
	}
}
