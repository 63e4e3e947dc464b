//! The example genesis description builds a production chain without any development key, and
//! every check refuses what it is there to refuse.

use cairn_runtime::{
	currency::UNITS,
	genesis_config_presets::{multisig_account, PRODUCTION_PROVING_PERIOD},
	AccountId, Babe, Grandpa, Runtime,
};
use sc_service::{ChainSpec as _, ChainType};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::BuildStorage;

use super::description::{format_cairn, parse_cairn, DescriptionError, GenesisDescription};
use crate::chain_spec::{production_chain_spec, ChainSpec};

const EXAMPLE: &str = include_str!("../../../docs/production-genesis.example.json");

fn example() -> GenesisDescription {
	serde_json::from_str(EXAMPLE).expect("the example is a genesis description")
}

/// Every development account: sr25519 and ed25519 keyrings alike.
fn development_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.map(|key| key.to_account_id())
		.chain(Ed25519Keyring::iter().map(|key| key.to_account_id()))
		.collect()
}

/// The example edited by `edit`, checked: the error it is refused with.
fn refused(edit: impl FnOnce(&mut Value)) -> DescriptionError {
	let mut value: Value = serde_json::from_str(EXAMPLE).expect("the example is JSON");
	edit(&mut value);
	let description: GenesisDescription =
		serde_json::from_value(value).expect("the edit keeps the description's shape");
	description.check().expect_err("the checks refuse the edited description")
}

fn field_of(error: &DescriptionError) -> &str {
	match error {
		DescriptionError::BadKey { field, .. }
		| DescriptionError::DevelopmentKey { field, .. }
		| DescriptionError::Duplicate { field, .. }
		| DescriptionError::BadBalance { field, .. }
		| DescriptionError::BelowExistentialDeposit { field, .. } => field,
		other => panic!("an error without a field: {other}"),
	}
}

#[test]
fn the_example_builds_a_production_chain_without_development_keys() {
	let checked = example().check().expect("the example passes the checks");
	let genesis = &checked.genesis;
	let spec = production_chain_spec(genesis, checked.boot_nodes.clone()).expect("a spec");
	assert_eq!(spec.id(), "cairn");
	assert_eq!(spec.name(), "Cairn");
	assert_eq!(spec.chain_type(), ChainType::Live);

	let root = multisig_account(&genesis.root_signatories, genesis.root_threshold);
	let development = development_accounts();
	assert!(!development.contains(&root));
	assert!(!genesis.root_signatories.contains(&root), "root is no single signatory");

	let storage = spec.build_storage().expect("the genesis storage builds");
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert!(pallet_market::VerifyingKey::<Runtime>::get().is_empty(), "no verifying key");
		assert_eq!(pallet_market::ProvingPeriod::<Runtime>::get(), PRODUCTION_PROVING_PERIOD);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(root.clone()));
		for account in &development {
			assert!(
				!frame_system::Pallet::<Runtime>::account_exists(account),
				"development account {} exists",
				account.to_ss58check()
			);
		}
		for (account, planck) in &genesis.endowments {
			assert_eq!(pallet_balances::Pallet::<Runtime>::free_balance(account), *planck);
		}
		assert_eq!(Babe::authorities().len(), genesis.validators.len());
		assert_eq!(Grandpa::grandpa_authorities().len(), genesis.validators.len());
	});
}

#[test]
fn the_raw_spec_loads_back_with_the_same_genesis() {
	let checked = example().check().expect("the example passes the checks");
	let spec = production_chain_spec(&checked.genesis, checked.boot_nodes).expect("a spec");
	let raw = spec.as_json(true).expect("the raw spec builds");
	let loaded = ChainSpec::from_json_bytes(raw.into_bytes()).expect("the raw spec loads");
	assert_eq!(loaded.id(), "cairn");
	assert_eq!(
		loaded.build_storage().expect("raw storage").top,
		spec.build_storage().expect("genesis storage").top
	);
}

#[test]
fn development_keys_are_refused_everywhere() {
	let alice = Sr25519Keyring::Alice.to_account_id().to_ss58check();
	let error = refused(|d| d["validators"][0]["babe"] = json!(alice));
	assert!(matches!(error, DescriptionError::DevelopmentKey { .. }));
	assert_eq!(field_of(&error), "validators[0].babe");

	let bob_grandpa = format!("0x{}", hex::encode(Ed25519Keyring::Bob.to_raw_public()));
	let error = refused(|d| d["validators"][1]["grandpa"] = json!(bob_grandpa));
	assert!(matches!(error, DescriptionError::DevelopmentKey { .. }));
	assert_eq!(field_of(&error), "validators[1].grandpa");

	let ferdie_stash = Sr25519Keyring::FerdieStash.to_account_id().to_ss58check();
	let error = refused(|d| d["root"]["signatories"][2] = json!(ferdie_stash));
	assert!(matches!(error, DescriptionError::DevelopmentKey { .. }));
	assert_eq!(field_of(&error), "root.signatories[2]");

	let two = Sr25519Keyring::Two.to_account_id().to_ss58check();
	let error = refused(|d| d["endowments"][0]["account"] = json!(two));
	assert!(matches!(error, DescriptionError::DevelopmentKey { .. }));
	assert_eq!(field_of(&error), "endowments[0].account");
}

