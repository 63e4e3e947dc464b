//! Inbound connections under a cap that strangers cannot use to lock out a contract's owner.
//!
//! A node takes at most [`Limits::max_inbound`](crate::Limits) inbound connections. When it holds
//! that many and another peer connects, the new connection takes the place of the oldest one
//! held by a peer that has never sent a request with a valid owner's grant (a *vouched* peer):
//! a flood of connections only ever replaces itself, and a buyer that connects to send or read
//! its shards keeps its connection once its first granted request is in. A vouched peer stays
//! so for [`VOUCH_FOR`] after its last granted request. Only when every inbound connection is
//! a vouched peer's is a new one refused.

use std::{
	collections::{HashMap, HashSet, VecDeque},
	task::{Context, Poll, Waker},
	time::{Duration, Instant},
};

use libp2p::{
	core::{transport::PortUse, Endpoint},
	swarm::{
		behaviour::ConnectionEstablished, dummy, CloseConnection, ConnectionClosed,
		ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
		THandlerOutEvent, ToSwarm,
	},
	Multiaddr, PeerId,
};

/// How long a peer stays vouched for after its last request with a valid grant.
pub const VOUCH_FOR: Duration = Duration::from_secs(600);

/// Every inbound connection is a vouched peer's.
#[derive(Debug, thiserror::Error)]
#[error("all {0} inbound connections are held by peers with granted requests")]
pub struct Full(u32);

/// The inbound-connection cap, with room made for newcomers by closing strangers' oldest
/// connections.
pub struct Behaviour {
	max_inbound: u32,
	/// Inbound connections held, with their peer and when they were made.
	inbound: HashMap<ConnectionId, (PeerId, Instant)>,
	/// Connections being closed to make room (no longer counted).
	closing: HashSet<ConnectionId>,
	/// Peers with a granted request, and when their last one came.
	vouched: HashMap<PeerId, Instant>,
	to_close: VecDeque<(PeerId, ConnectionId)>,
	waker: Option<Waker>,
}

impl Behaviour {
	/// At most `max_inbound` inbound connections.
	pub fn new(max_inbound: u32) -> Self {
		Self {
			max_inbound,
			inbound: HashMap::new(),
			closing: HashSet::new(),
			vouched: HashMap::new(),
			to_close: VecDeque::new(),
			waker: None,
		}
	}

	/// `peer` sent a request with a valid grant: its connections are kept.
	pub fn vouch(&mut self, peer: PeerId) {
		let now = Instant::now();
		self.vouched.insert(peer, now);
		if self.vouched.len() > 2 * self.max_inbound as usize {
			self.vouched.retain(|_, at| now.saturating_duration_since(*at) < VOUCH_FOR);
		}
	}

	fn is_vouched(&self, peer: &PeerId, now: Instant) -> bool {
		self.vouched.get(peer).is_some_and(|at| now.saturating_duration_since(*at) < VOUCH_FOR)
	}

	/// Inbound connections counted against the cap.
	fn held(&self) -> usize {
		self.inbound.len() - self.closing.len()
	}

	/// Makes room for one more inbound connection, closing a stranger's oldest if need be.
	fn make_room(&mut self) -> Result<(), Full> {
		if self.held() < self.max_inbound as usize {
			return Ok(());
		}
		let now = Instant::now();
		let oldest = self
			.inbound
			.iter()
			.filter(|(id, (peer, _))| !self.closing.contains(id) && !self.is_vouched(peer, now))
			.min_by_key(|(_, (_, since))| *since)
			.map(|(id, (peer, _))| (*peer, *id));
		let (peer, id) = oldest.ok_or(Full(self.max_inbound))?;
		log::debug!(target: "cairn-net", "closing {peer}'s oldest connection to make room");
		self.closing.insert(id);
		self.to_close.push_back((peer, id));
		if let Some(waker) = self.waker.take() {
			waker.wake();
		}
		Ok(())
	}
}

