//! `cairn-node devnet --bench MIB`: end-to-end figures of a running local network. Uploads a
//! random file through the buyer's client API (`cairn_subscribeUpload`), downloads it with
//! `cairn_download`, and counts the proofs the chain accepts per block over three proving
//! periods; the buyer's node's peak resident memory during each transfer is read from `/proc`.
//! Each figure is printed next to its baseline measured in the same run: the same bytes (at most
//! [`BASELINE_MIB`] of them) encoded, committed and decoded in this process alone (the work
//! upload and download cannot avoid), the file's size, and the proofs a block could hold by the
//! runtime's weights.

use std::{
	path::Path,
	time::{Duration, Instant},
};

use cairn_files::shards::{code_into, ReadThrough, ShardDir, ShardFile};
use cairn_primitives::{field::fr_from_le_chunk, poseidon, tree, Fr};
use cairn_storage::encoding::{
	decode_stream, encode_stream, random_nonce_prefix, CodingParams, Encryption, EncryptionKey,
};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::WsClientBuilder,
};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use serde_json::{json, Value};

use crate::client::Error;

/// The in-process baseline's bytes at most: a rate, measured on a sample of the file, so that the
/// benchmark of a large file does not hold it in memory several times over.
const BASELINE_MIB: u64 = 256;

/// Leaf bytes of the tree on issue #17's day: two 31-byte elements.
const ISSUE_DAY_LEAF_BYTES: usize = 62;

/// The commitment of the pipeline issue #17 measures the upload against, as that pipeline was on
/// the issue's day: the 4-ary tree of depth [`tree::DEPTH`] over 62-byte leaves, each leaf's two
/// elements hashed with circom's Poseidon at width 3, each node's four children at width 5,
/// leaves and levels on both cores; and the shard's BLAKE3 digest. The tree has since moved to
/// 124-byte leaves (`tree::LEAF_BYTES`), over which [`tree::CircomPoseidonTree`] is the same
/// tree at width 5 throughout.
fn issue_day_commitment(shard: &[u8]) -> (Fr, [u8; 32]) {
	use rayon::prelude::*;
	use tree::{level_above, CircomPoseidonTree};
	// Each task hashes whole subtrees of this height, leaves included, as `commit_over` does.
	const TASK_HEIGHT: usize = 5;
	const TASK_NODES: usize = 1 << (2 * TASK_HEIGHT);
	let leaf = |chunk: &[u8]| {
		let mut leaf = [0u8; ISSUE_DAY_LEAF_BYTES];
		leaf[..chunk.len()].copy_from_slice(chunk);
		let (low, high) = leaf.split_at(tree::CHUNK_BYTES);
		let element = |bytes: &[u8]| fr_from_le_chunk(bytes).expect("31 bytes are below p");
		poseidon::hash2(element(low), element(high))
	};
	// `empty[l]`: the root of an all-zero subtree of height `l`.
	let empty: Vec<Fr> =
		std::iter::successors(Some(leaf(&[])), |node| Some(poseidon::hash4(&[*node; tree::ARITY])))
			.take(tree::DEPTH as usize + 1)
			.collect();
	let mut level: Vec<Fr> = shard
		.par_chunks(TASK_NODES * ISSUE_DAY_LEAF_BYTES)
		.flat_map_iter(|part| {
			let leaves = part.chunks(ISSUE_DAY_LEAF_BYTES).map(leaf).collect();
			empty[..TASK_HEIGHT]
				.iter()
				.fold(leaves, |below: Vec<Fr>, pad| level_above::<CircomPoseidonTree>(&below, *pad))
		})
		.collect();
	for pad in &empty[TASK_HEIGHT..tree::DEPTH as usize] {
		level = level
			.par_chunks(TASK_NODES)
			.flat_map_iter(|children| level_above::<CircomPoseidonTree>(children, *pad))
			.collect();
	}
	(level.first().copied().unwrap_or(empty[tree::DEPTH as usize]), *blake3::hash(shard).as_bytes())
}

/// The download rate of a 256 MiB file in this benchmark on the day issue #17 was written
/// (2026-11-24, MB/s): its bar is 1.5 times this, in the same kind of run.
const DOWNLOAD_BEFORE: f64 = 125.8;

/// Bytes written to or compared with the file at a time.
const CHUNK_BYTES: usize = 8 << 20;

/// Proofs per block are counted over three proving periods, or over one of at least this many
/// blocks.
const PROOF_COUNT_BLOCKS: u64 = 60;

