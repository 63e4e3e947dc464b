//! A stranger on the shard network: a node of its own that knows what anyone can read from the
//! chain (contracts, their shards and digests, providers and their addresses) and tries to slip
//! pieces into other people's uploads: garbage with forged grants, grants signed by the wrong
//! key, the honest uploader's grant replayed from another peer, an owner's grant with bytes that
//! do not match, reads without the owner's grant, and real pieces replayed under grants that are
//! not the stranger's.

use std::time::Duration;

use anyhow::{bail, Context};
use cairn_net::{
	identity, Config, Grant, Multiaddr, Network, PeerId, Request, Response, CHUNK_BYTES,
};
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use serde_json::Value;
use sp_core::{sr25519, Pair};

/// One shard of a contract, as the chain shows it.
#[derive(Clone, Debug)]
pub struct Target {
	/// The contract.
	pub contract: u64,
	/// The shard's index.
	pub index: u32,
	/// The shard's length.
	pub bytes: u64,
	/// The provider's peer id.
	pub peer: PeerId,
	/// Its addresses.
	pub addresses: Vec<Multiaddr>,
}

/// The shards of `contract`, with their providers' shard-network endpoints, from the chain.
pub async fn targets(rpc: &WsClient, contract: u64) -> anyhow::Result<Vec<Target>> {
	let record: Value = rpc.request("cairn_contract", rpc_params![contract]).await?;
	let providers: Vec<Value> = rpc.request("cairn_providers", rpc_params![]).await?;
	let shards = record["shards"].as_array().context("a contract has shards")?;
	shards
		.iter()
		.map(|shard| {
			let account = shard["provider"].as_str().context("a shard has a provider")?;
			let provider = providers
				.iter()
				.find(|p| p["account"] == account)
				.with_context(|| format!("provider {account} is registered"))?;
			let peer: PeerId =
				provider["peerId"].as_str().context("a peer id")?.parse().context("peer id")?;
			let addresses = provider["multiaddrs"]
				.as_array()
				.context("addresses")?
				.iter()
				.filter_map(|a| a.as_str()?.parse().ok())
				.collect();
			Ok(Target {
				contract,
				index: shard["index"].as_u64().context("index")? as u32,
				bytes: shard["bytes"].as_u64().context("bytes")?,
				peer,
				addresses,
			})
		})
		.collect()
}

/// The stranger's own shard-network node.
pub struct Stranger {
	network: Network,
	genesis: [u8; 32],
	/// The block its grants expire at: soon, as honest grants do.
	expires: u32,
}

impl Stranger {
	/// Starts a node on 127.0.0.1 for the chain with `genesis`, whose grants expire at block
	/// `expires`.
	pub fn start(genesis: [u8; 32], expires: u32) -> anyhow::Result<Self> {
		let keypair = identity::Keypair::generate_ed25519();
		let config = Config::new("/ip4/127.0.0.1/tcp/0".parse()?);
		let (network, driver) =
			cairn_net::start(keypair, config).map_err(|e| anyhow::anyhow!("{e}"))?;
		tokio::spawn(driver);
		Ok(Self { network, genesis, expires })
	}

	/// This node's peer id.
	pub fn peer_id(&self) -> PeerId {
		self.network.peer_id()
	}

	/// Its shard network.
	pub fn network(&self) -> &Network {
		&self.network
	}

	/// A grant for `uploader` to send `target`, signed by `signer`.
	pub fn grant(&self, signer: &sr25519::Pair, target: &Target, uploader: &PeerId) -> Grant {
		self.grant_until(signer, target, uploader, self.expires)
	}

	/// A grant as [`Stranger::grant`], expiring at block `expires`.
	fn grant_until(
		&self,
		signer: &sr25519::Pair,
		target: &Target,
		uploader: &PeerId,
		expires: u32,
	) -> Grant {
		let payload =
			Grant::payload(&self.genesis, target.contract, target.index, uploader, expires);
		Grant { expires, signature: signer.sign(&payload).0 }
	}

