//! The chain specifications: the built-in `dev` (Alice alone) and `local` (Alice, Bob, Charlie),
//! and the production chain's, built from its operators' genesis description
//! (`cairn-node production-spec`).

use cairn_runtime::{
	currency::{DECIMALS, SYMBOL},
	genesis_config_presets::{local_config_genesis, production_genesis, ProductionGenesis},
	BlockNumber, Runtime, SS58_PREFIX, WASM_BINARY,
};
use sc_service::{config::MultiaddrWithPeerId, ChainType, Properties};

/// A chain specification of the Cairn runtime.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token and address properties that wallets and explorers read from `system_properties`.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), SYMBOL.into());
	properties.insert("tokenDecimals".into(), DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the WASM runtime is not available: this binary was built with SKIP_WASM_BUILD".to_string()
	})
}

/// A single-validator development chain.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Cairn Development")
		.with_id("cairn_dev")
		.with_protocol_id("cairn")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// A three-validator local test network.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	local(None)
}

/// The local test network with a proving period of `blocks` instead of the test chains' short
/// one: for a whole network sharing a few cores under a load (a 2 GiB upload) that slows each
/// proof beyond those periods. A real network's periods are an hour.
pub fn local_chain_spec_with_proving_period(blocks: BlockNumber) -> Result<ChainSpec, String> {
	let longest = <Runtime as pallet_market::Config>::MaxProvingPeriod::get();
	if blocks == 0 || blocks > longest {
		return Err(format!("a proving period is 1 to {longest} blocks, not {blocks}"));
	}
	let mut patch = local_config_genesis();
	patch["market"]["provingPeriod"] = blocks.into();
	local(Some(patch))
}

/// The local test network, of the runtime's preset or of the genesis `patch`.
fn local(patch: Option<serde_json::Value>) -> Result<ChainSpec, String> {
	let builder = ChainSpec::builder(wasm_binary()?, None)
		.with_name("Cairn Local Testnet")
		.with_id("cairn_local")
		.with_protocol_id("cairn")
		.with_chain_type(ChainType::Local)
		.with_properties(properties());
	let builder = match patch {
		None => builder
			.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		Some(patch) => builder.with_genesis_config_patch(patch),
	};
	Ok(builder.build())
}

/// The production chain, `cairn`: the runtime's production genesis (no verifying key, no
/// development account, root held by a multisig account) with the operators' validators, root
/// signatories and balances, checked beforehand (`production_spec::GenesisDescription::check`).
pub fn production_chain_spec(
	genesis: &ProductionGenesis,
	boot_nodes: Vec<MultiaddrWithPeerId>,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Cairn")
		.with_id("cairn")
		.with_protocol_id("cairn")
		.with_chain_type(ChainType::Live)
		.with_boot_nodes(boot_nodes)
		.with_genesis_config_patch(production_genesis(genesis))
		.with_properties(properties())
		.build())
}

#[cfg(test)]
mod tests {
	use cairn_runtime::genesis_config_presets::DEV_PROVING_PERIOD;
	use sp_runtime::BuildStorage;

	use super::*;

	/// The market's proving period in the genesis state of `spec`.
	fn proving_period(spec: &ChainSpec) -> BlockNumber {
		let storage = spec.build_storage().expect("the genesis storage builds");
		sp_io::TestExternalities::new(storage)
			.execute_with(pallet_market::ProvingPeriod::<Runtime>::get)
	}

	/// The longer period changes the period and nothing that names the chain: the nodes keep
	/// their base paths, and the rest of the genesis (validators, key, balances) is the local
	/// preset's.
	#[test]
	fn a_local_chain_takes_a_longer_proving_period() {
		let local = local_chain_spec().expect("the local spec");
		let longer = local_chain_spec_with_proving_period(150).expect("a spec");
		assert_eq!(proving_period(&local), DEV_PROVING_PERIOD);
		assert_eq!(proving_period(&longer), 150);
		assert_eq!(longer.id(), local.id());
		let storage = longer.build_storage().expect("the genesis storage builds");
		sp_io::TestExternalities::new(storage).execute_with(|| {
			assert_eq!(
				pallet_market::VerifyingKey::<Runtime>::get(),
				cairn_prover::keys::DEV_VERIFYING_KEY.to_vec()
			);
			assert_eq!(cairn_runtime::Babe::authorities().len(), 3);
		});
		let longest = <Runtime as pallet_market::Config>::MaxProvingPeriod::get();
		for blocks in [0, longest + 1] {
			let Err(error) = local_chain_spec_with_proving_period(blocks) else {
				panic!("a proving period of {blocks} blocks is out of range");
			};
			assert!(error.contains("a proving period is 1 to"), "{error}");
		}
	}
}