/// A node's resident memory now and at its peak since [`reset_peak`] (`VmRSS` and `VmHWM`).
fn memory(pid: u32) -> Result<(u64, u64), Error> {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
		.map_err(|e| format!("the buyer's node (pid {pid}): {e}"))?;
	let field = |name: &str| {
		status
			.lines()
			.find_map(|line| {
				line.strip_prefix(name)?.trim().strip_suffix(" kB")?.parse::<u64>().ok()
			})
			.map(|kib| kib << 10)
			.ok_or_else(|| format!("no {name} in /proc/{pid}/status"))
	};
	Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Starts a node's peak resident memory again from what it holds now (Linux `clear_refs`).
fn reset_peak(pid: u32) -> Result<(), Error> {
	std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
		.map_err(|e| format!("resetting the peak memory of pid {pid}: {e}"))
}

fn in_mib(bytes: u64) -> f64 {
	bytes as f64 / f64::from(1 << 20)
}

/// Writes `bytes` random bytes to `path`, a chunk at a time; their BLAKE3 digest.
fn random_file(path: &Path, bytes: u64) -> Result<[u8; 32], Error> {
	use std::io::Write;
	let mut rng = ChaCha20Rng::from_entropy();
	let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| e.to_string())?);
	let mut digest = blake3::Hasher::new();
	let mut chunk = vec![0u8; CHUNK_BYTES];
	let mut left = bytes;
	while left > 0 {
		let len = left.min(CHUNK_BYTES as u64) as usize;
		rng.fill_bytes(&mut chunk[..len]);
		digest.update(&chunk[..len]);
		out.write_all(&chunk[..len]).map_err(|e| e.to_string())?;
		left -= len as u64;
	}
	out.flush().map_err(|e| e.to_string())?;
	Ok(*digest.finalize().as_bytes())
}

/// The BLAKE3 digest of the file at `path`.
fn digest_of(path: &Path) -> Result<[u8; 32], Error> {
	let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
	let mut digest = blake3::Hasher::new();
	std::io::copy(&mut file, &mut digest).map_err(|e| e.to_string())?;
	Ok(*digest.finalize().as_bytes())
}

fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
	bytes as f64 / 1e6 / seconds.max(1e-9)
}

/// Proofs one block can verify by the runtime's weights (batches of the largest size, in the
/// operational class proofs are dispatched in).
fn proofs_per_block_by_weight() -> u64 {
	use frame_support::{dispatch::DispatchClass, traits::Get};
	use pallet_market::WeightInfo;
	let batch: u32 = <cairn_runtime::Runtime as pallet_market::Config>::MaxProofsPerBatch::get();
	let per_batch =
		<pallet_market::weights::SubstrateWeight<cairn_runtime::Runtime> as WeightInfo>::submit_proofs(batch);
	let weights = <cairn_runtime::Runtime as frame_system::Config>::BlockWeights::get();
	let operational = weights.get(DispatchClass::Operational);
	let budget = operational.max_total.unwrap_or(weights.max_block);
	let batches = budget.ref_time() / per_batch.ref_time().max(1);
	batches * u64::from(batch)
}

/// The buyer's pipeline alone, as the node runs it, and the sum of its stages run one after the
/// other (seconds, the fastest of [`PIPELINE_ROUNDS`]).
struct Pipeline {
	/// [`code_into`]: encrypt, code, write and hash every shard in one pass.
	one_pass: f64,
	/// Encrypt, code and write the shard files.
	coding: f64,
	/// Then read each shard file through for its commitment, digest and piece paths.
	hashing: f64,
}

/// Rounds of the buyer's pipeline, staged and in one pass in turn; the fastest of each counts, so
/// that the network's own work in the background weighs on neither alone.
const PIPELINE_ROUNDS: usize = 2;

