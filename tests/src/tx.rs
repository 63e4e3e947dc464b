//! Builds and signs Cairn extrinsics with the runtime's own types, as any Rust client would.

use anyhow::{ensure, Context};
use cairn_runtime::{Balance, RuntimeCall, RuntimeEvent};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::WsClient,
};
use serde_json::Value;
use sp_core::{sr25519, H256};
use sp_crypto_hashing::twox_128;
use sp_keyring::Sr25519Keyring;

pub use cairn_runtime::extrinsic::ChainContext;

/// Signs `call` by `signer` with `nonce`, immortal, no tip; returns the SCALE-encoded extrinsic.
pub fn signed_extrinsic(
	call: RuntimeCall,
	signer: &sr25519::Pair,
	nonce: u32,
	context: ChainContext,
) -> Vec<u8> {
	cairn_runtime::extrinsic::signed_by_pair(call, signer, nonce, 0, context)
}

/// Signs `call` by `signer` with `nonce` and `tip`, immortal; returns the SCALE-encoded extrinsic.
pub fn tipped_extrinsic(
	call: RuntimeCall,
	signer: &sr25519::Pair,
	nonce: u32,
	tip: Balance,
	context: ChainContext,
) -> Vec<u8> {
	cairn_runtime::extrinsic::signed_by_pair(call, signer, nonce, tip, context)
}

/// A transaction's outcome once it is in a block.
#[derive(Debug, Clone)]
pub struct Included {
	/// The block that holds it.
	pub block: H256,
	/// The events of the extrinsic, in order.
	pub events: Vec<RuntimeEvent>,
}

/// How far to follow a submitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
	/// Until a best block includes it.
	InBlock,
	/// Until a finalized block includes it.
	Finalized,
}

/// Reads the genesis hash and the runtime's versions from a node.
pub async fn chain_context(rpc: &WsClient) -> anyhow::Result<ChainContext> {
	let genesis = crate::rpc::genesis_hash(rpc).await?;
	let (spec_version, transaction_version) = crate::rpc::runtime_versions(rpc).await?;
	Ok(ChainContext { genesis, spec_version, transaction_version })
}

/// Signs `call` by a development account with its next nonce, submits it, follows it `until`
/// and returns its block and events. Fails if the pool refuses or drops it, or if it fails.
pub async fn submit(
	rpc: &WsClient,
	context: ChainContext,
	signer: Sr25519Keyring,
	call: RuntimeCall,
	until: Until,
) -> anyhow::Result<Included> {
	submit_by(rpc, context, &signer.pair(), call, until).await
}

/// Signs `call` by `signer` with its next nonce, submits it and follows it (see [`submit`]).
pub async fn submit_by(
	rpc: &WsClient,
	context: ChainContext,
	signer: &sr25519::Pair,
	call: RuntimeCall,
	until: Until,
) -> anyhow::Result<Included> {
	use sp_core::Pair;
	let account = sp_runtime::AccountId32::from(signer.public());
	let ss58 = sp_core::crypto::Ss58Codec::to_ss58check(&account);
	let nonce = crate::rpc::next_nonce(rpc, &ss58).await?;
	let extrinsic = signed_extrinsic(call, signer, nonce, context);
	submit_extrinsic(rpc, &extrinsic, until).await
}

/// Submits an encoded extrinsic and follows it (see [`submit`]).
pub async fn submit_extrinsic(
	rpc: &WsClient,
	extrinsic: &[u8],
	until: Until,
) -> anyhow::Result<Included> {
	let extrinsic_hex = format!("0x{}", hex::encode(extrinsic));
	let mut status = rpc
		.subscribe::<Value, _>(
			"author_submitAndWatchExtrinsic",
			rpc_params![extrinsic_hex.clone()],
			"author_unwatchExtrinsic",
		)
		.await?;
	let wanted = match until {
		Until::InBlock => "inBlock",
		Until::Finalized => "finalized",
	};
	let block: H256 = loop {
		let update = status.next().await.context("transaction status subscription closed")??;
		if let Some(hash) = update.get(wanted) {
			break serde_json::from_value(hash.clone())?;
		}
		for failure in ["invalid", "dropped", "usurped", "finalityTimeout"] {
			ensure!(update.get(failure).is_none() && update != failure, "transaction {update}");
		}
	};

	// The extrinsic's position in its block, then its events.
	let body: Value = rpc.request("chain_getBlock", rpc_params![block]).await?;
	let index = body["block"]["extrinsics"]
		.as_array()
		.context("block without extrinsics")?
		.iter()
		.position(|x| x.as_str() == Some(extrinsic_hex.as_str()))
		.context("the block does not contain the transaction")?;
	let phase = frame_system::Phase::ApplyExtrinsic(u32::try_from(index)?);
	let key = [twox_128(b"System"), twox_128(b"Events")].concat();
	let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
		crate::rpc::storage(rpc, &key, Some(block)).await?.context("events are stored")?;
	let events: Vec<RuntimeEvent> =
		records.into_iter().filter(|record| record.phase == phase).map(|r| r.event).collect();
	if let Some(RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
		dispatch_error, ..
	})) = events.iter().find(|event| {
		matches!(event, RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. }))
	}) {
		anyhow::bail!("extrinsic failed in {block:?}: {dispatch_error:?}");
	}
	Ok(Included { block, events })
}

/// A random file of `bytes` bytes (from `seed`), encrypted and coded `k + m`: its shards and the
/// specs a contract for them names (each shard's Poseidon root, BLAKE3 digest and length).
pub fn coded_file(
	bytes: usize,
	k: usize,
	m: usize,
	seed: u64,
) -> anyhow::Result<(Vec<Vec<u8>>, Vec<pallet_market::ShardSpec>)> {
	use cairn_storage::encoding::{encode_stream, CodingParams, Encryption, EncryptionKey};
	use rand_chacha::rand_core::{RngCore, SeedableRng};
	let mut file = vec![0u8; bytes];
	rand_chacha::ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut file);
	let key = EncryptionKey::from_bytes([9; 32]);
	let mut shards = vec![Vec::new(); k + m];
	let coding = CodingParams::new(k, m)?;
	encode_stream(coding, Encryption::with_random_nonce(&key), &file[..], &mut shards)?;
	let specs = shards
		.iter()
		.map(|shard| {
			let (commitment, _) = cairn_storage::commitment::commit(shard)?;
			Ok(pallet_market::ShardSpec {
				root: cairn_primitives::field::fr_to_le_bytes(&commitment.root),
				blake3: commitment.blake3,
				bytes: commitment.bytes,
			})
		})
		.collect::<anyhow::Result<Vec<_>>>()?;
	Ok((shards, specs))
}
