//! Throughput of the storage engine, each figure next to its baseline measured in the same run.
//!
//! `cargo bench -p cairn-storage --bench throughput` prints a table; `-- --json` prints one JSON
//! object per line: `{"name": …, "value": …, "unit": …}`.

use std::time::{Duration, Instant};

use ark_ff::PrimeField;
use cairn_primitives::{
	challenge,
	poseidon2::SIDE_BY_SIDE,
	tree,
	tree::{CircomPoseidonTree, Poseidon2ScalarTree},
	Fr,
};
use cairn_storage::commitment::{commit, commit_over};
use cairn_storage::encoding::{
	encode_stream, CodingParams, Encryption, EncryptionKey, ErasureCodec,
};
use cairn_storage::store::{RocksShardStore, ShardId, ShardReader, ShardStore, StoreConfig};
use light_poseidon::{Poseidon, PoseidonHasher};

const RS_DATA: usize = 4;
const RS_PARITY: usize = 2;
const RS_SHARD_BYTES: usize = 16 << 20;
const COMMIT_BYTES: usize = 2 << 20;
const STORE_BYTES: usize = 16 << 20;
const RUNS: usize = 3;

struct Report {
	json: bool,
}

impl Report {
	fn figure(&self, name: &str, value: f64, unit: &str, note: &str) {
		if self.json {
			println!("{{\"name\":\"{name}\",\"value\":{value:.4},\"unit\":\"{unit}\"}}");
		} else {
			println!("{name:<44} {value:>12.3} {unit:<6} {note}");
		}
	}
}

fn sample(len: usize, seed: u64) -> Vec<u8> {
	let mut bytes = vec![0u8; len];
	let mut hasher = blake3::Hasher::new();
	hasher.update(&seed.to_le_bytes());
	hasher.finalize_xof().fill(&mut bytes);
	bytes
}

/// Fastest of `RUNS` runs.
fn best_of(mut run: impl FnMut()) -> Duration {
	(0..RUNS)
		.map(|_| {
			let start = Instant::now();
			run();
			start.elapsed()
		})
		.min()
		.unwrap_or_default()
}

fn gb_per_s(bytes: usize, time: Duration) -> f64 {
	bytes as f64 / time.as_secs_f64() / 1e9
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
	bytes as f64 / time.as_secs_f64() / 1e6
}

fn erasure(report: &Report) {
	let codec =
		ErasureCodec::new(CodingParams::new(RS_DATA, RS_PARITY).expect("valid")).expect("codec");
	let data: Vec<Vec<u8>> =
		(0..RS_DATA).map(|index| sample(RS_SHARD_BYTES, index as u64)).collect();
	let mut shards: Vec<Vec<u8>> =
		data.iter().cloned().chain((0..RS_PARITY).map(|_| vec![0u8; RS_SHARD_BYTES])).collect();
	let data_bytes = RS_DATA * RS_SHARD_BYTES;
	let encode = best_of(|| {
		let mut pieces: Vec<&mut [u8]> = shards.iter_mut().map(Vec::as_mut_slice).collect();
		codec.encode(&mut pieces).expect("encodes");
	});
	let decode = best_of(|| {
		let mut present: Vec<Option<Vec<u8>>> = shards.iter().cloned().map(Some).collect();
		present[0] = None;
		present[2] = None;
		codec.reconstruct_data(&mut present).expect("decodes");
		assert!(present[0].as_deref() == Some(&data[0][..]));
	});
	let clone_only = best_of(|| {
		let present: Vec<Option<Vec<u8>>> = shards.iter().cloned().map(Some).collect();
		assert_eq!(present.len(), RS_DATA + RS_PARITY);
	});
	let decode = decode.saturating_sub(clone_only);
	let simd_encode = best_of(|| {
		let parity = reed_solomon_simd::encode(RS_DATA, RS_PARITY, &data).expect("encodes");
		assert_eq!(parity.len(), RS_PARITY);
	});
	let simd_parity = reed_solomon_simd::encode(RS_DATA, RS_PARITY, &data).expect("encodes");
	let simd_decode = best_of(|| {
		let originals = [(1usize, &data[1]), (3, &data[3])];
		let recovery = [(0usize, &simd_parity[0]), (1, &simd_parity[1])];
		let restored =
			reed_solomon_simd::decode(RS_DATA, RS_PARITY, originals, recovery).expect("decodes");
		assert!(restored.get(&0) == Some(&data[0]));
	});
	let label = format!("{RS_DATA}+{RS_PARITY}, {} MiB shards, one core", RS_SHARD_BYTES >> 20);
	report.figure("rs_encode reed-solomon-erasure", gb_per_s(data_bytes, encode), "GB/s", &label);
	report.figure(
		"rs_encode reed-solomon-simd (baseline)",
		gb_per_s(data_bytes, simd_encode),
		"GB/s",
		&label,
	);
	report.figure(
		"rs_decode 2 lost reed-solomon-erasure",
		gb_per_s(data_bytes, decode),
		"GB/s",
		&label,
	);
	report.figure(
		"rs_decode 2 lost reed-solomon-simd (baseline)",
		gb_per_s(data_bytes, simd_decode),
		"GB/s",
		&label,
	);

	let file = sample(data_bytes, 99);
	let key = EncryptionKey::from_bytes([5; 32]);
	let pipeline = best_of(|| {
		let mut outputs: Vec<Vec<u8>> = (0..RS_DATA + RS_PARITY)
			.map(|_| Vec::with_capacity(RS_SHARD_BYTES + (1 << 20)))
			.collect();
		encode_stream(
			CodingParams::new(RS_DATA, RS_PARITY).expect("valid"),
			Encryption::with_random_nonce(&key),
			&file[..],
			&mut outputs,
		)
		.expect("encodes");
	});
	report.figure(
		"encode_stream encrypt+stripe+rs",
		gb_per_s(data_bytes, pipeline),
		"GB/s",
		"64 MiB file, 256 KiB pieces",
	);
}

