//! The shard network: a rust-libp2p swarm (TCP + Noise + Yamux) of Cairn nodes, apart from the
//! chain's own network, speaking one request-response protocol ([`protocol`]):
//!
//! - `Put` stores one piece of a shard on the provider it is assigned to, with the piece's BLAKE3
//!   path and the contract owner's [`UploadGrant`] for the sending peer;
//! - `Get` reads one piece of a stored shard;
//! - `Leaves` reads challenged leaves with their Merkle paths (an audit anyone may run).
//!
//! **The chain is the address book.** A provider's on-chain record, which only its account can
//! write, names its peer id and addresses; a node dials those and nothing else. Nothing a peer
//! says about itself or about other peers is stored (there is no Kademlia or identify), so no
//! peer can point others at an address of its choosing. A provider announces the addresses it is
//! told to (`--shard-public-addr`), or the address it listens on, never a `0.0.0.0` expansion to
//! private interfaces ([`addresses`]).
//!
//! **Every inbound request has a budget** ([`limits`]): connections are capped in and out
//! separately (a flood of inbound connections never stops a node from dialing), each peer has a
//! rate and a number of requests in flight per kind, requests are served from a small pool of
//! slots, streams that stall time out in seconds, and no buffer is allocated for bytes that have
//! not arrived. Refusals say why.
//!
//! The [`Network`] handle sends bounded commands to the one task that owns the swarm.

pub mod addresses;
pub mod limits;
pub mod protocol;

use std::{collections::HashMap, io, path::Path, sync::Arc, time::Instant};

use futures::{future::BoxFuture, FutureExt, StreamExt};
use libp2p::{
	connection_limits::{self, ConnectionLimits},
	request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel},
	swarm::{dial_opts::DialOpts, NetworkBehaviour, SwarmEvent},
	Swarm,
};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};

pub use libp2p::{identity, Multiaddr, PeerId};
pub use limits::Limits;
pub use protocol::{
	LeafProof, Request, RequestKind, Response, UploadGrant, CHUNK_BYTES, MAX_LEAVES,
	MAX_MESSAGE_BYTES,
};

/// Why a request to a peer got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
	/// The network task is gone (the node is stopping).
	#[error("the shard network stopped")]
	Stopped,
	/// No connection could be made.
	#[error("cannot reach {peer}: {reason}")]
	Unreachable {
		/// The peer.
		peer: PeerId,
		/// What the dialer said.
		reason: String,
	},
	/// The request failed on the way (timeout, closed stream, refused protocol).
	#[error("request to {peer} failed: {reason}")]
	Failed {
		/// The peer.
		peer: PeerId,
		/// What happened.
		reason: String,
	},
}

