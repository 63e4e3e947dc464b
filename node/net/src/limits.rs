//! The shard network's budgets: connections in and out, and per peer a rate and a number of
//! requests in flight for each kind of request, with one pool of serving slots shared by all
//! peers. A request over budget is refused at once, with the reason, before any work is done.

use std::{
	collections::HashMap,
	time::{Duration, Instant},
};

use libp2p::PeerId;

use crate::protocol::RequestKind;

/// The shard network's limits. The defaults are written down in `docs/SECURITY.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
	/// Established inbound connections, in total.
	pub max_inbound: u32,
	/// Established outbound connections, in total (apart from inbound ones, so that a flood
	/// of inbound connections never stops this node from dialing providers).
	pub max_outbound: u32,
	/// Inbound connections still handshaking.
	pub max_pending_inbound: u32,
	/// Connections with one peer.
	pub max_per_peer: u32,
	/// Streams open at once on one connection.
	pub max_streams: usize,
	/// A request and its response must be done within this, or the stream is closed.
	pub request_timeout: Duration,
	/// Connections with nothing to do are closed after this.
	pub idle_timeout: Duration,
	/// Requests one peer may send per second, per kind (the bucket holds twice as many).
	pub rates: Rates,
	/// Requests of one peer in flight at once.
	pub per_peer_in_flight: u32,
	/// Requests of all peers being served at once, for `Put` and again for reads (the
	/// serving pools).
	pub serving_slots: usize,
	/// How long a request may wait for a serving slot before it is refused as busy.
	pub slot_wait: Duration,
}

/// Requests per second per peer, by kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
	/// `Put`: one piece each (an upload of a 16 MiB shard is 16).
	pub put: f64,
	/// `Get`: up to 1 MiB each.
	pub get: f64,
	/// `Leaves`: up to 64 leaves with paths each, the costliest to answer.
	pub leaves: f64,
}

impl Rates {
	fn of(&self, kind: RequestKind) -> f64 {
		match kind {
			RequestKind::Put => self.put,
			RequestKind::Get => self.get,
			RequestKind::Leaves => self.leaves,
		}
	}
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			max_inbound: 128,
			max_outbound: 128,
			max_pending_inbound: 32,
			max_per_peer: 2,
			max_streams: 8,
			request_timeout: Duration::from_secs(30),
			idle_timeout: Duration::from_secs(60),
			rates: Rates { put: 256.0, get: 256.0, leaves: 8.0 },
			per_peer_in_flight: 8,
			serving_slots: 4,
			slot_wait: Duration::from_secs(5),
		}
	}
}

/// A token bucket: `rate` tokens a second, holding at most `burst`.
#[derive(Clone, Debug)]
struct Bucket {
	tokens: f64,
	updated: Instant,
}

impl Bucket {
	fn full(burst: f64, now: Instant) -> Self {
		Self { tokens: burst, updated: now }
	}

	fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
		let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
		self.tokens = (self.tokens + elapsed * rate).min(burst);
		self.updated = now;
		if self.tokens >= 1.0 {
			self.tokens -= 1.0;
			true
		} else {
			false
		}
	}
}

/// One peer's budget.
#[derive(Clone, Debug)]
struct PeerBudget {
	buckets: HashMap<RequestKind, Bucket>,
	in_flight: u32,
	last_seen: Instant,
}

/// Why a request was refused before it was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
	/// The peer sent requests of this kind faster than its rate.
	#[error("rate limit: too many {0:?} requests from this peer; slow down")]
	Rate(RequestKind),
	/// The peer has too many requests in flight.
	#[error("too many requests in flight from this peer (at most {0})")]
	InFlight(u32),
}

/// Every peer's budget. Peers idle for a minute are forgotten, so the table stays as small as
/// the set of connected peers.
#[derive(Debug)]
pub struct Budgets {
	limits: Limits,
	peers: HashMap<PeerId, PeerBudget>,
	last_sweep: Instant,
}

impl Budgets {
	/// Budgets under `limits`.
	pub fn new(limits: Limits) -> Self {
		Self { limits, peers: HashMap::new(), last_sweep: Instant::now() }
	}