/// The straightforward tree over circom's Poseidon (the commitment before Poseidon2): every leaf
/// hashed with light-poseidon, then level by level, on one core.
fn light_poseidon_root(shard: &[u8]) -> Fr {
	let mut leaf_hasher = Poseidon::<Fr>::new_circom(4).expect("width 5");
	let mut node_hasher = Poseidon::<Fr>::new_circom(4).expect("width 5");
	let empty_leaf = [0u8; tree::LEAF_BYTES];
	let hash_leaf = |hasher: &mut Poseidon<Fr>, leaf: &[u8]| {
		let fields: Vec<Fr> =
			leaf.chunks(tree::CHUNK_BYTES).map(Fr::from_le_bytes_mod_order).collect();
		hasher.hash(&fields).expect("four inputs")
	};
	let mut empty = vec![hash_leaf(&mut leaf_hasher, &empty_leaf)];
	let mut level: Vec<Fr> = shard
		.chunks(tree::LEAF_BYTES)
		.map(|chunk| {
			let mut leaf = empty_leaf;
			leaf[..chunk.len()].copy_from_slice(chunk);
			hash_leaf(&mut leaf_hasher, &leaf)
		})
		.collect();
	for height in 0..tree::DEPTH as usize {
		let pad = empty[height];
		empty.push(node_hasher.hash(&[pad; 4]).expect("four inputs"));
		level = level
			.chunks(tree::ARITY)
			.map(|group| {
				let mut children = [pad; tree::ARITY];
				children[..group.len()].copy_from_slice(group);
				node_hasher.hash(&children).expect("four inputs")
			})
			.collect();
	}
	level.first().copied().unwrap_or(empty[tree::DEPTH as usize])
}

