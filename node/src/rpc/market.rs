//! `cairn_*` read methods: the storage market as JSON, for the explorer page, the CLI and scripts.
//!
//! Values are read from the state of a block (the best block unless `at` names one) and decoded
//! with the runtime's own types. Amounts are decimal strings (they exceed JSON's safe integers),
//! accounts SS58 with Cairn's prefix, roots and digests `0x` hex.

use std::{fmt::Debug, sync::Arc};

use cairn_runtime::{
	opaque::Block, AccountId, BlockNumber, Hash, Runtime, RuntimeEvent, SS58_PREFIX,
};
use codec::Decode;
use frame_support::storage::StoragePrefixedMap;
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorObject},
};
use pallet_market::{ContractId, ContractOf, ShardStatus};
use pallet_providers::{ProviderInfoOf, ProviderStatus};
use sc_client_api::StorageProvider;
use serde_json::{json, Value};
use sp_blockchain::HeaderBackend;
use sp_core::{
	crypto::{Ss58AddressFormat, Ss58Codec},
	storage::StorageKey,
};
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
	client: Arc<C>,
	_backend: std::marker::PhantomData<B>,
}

impl<C, B> Market<C, B> {
	/// Reads through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _backend: Default::default() }
	}
}

/// An internal error (state unavailable or undecodable).
fn internal(error: impl Debug) -> ErrorObjectOwned {
	ErrorObject::owned(1, format!("state not readable: {error:?}"), None::<()>)
}

