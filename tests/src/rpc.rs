//! Thin typed wrappers over the standard Substrate JSON-RPC methods the tests use.

use anyhow::Context;
use codec::Decode;
use jsonrpsee::{
	core::client::{ClientT, Subscription, SubscriptionClientT},
	rpc_params,
	ws_client::WsClient,
};
use serde_json::Value;
use sp_core::H256;
use sp_crypto_hashing::{blake2_128, twox_128};
use sp_runtime::AccountId32;

/// A block header as JSON-RPC returns it.
#[derive(Clone, Debug)]
pub struct Header {
	/// The block number.
	pub number: u32,
	/// The parent's hash.
	pub parent_hash: H256,
}

fn parse_hash(value: &Value) -> anyhow::Result<H256> {
	let text = value.as_str().context("a hash is a JSON string")?;
	let bytes = hex::decode(text.trim_start_matches("0x"))?;
	anyhow::ensure!(bytes.len() == 32, "a hash has 32 bytes, got {}", bytes.len());
	Ok(H256::from_slice(&bytes))
}

fn parse_number(value: &Value) -> anyhow::Result<u32> {
	let text = value.as_str().context("a block number is a hex string")?;
	Ok(u32::from_str_radix(text.trim_start_matches("0x"), 16)?)
}

/// Parses a header object.
pub fn parse_header(value: &Value) -> anyhow::Result<Header> {
	Ok(Header {
		number: parse_number(&value["number"])?,
		parent_hash: parse_hash(&value["parentHash"])?,
	})
}

/// `system_localPeerId`.
pub async fn local_peer_id(rpc: &WsClient) -> anyhow::Result<String> {
	Ok(rpc.request("system_localPeerId", rpc_params![]).await?)
}

/// `chain_getHeader` of `hash` (the best block if `None`).
pub async fn header(rpc: &WsClient, hash: Option<H256>) -> anyhow::Result<Header> {
	let value: Value = rpc.request("chain_getHeader", rpc_params![hash]).await?;
	parse_header(&value)
}

/// `chain_getFinalizedHead`.
pub async fn finalized_head(rpc: &WsClient) -> anyhow::Result<H256> {
	let value: Value = rpc.request("chain_getFinalizedHead", rpc_params![]).await?;
	parse_hash(&value)
}

/// The number of the finalized head.
pub async fn finalized_number(rpc: &WsClient) -> anyhow::Result<u32> {
	let hash = finalized_head(rpc).await?;
	Ok(header(rpc, Some(hash)).await?.number)
}

/// `chain_getBlockHash(number)`, `None` if the node does not have that block.
pub async fn block_hash(rpc: &WsClient, number: u32) -> anyhow::Result<Option<H256>> {
	let value: Value = rpc.request("chain_getBlockHash", rpc_params![number]).await?;
	if value.is_null() {
		return Ok(None);
	}
	parse_hash(&value).map(Some)
}

/// `chain_subscribeFinalizedHeads`.
pub async fn subscribe_finalized(rpc: &WsClient) -> anyhow::Result<Subscription<Value>> {
	Ok(rpc
		.subscribe(
			"chain_subscribeFinalizedHeads",
			rpc_params![],
			"chain_unsubscribeFinalizedHeads",
		)
		.await?)
}

/// `chain_subscribeNewHeads` (imported best blocks).
pub async fn subscribe_new_heads(rpc: &WsClient) -> anyhow::Result<Subscription<Value>> {
	Ok(rpc.subscribe("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads").await?)
}

/// Reads headers from `heads` until one is at least at `number`.
async fn next_head_at_least(
	mut heads: Subscription<Value>,
	number: u32,
	what: &str,
) -> anyhow::Result<Header> {
	loop {
		let value = heads.next().await.with_context(|| format!("{what} subscription closed"))??;
		let header = parse_header(&value)?;
		if header.number >= number {
			return Ok(header);
		}
	}
}

/// Waits (on the finalized-heads subscription) until the finalized head reaches `number`.
pub async fn wait_finalized(rpc: &WsClient, number: u32) -> anyhow::Result<Header> {
	let heads = subscribe_finalized(rpc).await?;
	next_head_at_least(heads, number, "finalized-heads").await
}

/// Waits (on the new-heads subscription) until the best block reaches `number`.
pub async fn wait_best(rpc: &WsClient, number: u32) -> anyhow::Result<Header> {
	let heads = subscribe_new_heads(rpc).await?;
	let current = header(rpc, None).await?;
	if current.number >= number {
		return Ok(current);
	}
	next_head_at_least(heads, number, "new-heads").await
}

/// The genesis hash.
pub async fn genesis_hash(rpc: &WsClient) -> anyhow::Result<H256> {
	block_hash(rpc, 0).await?.context("every node has the genesis block")
}

/// `(spec_version, transaction_version)` from `state_getRuntimeVersion`.
pub async fn runtime_versions(rpc: &WsClient) -> anyhow::Result<(u32, u32)> {
	let value: Value = rpc.request("state_getRuntimeVersion", rpc_params![]).await?;
	let spec = value["specVersion"].as_u64().context("specVersion")?;
	let tx = value["transactionVersion"].as_u64().context("transactionVersion")?;
	Ok((u32::try_from(spec)?, u32::try_from(tx)?))
}

/// `system_accountNextIndex` (SS58 address).
pub async fn next_nonce(rpc: &WsClient, ss58: &str) -> anyhow::Result<u32> {
	Ok(rpc.request("system_accountNextIndex", rpc_params![ss58]).await?)
}

/// Reads and decodes a storage value at `at` (the best block if `None`).
pub async fn storage<T: Decode>(
	rpc: &WsClient,
	key: &[u8],
	at: Option<H256>,
) -> anyhow::Result<Option<T>> {
	let key = format!("0x{}", hex::encode(key));
	let value: Value = rpc.request("state_getStorage", rpc_params![key, at]).await?;
	let Some(text) = value.as_str() else { return Ok(None) };
	let bytes = hex::decode(text.trim_start_matches("0x"))?;
	Ok(Some(T::decode(&mut &bytes[..])?))
}

/// An account's nonce and balances, as `System::Account` stores them.
pub type AccountInfo = frame_system::AccountInfo<
	cairn_runtime::Nonce,
	pallet_balances::AccountData<cairn_runtime::Balance>,
>;

/// `System::Account(account)` at `at` (the best block if `None`): the default (nonce 0, no
/// funds) for an account the chain does not hold.
pub async fn account(
	rpc: &WsClient,
	account: &AccountId32,
	at: Option<H256>,
) -> anyhow::Result<AccountInfo> {
	let id: &[u8] = account.as_ref();
	let key = [&twox_128(b"System")[..], &twox_128(b"Account"), &blake2_128(id), id].concat();
	Ok(storage(rpc, &key, at).await?.unwrap_or_default())
}
