//! `cairn-node production-spec`: the chain specification of a production Cairn chain, built from
//! a genesis description its operators write and checked before anything is built.
//!
//! ```json
//! {
//!   "validators": [{ "babe": "5FtC…", "grandpa": "5Cos…" }],
//!   "root": { "signatories": ["5Gn3…", "5HYe…", "5EEc…"], "threshold": 2 },
//!   "endowments": [{ "account": "5Gn3…", "balance": "100" }],
//!   "bootNodes": ["/dns/boot-1.example.org/tcp/30333/p2p/12D3KooW…"]
//! }
//! ```
//!
//! The genesis itself is the runtime's (`genesis_config_presets::production_genesis`): no
//! verifying key until root sets a ceremony's, the production proving period, root held by the
//! multisig account of the signatories. `docs/production-genesis.example.json` is a complete
//! description.

mod description;
#[cfg(test)]
mod tests;

use std::{io::Write, path::PathBuf};

use cairn_runtime::{
	genesis_config_presets::{ProductionGenesis, PRODUCTION_PROVING_PERIOD},
	Balance,
};

use cairn_chain::ss58;
use description::{format_cairn, DescriptionError, GenesisDescription};

/// `cairn-node production-spec`.
#[derive(Debug, clap::Args)]
pub struct ProductionSpecCmd {
	/// The genesis description: validators, root signatories and threshold, endowments and boot
	/// nodes (JSON; docs/production-genesis.example.json shows every field).
	#[arg(long, value_name = "FILE")]
	pub genesis: PathBuf,

	/// Write the raw specification (the genesis storage itself, which every node of the chain
	/// should be started with) instead of the readable one (the runtime's genesis, for review).
	#[arg(long)]
	pub raw: bool,

	/// Write the specification to this file instead of standard output.
	#[arg(long, value_name = "FILE")]
	pub out: Option<PathBuf>,
}

/// Why `production-spec` wrote no specification.
#[derive(Debug, thiserror::Error)]
pub enum ProductionSpecError {
	#[error("cannot read {path:?}: {source}")]
	Read { path: PathBuf, source: std::io::Error },
	#[error("{path:?} is not a genesis description: {source}")]
	Parse { path: PathBuf, source: serde_json::Error },
	#[error("{path:?}: {source}")]
	Invalid { path: PathBuf, source: DescriptionError },
	#[error("cannot build the chain specification: {0}")]
	Build(String),
	#[error("cannot write {path:?}: {source}")]
	Write { path: PathBuf, source: std::io::Error },
}

/// Reads and checks the description, builds the specification and writes it; a summary of what
/// it holds goes to standard error.
pub fn run(cmd: &ProductionSpecCmd) -> Result<(), ProductionSpecError> {
	let path = &cmd.genesis;
	let text = std::fs::read_to_string(path)
		.map_err(|source| ProductionSpecError::Read { path: path.clone(), source })?;
	let description: GenesisDescription = serde_json::from_str(&text)
		.map_err(|source| ProductionSpecError::Parse { path: path.clone(), source })?;
	let checked = description
		.check()
		.map_err(|source| ProductionSpecError::Invalid { path: path.clone(), source })?;
	let spec = crate::chain_spec::production_chain_spec(&checked.genesis, checked.boot_nodes)
		.map_err(ProductionSpecError::Build)?;
	let json = spec.as_json(cmd.raw).map_err(ProductionSpecError::Build)?;
	match &cmd.out {
		Some(out) => std::fs::write(out, json)
			.map_err(|source| ProductionSpecError::Write { path: out.clone(), source })?,
		None => std::io::stdout().write_all(json.as_bytes()).map_err(|source| {
			ProductionSpecError::Write { path: "standard output".into(), source }
		})?,
	}
	eprintln!("{}", summary(&checked.genesis, cmd.raw));
	Ok(())
}

/// What the specification holds, for the operator to check.
fn summary(genesis: &ProductionGenesis, raw: bool) -> String {
	let form = if raw { "raw" } else { "readable" };
	let root = genesis.root_account().map(|account| ss58(&account)).unwrap_or_default();
	let total =
		genesis.endowments.iter().map(|(_, planck)| *planck).fold(0, Balance::saturating_add);
	let mut lines = vec![
		format!("Cairn production chain specification ({form}), chain id `cairn`"),
		format!("  validators: {}", genesis.validators.len()),
		format!(
			"  root: {} of {} signatories, multisig account {root}",
			genesis.root_threshold,
			genesis.root_signatories.len()
		),
		format!(
			"  endowed: {} accounts, {} CAIRN in all",
			genesis.endowments.len(),
			format_cairn(total)
		),
		format!("  proving period: {PRODUCTION_PROVING_PERIOD} blocks"),
		"  verifying key: none; no proof is accepted until root sets the ceremony's key \
		 (market.set_verifying_key)"
			.to_string(),
	];
	for signatory in &genesis.root_signatories {
		if !genesis.endowments.iter().any(|(account, _)| account == signatory) {
			lines.push(format!(
				"  note: root signatory {} holds nothing at genesis; it needs funds to approve \
				 root calls",
				ss58(signatory)
			));
		}
	}
	lines.join("\n")
}
