//! The shard network: a rust-libp2p swarm (TCP + Noise + Yamux) of Cairn nodes, apart from the
//! chain's own network. Providers publish its peer id and addresses in their on-chain record;
//! Kademlia keeps those addresses (and finds peers it was not told about); a request-response
//! protocol moves shards in chunks of at most [`CHUNK_BYTES`]:
//!
//! - `Put` stores one chunk of a shard on the provider it is assigned to;
//! - `Get` reads one chunk of a stored shard;
//! - `Leaves` reads challenged leaves with their Merkle paths (an audit anyone may run).
//!
//! Messages are SCALE-encoded behind a 4-byte length; requests and responses are bounded by
//! [`MAX_MESSAGE_BYTES`], requests time out, and connections are limited per peer and in total.

use std::{collections::HashMap, io, path::Path, sync::Arc, time::Duration};

use codec::{Decode, Encode};
use futures::{future::BoxFuture, AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{
	connection_limits::{self, ConnectionLimits},
	identify, identity, kad,
	request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel},
	swarm::{dial_opts::DialOpts, NetworkBehaviour, SwarmEvent},
	Multiaddr, PeerId, StreamProtocol, Swarm,
};
use tokio::sync::{mpsc, oneshot, watch};

/// Largest shard chunk one message carries.
pub const CHUNK_BYTES: u64 = 1 << 20;

/// Largest message either way: a chunk and its framing.
pub const MAX_MESSAGE_BYTES: usize = CHUNK_BYTES as usize + 64 * 1024;

/// How long a peer has to answer one request. The last chunk of a shard is answered once the
/// provider has checked the whole shard's Poseidon root, which takes minutes for the largest
/// shards on a small machine.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

const SHARD_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/shards/1");
const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/kad/1");
const IDENTIFY_PROTOCOL: &str = "/cairn/id/1";

/// A request of the shard protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
	/// Bytes `offset..offset + data.len()` of shard `shard` of `contract`, which has `total` bytes.
	/// `offset` is a multiple of [`CHUNK_BYTES`] and every chunk but the last is full.
	Put { contract: u64, shard: u32, offset: u64, total: u64, data: Vec<u8> },
	/// Up to `len` (at most [`CHUNK_BYTES`]) bytes of a stored shard from `offset`.
	Get { contract: u64, shard: u32, offset: u64, len: u32 },
	/// The leaves at `indices` (at most 64) of a stored shard, with their Merkle paths.
	Leaves { contract: u64, shard: u32, indices: Vec<u64> },
}

/// A response of the shard protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
	/// A `Put` chunk is stored; `complete` once the whole shard is checked and durable.
	Stored { received: u64, complete: bool },
	/// Bytes asked by `Get`.
	Data(Vec<u8>),
	/// Leaves and paths asked by `Leaves`.
	Leaves(Vec<LeafProof>),
	/// The request was refused; the text says why.
	Refused(String),
}

/// A leaf and its Merkle path (as [`cairn_primitives::tree::MerkleProof`], fields as bytes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LeafProof {
	/// The leaf's index.
	pub index: u64,
	/// The leaf's bytes.
	pub leaf: Vec<u8>,
	/// Per level, the other three children (little-endian field elements).
	pub siblings: Vec<[[u8; 32]; 3]>,
}

impl From<&cairn_primitives::tree::MerkleProof> for LeafProof {
	fn from(proof: &cairn_primitives::tree::MerkleProof) -> Self {
		use cairn_primitives::field::fr_to_le_bytes;
		Self {
			index: proof.index,
			leaf: proof.leaf.to_vec(),
			siblings: proof
				.siblings
				.iter()
				.map(|level| level.each_ref().map(fr_to_le_bytes))
				.collect(),
		}
	}
}

/// Length-prefixed SCALE messages with a size limit.
#[derive(Clone, Default)]
pub struct ShardCodec;

