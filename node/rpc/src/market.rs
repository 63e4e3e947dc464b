//! `cairn_*` read methods: the storage market as JSON, for the explorer page, the CLI and scripts.
//!
//! Values are read from the state of a block (the best block unless `at` names one) and decoded
//! with the runtime's own types. Amounts are decimal strings (they exceed JSON's safe integers),
//! accounts SS58 with Cairn's prefix, roots and digests `0x` hex.

use std::{fmt::Debug, sync::Arc};

use cairn_runtime::{
	opaque::Block, AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeEvent, SS58_PREFIX,
};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorObject},
};
use pallet_market::{ContractId, ContractOf, PeriodIndex, PeriodInfo, ShardStatus};
use pallet_providers::{ProviderInfoOf, ProviderStatus};
use serde_json::{json, Value};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};

use cairn_chain::market_state::{MarketClient, MarketState, QuoteError};
use cairn_provider::{owes, Window};
use sp_runtime::traits::Header as _;

/// Most contracts one `cairn_contracts` call returns.
pub const MAX_CONTRACTS: usize = 1_000;

/// The `cairn_*` read API.
#[rpc(server, namespace = "cairn")]
pub trait MarketApi {
	/// Every registered provider.
	#[method(name = "providers")]
	fn providers(&self, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// Contracts of `owner` (SS58), or all contracts, newest first (at most [`MAX_CONTRACTS`]).
	#[method(name = "contracts")]
	fn contracts(&self, owner: Option<String>, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// One contract with its shards, or `null`.
	#[method(name = "contract")]
	fn contract(&self, id: ContractId, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// The proving record of a contract: the current period and, per shard, its provider, status,
	/// proofs accepted, last period proven, periods settled and missed periods in a row; or `null`.
	#[method(name = "proofs")]
	fn proofs(&self, contract: ContractId, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// What provider `account` (SS58) earns and owes: per period from its active shards at their
	/// prices, what its open contracts paid it so far (less what its slashes gave back), and the
	/// proofs it still owes by the provider service's own rule: for the current period (`due`,
	/// by `dueBy`) and for the one before it, in its grace (`late` of `latePeriod`, by
	/// `lateBy`); each deadline is the first block that no longer takes them.
	#[method(name = "providerEarnings")]
	fn provider_earnings(&self, account: String, at: Option<Hash>) -> RpcResult<Value>;

	/// The Cairn pallets' events of a block.
	#[method(name = "events")]
	fn events(&self, at: Option<Hash>) -> RpcResult<Vec<Value>>;

	/// What keeping `shards` shards of `shard_bytes` bytes each for `duration` blocks costs now:
	/// the cheapest eligible providers (active, stake covering their capacity, room for a shard),
	/// one per shard, the highest of their prices (a `max_price` for `create_contract`) and the
	/// escrow the contract would hold.
	#[method(name = "quote")]
	fn quote(
		&self,
		shard_bytes: u64,
		shards: u32,
		duration: BlockNumber,
		at: Option<Hash>,
	) -> RpcResult<Value>;
}

/// Serves [`MarketApiServer`] from a client's state.
pub struct Market<C, B> {
	state: MarketState<C, B>,
}

impl<C, B> Market<C, B>
where
	C: MarketClient<B>,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	/// Reads through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { state: MarketState::new(client) }
	}
}

/// An internal error (state unavailable or undecodable).
pub fn internal(error: impl Debug) -> ErrorObjectOwned {
	ErrorObject::owned(1, format!("state not readable: {error:?}"), None::<()>)
}

/// A quote's error: bad parameters, or too few providers (code 2).
pub fn quote_error(error: QuoteError) -> ErrorObjectOwned {
	match error {
		QuoteError::Invalid(message) => invalid_params(message),
		error @ QuoteError::TooFewProviders { .. } => {
			ErrorObject::owned(2, error.to_string(), None::<()>)
		}
		QuoteError::Unreadable(error) => internal(error),
	}
}

/// A bad parameter.
pub fn invalid_params(message: String) -> ErrorObjectOwned {
	ErrorObject::owned(jsonrpsee::types::error::INVALID_PARAMS_CODE, message, None::<()>)
}

/// An account in Cairn's SS58 format.
pub fn ss58(account: &AccountId) -> String {
	account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&bytes))
}

fn peer_id(bytes: &[u8]) -> String {
	sc_network::PeerId::from_bytes(bytes).map(|id| id.to_base58()).unwrap_or_else(|_| hex(bytes))
}

fn multiaddr(bytes: &[u8]) -> String {
	sc_network::Multiaddr::try_from(bytes.to_vec())
		.map(|address| address.to_string())
		.unwrap_or_else(|_| hex(bytes))
}

