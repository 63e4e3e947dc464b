//! The genesis description `production-spec` reads, and the checks it must pass before a chain
//! specification is built from it.

use std::collections::BTreeMap;

use cairn_runtime::{
	configs::{MAX_AUTHORITIES, MAX_MULTISIG_SIGNATORIES},
	currency::{DECIMALS, EXISTENTIAL_DEPOSIT, UNITS},
	genesis_config_presets::ProductionGenesis,
	AccountId, Balance,
};
use sc_service::config::MultiaddrWithPeerId;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// A production chain's genesis as its operators write it. Keys and accounts are SS58 addresses
/// (of any network prefix) or 0x-prefixed hex of the 32-byte public key.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisDescription {
	/// The validators: at least one.
	pub validators: Vec<ValidatorKeys>,
	/// Who holds root.
	pub root: RootDescription,
	/// Balances at genesis.
	#[serde(default)]
	pub endowments: Vec<Endowment>,
	/// Nodes that new nodes connect to first: multiaddresses ending in `/p2p/<peer id>`.
	#[serde(default)]
	pub boot_nodes: Vec<String>,
}

/// One validator's session keys.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorKeys {
	/// The sr25519 key it authors blocks with (BABE).
	pub babe: String,
	/// The ed25519 key it votes on finality with (GRANDPA).
	pub grandpa: String,
}

/// Root: the multisig account of `threshold` of `signatories`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootDescription {
	/// The accounts that approve root calls.
	pub signatories: Vec<String>,
	/// How many of them must approve a call: at least two.
	pub threshold: u16,
}

/// An account funded at genesis.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endowment {
	/// The account.
	pub account: String,
	/// Whole CAIRN with at most 12 decimals, as a string: `"1000"`, `"0.25"`.
	pub balance: String,
}

/// A description that passed the checks: what the chain specification is built from.
#[derive(Debug, Clone)]
pub struct CheckedGenesis {
	/// The runtime's inputs.
	pub genesis: ProductionGenesis,
	/// The boot nodes.
	pub boot_nodes: Vec<MultiaddrWithPeerId>,
}

/// Why a genesis description was refused; `field` names the place in the description.
#[derive(Debug, thiserror::Error)]
pub enum DescriptionError {
	#[error("{field}: {value:?} is neither an SS58 address nor a 0x-prefixed hex key of 32 bytes")]
	BadKey { field: String, value: String },
	#[error(
		"{field} is the well-known development key {name}: its secret is public, so anyone could \
		 use it"
	)]
	DevelopmentKey { field: String, name: String },
	#[error("{field} repeats the key of {first}")]
	Duplicate { field: String, first: String },
	#[error("no validators: a chain needs at least one to produce and finalize blocks")]
	NoValidators,
	#[error("{count} validators, more than the runtime's limit of {max}")]
	TooManyValidators { count: usize, max: u32 },
	#[error("{count} root signatories, more than a multisig account's limit of {max}")]
	TooManySignatories { count: usize, max: u32 },
	#[error(
		"root.threshold is {threshold} of {signatories} signatories: it must be at least 2 (root is \
		 never one key) and at most the number of signatories"
	)]
	BadThreshold { threshold: u16, signatories: usize },
	#[error("{field}: {value:?} is not an amount of CAIRN (digits, with at most 12 decimals)")]
	BadBalance { field: String, value: String },
	#[error(
		"{field}: {planck} planck is below the existential deposit of {minimum} planck, which \
		 every account must hold"
	)]
	BelowExistentialDeposit { field: String, planck: Balance, minimum: Balance },
	#[error("the endowments add up to more than a balance can hold")]
	IssuanceOverflow,
	#[error(
		"bootNodes[{index}]: {value:?} is not a multiaddress ending in /p2p/<peer id>: {reason}"
	)]
	BadBootNode { index: usize, value: String, reason: String },
}