impl NetError {
	/// Whether trying again later may succeed (all of them but a stopped network).
	pub fn is_transient(&self) -> bool {
		!matches!(self, NetError::Stopped)
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

/// How to start the shard network.
#[derive(Clone, Debug)]
pub struct Config {
	/// The address to listen on.
	pub listen: Multiaddr,
	/// The addresses to announce, when others must reach this node by another address than the
	/// one it listens on (behind NAT, or listening on `0.0.0.0`).
	pub public: Vec<Multiaddr>,
	/// Budgets and limits.
	pub limits: Limits,
}

impl Config {
	/// Listens on `listen`, announces it, default limits.
	pub fn new(listen: Multiaddr) -> Self {
		Self { listen, public: Vec::new(), limits: Limits::default() }
	}
}

#[derive(NetworkBehaviour)]
struct Behaviour {
	limits: connection_limits::Behaviour,
	shards: request_response::Behaviour<protocol::ShardCodec>,
}

enum Command {
	Request { peer: PeerId, addresses: Vec<Multiaddr>, request: Request, reply: Reply },
	Respond { peer: PeerId, channel: ResponseChannel<Response>, response: Response },
	SetHandler(Arc<dyn RequestHandler>),
}

/// Where a request's outcome goes.
type Reply = oneshot::Sender<Result<Response, NetError>>;

/// A handle on the running shard network.
#[derive(Clone)]
pub struct Network {
	peer_id: PeerId,
	commands: mpsc::Sender<Command>,
	announced: watch::Receiver<Vec<Multiaddr>>,
	listening: watch::Receiver<Vec<Multiaddr>>,
}

impl Network {
	/// This node's peer id.
	pub fn peer_id(&self) -> PeerId {
		self.peer_id
	}

	/// The addresses others should dial, with this node's peer id, once known.
	pub fn announced_addresses(&self) -> Vec<Multiaddr> {
		self.announced.borrow().clone()
	}

	/// Waits until the swarm listens on at least one address; returns the addresses.
	pub async fn listening(&self) -> Vec<Multiaddr> {
		let mut listening = self.listening.clone();
		let addresses = match listening.wait_for(|addresses| !addresses.is_empty()).await {
			Ok(addresses) => addresses.clone(),
			Err(_) => Vec::new(),
		};
		addresses
	}

	/// Routes peers' requests to `handler`.
	pub fn set_handler(&self, handler: Arc<dyn RequestHandler>) -> Result<(), NetError> {
		self.commands.try_send(Command::SetHandler(handler)).map_err(|_| NetError::Stopped)
	}

	/// Sends `request` to `peer`, dialing one of `addresses` if not connected.
	pub async fn request(
		&self,
		peer: PeerId,
		addresses: Vec<Multiaddr>,
		request: Request,
	) -> Result<Response, NetError> {
		let (reply, response) = oneshot::channel();
		self.commands
			.send(Command::Request { peer, addresses, request, reply })
			.await
			.map_err(|_| NetError::Stopped)?;
		response.await.map_err(|_| NetError::Stopped)?
	}
}

/// Loads this node's network key from `path`, or makes and saves one (mode 0600).
pub fn load_or_create_key(path: &Path) -> io::Result<identity::Keypair> {
	use std::{io::Write, os::unix::fs::OpenOptionsExt};
	if let Ok(mut bytes) = std::fs::read(path) {
		// Keys written before the file was made private are made so now.
		use std::os::unix::fs::PermissionsExt;
		std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
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
	let _ = std::fs::remove_file(&temporary);
	let mut file =
		std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
	file.write_all(secret.as_ref())?;
	file.sync_all()?;
	std::fs::rename(&temporary, path)?;
	Ok(keypair)
}

/// Starts the swarm and returns its handle and the future that drives it.
pub fn start(
	keypair: identity::Keypair,
	config: Config,
) -> Result<(Network, BoxFuture<'static, ()>), Box<dyn std::error::Error + Send + Sync>> {
	let peer_id = keypair.public().to_peer_id();
	let limits = config.limits.clone();
	let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
		.with_tokio()
		.with_tcp(
			libp2p::tcp::Config::default().nodelay(true),
			libp2p::noise::Config::new,
			libp2p::yamux::Config::default,
		)?
		.with_behaviour(|_| Behaviour {
			limits: connection_limits::Behaviour::new(
				ConnectionLimits::default()
					.with_max_established_incoming(Some(limits.max_inbound))
					.with_max_established_outgoing(Some(limits.max_outbound))
					.with_max_pending_incoming(Some(limits.max_pending_inbound))
					.with_max_established_per_peer(Some(limits.max_per_peer)),
			),
			shards: request_response::Behaviour::with_codec(
				protocol::ShardCodec,
				[(protocol::SHARD_PROTOCOL, ProtocolSupport::Full)],
				request_response::Config::default()
					.with_request_timeout(limits.request_timeout)
					.with_max_concurrent_streams(limits.max_streams),
			),
		})?
		.with_swarm_config(|swarm| swarm.with_idle_connection_timeout(limits.idle_timeout))
		.build();
	swarm.listen_on(config.listen.clone())?;

	let (commands, receiver) = mpsc::channel(256);
	let slot_pool = || Arc::new(Semaphore::new(limits.serving_slots));
	let (announced_tx, announced) = watch::channel(Vec::new());
	let (listening_tx, listening) = watch::channel(Vec::new());
	let network = Network { peer_id, commands: commands.clone(), announced, listening };
	let driver = Driver {
		swarm,
		commands: receiver,
		respond: commands,
		handler: Arc::new(RefuseAll),
		budgets: limits::Budgets::new(limits.clone()),
		put_slots: slot_pool(),
		read_slots: slot_pool(),
		slot_wait: limits.slot_wait,
		pending: HashMap::new(),
		waiting: HashMap::new(),
		announce: addresses::Announcer::new(config.listen, config.public, peer_id),
		announced: announced_tx,
		listening: listening_tx,
	};
	Ok((network, Box::pin(driver.run())))
}

/// The task that owns the swarm.
struct Driver {
	swarm: Swarm<Behaviour>,
	commands: mpsc::Receiver<Command>,
	/// Where served requests' responses come back. It keeps the task alive for as long as the
	/// runtime runs it, handles or not: a node answers peers whether or not any service of its
	/// own still sends requests.
	respond: mpsc::Sender<Command>,
	handler: Arc<dyn RequestHandler>,
	budgets: limits::Budgets,
	/// Slots for `Put` requests of all peers, apart from those for reads, so that a flood of
	/// reads never holds up uploads (nor the reverse).
	put_slots: Arc<Semaphore>,
	/// Slots for `Get` and `Leaves` requests of all peers.
	read_slots: Arc<Semaphore>,
	slot_wait: std::time::Duration,
	pending: HashMap<OutboundRequestId, Reply>,
	/// Requests for peers being dialed, sent once connected. (Request-response fails every
	/// request waiting for a peer when any dial to it fails, even while another dial runs.)
	waiting: HashMap<PeerId, Vec<(Request, Reply)>>,
	announce: addresses::Announcer,
	announced: watch::Sender<Vec<Multiaddr>>,
	listening: watch::Sender<Vec<Multiaddr>>,
}

impl Driver {
	/// Runs for as long as the task is polled: the driver holds a sender of its own command
	/// queue (`respond`), so the queue never closes.
	async fn run(mut self) {
		loop {
			tokio::select! {
				event = self.swarm.select_next_some() => self.on_event(event),
				Some(command) = self.commands.recv() => self.on_command(command),
			}
		}
	}

	fn on_command(&mut self, command: Command) {
		match command {
			Command::Request { peer, addresses, request, reply } => {
				self.send_request(peer, addresses, request, reply)
			}
			Command::Respond { peer, channel, response } => {
				self.budgets.finish(&peer);
				if self.swarm.behaviour_mut().shards.send_response(channel, response).is_err() {
					log::debug!(target: "cairn-net", "{peer} left before its response was sent");
				}
			}
			Command::SetHandler(handler) => self.handler = handler,
		}
	}

	fn send_request(
		&mut self,
		peer: PeerId,
		addresses: Vec<Multiaddr>,
		request: Request,
		reply: Reply,
	) {
		if peer == *self.swarm.local_peer_id() {
			// A node that stores its own files (buyer and provider at once).
			let response = self.handler.handle(peer, request);
			tokio::spawn(async move {
				let _ = reply.send(Ok(response.await));
			});
			return;
		}
		if self.swarm.is_connected(&peer) {
			let id = self.swarm.behaviour_mut().shards.send_request(&peer, request);
			self.pending.insert(id, reply);
			return;
		}
		let first = !self.waiting.contains_key(&peer);
		self.waiting.entry(peer).or_default().push((request, reply));
		if first {
			let opts = DialOpts::peer_id(peer).addresses(addresses).build();
			if let Err(error) = self.swarm.dial(opts) {
				self.fail_waiting(peer, error.to_string());
			}
		}
	}

	fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
		match event {
			SwarmEvent::NewListenAddr { address, .. } => {
				let peer_id = *self.swarm.local_peer_id();
				let full = address.clone().with_p2p(peer_id).unwrap_or_else(|address| address);
				log::info!(target: "cairn-net", "shard network listening on {full}");
				self.listening.send_modify(|addresses| addresses.push(full));
				let announced = self.announce.on_listen(address);
				self.announced.send_replace(announced);
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
				self.fail_waiting(peer, error.to_string());
			}
			SwarmEvent::Behaviour(BehaviourEvent::Shards(event)) => self.on_shards(event),
			_ => {}
		}
	}

	fn fail_waiting(&mut self, peer: PeerId, reason: String) {
		for (_, reply) in self.waiting.remove(&peer).unwrap_or_default() {
			let _ = reply.send(Err(NetError::Unreachable { peer, reason: reason.clone() }));
		}
	}

	/// Serves an inbound request within the peer's budget and a serving slot, or refuses it.
	fn serve(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
		let kind = request.kind();
		if let Err(over) = self.budgets.admit(peer, kind, Instant::now()) {
			log::debug!(target: "cairn-net", "refused a {kind:?} request of {peer}: {over}");
			let refusal = Response::Busy(over.to_string());
			let _ = self.swarm.behaviour_mut().shards.send_response(channel, refusal);
			return;
		}
		let respond = self.respond.clone();
		let handler = self.handler.clone();
		let slots = match kind {
			RequestKind::Put => self.put_slots.clone(),
			RequestKind::Get | RequestKind::Leaves => self.read_slots.clone(),
		};
		let wait = self.slot_wait;
		tokio::spawn(async move {
			let response = match tokio::time::timeout(wait, slots.acquire_owned()).await {
				// A handler that panics still answers, and its request leaves the budget.
				Ok(Ok(_slot)) => std::panic::AssertUnwindSafe(handler.handle(peer, request))
					.catch_unwind()
					.await
					.unwrap_or_else(|_| {
						Response::Refused("the request failed on this node".into())
					}),
				_ => Response::Busy("every serving slot is taken".into()),
			};
			let _ = respond.send(Command::Respond { peer, channel, response }).await;
		});
	}

	fn on_shards(&mut self, event: request_response::Event<Request, Response>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request, channel, .. } } => {
				self.serve(peer, request, channel)
			}
			Event::Message { message: Message::Response { request_id, response }, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Ok(response));
				}
			}
			Event::OutboundFailure { peer, request_id, error, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Err(NetError::Failed { peer, reason: error.to_string() }));
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
mod tests;
