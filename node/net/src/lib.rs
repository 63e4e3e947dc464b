//! The shard network: a rust-libp2p swarm (TCP + Noise + Yamux) of Cairn nodes, apart from the
//! chain's own network, speaking one request-response protocol ([`protocol`]):
//!
//! - `Put` stores one piece of a shard on the provider it is assigned to, with the piece's BLAKE3
//!   path and the contract owner's [`Grant`] for the sending peer;
//! - `Get` reads one piece of a stored shard, for a peer with the owner's grant;
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
//! separately (a flood of inbound connections never stops a node from dialing), and at the
//! inbound cap a newcomer replaces a stranger's oldest connection, never one of a peer that sent
//! a granted request ([`admission`]); each peer has a rate and a number of requests in flight
//! per kind; requests of each kind are served from a small pool of slots of their own, so
//! strangers' audits never hold up owners' uploads and reads; requests are checked (grants
//! first) before they wait for a slot; bytes being read and bytes of unsent responses are
//! capped for all peers together; streams that stall time out. Refusals say why.
//!
//! The [`Network`] handle sends bounded commands to the one task that owns the swarm.

pub mod addresses;
pub mod admission;
pub mod limits;
pub mod protocol;

use std::{collections::HashMap, io, path::Path, sync::Arc, time::Instant};

use codec::Encode;
use futures::{future::BoxFuture, FutureExt, StreamExt};
use libp2p::{
	connection_limits::{self, ConnectionLimits},
	request_response::{
		self, InboundRequestId, OutboundRequestId, ProtocolSupport, ResponseChannel,
	},
	swarm::{dial_opts::DialOpts, NetworkBehaviour, SwarmEvent},
	Swarm,
};
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};

pub use libp2p::{self, identity, Multiaddr, PeerId};
pub use limits::Limits;
pub use protocol::{
	Grant, LeafProof, Request, RequestKind, Response, ShardPiece, CHUNK_BYTES, MAX_LEAVES,
	MAX_MESSAGE_BYTES, MAX_PIECES, PIECE_BYTES,
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
	/// This node's connection to the peer has as many requests in flight as it takes
	/// ([`Limits::max_streams`], inbound and outbound together): the peer is there, and asking
	/// again in a moment will do.
	#[error("the connection to {peer} has as many requests in flight as it takes")]
	Saturated {
		/// The peer.
		peer: PeerId,
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

/// Who may ask a request, as its handler's [`RequestHandler::check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
	/// The request carries a valid grant of the shard's owner: its peer is vouched for, and its
	/// connections are kept when room must be made ([`admission`]).
	Granted,
	/// Anyone may ask it (an audit).
	Open,
}

/// Answers requests of other nodes (the provider service; nodes without one refuse).
pub trait RequestHandler: Send + Sync + 'static {
	/// Whether `peer` may ask `request` at all: quick checks (the grant first), run before the
	/// request waits for a serving slot, so that a refused request costs no slot.
	fn check(&self, peer: PeerId, request: &Request) -> Result<Standing, Response>;

	/// The response to `request` from `peer`, once checked and given a serving slot.
	fn handle(&self, peer: PeerId, request: Request) -> BoxFuture<'static, Response>;
}

struct RefuseAll;

impl RequestHandler for RefuseAll {
	fn check(&self, _: PeerId, _: &Request) -> Result<Standing, Response> {
		Err(Response::Refused("this node keeps no shards".into()))
	}

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
	admission: admission::Behaviour,
	shards: request_response::Behaviour<protocol::ShardCodec>,
}

enum Command {
	Request { peer: PeerId, addresses: Vec<Multiaddr>, request: Request, reply: Reply },
	Respond { served: Served, channel: ResponseChannel<Response>, response: Response },
	Vouch(PeerId),
	SetHandler(Arc<dyn RequestHandler>),
	IsConnected(PeerId, oneshot::Sender<bool>),
}