fn provider_json(account: &AccountId, info: &ProviderInfoOf<Runtime>) -> Value {
	let (status, unlock_at) = match info.status {
		ProviderStatus::Active => ("active", None),
		ProviderStatus::Exiting { unlock_at } => ("exiting", Some(unlock_at)),
	};
	json!({
		"account": ss58(account),
		"stake": info.stake.to_string(),
		"capacity": info.capacity,
		"used": info.used,
		"shards": info.shards,
		"pricePerByteBlock": info.price_per_byte_block.to_string(),
		"peerId": peer_id(&info.peer_id),
		"multiaddrs": info.multiaddrs.iter().map(|address| multiaddr(address)).collect::<Vec<_>>(),
		"faults": info.faults,
		"status": status,
		"unlockAt": unlock_at,
		"registeredAt": info.registered_at,
	})
}

/// An account parameter named `what`, from SS58.
fn account_param(what: &str, text: &str) -> Result<AccountId, ErrorObjectOwned> {
	AccountId::from_ss58check_with_version(text).map(|(account, _)| account).map_err(|error| {
		invalid_params(format!("{what} {text:?} is not an SS58 address: {error:?}"))
	})
}

/// See [`MarketApiServer::provider_earnings`]: `who`'s shards among `contracts`, with the
/// proofs owed in the periods of `window` by the provider's own rule ([`owes`]).
fn earnings(
	who: &AccountId,
	contracts: &[(ContractId, ContractOf<Runtime>)],
	window: Option<&Window>,
) -> Value {
	let periods = window.map_or(&[][..], |window| window.periods());
	let current = periods.last();
	let length = current.map_or(0, |(_, info)| info.length);
	// The period before the current one, while the chain still takes its proofs.
	let late_period = periods.len().checked_sub(2).map(|index| &periods[index]);
	let (mut active, mut pending, mut due, mut late) = (0u32, 0u32, 0u32, 0u32);
	let (mut per_period, mut earned): (Balance, Balance) = (0, 0);
	for (_, contract) in contracts {
		for shard in contract.shards.iter().filter(|shard| shard.provider == *who) {
			earned = earned.saturating_add(shard.refundable);
			match shard.status {
				ShardStatus::Pending { .. } => pending += 1,
				ShardStatus::Active => {
					active += 1;
					let cost = pallet_market::Pallet::<Runtime>::shard_cost(
						shard.price_per_byte_block,
						shard.spec.bytes,
						Balance::from(length),
					);
					per_period = per_period.saturating_add(cost.unwrap_or(Balance::MAX));
				}
				_ => {}
			}
			let Some(window) = window else { continue };
			let owed = |(period, info): &(PeriodIndex, PeriodInfo<BlockNumber>)| {
				owes(contract, shard, who, (*period, info), window.current())
			};
			due += u32::from(current.is_some_and(owed));
			late += u32::from(late_period.is_some_and(owed));
		}
	}
	let deadline =
		|period: Option<&(PeriodIndex, PeriodInfo<BlockNumber>)>| Some(window?.deadline(period?.0));
	json!({
		"account": ss58(who),
		"activeShards": active,
		"pendingShards": pending,
		"period": current.map(|(index, _)| *index),
		"periodLength": length,
		"perPeriod": per_period.to_string(),
		"earned": earned.to_string(),
		"due": due,
		"dueBy": deadline(current),
		"late": late,
		"latePeriod": late_period.map(|(index, _)| *index),
		"lateBy": deadline(late_period),
	})
}

fn status_name(status: &ShardStatus<BlockNumber>) -> &'static str {
	match status {
		ShardStatus::Pending { .. } => "pending",
		ShardStatus::Active => "active",
		ShardStatus::Lost => "lost",
		ShardStatus::Vacant => "vacant",
	}
}

fn contract_json(id: ContractId, contract: &ContractOf<Runtime>) -> Value {
	let shards: Vec<Value> = contract
		.shards
		.iter()
		.enumerate()
		.map(|(index, shard)| {
			let deadline: Option<BlockNumber> = match shard.status {
				ShardStatus::Pending { deadline } => Some(deadline),
				_ => None,
			};
			let status = status_name(&shard.status);
			json!({
				"index": index,
				"provider": ss58(&shard.provider),
				"root": hex(&shard.spec.root),
				"blake3": hex(&shard.spec.blake3),
				"bytes": shard.spec.bytes,
				"pricePerByteBlock": shard.price_per_byte_block.to_string(),
				"status": status,
				"deadline": deadline,
				"repair": shard.repair,
				"lastProven": shard.last_proven,
				"proofs": shard.proofs,
				"consecutiveFaults": shard.consecutive_faults,
			})
		})
		.collect();
	json!({
		"id": id,
		"owner": ss58(&contract.owner),
		"k": contract.k,
		"m": contract.m,
		"start": contract.start,
		"end": contract.end,
		"escrow": contract.escrow.to_string(),
		"paid": contract.paid.to_string(),
		"bytes": contract.shards.iter().map(|shard| shard.spec.bytes).sum::<u64>(),
		"shards": shards,
	})
}

/// `ProofAccepted { contract: 0, shard: 1 }` → (`ProofAccepted`, `contract: 0, shard: 1`). Pallet
/// events print themselves with their type's name first (`Event::ProofAccepted { .. }`); that path
/// is dropped, so that the name is the variant's alone.
fn event_parts(event: &impl Debug) -> (String, String) {
	let rendered = format!("{event:?}");
	let split = rendered.find([' ', '{', '(']).unwrap_or(rendered.len());
	let (path, rest) = rendered.split_at(split);
	let name = path.rsplit("::").next().unwrap_or(path);
	let text = rest.trim().trim_start_matches(['{', '(']).trim_end_matches(['}', ')']).trim();
	(name.to_string(), text.to_string())
}