impl GenesisDescription {
	/// Checks the description: at least one validator, at most the runtime's limits, a root
	/// threshold from 2 to the number of signatories, no well-known development key anywhere,
	/// no key given twice, amounts of CAIRN of at least the existential deposit.
	pub fn check(&self) -> Result<CheckedGenesis, DescriptionError> {
		let development = development_keys();

		if self.validators.is_empty() {
			return Err(DescriptionError::NoValidators);
		}
		if self.validators.len() > MAX_AUTHORITIES as usize {
			return Err(DescriptionError::TooManyValidators {
				count: self.validators.len(),
				max: MAX_AUTHORITIES,
			});
		}
		// One set for both kinds of session key: a key given twice is a mistake either way.
		let mut session_keys = KeySet::new(&development);
		let mut validators: Vec<(BabeId, GrandpaId)> = Vec::with_capacity(self.validators.len());
		for (index, keys) in self.validators.iter().enumerate() {
			let babe = session_keys.add(format!("validators[{index}].babe"), &keys.babe)?;
			let grandpa =
				session_keys.add(format!("validators[{index}].grandpa"), &keys.grandpa)?;
			validators.push((
				sr25519::Public::from_raw(babe).into(),
				ed25519::Public::from_raw(grandpa).into(),
			));
		}

		let signatories = &self.root.signatories;
		if signatories.len() > MAX_MULTISIG_SIGNATORIES as usize {
			return Err(DescriptionError::TooManySignatories {
				count: signatories.len(),
				max: MAX_MULTISIG_SIGNATORIES,
			});
		}
		let threshold = self.root.threshold;
		if threshold < 2 || usize::from(threshold) > signatories.len() {
			return Err(DescriptionError::BadThreshold {
				threshold,
				signatories: signatories.len(),
			});
		}
		let mut signatory_keys = KeySet::new(&development);
		let mut root_signatories = Vec::with_capacity(signatories.len());
		for (index, signatory) in signatories.iter().enumerate() {
			let key = signatory_keys.add(format!("root.signatories[{index}]"), signatory)?;
			root_signatories.push(AccountId::from(key));
		}

		let mut accounts = KeySet::new(&development);
		let mut endowments = Vec::with_capacity(self.endowments.len());
		let mut total: Balance = 0;
		for (index, endowment) in self.endowments.iter().enumerate() {
			let account =
				accounts.add(format!("endowments[{index}].account"), &endowment.account)?;
			let field = format!("endowments[{index}].balance");
			let planck =
				parse_cairn(&endowment.balance).ok_or_else(|| DescriptionError::BadBalance {
					field: field.clone(),
					value: endowment.balance.clone(),
				})?;
			if planck < EXISTENTIAL_DEPOSIT {
				return Err(DescriptionError::BelowExistentialDeposit {
					field,
					planck,
					minimum: EXISTENTIAL_DEPOSIT,
				});
			}
			total = total.checked_add(planck).ok_or(DescriptionError::IssuanceOverflow)?;
			endowments.push((AccountId::from(account), planck));
		}

		let boot_nodes = self
			.boot_nodes
			.iter()
			.enumerate()
			.map(|(index, address)| {
				address.parse::<MultiaddrWithPeerId>().map_err(|error| {
					DescriptionError::BadBootNode {
						index,
						value: address.clone(),
						reason: error.to_string(),
					}
				})
			})
			.collect::<Result<Vec<_>, _>>()?;

		Ok(CheckedGenesis {
			genesis: ProductionGenesis {
				validators,
				root_signatories,
				root_threshold: threshold,
				endowments,
			},
			boot_nodes,
		})
	}
}

/// Every well-known development public key (Alice, Bob, …, their stash keys, One, Two; sr25519
/// and ed25519), with its name.
fn development_keys() -> BTreeMap<[u8; 32], String> {
	let sr25519 =
		Sr25519Keyring::iter().map(|key| (key.to_raw_public(), format!("{key} (sr25519)")));
	let ed25519 =
		Ed25519Keyring::iter().map(|key| (key.to_raw_public(), format!("{key} (ed25519)")));
	sr25519.chain(ed25519).collect()
}

/// The keys of one part of a description, read so far: refuses development keys and repeats.
struct KeySet<'a> {
	development: &'a BTreeMap<[u8; 32], String>,
	/// Each key and the field it was first given in.
	seen: BTreeMap<[u8; 32], String>,
}

impl<'a> KeySet<'a> {
	fn new(development: &'a BTreeMap<[u8; 32], String>) -> Self {
		Self { development, seen: BTreeMap::new() }
	}

	/// Reads the key `text` of `field` and adds it.
	fn add(&mut self, field: String, text: &str) -> Result<[u8; 32], DescriptionError> {
		let key = parse_key(text)
			.ok_or_else(|| DescriptionError::BadKey { field: field.clone(), value: text.into() })?;
		if let Some(name) = self.development.get(&key) {
			return Err(DescriptionError::DevelopmentKey { field, name: name.clone() });
		}
		if let Some(first) = self.seen.get(&key) {
			return Err(DescriptionError::Duplicate { field, first: first.clone() });
		}
		self.seen.insert(key, field);
		Ok(key)
	}
}

/// The 32 bytes of a public key or account written in SS58 (any network prefix) or as 0x-hex.
fn parse_key(text: &str) -> Option<[u8; 32]> {
	match text.strip_prefix("0x") {
		Some(digits) => hex::decode(digits).ok()?.try_into().ok(),
		None => {
			AccountId::from_ss58check_with_version(text).ok().map(|(account, _)| account.into())
		}
	}
}

/// Planck in an amount of CAIRN written as digits with at most [`DECIMALS`] decimals.
pub fn parse_cairn(text: &str) -> Option<Balance> {
	let decimals = usize::from(DECIMALS);
	let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
	let (whole, fraction) = match text.split_once('.') {
		Some((whole, fraction)) => (whole, Some(fraction)),
		None => (text, None),
	};
	if !all_digits(whole) {
		return None;
	}
	let fraction_planck = match fraction {
		None => 0,
		Some(fraction) if all_digits(fraction) && fraction.len() <= decimals => {
			format!("{fraction:0<decimals$}").parse::<Balance>().ok()?
		}
		Some(_) => return None,
	};
	whole.parse::<Balance>().ok()?.checked_mul(UNITS)?.checked_add(fraction_planck)
}

/// `planck` as an amount of CAIRN, without trailing zero decimals.
pub fn format_cairn(planck: Balance) -> String {
	let fraction = planck % UNITS;
	if fraction == 0 {
		return (planck / UNITS).to_string();
	}
	let decimals = usize::from(DECIMALS);
	let fraction = format!("{fraction:0decimals$}");
	format!("{}.{}", planck / UNITS, fraction.trim_end_matches('0'))
}
