//! The chain specifications: the built-in `dev` (Alice alone) and `local` (Alice, Bob, Charlie),
//! and the production chain's, built from its operators' genesis description
//! (`cairn-node production-spec`).

use cairn_runtime::{
	currency::{DECIMALS, SYMBOL},
	genesis_config_presets::{production_genesis, ProductionGenesis},
	SS58_PREFIX, WASM_BINARY,
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
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Cairn Local Testnet")
		.with_id("cairn_local")
		.with_protocol_id("cairn")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
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