fn commitments(report: &Report) {
	let shard = sample(COMMIT_BYTES, 7);
	let mut root = None;
	let ours = best_of(|| {
		root = Some(commit(&shard).expect("commits").0.root);
	});
	let mut scalar_root = None;
	let scalar = best_of(|| {
		scalar_root = Some(commit_over::<Poseidon2ScalarTree>(&shard).expect("commits").0.root);
	});
	assert_eq!(root, scalar_root, "the vector and the scalar path must agree");
	let vector = if poseidon2_lanes() {
		"AVX-512 IFMA, 16 lanes a call"
	} else {
		"no AVX-512 IFMA here: scalar"
	};
	let mut circom_root = None;
	let circom = best_of(|| {
		circom_root = Some(commit_over::<CircomPoseidonTree>(&shard).expect("commits").0.root);
	});
	let start = Instant::now();
	let baseline_root = light_poseidon_root(&shard);
	let baseline = start.elapsed();
	assert_eq!(circom_root, Some(baseline_root), "both circom-Poseidon trees must agree");
	let threads = rayon::current_num_threads();
	report.figure(
		"commitment cairn Poseidon2 (rayon)",
		mb_per_s(COMMIT_BYTES, ours),
		"MB/s",
		&format!("2 MiB shard, {threads} threads, {vector}"),
	);
	report.figure(
		"commitment Poseidon2 scalar (rayon)",
		mb_per_s(COMMIT_BYTES, scalar),
		"MB/s",
		&format!(
			"no vector instructions, {SIDE_BY_SIDE} permutations side by side, {threads} threads"
		),
	);
	report.figure(
		"commitment circom Poseidon (rayon)",
		mb_per_s(COMMIT_BYTES, circom),
		"MB/s",
		&format!("the same tree before Poseidon2, {threads} threads"),
	);
	report.figure(
		"commitment light-poseidon 1 thread (baseline)",
		mb_per_s(COMMIT_BYTES, baseline),
		"MB/s",
		"circom-Poseidon tree, same root as the line above",
	);
	report.figure(
		"commitment speed-up over baseline",
		baseline.as_secs_f64() / ours.as_secs_f64(),
		"x",
		&format!(
			"bar >= 14 (scalar Poseidon2: {:.1}x; circom Poseidon on {threads} threads: {:.1}x)",
			baseline.as_secs_f64() / scalar.as_secs_f64(),
			baseline.as_secs_f64() / circom.as_secs_f64()
		),
	);
}

/// Whether the commitment takes the vector path on this CPU.
fn poseidon2_lanes() -> bool {
	#[cfg(target_arch = "x86_64")]
	return cairn_primitives::poseidon2::lanes::Ifma::detect().is_some();
	#[cfg(not(target_arch = "x86_64"))]
	false
}

fn store(report: &Report) {
	let dir = tempfile::tempdir().expect("tempdir");
	let (store, _) =
		RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 40 }).expect("opens");
	let bytes = sample(STORE_BYTES, 11);
	let id = ShardId::new(1, 0);
	let start = Instant::now();
	let commitment = store.put(id, STORE_BYTES as u64, &mut &bytes[..], None).expect("stores");
	let put = start.elapsed();
	// The same bytes with their tree built already, as a provider builds it while they arrive.
	let (built, upper) = cairn_storage::commitment::commit(&bytes).expect("commits");
	let start = Instant::now();
	store.put_built(ShardId::new(1, 1), &mut &bytes[..], built, upper).expect("stores");
	let put_built = start.elapsed();
	assert_eq!(built, commitment);
	let read = best_of(|| {
		let mut out = Vec::with_capacity(STORE_BYTES);
		std::io::copy(&mut ShardReader::new(&store, id).expect("exists"), &mut out).expect("reads");
		assert!(out.len() == STORE_BYTES);
	});
	let leaves = tree::leaf_count(STORE_BYTES as u64);
	let mut proving = Vec::new();
	for period in 0..5u32 {
		let indices = challenge::challenge_indices(&[period as u8; 32], 1, 0, period, 32, leaves);
		let start = Instant::now();
		let proofs = store.challenge_proofs(id, &indices).expect("proves");
		proving.push(start.elapsed());
		assert!(proofs.iter().all(|proof| tree::verify(&commitment.root, proof)));
	}
	proving.sort();
	let label = format!("{} MiB shard", STORE_BYTES >> 20);
	report.figure(
		"store put (synced, incl. commitment)",
		mb_per_s(STORE_BYTES, put),
		"MB/s",
		&label,
	);
	report.figure(
		"store put with its tree built already",
		mb_per_s(STORE_BYTES, put_built),
		"MB/s",
		&format!("{label}; checked against the tree's BLAKE3 digest"),
	);
	report.figure("store read (checksums verified)", mb_per_s(STORE_BYTES, read), "MB/s", &label);
	report.figure(
		"32 challenge leaves + proofs (median of 5)",
		proving[proving.len() / 2].as_secs_f64() * 1e3,
		"ms",
		&label,
	);
}

fn main() {
	let report = Report { json: std::env::args().any(|arg| arg == "--json") };
	if !report.json {
		println!("{:<44} {:>12} {:<6} setting", "figure", "value", "unit");
	}
	erasure(&report);
	commitments(&report);
	store(&report);
}
