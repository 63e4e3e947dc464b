//! Genesis presets: `development` (Alice alone), `local_testnet` (Alice, Bob, Charlie) and
//! `cairn`, the production chain's.
//!
//! The development presets fund the well-known development accounts, so that providers and buyers
//! can act at once, make Alice root and install the deterministic development verifying key. The
//! production preset does none of that: no development account, no verifying key (the key comes
//! from a trusted-setup ceremony and root sets it), root held by a multisig account. Its
//! validators, root signatories and balances are the operators' own, so the named preset has none
//! of them; [`production_genesis`] builds it with them (`cairn-node production-spec`).

use crate::{
	currency::UNITS, time::HOURS, AccountId, BabeConfig, Balance, BalancesConfig, BlockNumber,
	MarketConfig, Runtime, RuntimeGenesisConfig, SudoConfig, BABE_GENESIS_EPOCH_CONFIG,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::Sr25519Keyring;

/// Proving period of the development and local chains: short, so that tests see several periods,
/// yet long enough that a whole local network sharing two cores proves in time (six providers
/// proving at once there take ≈ 18 s, nearly all of a 10-block period).
pub const DEV_PROVING_PERIOD: BlockNumber = 20;

/// Proving period of the production chain: an hour. Long enough for a provider with many shards
/// to prove all of them and get the proofs into blocks, short enough that a shard that is gone is
/// declared lost, and repaired, within hours.
pub const PRODUCTION_PROVING_PERIOD: BlockNumber = HOURS;

/// Name of the production preset.
pub const PRODUCTION_RUNTIME_PRESET: &str = "cairn";

/// What every endowed development account starts with.
pub const ENDOWMENT: Balance = 1_000_000 * UNITS;

fn testnet_genesis(
	initial_authorities: Vec<(BabeId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		babe: BabeConfig {
			authorities: initial_authorities.iter().map(|x| (x.0.clone(), 1)).collect::<Vec<_>>(),
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		market: MarketConfig {
			proving_period: DEV_PROVING_PERIOD,
			// The deterministic development key: anyone can prove against it, so it is for
			// development and test chains only (production keys come from a ceremony).
			verifying_key: cairn_prover::keys::DEV_VERIFYING_KEY.to_vec(),
		},
	})
}

fn authority_keys(who: Sr25519Keyring) -> (BabeId, GrandpaId) {
	let grandpa = match who {
		Sr25519Keyring::Alice => sp_keyring::Ed25519Keyring::Alice,
		Sr25519Keyring::Bob => sp_keyring::Ed25519Keyring::Bob,
		Sr25519Keyring::Charlie => sp_keyring::Ed25519Keyring::Charlie,
		Sr25519Keyring::Dave => sp_keyring::Ed25519Keyring::Dave,
		Sr25519Keyring::Eve => sp_keyring::Ed25519Keyring::Eve,
		_ => sp_keyring::Ed25519Keyring::Ferdie,
	};
	(who.public().into(), grandpa.public().into())
}

/// Secret URIs of the funded development accounts that local networks (`cairn-node devnet`, the
/// integration tests) run as storage providers, in start order: none of them is a validator of
/// the `local` chain.
pub const DEV_PROVIDER_URIS: [&str; 9] = [
	"//Dave",
	"//Eve",
	"//Ferdie",
	"//Alice//stash",
	"//Bob//stash",
	"//Charlie//stash",
	"//Dave//stash",
	"//Eve//stash",
	"//Ferdie//stash",
];

/// The accounts funded at genesis: every well-known development account.
fn endowed_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// A single-validator chain: Alice authors and finalizes every block.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority_keys(Sr25519Keyring::Alice)],
		endowed_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// A three-validator chain: Alice, Bob and Charlie.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			authority_keys(Sr25519Keyring::Alice),
			authority_keys(Sr25519Keyring::Bob),
			authority_keys(Sr25519Keyring::Charlie),
		],
		endowed_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// What a production genesis takes from its operators. `cairn-node production-spec` reads it
/// from a JSON description and checks it (validators present, no development key, a threshold of
/// at least two, no duplicate) before [`production_genesis`] builds the genesis from it.
#[derive(Clone, Debug, Default)]
pub struct ProductionGenesis {
	/// Each validator's BABE (block production) and GRANDPA (finality) key.
	pub validators: Vec<(BabeId, GrandpaId)>,
	/// The accounts whose multisig account holds root; none: the chain has no root.
	pub root_signatories: Vec<AccountId>,
	/// How many of the signatories must approve a root call.
	pub root_threshold: u16,
	/// Accounts and their balances at genesis.
	pub endowments: Vec<(AccountId, Balance)>,
}

impl ProductionGenesis {
	/// The account that holds root: the multisig account of the signatories and threshold, or
	/// none without signatories.
	pub fn root_account(&self) -> Option<AccountId> {
		(!self.root_signatories.is_empty())
			.then(|| multisig_account(&self.root_signatories, self.root_threshold))
	}
}

