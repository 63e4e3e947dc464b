//! Deterministic development key generation.
//!
//! `cargo run -p cairn-prover --release --bin keygen -- --out DIR [--challenges N]` writes
//! `DIR/proving.key` and `DIR/verifying.key` and prints the verifying key's hash. Anyone running it
//! gets byte-identical keys; they are for development only (see `docs/PROOFS.md`).

use std::{path::PathBuf, time::Instant};

use anyhow::{bail, Context, Result};
use cairn_prover::{
	keys::{self, PROVING_KEY_FILE, VERIFYING_KEY_FILE},
	prover::{constraint_count, dev_setup},
	DEFAULT_CHALLENGES,
};

struct Options {
	out: PathBuf,
	challenges: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options> {
	let mut out = None;
	let mut challenges = DEFAULT_CHALLENGES;
	while let Some(arg) = args.next() {
		match arg.as_str() {
			"--out" => out = Some(PathBuf::from(args.next().context("--out needs a directory")?)),
			"--challenges" => {
				let value = args.next().context("--challenges needs a number")?;
				challenges = value.parse().with_context(|| format!("--challenges {value}"))?;
			}
			"-h" | "--help" => {
				println!(
					"usage: keygen --out DIR [--challenges N]  (default N = {DEFAULT_CHALLENGES})"
				);
				std::process::exit(0);
			}
			other => bail!("unknown argument {other:?}; usage: keygen --out DIR [--challenges N]"),
		}
	}
	let out = out.context("usage: keygen --out DIR [--challenges N]")?;
	Ok(Options { out, challenges })
}

fn main() -> Result<()> {
	let options = parse(std::env::args().skip(1))?;
	let started = Instant::now();
	let constraints = constraint_count(options.challenges).context("synthesizing the circuit")?;
	let keys = dev_setup(options.challenges).context("running the development setup")?;
	keys::write_key_files(&options.out, keys.proving_key(), options.challenges)
		.with_context(|| format!("writing keys to {}", options.out.display()))?;
	let hash = keys::verifying_key_hash(keys.verifying_key());
	let size = |name: &str| std::fs::metadata(options.out.join(name)).map(|m| m.len()).unwrap_or(0);
	println!("challenges:          {}", options.challenges);
	println!("constraints:         {constraints}");
	println!(
		"proving key:         {} ({} bytes)",
		options.out.join(PROVING_KEY_FILE).display(),
		size(PROVING_KEY_FILE)
	);
	println!(
		"verifying key:       {} ({} bytes)",
		options.out.join(VERIFYING_KEY_FILE).display(),
		size(VERIFYING_KEY_FILE)
	);
	println!("verifying key hash:  0x{}", keys::to_hex(&hash));
	println!("took:                {:.1} s", started.elapsed().as_secs_f64());
	Ok(())
}