impl<C, B> MarketApiServer for Market<C, B>
where
	C: MarketClient<B>,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	fn providers(&self, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let providers = self.state.providers(self.state.at(at)).map_err(internal)?;
		Ok(providers.iter().map(|(account, info)| provider_json(account, info)).collect())
	}

	fn contracts(&self, owner: Option<String>, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let owner = owner.map(|text| account_param("owner", &text)).transpose()?;
		let mut contracts =
			self.state.contracts_of(self.state.at(at), owner.as_ref()).map_err(internal)?;
		contracts.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
		contracts.truncate(MAX_CONTRACTS);
		Ok(contracts.iter().map(|(id, contract)| contract_json(*id, contract)).collect())
	}

	fn contract(&self, id: ContractId, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let contract = self.state.contract(self.state.at(at), id).map_err(internal)?;
		Ok(contract.map(|contract| contract_json(id, &contract)))
	}

	fn quote(
		&self,
		shard_bytes: u64,
		shards: u32,
		duration: BlockNumber,
		at: Option<Hash>,
	) -> RpcResult<Value> {
		let quote = self
			.state
			.quote(self.state.at(at), shard_bytes, shards, duration, &[])
			.map_err(quote_error)?;
		let providers: Vec<Value> = quote
			.providers
			.iter()
			.map(
				|(account, price)| json!({ "account": ss58(account), "pricePerByteBlock": price.to_string() }),
			)
			.collect();
		Ok(json!({
			"shardBytes": shard_bytes,
			"shards": shards,
			"duration": duration,
			"providers": providers,
			"maxPrice": quote.max_price.to_string(),
			"escrow": quote.escrow.to_string(),
		}))
	}

	fn provider_earnings(&self, account: String, at: Option<Hash>) -> RpcResult<Value> {
		let who = account_param("account", &account)?;
		let at = self.state.at(at);
		let contracts = self.state.contracts(at).map_err(internal)?;
		let window = Window::read(&self.state, at).map_err(internal)?;
		Ok(earnings(&who, &contracts, window.as_ref()))
	}

	fn proofs(&self, id: ContractId, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let at = self.state.at(at);
		let Some(contract) = self.state.contract(at, id).map_err(internal)? else {
			return Ok(None);
		};
		let period = self.state.current_period(at).map_err(internal)?;
		let shards: Vec<Value> = contract
			.shards
			.iter()
			.enumerate()
			.map(|(index, shard)| {
				json!({
					"index": index,
					"provider": ss58(&shard.provider),
					"status": status_name(&shard.status),
					"proofs": shard.proofs,
					"lastProven": shard.last_proven,
					"settledThrough": shard.settled_through,
					"consecutiveFaults": shard.consecutive_faults,
				})
			})
			.collect();
		Ok(Some(json!({
			"contract": id,
			"currentPeriod": period.as_ref().map(|(index, _)| *index),
			"periodStart": period.as_ref().map(|(_, info)| info.start),
			"periodLength": period.as_ref().map(|(_, info)| info.length),
			"shards": shards,
		})))
	}

	fn events(&self, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let hash = self.state.at(at);
		let number = self
			.state
			.client()
			.header(hash)
			.map_err(internal)?
			.map(|header| *header.number())
			.ok_or_else(|| invalid_params(format!("unknown block {hash:?}")))?;
		let records = self.state.events(hash).map_err(internal)?;
		Ok(records
			.iter()
			.enumerate()
			.filter_map(|(index, record)| {
				let (pallet, (name, text)) = match &record.event {
					RuntimeEvent::Market(event) => ("Market", event_parts(event)),
					RuntimeEvent::Providers(event) => ("Providers", event_parts(event)),
					_ => return None,
				};
				Some(json!({
					"block": number,
					"blockHash": format!("{hash:?}"),
					"index": index,
					"pallet": pallet,
					"name": name,
					"text": text,
				}))
			})
			.collect())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn events_split_into_name_and_fields() {
		#[derive(Debug)]
		#[allow(dead_code)]
		enum Sample {
			ProofAccepted { contract: u64, shard: u32 },
			Unit,
		}
		assert_eq!(
			event_parts(&Sample::ProofAccepted { contract: 3, shard: 1 }),
			("ProofAccepted".to_string(), "contract: 3, shard: 1".to_string())
		);
		assert_eq!(event_parts(&Sample::Unit), ("Unit".to_string(), String::new()));
	}

	#[test]
	fn pallet_events_are_named_without_their_type() {
		let event = pallet_market::Event::<Runtime>::ShardConfirmed {
			contract: 0,
			shard: 2,
			provider: AccountId::new([1; 32]),
		};
		let (name, text) = event_parts(&event);
		assert_eq!(name, "ShardConfirmed");
		assert!(text.starts_with("contract: 0, shard: 2, provider: "), "{text}");
	}
}
