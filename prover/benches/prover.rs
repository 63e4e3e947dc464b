//! `cargo bench -p cairn-prover --bench prover [-- --json]`: the default circuit's size, setup,
//! proving (cached matrices, both cores) next to two baselines measured in the same run — stock
//! arkworks proving (full re-synthesis) of the circuit before Poseidon2 (the same tree over
//! circom's Poseidon, 58,627 constraints; 57,715 while leaves were 62 bytes) and of today's
//! circuit — peak memory, verification,
//! batch verification at 16 proofs, and proof size.

use std::time::{Duration, Instant};

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, UniformRand};
use ark_groth16::Groth16;
use ark_std::rand::SeedableRng as _;
use cairn_primitives::{
	field::fr_to_le_bytes,
	montgomery::{Adx, Portable},
	tree::{CircomPoseidonTree, MemoryTree, TreeHash},
};
use cairn_prover::{
	circuit::StorageCircuit,
	msm,
	prover::{dev_setup, Prover},
	statement::{ProofRequest, Statement},
	verifier::{self, BatchVerdict, StorageProof, VerifierKey, PROOF_BYTES},
	Curve, DEFAULT_CHALLENGES,
};
use rand_chacha::ChaCha20Rng;

const BATCH: usize = 16;
const VERIFY_RUNS: u32 = 50;
const PROVE_RUNS: usize = 3;

struct Report {
	json: bool,
	rows: Vec<(String, f64, &'static str, String)>,
}

impl Report {
	fn add(&mut self, name: &str, value: f64, unit: &'static str, baseline: &str) {
		if self.json {
			println!("{{\"name\":\"{name}\",\"value\":{value:.4},\"unit\":\"{unit}\"}}");
		}
		self.rows.push((name.to_string(), value, unit, baseline.to_string()));
	}

	fn print_table(&self) {
		if self.json {
			return;
		}
		println!("{:<34} {:>14} {:<6} baseline / target", "figure", "value", "unit");
		for (name, value, unit, baseline) in &self.rows {
			println!("{name:<34} {value:>14.3} {unit:<6} {baseline}");
		}
	}
}

fn peak_memory_mib() -> f64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
	status
		.lines()
		.find_map(|line| line.strip_prefix("VmHWM:"))
		.and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
		.map_or(f64::NAN, |kib| kib / 1024.0)
}