/// An admitted inbound request, until its response is sent or fails.
struct Served {
	peer: PeerId,
	kind: RequestKind,
	id: InboundRequestId,
	/// The response's share of its pool's bytes being sent, given back when this is dropped.
	_sending: Option<OwnedSemaphorePermit>,
}

/// Where requests of one kind are served: slots to serve them in, and a cap on the bytes of
/// their responses not yet taken by their peers.
#[derive(Clone)]
struct Pool {
	slots: Arc<Semaphore>,
	/// In KiB.
	sending: Arc<Semaphore>,
}

impl Pool {
	fn new(slots: usize, limits: &Limits) -> Self {
		Self {
			slots: Arc::new(Semaphore::new(slots)),
			sending: Arc::new(Semaphore::new(limits.sending_bytes.div_ceil(1024))),
		}
	}
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

	/// Whether this node has a connection with `peer` now.
	pub async fn is_connected(&self, peer: PeerId) -> bool {
		let (reply, answer) = oneshot::channel();
		let asked = self.commands.send(Command::IsConnected(peer, reply)).await.is_ok();
		asked && answer.await.unwrap_or(false)
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

/// What an outbound request that failed tells its asker. The request-response handler refuses a
/// request at once, with this text and no type of its own, when the connection's streams are
/// all in use: that is this node's own load, not the peer's failure.
fn outbound_failure(peer: PeerId, error: request_response::OutboundFailure) -> NetError {
	const SATURATED: &str = "max sub-streams reached";
	match error {
		request_response::OutboundFailure::Io(io) if io.to_string() == SATURATED => {
			NetError::Saturated { peer }
		}
		error => NetError::Failed { peer, reason: error.to_string() },
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
			// Inbound connections are capped by `admission`, which makes room for newcomers.
			limits: connection_limits::Behaviour::new(
				ConnectionLimits::default()
					.with_max_established_outgoing(Some(limits.max_outbound))
					.with_max_pending_incoming(Some(limits.max_pending_inbound))
					.with_max_established_per_peer(Some(limits.max_per_peer)),
			),
			admission: admission::Behaviour::new(limits.max_inbound),
			shards: request_response::Behaviour::with_codec(
				protocol::ShardCodec { reading: limits::Reading::new(limits.reading_bytes) },
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
	let (announced_tx, announced) = watch::channel(Vec::new());
	let (listening_tx, listening) = watch::channel(Vec::new());
	let network = Network { peer_id, commands: commands.clone(), announced, listening };
	let driver = Driver {
		swarm,
		commands: receiver,
		respond: commands,
		handler: Arc::new(RefuseAll),
		budgets: limits::Budgets::new(limits.clone()),
		pools: [
			(RequestKind::Put, limits.serving_slots),
			(RequestKind::Get, limits.serving_slots),
			(RequestKind::Leaves, limits.audit_slots),
		]
		.into_iter()
		.map(|(kind, slots)| (kind, Pool::new(slots, &limits)))
		.collect(),
		slot_wait: limits.slot_wait,
		sending: HashMap::new(),
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
	/// A serving pool for each kind of request, so that a flood of one kind (strangers'
	/// audits, say) never holds up another (owners' uploads and reads).
	pools: HashMap<RequestKind, Pool>,
	slot_wait: std::time::Duration,
	/// Responses handed to the swarm, until they are sent or fail.
	sending: HashMap<InboundRequestId, Served>,
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
			Command::Respond { served, channel, response } => {
				if self.swarm.behaviour_mut().shards.send_response(channel, response).is_ok() {
					self.sending.insert(served.id, served);
				} else {
					log::debug!(target: "cairn-net", "{} left before its response", served.peer);
					self.budgets.finish(&served.peer, served.kind);
				}
			}
			Command::Vouch(peer) => self.swarm.behaviour_mut().admission.vouch(peer),
			Command::SetHandler(handler) => self.handler = handler,
			Command::IsConnected(peer, reply) => {
				let _ = reply.send(self.swarm.is_connected(&peer));
			}
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

	/// A response went out (or its stream failed): its request leaves the budgets.
	fn sent(&mut self, id: InboundRequestId) {
		if let Some(served) = self.sending.remove(&id) {
			self.budgets.finish(&served.peer, served.kind);
		}
	}

	fn fail_waiting(&mut self, peer: PeerId, reason: String) {
		for (_, reply) in self.waiting.remove(&peer).unwrap_or_default() {
			let _ = reply.send(Err(NetError::Unreachable { peer, reason: reason.clone() }));
		}
	}

	/// Serves an inbound request within the peer's budget, its check and a serving slot of its
	/// kind's pool, or refuses it.
	fn serve(
		&mut self,
		peer: PeerId,
		id: InboundRequestId,
		request: Request,
		channel: ResponseChannel<Response>,
	) {
		let kind = request.kind();
		if let Err(over) = self.budgets.admit(peer, kind, Instant::now()) {
			log::debug!(target: "cairn-net", "refused a {kind:?} request of {peer}: {over}");
			let refusal = Response::Busy(over.to_string());
			let _ = self.swarm.behaviour_mut().shards.send_response(channel, refusal);
			return;
		}
		let respond = self.respond.clone();
		let handler = self.handler.clone();
		let pool = self.pools[&kind].clone();
		let wait = self.slot_wait;
		tokio::spawn(async move {
			let response = serve_checked(&*handler, peer, request, &pool, wait, &respond).await;
			// The response waits (briefly) for room among its pool's unsent bytes.
			let kib = (response.encoded_size().div_ceil(1024)) as u32;
			let (response, sending) =
				match tokio::time::timeout(wait, pool.sending.acquire_many_owned(kib)).await {
					Ok(Ok(permit)) => (response, Some(permit)),
					_ => (Response::Busy("too many responses wait for their peers".into()), None),
				};
			let served = Served { peer, kind, id, _sending: sending };
			let _ = respond.send(Command::Respond { served, channel, response }).await;
		});
	}

	fn on_shards(&mut self, event: request_response::Event<Request, Response>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request_id, request, channel } } => {
				self.serve(peer, request_id, request, channel)
			}
			Event::Message { message: Message::Response { request_id, response }, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Ok(response));
				}
			}
			Event::OutboundFailure { peer, request_id, error, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(Err(outbound_failure(peer, error)));
				}
			}
			Event::InboundFailure { peer, request_id, error } => {
				log::debug!(target: "cairn-net", "request from {peer} failed: {error}");
				self.sent(request_id);
			}
			Event::ResponseSent { request_id, .. } => self.sent(request_id),
		}
	}
}

/// Checks `request`, vouches for its peer if it carries a valid grant, and serves it in a slot
/// of `pool`: the response, or why there is none.
async fn serve_checked(
	handler: &dyn RequestHandler,
	peer: PeerId,
	request: Request,
	pool: &Pool,
	wait: std::time::Duration,
	driver: &mpsc::Sender<Command>,
) -> Response {
	let checked =
		std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.check(peer, &request)));
	match checked {
		Ok(Ok(Standing::Granted)) => {
			let _ = driver.send(Command::Vouch(peer)).await;
		}
		Ok(Ok(Standing::Open)) => {}
		Ok(Err(refusal)) => return refusal,
		Err(_) => return Response::Refused("the request failed on this node".into()),
	}
	match tokio::time::timeout(wait, pool.slots.clone().acquire_owned()).await {
		// A handler that panics still answers, and its request leaves the budget.
		Ok(Ok(_slot)) => std::panic::AssertUnwindSafe(handler.handle(peer, request))
			.catch_unwind()
			.await
			.unwrap_or_else(|_| Response::Refused("the request failed on this node".into())),
		_ => Response::Busy("every serving slot is taken".into()),
	}
}

#[cfg(test)]
mod tests;