async fn read_message<T, M>(io: &mut T) -> io::Result<M>
where
	T: futures::AsyncRead + Unpin + Send,
	M: Decode,
{
	let mut len = [0u8; 4];
	io.read_exact(&mut len).await?;
	let len = u32::from_le_bytes(len) as usize;
	if len > MAX_MESSAGE_BYTES {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("message of {len} bytes exceeds {MAX_MESSAGE_BYTES}"),
		));
	}
	let mut buf = vec![0u8; len];
	io.read_exact(&mut buf).await?;
	M::decode(&mut &buf[..]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

async fn write_message<T, M>(io: &mut T, message: &M) -> io::Result<()>
where
	T: futures::AsyncWrite + Unpin + Send,
	M: Encode,
{
	let bytes = message.encode();
	if bytes.len() > MAX_MESSAGE_BYTES {
		return Err(io::Error::new(io::ErrorKind::InvalidInput, "message too large"));
	}
	io.write_all(&(bytes.len() as u32).to_le_bytes()).await?;
	io.write_all(&bytes).await?;
	io.close().await
}

#[async_trait::async_trait]
impl request_response::Codec for ShardCodec {
	type Protocol = StreamProtocol;
	type Request = Request;
	type Response = Response;

	async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
	where
		T: futures::AsyncRead + Unpin + Send,
	{
		read_message(io).await
	}

	async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
	where
		T: futures::AsyncRead + Unpin + Send,
	{
		read_message(io).await
	}

	async fn write_request<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		request: Request,
	) -> io::Result<()>
	where
		T: futures::AsyncWrite + Unpin + Send,
	{
		write_message(io, &request).await
	}

	async fn write_response<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		response: Response,
	) -> io::Result<()>
	where
		T: futures::AsyncWrite + Unpin + Send,
	{
		write_message(io, &response).await
	}
}

/// Answers requests of other nodes (the provider service; nodes without one refuse).
pub trait RequestHandler: Send + Sync + 'static {
	/// The response to `request` from `peer`.
	fn handle(&self, peer: PeerId, request: Request) -> BoxFuture<'static, Response>;
}

struct RefuseAll;

impl RequestHandler for RefuseAll {
	fn handle(&self, _: PeerId, _: Request) -> BoxFuture<'static, Response> {
		Box::pin(async { Response::Refused("this node keeps no shards".into()) })
	}
}

#[derive(NetworkBehaviour)]
struct Behaviour {
	limits: connection_limits::Behaviour,
	identify: identify::Behaviour,
	kademlia: kad::Behaviour<kad::store::MemoryStore>,
	shards: request_response::Behaviour<ShardCodec>,
}

enum Command {
	Request {
		peer: PeerId,
		addresses: Vec<Multiaddr>,
		request: Request,
		reply: oneshot::Sender<Result<Response, String>>,
	},
	Respond {
		channel: ResponseChannel<Response>,
		response: Response,
	},
	SetHandler(Arc<dyn RequestHandler>),
}

/// A handle on the running shard network.
#[derive(Clone)]
pub struct Network {
	peer_id: PeerId,
	commands: mpsc::Sender<Command>,
	listen: watch::Receiver<Vec<Multiaddr>>,
}

impl Network {
	/// This node's peer id.
	pub fn peer_id(&self) -> PeerId {
		self.peer_id
	}

	/// The addresses the swarm listens on, with this node's peer id, once known.
	pub fn listen_addresses(&self) -> Vec<Multiaddr> {
		self.listen.borrow().clone()
	}

	/// Waits until the swarm listens on at least one address.
	#[cfg(test)]
	pub async fn listening(&self) -> Vec<Multiaddr> {
		let mut listen = self.listen.clone();
		let addresses = match listen.wait_for(|addresses| !addresses.is_empty()).await {
			Ok(addresses) => addresses.clone(),
			Err(_) => Vec::new(),
		};
		addresses
	}

	/// Routes peers' requests to `handler`.
	pub fn set_handler(&self, handler: Arc<dyn RequestHandler>) -> Result<(), String> {
		self.commands
			.try_send(Command::SetHandler(handler))
			.map_err(|e| format!("the shard network does not take a handler: {e}"))
	}

	/// Sends `request` to `peer`, dialing one of `addresses` (or what Kademlia knows) if needed.
	pub async fn request(
		&self,
		peer: PeerId,
		addresses: Vec<Multiaddr>,
		request: Request,
	) -> Result<Response, String> {
		let (reply, response) = oneshot::channel();
		self.commands
			.send(Command::Request { peer, addresses, request, reply })
			.await
			.map_err(|_| "the shard network stopped".to_string())?;
		response.await.map_err(|_| "the shard network stopped".to_string())?
	}
}

/// Loads this node's network key from `path`, or makes and saves one.
pub fn load_or_create_key(path: &Path) -> io::Result<identity::Keypair> {
	if let Ok(mut bytes) = std::fs::read(path) {
		return identity::Keypair::ed25519_from_bytes(&mut bytes)
			.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
	}
	let keypair = identity::Keypair::generate_ed25519();
	let secret =
		keypair.clone().try_into_ed25519().map_err(|e| io::Error::other(e.to_string()))?.secret();
	if let Some(dir) = path.parent() {
		std::fs::create_dir_all(dir)?;
	}
	let temporary = path.with_extension("tmp");
	std::fs::write(&temporary, secret.as_ref())?;
	std::fs::rename(&temporary, path)?;
	Ok(keypair)
}