fn reset_peak_memory() {
	// Writing 5 to clear_refs resets VmHWM to the current resident size (Linux ≥ 4.0).
	let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn secs(duration: Duration) -> f64 {
	duration.as_secs_f64()
}

fn request<H: TreeHash>(tree: &MemoryTree<H>, shard_bytes: usize, period: u32) -> ProofRequest {
	ProofRequest {
		seed: [period as u8; 32],
		provider: [7; 32],
		contract: 1,
		shard: 0,
		period,
		root: fr_to_le_bytes(&tree.root()),
		shard_bytes: shard_bytes as u64,
	}
}

fn main() {
	let json = std::env::args().any(|arg| arg == "--json");
	let mut report = Report { json, rows: Vec::new() };
	let challenges = DEFAULT_CHALLENGES;
	let threads = std::thread::available_parallelism().map_or(1, usize::from);

	let started = Instant::now();
	let keys = dev_setup(challenges).expect("setup");
	let setup = started.elapsed();
	let started = Instant::now();
	let prover = Prover::new(keys.clone()).expect("matrices fit");
	let matrices = started.elapsed();
	let verifier_key = keys.verifier_key().expect("key fits");
	report.add(
		"constraints",
		prover.num_constraints() as f64,
		"count",
		"58627 circom-Poseidon tree, same challenges",
	);
	report.add("challenges", challenges as f64, "count", "");
	report.add("setup_time", secs(setup), "s", "12.6 s (naive circuit, 163k constraints)");
	report.add("matrix_build_time", secs(matrices), "s", "once per process");

	let shard: Vec<u8> =
		(0..1usize << 20).map(|i| ((i * 2_654_435_761usize) >> 13) as u8).collect();
	let tree = MemoryTree::from_shard(&shard).expect("fits");
	let statements: Vec<Statement> = (0..4u32)
		.map(|period| request(&tree, shard.len(), period).statement(challenges).expect("valid"))
		.collect();
	let mut rng = ChaCha20Rng::seed_from_u64(1);

	reset_peak_memory();
	let mut times = Vec::new();
	let mut proofs = Vec::new();
	for run in 0..PROVE_RUNS {
		let statement = &statements[run % statements.len()];
		let started = Instant::now();
		let proof = prover.prove(&tree, statement, &mut rng).expect("proves");
		times.push(started.elapsed());
		proofs.push((proof, statement.clone()));
	}
	let prove_peak = peak_memory_mib();
	times.sort();
	let median = times[times.len() / 2];

	// Baselines in the same run: the stock arkworks path, synthesizing matrices for every proof,
	// on today's circuit and on the circuit before Poseidon2 (its own keys, tree and statement).
	let statement = &statements[0];
	let openings = statement.indices().iter().map(|i| tree.proof(*i).expect("in range")).collect();
	let circuit = StorageCircuit::new(statement.clone(), openings).expect("shapes");
	let started = Instant::now();
	let stock =
		Groth16::<Curve>::create_random_proof_with_reduction(circuit, keys.proving_key(), &mut rng)
			.expect("proves");
	let stock_time = started.elapsed();
	assert!(verifier::verify(&verifier_key, &StorageProof::from(stock), statement).expect("fits"));

	let circom_key = Groth16::<Curve>::generate_random_parameters_with_reduction(
		StorageCircuit::<CircomPoseidonTree>::blank_over(challenges),
		&mut rng,
	)
	.expect("setup");
	let circom_tree = MemoryTree::<CircomPoseidonTree>::with_hash(&shard).expect("fits");
	let circom_statement =
		request(&circom_tree, shard.len(), 0).statement(challenges).expect("valid");
	let openings = circom_statement
		.indices()
		.iter()
		.map(|i| circom_tree.proof(*i).expect("in range"))
		.collect();
	let circuit =
		StorageCircuit::<CircomPoseidonTree>::new_over(circom_statement.clone(), openings)
			.expect("shapes");
	let started = Instant::now();
	let circom =
		Groth16::<Curve>::create_random_proof_with_reduction(circuit, &circom_key, &mut rng)
			.expect("proves");
	let circom_time = started.elapsed();
	let circom_verifier = VerifierKey::new(circom_key.vk.clone(), challenges).expect("fits");
	assert!(verifier::verify(&circom_verifier, &StorageProof::from(circom), &circom_statement)
		.expect("fits"));

	report.add(
		"prove_time",
		secs(median),
		"s",
		&format!(
			"{:.3} s stock arkworks on the circom-Poseidon circuit this run ({:.2}x; bar 2.7x); \
			 {threads} threads",
			secs(circom_time),
			secs(circom_time) / secs(median),
		),
	);
	report.add("prove_time_min", secs(times[0]), "s", &format!("of {PROVE_RUNS} runs"));
	report.add(
		"prove_time_stock_circom_poseidon",
		secs(circom_time),
		"s",
		"baseline: 58,627 constraints, re-synthesis",
	);
	report.add(
		"prove_time_stock_arkworks",
		secs(stock_time),
		"s",
		&format!("today's circuit, re-synthesis ({:.2}x)", secs(stock_time) / secs(median)),
	);
	report.add("peak_memory_proving", prove_peak, "MiB", "VmHWM reset before proving");
	report.add("peak_memory_process", peak_memory_mib(), "MiB", "VmHWM after the stock proves");

	let (proof, statement) = &proofs[0];
	assert!(verifier::verify(&verifier_key, proof, statement).expect("fits"));
	let started = Instant::now();
	for _ in 0..VERIFY_RUNS {
		assert!(verifier::verify(&verifier_key, proof, statement).expect("fits"));
	}
	let verify_time = started.elapsed() / VERIFY_RUNS;
	report.add("verify_time", secs(verify_time) * 1e3, "ms", "target <= 5 ms; 2.4-3.5 ms naive");

	// Sixteen distinct valid proofs: the real ones, re-randomized.
	let batch: Vec<(StorageProof, Statement)> = (0..BATCH)
		.map(|i| {
			let (proof, statement) = &proofs[i % proofs.len()];
			let fresh = Groth16::<Curve>::rerandomize_proof(
				verifier_key_vk(&keys),
				proof.inner(),
				&mut rng,
			);
			(StorageProof::from(fresh), statement.clone())
		})
		.collect();
	let started = Instant::now();
	let runs = 5u32;
	for _ in 0..runs {
		assert_eq!(
			verifier::verify_batch(&verifier_key, &batch).expect("fits"),
			BatchVerdict::AllValid
		);
	}
	let batch_time = started.elapsed() / runs;
	report.add(
		"batch_verify_per_proof_16",
		secs(batch_time) * 1e3 / BATCH as f64,
		"ms",
		&format!("{:.3} ms single verify this run; target <= 2 ms", secs(verify_time) * 1e3),
	);
	report.add("proof_size", PROOF_BYTES as f64, "bytes", "target <= 256");
	msm_rows(&mut report, &mut rng);
	report.print_table();
}

/// One G1 MSM of the proving key's size: Cairn's on the fastest path (the lanes where the CPU has
/// AVX-512 IFMA), the same buckets with the fastest scalar multiplication and with the portable
/// one, and arkworks' `msm_bigint`, all on every core.
fn msm_rows(report: &mut Report, rng: &mut ChaCha20Rng) {
	const POINTS: usize = 1 << 16;
	let bases: Vec<G1Affine> = G1Projective::normalize_batch(
		&(0..POINTS).map(|_| G1Projective::rand(rng)).collect::<Vec<_>>(),
	);
	let scalars: Vec<_> = (0..POINTS).map(|_| Fr::rand(rng).into_bigint()).collect();
	let time = |msm: &dyn Fn() -> G1Projective| {
		let started = Instant::now();
		let sum = msm();
		(secs(started.elapsed()), sum)
	};
	let (ours, sum) = time(&|| msm::msm(&bases, &scalars));
	let (scalar, scalar_sum) = time(&|| match Adx::detect() {
		Some(adx) => msm::msm_with(adx, None, &bases, &scalars),
		None => msm::msm_with(Portable, None, &bases, &scalars),
	});
	let (portable, portable_sum) = time(&|| msm::msm_with(Portable, None, &bases, &scalars));
	let (arkworks, arkworks_sum) = time(&|| G1Projective::msm_bigint(&bases, &scalars));
	assert_eq!(sum, arkworks_sum);
	assert_eq!(scalar_sum, arkworks_sum);
	assert_eq!(portable_sum, arkworks_sum);
	let fast = match (msm::Ifma::detect(), Adx::detect()) {
		(Some(_), _) => "AVX-512 IFMA lanes",
		(None, Some(_)) => "BMI2/ADX (no AVX-512 IFMA)",
		(None, None) => "portable (no AVX-512 IFMA, no BMI2/ADX)",
	};
	report.add(
		"msm_g1_65536",
		ours,
		"s",
		&format!(
			"{fast}; arkworks msm_bigint {arkworks:.3} s ({:.2}x); same buckets, fastest scalar \
			 multiplication {scalar:.3} s ({:.2}x), portable {portable:.3} s ({:.2}x)",
			arkworks / ours,
			scalar / ours,
			portable / ours,
		),
	);
}

fn verifier_key_vk(keys: &cairn_prover::prover::Keys) -> &ark_groth16::VerifyingKey<Curve> {
	keys.verifying_key()
}