/// A bad parameter.
fn invalid_params(message: String) -> ErrorObjectOwned {
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

/// The account of a `Providers` storage key (Blake2_128Concat: the account's 32 bytes end it).
fn provider_account(key: &[u8]) -> RpcResult<AccountId> {
	key.len()
		.checked_sub(32)
		.and_then(|start| AccountId::decode(&mut &key[start..]).ok())
		.ok_or_else(|| internal("provider key without an account"))
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

fn contract_json(id: ContractId, contract: &ContractOf<Runtime>) -> Value {
	let shards: Vec<Value> = contract
		.shards
		.iter()
		.enumerate()
		.map(|(index, shard)| {
			let (status, deadline): (&str, Option<BlockNumber>) = match shard.status {
				ShardStatus::Pending { deadline } => ("pending", Some(deadline)),
				ShardStatus::Active => ("active", None),
				ShardStatus::Lost => ("lost", None),
			};
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

impl<C, B> Market<C, B>
where
	C: StorageProvider<Block, B> + HeaderBackend<Block> + Send + Sync + 'static,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	fn value<T: Decode>(&self, at: Hash, key: Vec<u8>) -> RpcResult<Option<T>> {
		let Some(data) = self.client.storage(at, &StorageKey(key)).map_err(internal)? else {
			return Ok(None);
		};
		T::decode(&mut &data.0[..]).map(Some).map_err(internal)
	}

	/// Every `(key, value)` under a map's prefix.
	fn pairs<T: Decode>(&self, at: Hash, prefix: [u8; 32]) -> RpcResult<Vec<(Vec<u8>, T)>> {
		let prefix = StorageKey(prefix.to_vec());
		self.client
			.storage_pairs(at, Some(&prefix), None)
			.map_err(internal)?
			.map(|(key, value)| {
				let value = T::decode(&mut &value.0[..]).map_err(internal)?;
				Ok((key.0, value))
			})
			.collect()
	}

	fn all_contracts(&self, at: Hash) -> RpcResult<Vec<(ContractId, ContractOf<Runtime>)>> {
		let prefix = pallet_market::Contracts::<Runtime>::final_prefix();
		self.pairs::<ContractOf<Runtime>>(at, prefix)?
			.into_iter()
			.map(|(key, contract)| {
				// Twox64Concat: the id's SCALE encoding ends the key.
				let id = key
					.len()
					.checked_sub(8)
					.and_then(|start| ContractId::decode(&mut &key[start..]).ok())
					.ok_or_else(|| internal("contract key without an id"))?;
				Ok((id, contract))
			})
			.collect()
	}
}

impl<C, B> MarketApiServer for Market<C, B>
where
	C: StorageProvider<Block, B> + HeaderBackend<Block> + Send + Sync + 'static,
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
{
	fn providers(&self, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let prefix = pallet_providers::Providers::<Runtime>::final_prefix();
		self.pairs::<ProviderInfoOf<Runtime>>(self.at(at), prefix)?
			.into_iter()
			.map(|(key, info)| Ok(provider_json(&provider_account(&key)?, &info)))
			.collect()
	}

	fn contracts(&self, owner: Option<String>, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let owner = owner
			.map(|text| {
				AccountId::from_ss58check_with_version(&text).map(|(account, _)| account).map_err(
					|error| {
						invalid_params(format!("owner {text:?} is not an SS58 address: {error:?}"))
					},
				)
			})
			.transpose()?;
		let mut contracts = self.all_contracts(self.at(at))?;
		contracts.retain(|(_, contract)| owner.as_ref().is_none_or(|who| contract.owner == *who));
		contracts.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
		contracts.truncate(MAX_CONTRACTS);
		Ok(contracts.iter().map(|(id, contract)| contract_json(*id, contract)).collect())
	}

	fn contract(&self, id: ContractId, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let key = pallet_market::Contracts::<Runtime>::hashed_key_for(id);
		let contract: Option<ContractOf<Runtime>> = self.value(self.at(at), key)?;
		Ok(contract.map(|contract| contract_json(id, &contract)))
	}

	fn quote(
		&self,
		shard_bytes: u64,
		shards: u32,
		duration: BlockNumber,
		at: Option<Hash>,
	) -> RpcResult<Value> {
		use frame_support::traits::Get;
		let max_shards: u32 = <Runtime as pallet_market::Config>::MaxShards::get();
		if shards == 0 || shards > max_shards {
			return Err(invalid_params(format!("shards must be 1 to {max_shards}, not {shards}")));
		}
		if shard_bytes == 0 || shard_bytes > cairn_primitives::tree::MAX_SHARD_BYTES {
			return Err(invalid_params(format!(
				"a shard must hold 1 to {} bytes, not {shard_bytes}",
				cairn_primitives::tree::MAX_SHARD_BYTES
			)));
		}
		let max_duration: BlockNumber =
			<Runtime as pallet_market::Config>::MaxContractDuration::get();
		if duration == 0 || duration > max_duration {
			return Err(invalid_params(format!(
				"duration must be 1 to {max_duration} blocks, not {duration}"
			)));
		}
		let prefix = pallet_providers::Providers::<Runtime>::final_prefix();
		let mut eligible: Vec<(u128, Vec<u8>)> = self
			.pairs::<ProviderInfoOf<Runtime>>(self.at(at), prefix)?
			.into_iter()
			.filter(|(_, info)| {
				pallet_providers::Pallet::<Runtime>::takes_new_shards(info)
					&& info.free_capacity() >= shard_bytes
			})
			.map(|(key, info)| (info.price_per_byte_block, key))
			.collect();
		if eligible.len() < shards as usize {
			return Err(ErrorObject::owned(
				2,
				format!(
					"{} eligible providers with room for a {shard_bytes}-byte shard; {shards} needed",
					eligible.len()
				),
				None::<()>,
			));
		}
		// Cheapest first; ties in storage order.
		eligible.sort_by_key(|(price, _)| *price);
		eligible.truncate(shards as usize);
		let mut escrow: u128 = 0;
		let mut chosen = Vec::with_capacity(eligible.len());
		for (price, key) in &eligible {
			let account = provider_account(key)?;
			let cost = price
				.checked_mul(u128::from(shard_bytes))
				.and_then(|cost| cost.checked_mul(u128::from(duration)))
				.ok_or_else(|| invalid_params("the price of this contract overflows".into()))?;
			escrow = escrow
				.checked_add(cost)
				.ok_or_else(|| invalid_params("the price of this contract overflows".into()))?;
			chosen
				.push(json!({ "account": ss58(&account), "pricePerByteBlock": price.to_string() }));
		}
		let max_price = eligible.iter().map(|(price, _)| *price).max().unwrap_or_default();
		Ok(json!({
			"shardBytes": shard_bytes,
			"shards": shards,
			"duration": duration,
			"providers": chosen,
			"maxPrice": max_price.to_string(),
			"escrow": escrow.to_string(),
		}))
	}

	fn events(&self, at: Option<Hash>) -> RpcResult<Vec<Value>> {
		let hash = self.at(at);
		let number = self
			.client
			.header(hash)
			.map_err(internal)?
			.map(|header| *header.number())
			.ok_or_else(|| invalid_params(format!("unknown block {hash:?}")))?;
		// `frame_system::Events`, whose storage alias is private.
		let key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		let records: Vec<frame_system::EventRecord<RuntimeEvent, Hash>> =
			self.value(hash, key)?.unwrap_or_default();
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