/// Starts the swarm on `listen` and returns its handle and the future that drives it.
pub fn start(
	keypair: identity::Keypair,
	listen: Multiaddr,
) -> Result<(Network, BoxFuture<'static, ()>), Box<dyn std::error::Error + Send + Sync>> {
	let peer_id = keypair.public().to_peer_id();
	let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
		.with_tokio()
		.with_tcp(
			libp2p::tcp::Config::default().nodelay(true),
			libp2p::noise::Config::new,
			libp2p::yamux::Config::default,
		)?
		.with_behaviour(|key| {
			let local = key.public().to_peer_id();
			let mut kademlia = kad::Behaviour::with_config(
				local,
				kad::store::MemoryStore::new(local),
				kad::Config::new(KAD_PROTOCOL),
			);
			kademlia.set_mode(Some(kad::Mode::Server));
			Behaviour {
				limits: connection_limits::Behaviour::new(
					ConnectionLimits::default()
						.with_max_established_per_peer(Some(2))
						.with_max_established(Some(256))
						.with_max_pending_incoming(Some(64)),
				),
				identify: identify::Behaviour::new(identify::Config::new(
					IDENTIFY_PROTOCOL.into(),
					key.public(),
				)),
				kademlia,
				shards: request_response::Behaviour::with_codec(
					ShardCodec,
					[(SHARD_PROTOCOL, ProtocolSupport::Full)],
					request_response::Config::default()
						.with_request_timeout(REQUEST_TIMEOUT)
						.with_max_concurrent_streams(64),
				),
			}
		})?
		.with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(120)))
		.build();
	swarm.listen_on(listen)?;

	let (commands, receiver) = mpsc::channel(256);
	let (listen_tx, listen_rx) = watch::channel(Vec::new());
	let network = Network { peer_id, commands: commands.clone(), listen: listen_rx };
	let driver = Driver {
		swarm,
		commands: receiver,
		respond: commands,
		handler: Arc::new(RefuseAll),
		pending: HashMap::new(),
		waiting: HashMap::new(),
		listen: listen_tx,
	};
	Ok((network, Box::pin(driver.run())))
}

/// Where a request's outcome goes.
type Reply = oneshot::Sender<Result<Response, String>>;

struct Driver {
	swarm: Swarm<Behaviour>,
	commands: mpsc::Receiver<Command>,
	respond: mpsc::Sender<Command>,
	handler: Arc<dyn RequestHandler>,
	pending: HashMap<OutboundRequestId, Reply>,
	/// Requests for peers being dialed, sent once connected. (Request-response fails every
	/// request waiting for a peer when any dial to it fails, even while another dial runs.)
	waiting: HashMap<PeerId, Vec<(Request, Reply)>>,
	listen: watch::Sender<Vec<Multiaddr>>,
}

impl Driver {
	async fn run(mut self) {
		loop {
			tokio::select! {
				event = self.swarm.select_next_some() => self.on_event(event),
				command = self.commands.recv() => match command {
					Some(command) => self.on_command(command),
					None => break,
				},
			}
		}
	}

	fn on_command(&mut self, command: Command) {
		match command {
			Command::Request { peer, addresses, request, reply } => {
				if peer == *self.swarm.local_peer_id() {
					// A node that stores its own files (buyer and provider at once).
					let response = self.handler.handle(peer, request);
					tokio::spawn(async move {
						let _ = reply.send(Ok(response.await));
					});
					return;
				}
				let behaviour = self.swarm.behaviour_mut();
				for address in &addresses {
					behaviour.kademlia.add_address(&peer, address.clone());
				}
				if self.swarm.is_connected(&peer) {
					let id = self.swarm.behaviour_mut().shards.send_request(&peer, request);
					self.pending.insert(id, reply);
					return;
				}
				let first = !self.waiting.contains_key(&peer);
				self.waiting.entry(peer).or_default().push((request, reply));
				if first {
					if addresses.is_empty()
						&& self.swarm.behaviour_mut().kademlia.kbucket(peer).is_none()
					{
						// Not in the routing table: ask the network where it is.
						self.swarm.behaviour_mut().kademlia.get_closest_peers(peer);
					}
					let opts = DialOpts::peer_id(peer)
						.addresses(addresses)
						.extend_addresses_through_behaviour()
						.build();
					if let Err(error) = self.swarm.dial(opts) {
						self.fail_waiting(peer, format!("cannot dial {peer}: {error}"));
					}
				}
			}
			Command::Respond { channel, response } => {
				if self.swarm.behaviour_mut().shards.send_response(channel, response).is_err() {
					log::debug!(target: "cairn-net", "a peer left before its response was sent");
				}
			}
			Command::SetHandler(handler) => self.handler = handler,
		}
	}

	fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
		match event {
			SwarmEvent::NewListenAddr { address, .. } => {
				let peer_id = *self.swarm.local_peer_id();
				let address = address.with_p2p(peer_id).unwrap_or_else(|address| address);
				log::info!(target: "cairn-net", "shard network listening on {address}");
				self.listen.send_modify(|addresses| addresses.push(address));
			}
			SwarmEvent::ConnectionEstablished { peer_id, .. } => {
				for (request, reply) in self.waiting.remove(&peer_id).unwrap_or_default() {
					let id = self.swarm.behaviour_mut().shards.send_request(&peer_id, request);
					self.pending.insert(id, reply);
				}
			}
			SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. }
				if !self.swarm.is_connected(&peer) =>
			{
				self.fail_waiting(peer, format!("cannot reach {peer}: {error}"));
			}
			SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
				peer_id,
				info,
				..
			})) => {
				for address in info.listen_addrs {
					self.swarm.behaviour_mut().kademlia.add_address(&peer_id, address);
				}
			}
			SwarmEvent::Behaviour(BehaviourEvent::Shards(event)) => self.on_shards(event),
			_ => {}
		}
	}

	fn fail_waiting(&mut self, peer: PeerId, error: String) {
		for (_, reply) in self.waiting.remove(&peer).unwrap_or_default() {
			let _ = reply.send(Err(error.clone()));
		}
	}

	fn on_shards(&mut self, event: request_response::Event<Request, Response>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request, channel, .. } } => {
				let response = self.handler.handle(peer, request);
				let respond = self.respond.clone();
				tokio::spawn(async move {
					let response = response.await;
					let _ = respond.send(Command::Respond { channel, response }).await;
				});
			}
			Event::Message { message: Message::Response { request_id, response }, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Ok(response));
				}
			}
			Event::OutboundFailure { peer, request_id, error, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Err(format!("request to {peer} failed: {error}")));
				}
			}
			Event::InboundFailure { peer, error, .. } => {
				log::debug!(target: "cairn-net", "request from {peer} failed: {error}");
			}
			Event::ResponseSent { .. } => {}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	struct Echo;

	impl RequestHandler for Echo {
		fn handle(&self, _: PeerId, request: Request) -> BoxFuture<'static, Response> {
			Box::pin(async move {
				match request {
					Request::Get { len, .. } => Response::Data(vec![7; len as usize]),
					_ => Response::Refused("only Get".into()),
				}
			})
		}
	}

	#[tokio::test]
	async fn two_nodes_exchange_full_chunks_over_loopback() {
		let local: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().unwrap();
		let (server, drive_server) =
			start(identity::Keypair::generate_ed25519(), local.clone()).unwrap();
		let (client, drive_client) = start(identity::Keypair::generate_ed25519(), local).unwrap();
		tokio::spawn(drive_server);
		tokio::spawn(drive_client);
		server.set_handler(Arc::new(Echo)).unwrap();
		let addresses = server.listening().await;

		let request = Request::Get { contract: 1, shard: 0, offset: 0, len: CHUNK_BYTES as u32 };
		let response = client.request(server.peer_id(), addresses, request).await.unwrap();
		assert_eq!(response, Response::Data(vec![7; CHUNK_BYTES as usize]));

		// Nodes without a handler refuse, with a reason.
		let refused = server
			.request(
				client.peer_id(),
				client.listening().await,
				Request::Leaves { contract: 1, shard: 0, indices: vec![0] },
			)
			.await
			.unwrap();
		assert!(matches!(refused, Response::Refused(reason) if reason.contains("no shards")));
	}

	#[tokio::test]
	async fn oversized_messages_are_refused_by_the_codec() {
		let mut buf = Vec::new();
		let mut cursor = futures::io::Cursor::new(&mut buf);
		let big = Request::Put {
			contract: 0,
			shard: 0,
			offset: 0,
			total: 0,
			data: vec![0; MAX_MESSAGE_BYTES],
		};
		let error = write_message(&mut cursor, &big).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::InvalidInput);

		let mut framed = (u32::MAX).to_le_bytes().to_vec();
		framed.extend_from_slice(&[0; 16]);
		let error =
			read_message::<_, Request>(&mut futures::io::Cursor::new(framed)).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::InvalidData);
	}
}
