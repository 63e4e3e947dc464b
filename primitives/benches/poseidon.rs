//! `cargo bench -p cairn-primitives --bench poseidon [-- --json]`: the tree's Poseidon2 hashes
//! next to circom's Poseidon (ours and `light-poseidon`, the circom-compatible baseline) measured
//! in the same run, each Poseidon2 permutation also with the portable multiplication where this
//! CPU takes BMI2/ADX, and the single-core throughput of committing a shard with the in-memory
//! tree over each hash.

use std::{hint::black_box, time::Instant};

use ark_ff::PrimeField;
use cairn_primitives::{
	montgomery::{Adx, Portable},
	poseidon::hash4,
	poseidon2::{self, Permutation},
	tree::{CircomPoseidonTree, MemoryTree, Poseidon2ScalarTree},
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

/// Per hash, `lanes::LANES` hashes a call, where the CPU has AVX-512 IFMA: a leaf and a node.
#[cfg(target_arch = "x86_64")]
fn lanes_per_hash(a: Fr, b: Fr) -> Option<(f64, f64)> {
	use poseidon2::lanes::{Ifma, LANES};
	let ifma = Ifma::detect()?;
	let lanes = LANES as u64;
	let per_hash = |permutation| {
		per_hash_micros(|i| {
			let groups =
				core::array::from_fn(|lane| [a + Fr::from(i * lanes + lane as u64), b, a, b]);
			ifma.compress(permutation, &groups)[0]
		})
	};
	let (leaf, node) = (per_hash(Permutation::Leaf), per_hash(Permutation::Node));
	Some((leaf / lanes as f64, node / lanes as f64))
}

#[cfg(not(target_arch = "x86_64"))]
fn lanes_per_hash(_: Fr, _: Fr) -> Option<(f64, f64)> {
	None
}

fn main() {
	let json = std::env::args().any(|arg| arg == "--json");
	let a = Fr::from_le_bytes_mod_order(&[0x5a; 31]);
	let b = Fr::from_le_bytes_mod_order(&[0xa5; 31]);
	let mut light4 = Poseidon::<Fr>::new_circom(4).expect("width 5");

	let ours4 = per_hash_micros(|i| hash4(&[a + Fr::from(i), b, a, b]));
	let theirs4 =
		per_hash_micros(|i| light4.hash(&[a + Fr::from(i), b, a, b]).expect("four inputs"));

	let leaf2 = per_hash_micros(|i| poseidon2::compress_leaf(&[a + Fr::from(i), b, a, b]));
	let node2 = per_hash_micros(|i| poseidon2::compress4(&[a + Fr::from(i), b, a, b]));
	let portable = |permutation| {
		per_hash_micros(|i| {
			let mut state = [a + Fr::from(i), b, a, b];
			poseidon2::permute_side_by_side(
				Portable,
				core::array::from_mut(&mut state),
				permutation,
			);
			state[0]
		})
	};
	let (leaf2_portable, node2_portable) =
		(portable(Permutation::Leaf), portable(Permutation::Node));
	let (leaf_lanes, node_lanes) = lanes_per_hash(a, b).unzip();
	let fast = if Adx::detect().is_some() { "BMI2/ADX" } else { "portable (no BMI2/ADX here)" };

	let shard: Vec<u8> = (0..SHARD_BYTES).map(|i| ((i * 2_654_435_761usize) >> 11) as u8).collect();
	let commit_rate = |commit: &dyn Fn() -> Fr| {
		let started = Instant::now();
		black_box(commit());
		SHARD_BYTES as f64 / started.elapsed().as_secs_f64() / 1e6
	};
	let throughput = commit_rate(&|| MemoryTree::from_shard(&shard).expect("fits").root());
	let scalar_throughput =
		commit_rate(&|| MemoryTree::<Poseidon2ScalarTree>::with_hash(&shard).expect("fits").root());
	let circom_throughput =
		commit_rate(&|| MemoryTree::<CircomPoseidonTree>::with_hash(&shard).expect("fits").root());

	let mut rows = vec![];
	if let (Some(leaf_lanes), Some(node_lanes)) = (leaf_lanes, node_lanes) {
		rows.push((
			"poseidon2_leaf_ifma",
			leaf_lanes,
			"us",
			format!(
				"per hash, all lanes at once; scalar {leaf2:.2} us ({:.1}x)",
				leaf2 / leaf_lanes
			),
		));
		rows.push((
			"poseidon2_node_ifma",
			node_lanes,
			"us",
			format!(
				"per hash, all lanes at once; scalar {node2:.2} us ({:.1}x)",
				node2 / node_lanes
			),
		));
	}
	let vector = if leaf_lanes.is_some() { "AVX-512 IFMA" } else { "scalar: no AVX-512 IFMA here" };
	rows.extend([
		(
			"poseidon2_leaf_portable",
			leaf2_portable,
			"us",
			format!("the portable path; {fast} {:.2}x faster", leaf2_portable / leaf2),
		),
		(
			"poseidon2_node_portable",
			node2_portable,
			"us",
			format!("the portable path; {fast} {:.2}x faster", node2_portable / node2),
		),
		(
			"poseidon2_leaf",
			leaf2,
			"us",
			format!("circom Poseidon t=5 {ours4:.2} us ({:.1}x)", ours4 / leaf2),
		),
		(
			"poseidon2_node",
			node2,
			"us",
			format!("circom Poseidon t=5 {ours4:.2} us ({:.1}x)", ours4 / node2),
		),
		("hash4", ours4, "us", format!("light-poseidon {theirs4:.2} us ({:.1}x)", theirs4 / ours4)),
		("hash4_light_poseidon", theirs4, "us", "baseline, same run".to_string()),
		(
			"tree_commit_one_core",
			throughput,
			"MB/s",
			format!(
				"{vector}; scalar Poseidon2 {scalar_throughput:.2} MB/s ({:.1}x); circom-Poseidon tree {circom_throughput:.2} MB/s ({:.1}x)",
				throughput / scalar_throughput,
				throughput / circom_throughput
			),
		),
	]);
	for (name, value, unit, baseline) in &rows {
		if json {
			println!("{{\"name\":\"{name}\",\"value\":{value:.4},\"unit\":\"{unit}\"}}");
		} else {
			println!("{name:<24} {value:>10.3} {unit:<5} {baseline}");
		}
	}
}