	/// Sends `request` to `target`'s provider, asking again while it says it is busy.
	pub async fn send(&self, target: &Target, request: Request) -> anyhow::Result<Response> {
		for _ in 0..50 {
			let response = self
				.network
				.request(target.peer, target.addresses.clone(), request.clone())
				.await?;
			if !matches!(response, Response::Busy(_)) {
				return Ok(response);
			}
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
		bail!("{} stayed busy", target.peer)
	}

	/// A `Put` of piece 0 of `target` with `data`, a made-up path and `grant`.
	fn put(&self, target: &Target, data: Vec<u8>, grant: Grant) -> Request {
		let depth = target.bytes.div_ceil(CHUNK_BYTES).next_power_of_two().trailing_zeros();
		Request::Put {
			contract: target.contract,
			shard: target.index,
			offset: 0,
			total: target.bytes,
			data,
			path: vec![[7; 32]; depth as usize],
			grant,
		}
	}

	/// Tries every trick on `target` while (or after) its owner uploads it: returns the refusal
	/// of each, and fails if any piece was taken. `owner` is the contract owner's key (a
	/// development key, which the stranger happens to know, to show that even a valid signature
	/// does not help a grant for someone else); `uploader` is the honest uploader's peer id.
	pub async fn try_everything(
		&self,
		target: &Target,
		owner: &sr25519::Pair,
		uploader: &PeerId,
	) -> anyhow::Result<Vec<String>> {
		let piece_len = CHUNK_BYTES.min(target.bytes) as usize;
		let garbage = vec![0xA5; piece_len];
		let mallory = sr25519::Pair::from_string("//Mallory", None).expect("a valid seed");
		let mut forged = self.grant(&mallory, target, &self.peer_id());
		forged.signature = [1; 64];
		let tricks = [
			("garbage, forged grant", garbage.clone(), forged, "no grant of the contract's owner"),
			(
				"garbage, grant by another key",
				garbage.clone(),
				self.grant(&mallory, target, &self.peer_id()),
				"no grant of the contract's owner",
			),
			(
				"garbage, the honest uploader's grant",
				garbage.clone(),
				self.grant(owner, target, uploader),
				"no grant of the contract's owner",
			),
			(
				"garbage, an owner's grant for ever",
				garbage.clone(),
				self.grant_until(owner, target, &self.peer_id(), u32::MAX),
				"blocks ahead",
			),
			(
				"garbage under a grant of the owner",
				garbage,
				self.grant(owner, target, &self.peer_id()),
				"does not match the shard's BLAKE3 digest",
			),
		];
		let mut refusals = Vec::new();
		for (trick, data, grant, reason) in tricks {
			match self.send(target, self.put(target, data, grant)).await? {
				Response::Refused(said) if said.contains(reason) => refusals.push(said),
				other => bail!("{trick} for shard {}: {other:?}", target.index),
			}
		}
		Ok(refusals)
	}

	/// Tries to read piece 0 of `source` with a forged grant (refused), then reads it with a
	/// grant the owner once gave the stranger, and replays it to `target`'s provider under the
	/// honest uploader's grant: refused.
	pub async fn replay(
		&self,
		source: &Target,
		target: &Target,
		owner: &sr25519::Pair,
		uploader: &PeerId,
	) -> anyhow::Result<String> {
		let len = CHUNK_BYTES.min(source.bytes) as u32;
		let get = |grant| Request::Get {
			contract: source.contract,
			shard: source.index,
			offset: 0,
			len,
			grant,
		};
		let mallory = sr25519::Pair::from_string("//Mallory", None).expect("a valid seed");
		match self.send(source, get(self.grant(&mallory, source, &self.peer_id()))).await? {
			Response::Refused(said) if said.contains("no grant of the contract's owner") => {}
			other => bail!("shard {} was read with a forged grant: {other:?}", source.index),
		}
		let Response::Data(real) =
			self.send(source, get(self.grant(owner, source, &self.peer_id()))).await?
		else {
			bail!("shard {} was not served to the owner's grantee", source.index)
		};
		let put = self.put(target, real, self.grant(owner, target, uploader));
		match self.send(target, put).await? {
			Response::Refused(said) if said.contains("no grant of the contract's owner") => {
				Ok(said)
			}
			other => bail!("a replayed piece for shard {}: {other:?}", target.index),
		}
	}
}