impl NetworkBehaviour for Behaviour {
	type ConnectionHandler = dummy::ConnectionHandler;
	type ToSwarm = std::convert::Infallible;

	fn handle_established_inbound_connection(
		&mut self,
		_: ConnectionId,
		_: PeerId,
		_: &Multiaddr,
		_: &Multiaddr,
	) -> Result<THandler<Self>, ConnectionDenied> {
		self.make_room().map_err(ConnectionDenied::new)?;
		Ok(dummy::ConnectionHandler)
	}

	fn handle_established_outbound_connection(
		&mut self,
		_: ConnectionId,
		_: PeerId,
		_: &Multiaddr,
		_: Endpoint,
		_: PortUse,
	) -> Result<THandler<Self>, ConnectionDenied> {
		Ok(dummy::ConnectionHandler)
	}

	fn on_swarm_event(&mut self, event: FromSwarm) {
		match event {
			FromSwarm::ConnectionEstablished(ConnectionEstablished {
				peer_id,
				connection_id,
				endpoint,
				..
			}) if endpoint.is_listener() => {
				self.inbound.insert(connection_id, (peer_id, Instant::now()));
			}
			FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) => {
				self.inbound.remove(&connection_id);
				self.closing.remove(&connection_id);
			}
			_ => {}
		}
	}

	fn on_connection_handler_event(
		&mut self,
		_: PeerId,
		_: ConnectionId,
		event: THandlerOutEvent<Self>,
	) {
		match event {}
	}

	fn poll(
		&mut self,
		cx: &mut Context<'_>,
	) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
		if let Some((peer_id, id)) = self.to_close.pop_front() {
			return Poll::Ready(ToSwarm::CloseConnection {
				peer_id,
				connection: CloseConnection::One(id),
			});
		}
		self.waker = Some(cx.waker().clone());
		Poll::Pending
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn connect(behaviour: &mut Behaviour, peer: PeerId) -> Result<ConnectionId, ConnectionDenied> {
		let id = ConnectionId::new_unchecked(rand_id());
		let address: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
		behaviour.handle_established_inbound_connection(id, peer, &address, &address)?;
		behaviour.inbound.insert(id, (peer, Instant::now()));
		Ok(id)
	}

	fn rand_id() -> usize {
		use std::sync::atomic::{AtomicUsize, Ordering};
		static NEXT: AtomicUsize = AtomicUsize::new(1);
		NEXT.fetch_add(1, Ordering::Relaxed)
	}

	#[test]
	fn newcomers_replace_strangers_oldest_connections_never_vouched_peers() {
		let mut behaviour = Behaviour::new(3);
		let buyer = PeerId::random();
		let strangers: Vec<PeerId> = (0..2).map(|_| PeerId::random()).collect();
		let first = connect(&mut behaviour, strangers[0]).unwrap();
		connect(&mut behaviour, buyer).unwrap();
		behaviour.vouch(buyer);
		connect(&mut behaviour, strangers[1]).unwrap();
		// Full: the next newcomer takes the oldest stranger's place.
		connect(&mut behaviour, PeerId::random()).unwrap();
		assert_eq!(behaviour.to_close.pop_front(), Some((strangers[0], first)));
		// A flood of newcomers only ever replaces itself; the buyer's connection stays.
		for _ in 0..100 {
			connect(&mut behaviour, PeerId::random()).unwrap();
			let (peer, _) = behaviour.to_close.pop_front().expect("room made");
			assert_ne!(peer, buyer);
		}
		assert_eq!(behaviour.held(), 3);
	}

	#[test]
	fn a_node_full_of_vouched_peers_refuses_newcomers() {
		let mut behaviour = Behaviour::new(2);
		for _ in 0..2 {
			let peer = PeerId::random();
			connect(&mut behaviour, peer).unwrap();
			behaviour.vouch(peer);
		}
		assert!(connect(&mut behaviour, PeerId::random()).is_err());
	}
}
