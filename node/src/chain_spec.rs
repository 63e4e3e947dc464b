//! The built-in chain specifications: `dev` (Alice alone) and `local` (Alice, Bob, Charlie).

use cairn_runtime::{
	currency::{DECIMALS, SYMBOL},
	SS58_PREFIX, WASM_BINARY,
};
use sc_service::{ChainType, Properties};

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