	/// Admits a request of `kind` from `peer` at `now`, counting it in flight until
	/// [`Budgets::finish`], or says why not.
	pub fn admit(
		&mut self,
		peer: PeerId,
		kind: RequestKind,
		now: Instant,
	) -> Result<(), OverBudget> {
		self.sweep(now);
		let rate = self.limits.rates.of(kind);
		let burst = (2.0 * rate).max(1.0);
		let budget = self.peers.entry(peer).or_insert_with(|| PeerBudget {
			buckets: HashMap::new(),
			in_flight: 0,
			last_seen: now,
		});
		budget.last_seen = now;
		if budget.in_flight >= self.limits.per_peer_in_flight {
			return Err(OverBudget::InFlight(self.limits.per_peer_in_flight));
		}
		let bucket = budget.buckets.entry(kind).or_insert_with(|| Bucket::full(burst, now));
		if !bucket.take(rate, burst, now) {
			return Err(OverBudget::Rate(kind));
		}
		budget.in_flight += 1;
		Ok(())
	}

	/// A request of `peer` that was admitted is answered.
	pub fn finish(&mut self, peer: &PeerId) {
		if let Some(budget) = self.peers.get_mut(peer) {
			budget.in_flight = budget.in_flight.saturating_sub(1);
		}
	}

	fn sweep(&mut self, now: Instant) {
		const FORGET_AFTER: Duration = Duration::from_secs(60);
		if now.saturating_duration_since(self.last_sweep) < FORGET_AFTER {
			return;
		}
		self.last_sweep = now;
		self.peers.retain(|_, budget| {
			budget.in_flight > 0 || now.saturating_duration_since(budget.last_seen) < FORGET_AFTER
		});
	}

	/// Peers with a budget now.
	#[cfg(test)]
	fn tracked(&self) -> usize {
		self.peers.len()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_peer_over_its_rate_is_refused_and_others_are_not() {
		let limits = Limits {
			rates: Rates { put: 10.0, get: 10.0, leaves: 1.0 },
			per_peer_in_flight: 1000,
			..Limits::default()
		};
		let mut budgets = Budgets::new(limits);
		let (greedy, polite) = (PeerId::random(), PeerId::random());
		let start = Instant::now();
		// The bucket holds two seconds' worth.
		for _ in 0..2 {
			budgets.admit(greedy, RequestKind::Leaves, start).unwrap();
		}
		assert_eq!(
			budgets.admit(greedy, RequestKind::Leaves, start),
			Err(OverBudget::Rate(RequestKind::Leaves))
		);
		// Other kinds and other peers have budgets of their own.
		budgets.admit(greedy, RequestKind::Get, start).unwrap();
		budgets.admit(polite, RequestKind::Leaves, start).unwrap();
		// The bucket refills with time.
		let later = start + Duration::from_millis(1100);
		budgets.admit(greedy, RequestKind::Leaves, later).unwrap();
		assert!(budgets.admit(greedy, RequestKind::Leaves, later).is_err());
	}

	#[test]
	fn requests_in_flight_are_capped_per_peer_and_released() {
		let mut budgets = Budgets::new(Limits { per_peer_in_flight: 2, ..Limits::default() });
		let peer = PeerId::random();
		let now = Instant::now();
		budgets.admit(peer, RequestKind::Get, now).unwrap();
		budgets.admit(peer, RequestKind::Get, now).unwrap();
		assert_eq!(budgets.admit(peer, RequestKind::Get, now), Err(OverBudget::InFlight(2)));
		budgets.finish(&peer);
		budgets.admit(peer, RequestKind::Get, now).unwrap();
	}

	#[test]
	fn idle_peers_are_forgotten() {
		let mut budgets = Budgets::new(Limits::default());
		let now = Instant::now();
		for _ in 0..100 {
			let peer = PeerId::random();
			budgets.admit(peer, RequestKind::Get, now).unwrap();
			budgets.finish(&peer);
		}
		assert_eq!(budgets.tracked(), 100);
		budgets.admit(PeerId::random(), RequestKind::Get, now + Duration::from_secs(61)).unwrap();
		assert_eq!(budgets.tracked(), 1);
	}
}