/// The multisig account of `threshold` of `signatories`, whatever their order (`pallet_multisig`
/// derives it from the sorted list, which its calls are then given).
pub fn multisig_account(signatories: &[AccountId], threshold: u16) -> AccountId {
	let mut sorted = signatories.to_vec();
	sorted.sort();
	pallet_multisig::Pallet::<Runtime>::multi_account_id(&sorted, threshold)
}

/// The production genesis: the operators' validators and balances, root held by the multisig
/// account of their signatories, the production proving period, and no verifying key — no proof
/// is accepted, and no period counts faults, until root sets the key of a trusted-setup ceremony
/// (`market.set_verifying_key`).
pub fn production_genesis(genesis: &ProductionGenesis) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: genesis.endowments.clone() },
		babe: BabeConfig {
			authorities: genesis.validators.iter().map(|x| (x.0.clone(), 1)).collect::<Vec<_>>(),
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: genesis.validators.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: genesis.root_account() },
		market: MarketConfig {
			proving_period: PRODUCTION_PROVING_PERIOD,
			verifying_key: Vec::new(),
		},
	})
}

/// The JSON patch of the named preset, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		PRODUCTION_RUNTIME_PRESET => production_genesis(&ProductionGenesis::default()),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("a serde_json::Value always serializes to a string")
			.into_bytes(),
	)
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(PRODUCTION_RUNTIME_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::Get;

	fn preset(name: &str) -> Value {
		let patch = get_preset(&PresetId::from(name)).expect("the preset exists");
		serde_json::from_slice(&patch).expect("a preset is JSON")
	}

	/// The proving period a preset sets (the market's default if it sets none).
	fn proving_period(name: &str) -> BlockNumber {
		preset(name)["market"]["provingPeriod"]
			.as_u64()
			.map(|blocks| {
				BlockNumber::try_from(blocks).expect("a proving period is a block number")
			})
			.unwrap_or(pallet_market::DEFAULT_PROVING_PERIOD)
	}

	/// A provider that stops proving is faulted over `MaxConsecutiveFaults` periods; the last
	/// is settled after one more period of grace (a proof for `p` counts until the end of
	/// `p + 1`), then swept. Its stake must still be held until then, on every chain.
	#[test]
	fn unbonding_covers_the_slashing_window_of_every_preset() {
		let names = preset_names();
		assert!(names.iter().any(|name| name == PRODUCTION_RUNTIME_PRESET));
		let unbonding = <Runtime as pallet_providers::Config>::UnbondingPeriod::get();
		let faults: u32 = <Runtime as pallet_market::Config>::MaxConsecutiveFaults::get();
		let slashable = faults + 1 + pallet_market::GRACE_PERIODS;
		// Root may lengthen the period up to the most the market accepts.
		let longest = <Runtime as pallet_market::Config>::MaxProvingPeriod::get();
		assert!(unbonding >= slashable * longest, "MaxProvingPeriod outlasts unbonding");
		for name in names {
			assert!(proving_period(&name) <= longest, "{name}: period above MaxProvingPeriod");
			let window = slashable * proving_period(&name);
			assert!(
				unbonding >= window,
				"{name}: unbonding takes {unbonding} blocks, the slashing window {window}"
			);
		}
	}

	#[test]
	fn the_production_preset_has_no_verifying_key_account_or_root() {
		let patch = preset(PRODUCTION_RUNTIME_PRESET);
		assert_eq!(patch["market"]["verifyingKey"], serde_json::json!([]));
		assert_eq!(patch["market"]["provingPeriod"], PRODUCTION_PROVING_PERIOD);
		assert_eq!(patch["balances"]["balances"], serde_json::json!([]));
		assert!(patch["sudo"]["key"].is_null());
		assert_eq!(patch["babe"]["authorities"], serde_json::json!([]));
	}

	#[test]
	fn production_root_is_the_multisig_of_the_signatories_in_any_order() {
		let signatories: Vec<AccountId> =
			[[1u8; 32], [2; 32], [3; 32]].into_iter().map(AccountId::from).collect();
		let expected = pallet_multisig::Pallet::<Runtime>::multi_account_id(&signatories, 2);
		let mut shuffled = signatories.clone();
		shuffled.rotate_left(1);
		assert_eq!(multisig_account(&shuffled, 2), expected);
		assert_ne!(multisig_account(&signatories, 3), expected);

		let genesis = ProductionGenesis {
			root_signatories: shuffled,
			root_threshold: 2,
			..Default::default()
		};
		assert_eq!(genesis.root_account(), Some(expected.clone()));
		let patch = production_genesis(&genesis);
		assert_eq!(
			patch["sudo"]["key"],
			serde_json::to_value(&expected).expect("an account serializes")
		);
	}
}