/// Runs the buyer's pipeline on `data` in shard files under `dir`, staged and in one pass, and
/// checks that both give the same shards.
fn buyer_pipeline(
	coding: CodingParams,
	key: &EncryptionKey,
	data: &[u8],
	dir: &Path,
) -> Result<Pipeline, Error> {
	// Each run's shard files in a directory of their own, removed when the run ends.
	let shard_files = || -> Result<(ShardDir, Vec<ShardFile>), Error> {
		let shards = ShardDir::new(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
		let files = shards.create_all(coding.total_shards()).map_err(|e| e.to_string())?;
		Ok((shards, files))
	};
	let nonce_prefix = random_nonce_prefix();
	let encryption = || Encryption::On { key, nonce_prefix };
	let roots = |read: Vec<ReadThrough>| -> Vec<_> {
		read.into_iter().map(|read| read.commitment.map(|c| c.root)).collect()
	};
	let staged = || -> Result<(f64, f64, Vec<_>), Error> {
		let (_shards, files) = shard_files()?;
		let started = Instant::now();
		let mut writers: Vec<_> = files.iter().map(ShardFile::writer).collect();
		encode_stream(coding, encryption(), data, &mut writers).map_err(|e| e.to_string())?;
		for writer in writers {
			writer.into_inner().map_err(|e| e.error().to_string())?;
		}
		let coded = started.elapsed().as_secs_f64();
		let started = Instant::now();
		let read = files
			.iter()
			.map(|file| file.read_through(true))
			.collect::<std::io::Result<Vec<_>>>()
			.map_err(|e| e.to_string())?;
		Ok((coded, started.elapsed().as_secs_f64(), roots(read)))
	};
	let one_pass = || -> Result<(f64, Vec<_>), Error> {
		let (_shards, files) = shard_files()?;
		let started = Instant::now();
		let (_, read) =
			code_into(coding, encryption(), data, &files, true).map_err(|e| e.to_string())?;
		Ok((started.elapsed().as_secs_f64(), roots(read)))
	};
	let mut best = Pipeline { one_pass: f64::MAX, coding: f64::MAX, hashing: f64::MAX };
	for _ in 0..PIPELINE_ROUNDS {
		let (coded, hashed, staged_roots) = staged()?;
		if coded + hashed < best.coding + best.hashing {
			(best.coding, best.hashing) = (coded, hashed);
		}
		let (seconds, one_pass_roots) = one_pass()?;
		best.one_pass = best.one_pass.min(seconds);
		if one_pass_roots != staged_roots {
			return Err("the buyer's pipeline and its stages commit to different shards".into());
		}
	}
	Ok(best)
}

/// Runs the benchmark against the buyer's node (process `buyer`, chain RPC at `rpc_url`, client
/// API at `api_url`), with scratch files in `dir`.
pub async fn run(
	rpc_url: &str,
	api_url: &str,
	dir: &Path,
	mib: u64,
	buyer: u32,
) -> Result<(), Error> {
	let rpc = WsClientBuilder::default()
		.request_timeout(Duration::from_secs(3600))
		.build(rpc_url)
		.await
		.map_err(|e| format!("cannot reach {rpc_url}: {e}"))?;
	let token = crate::client::api_token(api_url, None, None)?;
	let api = crate::client::api_client(api_url, &token, Some(Duration::from_secs(3600))).await?;
	let bytes = mib << 20;
	let input = dir.join("bench-input.bin");
	let output = dir.join("bench-output.bin");
	let written = input.clone();
	let digest = tokio::task::spawn_blocking(move || random_file(&written, bytes))
		.await
		.map_err(|e| e.to_string())??;
	println!("benchmark: {mib} MiB random file, k = 4, m = 2");

	// Baselines: the pipeline alone, in this process, committing with Poseidon2 (the pipeline the
	// node runs), and with circom's Poseidon as on issue #17's day (its baseline) and over
	// today's tree.
	let sample = bytes.min(BASELINE_MIB << 20);
	let mut local = vec![0u8; sample as usize];
	std::io::Read::read_exact(
		&mut std::fs::File::open(&input).map_err(|e| e.to_string())?,
		&mut local,
	)
	.map_err(|e| e.to_string())?;
	let shard_dir = dir.join("bench-shards");
	let (pipeline, circom_s, circom_today_s, decode_s) =
		tokio::task::spawn_blocking(move || -> Result<(Pipeline, f64, f64, f64), Error> {
			let key = EncryptionKey::from_bytes([9; 32]);
			let coding = CodingParams::new(4, 2).map_err(|e| e.to_string())?;
			let pipeline = buyer_pipeline(coding, &key, &local, &shard_dir)?;
			let started = Instant::now();
			let mut shards = vec![Vec::new(); 6];
			let manifest =
				encode_stream(coding, Encryption::with_random_nonce(&key), &local[..], &mut shards)
					.map_err(|e| e.to_string())?;
			for shard in &shards {
				issue_day_commitment(shard);
			}
			let circom_s = started.elapsed().as_secs_f64();
			let started = Instant::now();
			for shard in &shards {
				cairn_storage::commitment::commit_over::<tree::CircomPoseidonTree>(shard)
					.map_err(|e| e.to_string())?;
			}
			let circom_today_s = started.elapsed().as_secs_f64();
			let started = Instant::now();
			let mut readers: Vec<Option<&[u8]>> = shards.iter().map(|s| Some(&s[..])).collect();
			readers[0] = None;
			readers[1] = None;
			let decoded = decode_stream(&manifest, Some(&key), &mut readers, Vec::new())
				.map_err(|e| e.to_string())?;
			if decoded != local {
				return Err("local decode differs".into());
			}
			Ok((pipeline, circom_s, circom_today_s, started.elapsed().as_secs_f64()))
		})
		.await
		.map_err(|e| e.to_string())??;

	// Upload through the network, until every shard is confirmed.
	reset_peak(buyer)?;
	let (before_upload, _) = memory(buyer)?;
	let started = Instant::now();
	let mut updates = api
		.subscribe::<Value, _>(
			"cairn_subscribeUpload",
			rpc_params![json!({ "path": input, "k": 4, "m": 2 })],
			"cairn_unsubscribeUpload",
		)
		.await
		.map_err(|e| format!("cairn_subscribeUpload: {e}"))?;
	let mut sent_s = None;
	let done = loop {
		let update = updates
			.next()
			.await
			.ok_or("the upload subscription closed")?
			.map_err(|e| e.to_string())?;
		match update["stage"].as_str() {
			Some("sent") => sent_s = Some(started.elapsed().as_secs_f64()),
			Some("done") => break update,
			Some("error") => return Err(format!("upload failed: {}", update["message"])),
			_ => {}
		}
	};
	let confirmed_s = started.elapsed().as_secs_f64();
	let (_, upload_peak) = memory(buyer)?;
	let contract = done["contract"].as_u64().ok_or("no contract id")?;

	// Download.
	reset_peak(buyer)?;
	let (before_download, _) = memory(buyer)?;
	let started = Instant::now();
	let _: Value = api
		.request("cairn_download", rpc_params![json!({ "contract": contract, "path": output })])
		.await
		.map_err(|e| format!("cairn_download: {e}"))?;
	let download_s = started.elapsed().as_secs_f64();
	let (_, download_peak) = memory(buyer)?;
	if digest_of(&output)? != digest {
		return Err("the downloaded file differs from the upload".into());
	}

	// Proofs accepted per block over three proving periods, or one long one (a devnet's
	// `--proving-period`).
	let record: Value =
		rpc.request("cairn_proofs", rpc_params![contract]).await.map_err(|e| e.to_string())?;
	let period = record["periodLength"].as_u64().unwrap_or(10);
	let mut heads = rpc
		.subscribe::<Value, _>(
			"chain_subscribeNewHeads",
			rpc_params![],
			"chain_unsubscribeNewHeads",
		)
		.await
		.map_err(|e| e.to_string())?;
	let counted = if period >= PROOF_COUNT_BLOCKS { period } else { 3 * period };
	let (mut blocks, mut proofs, mut most) = (0u64, 0u64, 0u64);
	while blocks < counted {
		let head = heads
			.next()
			.await
			.ok_or("the heads subscription closed")?
			.map_err(|e| e.to_string())?;
		let number = head["number"]
			.as_str()
			.and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
		let hash: Value = rpc
			.request("chain_getBlockHash", rpc_params![number])
			.await
			.map_err(|e| e.to_string())?;
		let events: Vec<Value> =
			rpc.request("cairn_events", rpc_params![hash]).await.map_err(|e| e.to_string())?;
		let accepted = events.iter().filter(|e| e["name"] == "ProofAccepted").count() as u64;
		proofs += accepted;
		most = most.max(accepted);
		blocks += 1;
	}
	let _ = std::fs::remove_file(&input);
	let _ = std::fs::remove_file(&output);

	println!();
	println!("| figure | value | baseline in the same run |");
	println!("|---|---|---|");
	let sample_mib = sample >> 20;
	println!(
		"| upload {mib} MiB, every shard confirmed | {:.2} MB/s ({confirmed_s:.1} s; sent after {:.1} s) | {:.2} MB/s encrypt + code + circom-Poseidon commit of {sample_mib} MiB alone, the pipeline of issue #17's day (62-byte leaves; {circom_s:.1} s): {:.2}x (bar 2.5x); over today's tree (124-byte leaves at width 5) {:.2} MB/s ({circom_today_s:.1} s): {:.2}x |",
		mb_per_s(bytes, confirmed_s),
		sent_s.unwrap_or(confirmed_s),
		mb_per_s(sample, circom_s),
		mb_per_s(bytes, confirmed_s) / mb_per_s(sample, circom_s),
		mb_per_s(sample, circom_today_s),
		mb_per_s(bytes, confirmed_s) / mb_per_s(sample, circom_today_s),
	);
	println!(
		"| the buyer's pipeline alone, as the node runs it: encrypt + code + write + hash (commitment, digest, piece paths) of {sample_mib} MiB in one pass | {:.2} MB/s ({:.2} s) | its stages one after the other {:.2} MB/s ({:.2} s: encrypt + code + write {:.2} s, hash {:.2} s): {:.2}x; the same with circom's Poseidon in memory {:.2} MB/s (issue #17's day) |",
		mb_per_s(sample, pipeline.one_pass),
		pipeline.one_pass,
		mb_per_s(sample, pipeline.coding + pipeline.hashing),
		pipeline.coding + pipeline.hashing,
		pipeline.coding,
		pipeline.hashing,
		(pipeline.coding + pipeline.hashing) / pipeline.one_pass,
		mb_per_s(sample, circom_s),
	);
	println!(
		"| download {mib} MiB (4 of 6 shards, checked, decoded) | {:.2} MB/s ({download_s:.2} s) | {:.2} MB/s decode + decrypt of {sample_mib} MiB alone ({decode_s:.2} s); {:.2}x the {DOWNLOAD_BEFORE} MB/s of issue #17's day (bar 1.5x) |",
		mb_per_s(bytes, download_s),
		mb_per_s(sample, decode_s),
		mb_per_s(bytes, download_s) / DOWNLOAD_BEFORE,
	);
	println!(
		"| the buyer's node: peak resident memory while uploading | {:.0} MiB ({:.0} MiB before; bar 512 MiB) | the file: {mib} MiB |",
		in_mib(upload_peak),
		in_mib(before_upload),
	);
	println!(
		"| the buyer's node: peak resident memory while downloading | {:.0} MiB ({:.0} MiB before; bar 512 MiB) | the file: {mib} MiB |",
		in_mib(download_peak),
		in_mib(before_download),
	);
	println!(
		"| proofs verified per block over {blocks} blocks | {most} at most, {:.2} on average ({proofs} in all, every shard once a period) | {} by the runtime's weights |",
		proofs as f64 / blocks as f64,
		proofs_per_block_by_weight(),
	);
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The issue-day tree: an empty shard is the all-zero tree, a one-byte shard one real leaf
	/// padded level by level, and four leaves fill the first node.
	#[test]
	fn the_issue_day_commitment_is_the_62_byte_leaf_tree() {
		let zero = Fr::from(0u64);
		let mut empty = vec![poseidon::hash2(zero, zero)];
		for level in 0..tree::DEPTH as usize {
			empty.push(poseidon::hash4(&[empty[level]; 4]));
		}
		assert_eq!(issue_day_commitment(&[]).0, empty[tree::DEPTH as usize]);

		let climb = |mut node: Fr| {
			for pad in &empty[1..tree::DEPTH as usize] {
				node = poseidon::hash4(&[node, *pad, *pad, *pad]);
			}
			node
		};
		let byte = issue_day_commitment(&[7]);
		let leaf = poseidon::hash2(Fr::from(7u64), zero);
		assert_eq!(byte.0, climb(poseidon::hash4(&[leaf, empty[0], empty[0], empty[0]])));
		assert_eq!(byte.1, *blake3::hash(&[7]).as_bytes());

		let shard: Vec<u8> = (0..4 * ISSUE_DAY_LEAF_BYTES).map(|i| i as u8).collect();
		let leaves: Vec<Fr> = shard
			.chunks(ISSUE_DAY_LEAF_BYTES)
			.map(|leaf| {
				let element = |bytes: &[u8]| fr_from_le_chunk(bytes).expect("below p");
				poseidon::hash2(element(&leaf[..31]), element(&leaf[31..]))
			})
			.collect();
		let first = poseidon::hash4(&[leaves[0], leaves[1], leaves[2], leaves[3]]);
		assert_eq!(issue_day_commitment(&shard).0, climb(first));
	}
}