#[test]
fn a_key_given_twice_is_refused() {
	let error = refused(|d| d["validators"][1]["grandpa"] = d["validators"][0]["grandpa"].clone());
	let DescriptionError::Duplicate { ref first, .. } = error else {
		panic!("not refused as a repeat: {error}");
	};
	assert_eq!(first, "validators[0].grandpa");
	assert_eq!(field_of(&error), "validators[1].grandpa");

	let error = refused(|d| d["validators"][0]["grandpa"] = d["validators"][0]["babe"].clone());
	assert!(matches!(error, DescriptionError::Duplicate { .. }));

	let error = refused(|d| d["root"]["signatories"][1] = d["root"]["signatories"][0].clone());
	assert!(matches!(error, DescriptionError::Duplicate { .. }));
	assert_eq!(field_of(&error), "root.signatories[1]");

	let error = refused(|d| d["endowments"][1]["account"] = d["endowments"][0]["account"].clone());
	assert!(matches!(error, DescriptionError::Duplicate { .. }));
	assert_eq!(field_of(&error), "endowments[1].account");
}

#[test]
fn a_chain_needs_validators_and_a_root_of_at_least_two() {
	let error = refused(|d| d["validators"] = json!([]));
	assert!(matches!(error, DescriptionError::NoValidators));

	let error = refused(|d| d["root"]["threshold"] = json!(1));
	assert!(matches!(error, DescriptionError::BadThreshold { threshold: 1, signatories: 3 }));

	let error = refused(|d| d["root"]["threshold"] = json!(4));
	assert!(matches!(error, DescriptionError::BadThreshold { threshold: 4, signatories: 3 }));

	let error = refused(|d| d["root"]["signatories"] = json!([]));
	assert!(matches!(error, DescriptionError::BadThreshold { signatories: 0, .. }));

	let too_many: Vec<String> =
		(0..17u8).map(|i| AccountId::from([i + 1; 32]).to_ss58check()).collect();
	let error = refused(|d| d["root"]["signatories"] = json!(too_many));
	assert!(matches!(error, DescriptionError::TooManySignatories { count: 17, max: 16 }));
}

#[test]
fn keys_amounts_and_boot_nodes_must_read() {
	let error = refused(|d| d["validators"][0]["babe"] = json!("5NotAnAddress"));
	assert!(matches!(error, DescriptionError::BadKey { .. }));
	let error = refused(|d| d["endowments"][0]["account"] = json!("0x1234"));
	assert!(matches!(error, DescriptionError::BadKey { .. }));

	let error = refused(|d| d["endowments"][0]["balance"] = json!("1e6"));
	assert!(matches!(error, DescriptionError::BadBalance { .. }));
	assert_eq!(field_of(&error), "endowments[0].balance");

	let error = refused(|d| d["endowments"][0]["balance"] = json!("0.0001"));
	assert!(matches!(error, DescriptionError::BelowExistentialDeposit { .. }));

	let error = refused(|d| d["bootNodes"] = json!(["/ip4/10.0.0.1/tcp/30333"]));
	assert!(matches!(error, DescriptionError::BadBootNode { index: 0, .. }));
}

#[test]
fn unknown_fields_are_refused_so_that_typos_do_not_go_unnoticed() {
	let mut value: Value = serde_json::from_str(EXAMPLE).expect("the example is JSON");
	value["endownments"] = json!([]);
	assert!(serde_json::from_value::<GenesisDescription>(value).is_err());
}

#[test]
fn amounts_are_whole_cairn_with_at_most_twelve_decimals() {
	assert_eq!(parse_cairn("1"), Some(UNITS));
	assert_eq!(parse_cairn("0.5"), Some(UNITS / 2));
	assert_eq!(parse_cairn("1.000000000001"), Some(UNITS + 1));
	assert_eq!(parse_cairn("1000000"), Some(1_000_000 * UNITS));
	for bad in ["", "1.", ".5", "-1", "+1", "1e3", "1,5", " 1", "1.0000000000001", "0x10"] {
		assert_eq!(parse_cairn(bad), None, "{bad:?}");
	}
	assert_eq!(parse_cairn(&u128::MAX.to_string()), None, "overflow");

	assert_eq!(format_cairn(1_000_000 * UNITS), "1000000");
	assert_eq!(format_cairn(UNITS + UNITS / 4), "1.25");
	assert_eq!(format_cairn(1), "0.000000000001");
}
